"""How long the nightly history takes at scale (targets: add < 2 s, check < 5 s, publish < 30 s).

Run: ``python benchmarks/history_speed.py [--variants 1000] [--nights 365] [--series 200]``.

- ``history add`` of one run folder of 1,000 variants, through the CLI (a fresh process, as cron runs it);
- ``history check`` of tonight's 200-variant run folder against 365 nights x 200 variants, through the CLI;
- ``history publish`` of that history (200 charts), through the CLI.

The 365-night history is filled through ``History.add`` with generated entries (setup, not timed); the
timed commands read and write it exactly as a nightly job does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from trtsweep import store
from trtsweep.analysis.history_extract import run_entry
from trtsweep.records import Device, LayerRecord, RunRecord, Stats
from trtsweep.store import history as hs
from trtsweep.store.meta import RunMeta

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"add": 2.0, "check": 5.0, "publish": 30.0}
GPU = {"index": 0, "name": "NVIDIA L4", "uuid": "GPU-bench", "driver_version": "550.54.15"}


def _record(ms: float, layers: int) -> RunRecord:
    st = Stats(min=ms * 0.98, max=ms * 1.1, mean=ms * 1.01, median=ms, percentiles={"p90": ms * 1.02,
                                                                                  "p99": ms * 1.05})
    return RunRecord(source="run.log", kind="trtexec_log", status="passed", trt_version="10.8.0",
                     device=Device(name=GPU["name"]), throughput_qps=1000 / ms, latency_ms=st,
                     gpu_compute_ms=st, h2d_ms=st, d2h_ms=st, enqueue_ms=st, gpu_compute_cv_pct=0.9,
                     layers=[LayerRecord(name=f"l{i}", type="Convolution", precision="fp16",
                                         time_ms=ms / layers, time_pct=100 / layers) for i in range(layers)])


def write_run(root: Path, night: str, n_variants: int, rng: random.Random, layers: int = 10) -> Path:
    """A run folder of ``n_variants`` variants (batch x streams x precision grid), one repeat each."""
    entries = []
    for i in range(n_variants):
        axes = {"model": "net", "precision": ("fp32", "fp16", "int8", "best")[i % 4], "batch": 1 + i // 4,
                "shapes": "static", "streams": 1}
        vid = f"v{i:04d}"
        entries.append({"id": vid, "model": "net", "axes": axes, "build": {"onnx_sha256": "ab" * 32}})
        ms = (1.0 + 0.1 * i) * math.exp(rng.gauss(0, 0.005))
        step = store.variant_dir(root, vid)
        step.mkdir(parents=True)
        store.write_step(step, _record(ms, layers), "passed", durable=False)
    store.atomic_write_json(root / store.LOCK_FILE, {"variants": entries}, durable=False)
    store.atomic_write_json(root / store.ENV_FILE, {"host": "bench", "gpus": [GPU]}, durable=False)
    meta = RunMeta(run_id=f"bench-{night}", created=f"{night}T02:00:00+00:00", origin="run", host="bench",
                   gpus=[{"index": 0, "name": GPU["name"], "uuid": GPU["uuid"]}], trtexec_version="10.8.0")
    store.atomic_write_json(root / store.META_FILE, meta.to_dict(), durable=False)
    return root


def timed_cli(args: list[object]) -> tuple[float, subprocess.CompletedProcess]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "trtsweep", *map(str, args)], capture_output=True,
                          text=True, env=env)
    return time.perf_counter() - t0, proc


def fill(db: Path, template: hs.RunEntry, nights: int, rng: random.Random) -> None:
    """``nights`` nights of ``template``'s variants with nightly noise and a few planted steps."""
    start = dt.date(2024, 1, 1)
    with hs.open_history(db, create=True) as h:
        for n in range(nights):
            off = math.exp(rng.gauss(0, 0.006))
            repeats = []
            for k, r in enumerate(template.repeats):
                f = off * math.exp(rng.gauss(0, 0.003)) * (1.05 if k % 50 == 0 and n >= nights - 5 else 1.0)
                repeats.append(hs.RepeatEntry(r.variant_key, r.repeat, r.folder_variant, r.status,
                                              {m: v * f for m, v in r.metrics.items()}, r.layers))
            night = (start + dt.timedelta(days=n)).isoformat()
            h.add(hs.RunEntry(run_id=f"night-{n:03d}", created=f"{night}T02:00:00+00:00", night=night,
                              origin="run", target=template.target, variants=template.variants,
                              repeats=repeats, trt_version="10.8.0"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, default=1000)
    ap.add_argument("--nights", type=int, default=365)
    ap.add_argument("--series", type=int, default=200)
    opts = ap.parse_args()
    rng = random.Random(1)
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        big = write_run(root / "big", "2025-01-01", opts.variants, rng)
        secs, proc = timed_cli(["history", "add", big, "--db", root / "add.sqlite"])
        assert proc.returncode == 0, proc.stderr
        print(f"history add, {opts.variants} variants (CLI, fresh process): {secs:.2f} s "
              f"(target < {TARGETS['add']:.0f} s)")
        failed += ["add"] if secs > TARGETS["add"] else []

        template = run_entry(store.load_result_set(write_run(root / "tpl", "2023-12-31", opts.series, rng)))
        db = root / "year.sqlite"
        t0 = time.perf_counter()
        fill(db, template, opts.nights - 1, rng)
        print(f"(setup: {opts.nights - 1} nights x {opts.series} variants added in "
              f"{time.perf_counter() - t0:.1f} s, {db.stat().st_size / 2**20:.0f} MiB)")
        tonight = (dt.date(2024, 1, 1) + dt.timedelta(days=opts.nights - 1)).isoformat()
        run = write_run(root / "tonight", tonight, opts.series, rng)
        secs, proc = timed_cli(["history", "check", run, "--db", db])
        assert proc.returncode in (0, 3, 4), proc.stderr
        print(f"history check, {opts.series} variants against {opts.nights} nights (CLI): {secs:.2f} s "
              f"(target < {TARGETS['check']:.0f} s); {proc.stdout.strip().splitlines()[-1].strip()}")
        failed += ["check"] if secs > TARGETS["check"] else []
        assert timed_cli(["history", "add", run, "--db", db])[1].returncode == 0
        secs, proc = timed_cli(["history", "publish", "-o", root / "site", "--db", db])
        assert proc.returncode == 0, proc.stderr
        print(f"history publish, {opts.nights} nights x {opts.series} series (CLI): {secs:.2f} s "
              f"(target < {TARGETS['publish']:.0f} s); {proc.stdout.strip()}")
        failed += ["publish"] if secs > TARGETS["publish"] else []
    if failed:
        print(f"over target: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
