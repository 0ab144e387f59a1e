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
from dataclasses import asdict, dataclass, field
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


# ---------------------------------------------------------------- facts for `trtsweep doctor`

@dataclass
class GpuFacts:
    """What the doctor checks on one GPU (None: not known, e.g. not supported or not queryable)."""

    index: int | None
    name: str | None = None
    uuid: str | None = None
    pci_bus_id: str | None = None
    persistence_mode: bool | None = None
    sm_mhz: float | None = None
    max_sm_mhz: float | None = None
    app_sm_mhz: float | None = None
    default_app_sm_mhz: float | None = None
    power_limit_w: float | None = None
    default_power_limit_w: float | None = None
    mig_current: bool | None = None
    mig_pending: bool | None = None
    ecc_current: bool | None = None
    ecc_pending: bool | None = None
    reasons: int | None = None
    processes: list[dict[str, Any]] = field(default_factory=list)  # pid, name, used_mib, kind


@dataclass
class HostFacts:
    """Everything ``trtsweep doctor`` judges, gathered once (:func:`doctor_facts`); judged by
    ``orchestrate.doctor.findings`` (pure)."""

    gpus: list[GpuFacts] = field(default_factory=list)
    gpu_source: str | None = None  # "nvml" | "nvidia-smi" | None (none found)
    gpu_note: str | None = None
    nvml_note: str | None = None  # why NVML telemetry is not available, None when it is
    cpu_governors: dict[str, int] = field(default_factory=dict)  # governor -> number of CPUs
    trtexec_path: str | None = None
    trtexec_version: str | None = None
    trtexec_note: str | None = None
    cuda_device_order: str | None = None
    cuda_visible_devices: str | None = None
    driver_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cpu_governors(root: Path = Path("/sys/devices/system/cpu")) -> dict[str, int]:
    """How many CPUs run each cpufreq governor (empty where the kernel exposes none: VMs, containers)."""
    out: dict[str, int] = {}
    for path in sorted(root.glob("cpu[0-9]*/cpufreq/scaling_governor")):
        try:
            name = path.read_text().strip()
        except OSError:
            continue
        out[name] = out.get(name, 0) + 1
    return out


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        return {"enabled": True, "disabled": False, "on": True, "off": False}.get(text)
    return bool(value)


def gpu_facts_nvml(nvml: Any, classify: Any = None) -> list[GpuFacts]:
    """Per-GPU facts through an ``orchestrate.telemetry.Nvml`` (the same NVML session telemetry uses)."""
    lib = nvml.lib
    out = []
    for dev in nvml.devices():
        h = nvml.handle(dev.index)
        clock_sm = getattr(lib, "NVML_CLOCK_SM", 1)
        mig = nvml.q("nvmlDeviceGetMigMode", h)
        ecc = nvml.q("nvmlDeviceGetEccMode", h)
        facts = GpuFacts(
            index=dev.index, name=dev.name, uuid=dev.uuid, pci_bus_id=dev.pci_bus_id,
            persistence_mode=_flag(nvml.q("nvmlDeviceGetPersistenceMode", h)),
            sm_mhz=nvml.q("nvmlDeviceGetClockInfo", h, clock_sm), max_sm_mhz=dev.max_sm_mhz,
            app_sm_mhz=nvml.q("nvmlDeviceGetApplicationsClock", h, clock_sm),
            default_app_sm_mhz=nvml.q("nvmlDeviceGetDefaultApplicationsClock", h, clock_sm),
            power_limit_w=_mw(nvml.q("nvmlDeviceGetPowerManagementLimit", h)),
            default_power_limit_w=_mw(nvml.q("nvmlDeviceGetPowerManagementDefaultLimit", h)),
            mig_current=_flag(mig[0]) if mig else None, mig_pending=_flag(mig[1]) if mig else None,
            ecc_current=_flag(ecc[0]) if ecc else None, ecc_pending=_flag(ecc[1]) if ecc else None,
            reasons=nvml.reasons(h))
        for pid, used in nvml.processes(h):
            kind, name = classify(pid) if classify else ("unknown", None)
            facts.processes.append({"pid": pid, "name": name, "used_mib": used, "kind": kind})
        out.append(facts)
    return out


def _mw(value: Any) -> float | None:
    return round(value / 1000.0, 1) if isinstance(value, int | float) else None


DOCTOR_FIELDS = ("index", "name", "uuid", "pci.bus_id", "persistence_mode", "clocks.sm", "clocks.max.sm",
                 "clocks.applications.graphics", "clocks.default_applications.graphics", "power.limit",
                 "power.default_limit", "mig.mode.current", "mig.mode.pending", "ecc.mode.current",
                 "ecc.mode.pending", "clocks_event_reasons.active")


