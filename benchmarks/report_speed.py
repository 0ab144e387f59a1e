"""How long ``build_report`` takes on a generated 1,000-variant result set (target: under 10 s).

Run: ``python benchmarks/report_speed.py [--variants N]``. The absolute time depends on the machine, so the
figure is also printed as a ratio against a reference measured in the same process: writing the same
number of rows (the run's results table) to CSV with pandas.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from trtsweep import store
from trtsweep.records import BuildInfo, Device, LayerRecord, RunRecord, Stats
from trtsweep.reports.html import build_report

TARGET_S = 10.0
SPEED = {"fp32": 1.0, "tf32": 1.3, "fp16": 2.4, "bf16": 2.3, "int8": 3.9}


def _stats(median: float) -> Stats:
    return Stats(
        min=median * 0.95,
        max=median * 1.4,
        mean=median * 1.02,
        median=median,
        percentiles={"p90": median * 1.1, "p95": median * 1.15, "p99": median * 1.25},
    )


def _record(precision: str, batch: int, streams: int, graph: bool, k: int) -> RunRecord:
    compute = 0.8 * batch**0.85 / SPEED[precision] * (1 + (k % 13) / 100)
    h2d, d2h = 0.04 * batch, 0.01 * batch
    layers = [
        LayerRecord(
            name=f"/model/block{i}/conv/Conv + Relu",
            type=("Convolution", "PointWise", "Pooling")[i % 3],
            precision=precision if i % 6 else "fp32",
            time_ms=compute / 60 * (1 + i % 5),
        )
        for i in range(60)
    ]
    layers.append(
        LayerRecord(
            name="Reformatting CopyNode for Input Tensor 0",
            type="Reformat",
            precision=precision,
            time_ms=compute / 50,
            is_reformat=True,
        )
    )
    return RunRecord(
        source="run.log",
        kind="trtexec_log",
        status="failed" if k % 97 == 0 else "passed",
        failure="oom" if k % 97 == 0 else None,
        trt_version="10.3.0",
        device=Device(name="NVIDIA A10"),
        command=f"trtexec --loadEngine=e.plan --streams={streams}",
        options={"precision": precision},
        build=BuildInfo(engine_build_s=40.0 + k % 7, engine_size_mib=80.0 / SPEED[precision]),
        throughput_qps=1000 / compute * (1.5 if streams > 1 else 1) * (1.07 if graph else 1),
        latency_ms=_stats(compute + h2d + d2h + 0.03),
        gpu_compute_ms=_stats(compute),
        h2d_ms=_stats(h2d),
        d2h_ms=_stats(d2h),
        enqueue_ms=_stats(0.15),
        gpu_compute_cv_pct=1.0,
        layers=layers,
    )


def generate(root: Path, n: int) -> Path:
    """A run folder with ``n`` variants over precision × batch × streams × CUDA graph × opt level."""
    grid = itertools.product(SPEED, (1, 2, 4, 8, 16, 32, 64, 128), (1, 2, 4), (False, True), range(100))
    lock = {
        "variants": [],
        "baseline": {"label": "PyTorch", "latency_ms": {"1": 10, "8": 40, "64": 250}},
        "expect_speedup": 3.0,
    }
    for k, (prec, batch, streams, graph, level) in enumerate(itertools.islice(grid, n)):
        vid = f"{prec}-b{batch}-s{streams}-{'g' if graph else 'ng'}-o{level}"
        axes = {
            "precision": prec,
            "batch": batch,
            "streams": streams,
            "cuda_graph": graph,
            "builder_optimization_level": level,
        }
        lock["variants"].append({"id": vid, "axes": axes, "build_id": f"{prec}-b{batch}-o{level}"})
        rec = _record(prec, batch, streams, graph, k)
        store.write_step(store.variant_dir(root, vid), rec, rec.status)
    store.atomic_write_json(root / store.LOCK_FILE, lock)
    store.atomic_write_json(root / "env.json", {"host": "bench", "gpus": [{"name": "NVIDIA A10"}]})
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="trtsweep-bench-") as tmp:
        run = generate(Path(tmp) / "run", args.variants)
        rows = store.results_rows(store.load_result_set(run))

        t0 = time.perf_counter()
        pd.DataFrame(rows).to_csv(Path(tmp) / "reference.csv", index=False)
        ref_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        res = build_report([run], Path(tmp) / "report")
        report_s = time.perf_counter() - t0
        size_kib = res.index_html.stat().st_size / 1024
    verdict = "OK" if report_s < TARGET_S else "TOO SLOW"
    print(
        f"report of {args.variants} variants: {report_s:.2f} s ({verdict}, target < {TARGET_S:g} s); "
        f"{len(res.pngs)} charts, index.html {size_kib:.0f} KiB"
    )
    print(
        f"reference (pandas CSV of the same {len(rows)} rows): {ref_s:.3f} s; "
        f"report / reference = {report_s / ref_s:.0f}x"
    )
    return 0 if report_s < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
