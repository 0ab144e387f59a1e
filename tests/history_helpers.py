"""Helpers for the history tests: run folders written directly (records with chosen medians)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from trtsweep import store
from trtsweep.records import Device, LayerRecord, RunRecord, Stats
from trtsweep.store.meta import RunMeta

REPO = Path(__file__).resolve().parent.parent
MODEL_SHA = "ab" * 32
GPU = {"index": 0, "name": "NVIDIA L4", "uuid": "GPU-11111111-2222-3333-4444-555555555555",
       "driver_version": "550.54.15", "sm_clock_mhz": 2040, "max_sm_clock_mhz": 2040, "power_limit_w": 72.0}


def busy_telemetry(median_mhz: float, max_mhz: float = 2040,
                   reasons: dict[str, float] | None = None) -> dict[str, Any]:
    """A telemetry summary of a step whose busy samples ran at ``median_mhz`` (the fields the gates read)."""
    return {"available": True, "samples": 50, "busy_samples": 40, "max_sm_clock_mhz": max_mhz,
            "sm_clock_mhz": {"min": median_mhz - 15, "median": median_mhz, "max": median_mhz + 15},
            "reasons": reasons or {}, "throttle": reasons or {}}


def record(latency_ms: float, batch: int = 1, trt: str = "10.8.0", layers: int = 0,
           telemetry: dict[str, Any] | None = None) -> RunRecord:
    """A passed record whose time per batch is ``latency_ms`` (one stream: trtexec's median latency)."""
    def st(v: float) -> Stats:
        return Stats(min=v * 0.98, max=v * 1.05, mean=v * 1.001, median=v, percentiles={"p99": v * 1.03})

    return RunRecord(source="run.log", kind="trtexec_log", status="passed", trt_version=trt,
                     device=Device(name=GPU["name"]), options={"precision": "fp16"},
                     throughput_qps=1000.0 / latency_ms, latency_ms=st(latency_ms),
                     gpu_compute_ms=st(latency_ms * 0.9), gpu_compute_cv_pct=0.8,
                     layers=[LayerRecord(name=f"layer{i}", type="Convolution", precision="fp16",
                                         time_ms=latency_ms / max(layers, 1), time_pct=100.0 / max(layers, 1))
                             for i in range(layers)] or None, telemetry=telemetry)


def variant_axes(precision: str, batch: int) -> dict[str, Any]:
    return {"model": "net", "precision": precision, "batch": batch, "shapes": "static", "streams": 1,
            "cuda_graph": False}


def write_run(root: Path, night: str, values: dict[tuple[str, int], list[float]], run_id: str | None = None,
              host: str = "lab-l4", gpu: dict[str, Any] | None = None, trt: str = "10.8.0",
              meta: bool = True, layers: int = 0, origin: str = "run",
              telemetry: dict[str, Any] | None = None) -> Path:
    """A run folder measured on ``night``: per (precision, batch), one repeat per listed latency (ms)."""
    gpu = dict(GPU if gpu is None else gpu)
    entries = []
    for (prec, batch), reps in values.items():
        vid = f"net-{prec}-b{batch}"
        entries.append({"id": vid, "model": "net", "axes": variant_axes(prec, batch), "repeats": len(reps),
                        "build": {"model": "net", "onnx_sha256": MODEL_SHA}})
        for k, ms in enumerate(reps):
            step = store.variant_dir(root, vid, k)
            step.mkdir(parents=True, exist_ok=True)
            store.write_step(step, record(ms, batch, trt, layers, telemetry), "passed", durable=False)
    store.atomic_write_json(root / store.LOCK_FILE, {"variants": entries, "spec_sha256": "cd" * 32},
                            durable=False)
    env = {"created": f"{night}T02:00:00+00:00", "host": host, "gpus": [gpu], "driver_version": "550.54.15",
           "cuda_version": "12.4", "trtexec": {"path": "trtexec", "version": trt},
           "models": {"net": {"path": "net.onnx", "sha256": MODEL_SHA}}}
    store.atomic_write_json(root / store.ENV_FILE, env, durable=False)
    if meta:
        m = RunMeta(run_id=run_id or f"{night.replace('-', '')}-{host}", created=f"{night}T02:00:00+00:00",
                    origin=origin, host=host,
                    gpus=[{k: gpu[k] for k in ("index", "name", "uuid") if k in gpu}],
                    trtexec_version=trt, spec_sha256="cd" * 32)
        store.atomic_write_json(root / store.META_FILE, m.to_dict(), durable=False)
    return root


def cli(args: list[Any], env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    """``trtsweep ARGS`` in its own process, with this checkout first on the path."""
    full = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "trtsweep", *map(str, args)], capture_output=True, text=True,
                          env=full, timeout=timeout)


def dump(db: Path) -> list[Any]:
    """Every row of every table of a history database (to compare before and after)."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in
                  conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return [(t, sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=json.dumps)) for t in tables]
    finally:
        conn.close()