def parse_doctor_csv(text: str, fields: tuple[str, ...] = DOCTOR_FIELDS) -> list[GpuFacts]:
    """``nvidia-smi --query-gpu=<fields> --format=csv,noheader`` rows as :class:`GpuFacts`."""
    out = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if not line.strip() or len(cells) < len(fields):
            continue
        row = dict(zip(fields, (_value(c) for c in cells), strict=False))
        reasons = row.get("clocks_event_reasons.active")
        out.append(GpuFacts(
            index=row.get("index"), name=row.get("name"), uuid=row.get("uuid"),
            pci_bus_id=row.get("pci.bus_id"), persistence_mode=_flag(row.get("persistence_mode")),
            sm_mhz=row.get("clocks.sm", row.get("clocks.current.sm")), max_sm_mhz=row.get("clocks.max.sm"),
            app_sm_mhz=row.get("clocks.applications.graphics"),
            default_app_sm_mhz=row.get("clocks.default_applications.graphics"),
            power_limit_w=row.get("power.limit"), default_power_limit_w=row.get("power.default_limit"),
            mig_current=_flag(row.get("mig.mode.current")), mig_pending=_flag(row.get("mig.mode.pending")),
            ecc_current=_flag(row.get("ecc.mode.current")), ecc_pending=_flag(row.get("ecc.mode.pending")),
            reasons=int(reasons, 16) if isinstance(reasons, str) and reasons.startswith("0x") else None))
    return out


def gpu_facts_smi(smi: str, classify: Any = None) -> tuple[list[GpuFacts], str | None]:
    """Per-GPU facts from ``nvidia-smi`` (the doctor runs before timing, so starting it is harmless);
    falls back to the fields ``env.json`` queries when this nvidia-smi refuses some."""
    text = _run([smi, f"--query-gpu={','.join(DOCTOR_FIELDS)}", "--format=csv,noheader"])
    note = None
    if text is not None:
        gpus = parse_doctor_csv(text)
    else:
        fallback = ("index", "name", "uuid", "pci.bus_id", "persistence_mode", "clocks.current.sm",
                    "clocks.max.sm", "power.limit", "clocks_event_reasons.active")
        text = _run([smi, f"--query-gpu={','.join(fallback)}", "--format=csv,noheader"])
        if text is None:
            return [], f"{smi} did not answer"
        gpus = parse_doctor_csv(text, fallback)
        note = f"{smi} does not answer every field the doctor asks: application clocks, MIG, ECC unknown"
    apps = _run([smi, "--query-compute-apps=gpu_uuid,pid,process_name,used_memory", "--format=csv,noheader"])
    by_uuid = {g.uuid: g for g in gpus}
    for line in (apps or "").splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) < 4 or not cells[1].isdigit() or cells[0] not in by_uuid:
            continue
        pid = int(cells[1])
        kind = classify(pid)[0] if classify else "unknown"
        by_uuid[cells[0]].processes.append({"pid": pid, "name": cells[2], "used_mib": _value(cells[3]),
                                            "kind": kind})
    return gpus, note


def doctor_facts(telemetry: Any = None, trtexec: str | None = None, trtexec_version: str | None = None,
                 nvidia_smi: str | None = None, probe_trtexec: bool = True) -> HostFacts:
    """Gather what the doctor checks: GPUs through NVML (``telemetry``: an ``orchestrate.telemetry
    .Telemetry``) or else ``nvidia-smi``, CPU governors, trtexec and its version, CUDA environment."""
    from trtsweep.orchestrate.telemetry import ProcessClassifier  # a sibling: host facts stay importable

    facts = HostFacts(cpu_governors=cpu_governors(), cuda_device_order=os.environ.get("CUDA_DEVICE_ORDER"),
                      cuda_visible_devices=os.environ.get("CUDA_VISIBLE_DEVICES"))
    classify = ProcessClassifier().classify
    if telemetry is not None and telemetry.available:
        facts.gpus, facts.gpu_source = gpu_facts_nvml(telemetry.nvml, classify), "nvml"
        driver = telemetry.nvml.q("nvmlSystemGetDriverVersion")
        facts.driver_version = driver.decode() if isinstance(driver, bytes) else driver
    else:
        facts.nvml_note = getattr(telemetry, "reason", None) or "telemetry not checked"
        smi = nvidia_smi or shutil.which("nvidia-smi")
        if smi:
            facts.gpus, facts.gpu_note = gpu_facts_smi(smi, classify)
            facts.gpu_source = "nvidia-smi" if facts.gpus else None
        else:
            facts.gpu_note = "neither NVML nor nvidia-smi found"
    facts.trtexec_path, facts.trtexec_version = trtexec, trtexec_version
    if trtexec is None and probe_trtexec:
        from trtsweep.trtexec.discover import TrtexecNotFound, TrtexecProbeError, find_trtexec, probe

        try:
            path = find_trtexec()
            info = probe(path, timeout=20)
            facts.trtexec_path, facts.trtexec_version = info.path, info.version_text
        except TrtexecNotFound as exc:
            facts.trtexec_note = f"trtexec not found: {exc}"
        except TrtexecProbeError as exc:
            facts.trtexec_note = f"trtexec found but --help failed: {exc}"
    return facts
