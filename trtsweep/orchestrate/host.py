"""The host a sweep ran on, for ``env.json``: GPUs and clocks (``nvidia-smi``), driver, CUDA, models.

Parsing is pure (``parse_query_gpu_csv``, ``parse_cuda_version``); :func:`capture_env` runs the commands
and never fails a sweep: a missing or broken ``nvidia-smi`` is recorded as such.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

QUERY_FIELDS = (
    "index", "name", "uuid", "driver_version", "pci.bus_id", "memory.total", "clocks.current.sm",
    "clocks.current.memory", "clocks.max.sm", "clocks.max.memory", "power.limit", "temperature.gpu",
    "compute_cap", "persistence_mode", "clocks_event_reasons.active",
)
_KEYS = {
    "index": "index", "name": "name", "uuid": "uuid", "driver_version": "driver_version",
    "pci.bus_id": "pci_bus_id", "memory.total": "memory_mib", "clocks.current.sm": "sm_clock_mhz",
    "clocks.current.memory": "memory_clock_mhz", "clocks.max.sm": "max_sm_clock_mhz",
    "clocks.max.memory": "max_memory_clock_mhz", "power.limit": "power_limit_w",
    "temperature.gpu": "temperature_c", "compute_cap": "compute_capability",
    "persistence_mode": "persistence_mode", "clocks_event_reasons.active": "clock_event_reasons",
}
_NUMBER_WITH_UNIT = re.compile(r"^(-?\d+(?:\.\d+)?)\s*(MiB|MHz|W|%)?$")
_CUDA = re.compile(r"CUDA Version\s*:?\s*([\d.]+)")


def _value(raw: str) -> Any:
    text = raw.strip()
    if text in ("", "[N/A]", "N/A", "[Not Supported]"):
        return None
    m = _NUMBER_WITH_UNIT.match(text)
    if m:
        num = float(m.group(1))
        return int(num) if num.is_integer() and "." not in m.group(1) else num
    return text


def parse_query_gpu_csv(text: str) -> list[dict[str, Any]]:
    """Rows of ``nvidia-smi --query-gpu=<QUERY_FIELDS> --format=csv`` (with or without header)."""
    gpus = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if not line.strip() or cells[0] == "index" or len(cells) < len(QUERY_FIELDS):
            continue
        row = {_KEYS[f]: _value(c) for f, c in zip(QUERY_FIELDS, cells, strict=False)}
        # compute_cap "9.0" must stay a string: it is a version, not a quantity.
        row["compute_capability"] = cells[QUERY_FIELDS.index("compute_cap")] or None
        gpus.append(row)
    return gpus


def parse_cuda_version(text: str) -> str | None:
    """The driver's CUDA version from plain ``nvidia-smi`` or ``nvidia-smi -q`` output."""
    m = _CUDA.search(text)
    return m.group(1) if m else None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _run(argv: list[str], timeout: float = 20.0) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def capture_env(trtexec_path: str | None, trtexec_version: str | None, models: dict[str, Path],
                nvidia_smi: str | None = None) -> dict[str, Any]:
    """Everything ``env.json`` holds; GPU fields are empty (with a note) when ``nvidia-smi`` is absent."""
    smi = nvidia_smi or shutil.which("nvidia-smi")
    gpus: list[dict[str, Any]] = []
    cuda = None
    note = None
    if smi:
        csv_text = _run([smi, f"--query-gpu={','.join(QUERY_FIELDS)}", "--format=csv,noheader"])
        gpus = parse_query_gpu_csv(csv_text or "")
        cuda = parse_cuda_version(_run([smi]) or "")
        if csv_text is None:
            note = f"{smi} did not answer"
    else:
        note = "nvidia-smi not found: no GPU facts recorded"
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "gpus": gpus,
        "driver_version": gpus[0]["driver_version"] if gpus else None,
        "cuda_version": cuda,
        "nvidia_smi_note": note,
        "trtexec": {"path": trtexec_path, "version": trtexec_version},
        "models": {name: {"path": str(p), "sha256": sha256_file(p) if p.is_file() else None}
                   for name, p in models.items()},
    }
