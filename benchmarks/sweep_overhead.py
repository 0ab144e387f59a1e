"""Orchestration overhead and GPU packing of ``trtsweep run``: ``python benchmarks/sweep_overhead.py``.

Both parts run the real CLI against the trtexec test double (``tests/trtexec_double``), so no GPU is needed.

1. Overhead. A 200-variant sweep (10 engine builds + 200 runs) with the double at zero latency on one GPU.
   Overhead per step = (trtsweep wall time - time spent inside the double processes) / steps, where the
   time inside the double is the sum of the steps' ``duration_s`` (the runner's Popen-to-exit time).
   Reference, measured in the same process run: the same argvs run directly (``subprocess.run``, serially,
   same environment, output to a log file), i.e. the cheapest possible driver of those trtexec calls.
   Target < 50 ms per step. Beside it, the same sweep on the Ray backend (``--executor ray``) against a
   one-GPU local Ray cluster started in this process with ``ray.cluster_utils`` (bound to 127.0.0.1, no
   dashboard), so the per-step cost of a Ray task -- submit, worker, artifacts back, written here -- is
   measured on the same machine in the same run; the cluster's own start-up is left out (a user's cluster
   is already up) but connecting to it is in. Target < 100 ms per step. ``--no-ray`` skips it.
2. Packing. A sweep whose every trtexec call sleeps ``--sleep-s`` on two emulated GPUs. Ideal time = the
   lower bound of any schedule on 2 GPUs that respects "a run needs its engine": max(total step time / 2,
   longest build + its longest run). Reported twice: the scheduled span (first step start to last step
   end, from the step folders' ``cmd.json``/``status`` mtimes) and the whole command's wall time (which
   adds start-up: imports, trtexec probe, nvidia-smi, the final results write). Target <= 1.05.

Options: ``--variants`` (200), ``--sleep-s`` (1.0), ``--keep DIR`` to keep the run folders, ``--no-ray``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOUBLE = ROOT / "tests" / "trtexec_double"
MODEL = ROOT / "examples" / "models" / "tracker.onnx"

# Fast, deterministic runs: trtexec stops after `iterations` because `duration_s` is 0.
RUN = "run: {warmup_ms: 0, iterations: 10, duration_s: 0, avg_runs: 1, percentiles: [50, 99], timeout_s: 120}"


def _sweep_text(matrix: dict[str, list]) -> str:
    lines = [
        "models:",
        "  - name: tracker",
        f"    onnx: {json.dumps(str(MODEL))}",
        "    inputs:",
        "      images: {shape: [batch, 3, 128, 64]}",
        "matrix:",
        *(f"  {k}: {json.dumps(v)}" for k, v in matrix.items()),
        RUN,
    ]
    return "\n".join(lines) + "\n"


def _overhead_matrix(n: int) -> dict[str, list]:
    """A matrix of exactly ``n`` variants (n = 40 * k) over 2 precisions x 5 static batches (10 builds)."""
    if n % 40:
        raise SystemExit("--variants must be a multiple of 40")
    return {"precision": ["fp32", "fp16"], "batch": [1, 2, 4, 8, 16], "streams": list(range(1, n // 40 + 1)),
            "cuda_graph": [False, True], "spin_wait": [False, True]}


def _env(config: dict, workdir: Path) -> dict[str, str]:
    cfg = workdir / "double.json"
    cfg.write_text(json.dumps(config))
    env = dict(os.environ)
    env["PATH"] = f"{DOUBLE}{os.pathsep}{env.get('PATH', '')}"
    env["TRTEXEC_DOUBLE_CONFIG"] = str(cfg)
    env.pop("TRTEXEC_DOUBLE_VERSION", None)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def _run_sweep(sweep: Path, out: Path, env: dict[str, str], extra: list[str]) -> float:
    """Wall time of one ``trtsweep run`` (a fresh process, as a user would start it)."""
    cmd = [sys.executable, "-m", "trtsweep.cli", "run", str(sweep), "-o", str(out), "-q", *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"trtsweep run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return wall


def _steps(run_dir: Path) -> list[dict]:
    """Every step folder's status plus its start (cmd.json written just before Popen) and end times."""
    steps = []
    for status in [*run_dir.glob("engines/*/status"), *run_dir.glob("runs/**/status")]:
        doc = json.loads(status.read_text())
        doc["dir"] = status.parent
        doc["kind"] = "build" if status.parent.parent.name == "engines" else "run"
        doc["start"] = (status.parent / "cmd.json").stat().st_mtime
        doc["end"] = status.stat().st_mtime
        steps.append(doc)
    return steps


def _ray_overhead(sweep: Path, workdir: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """(wall, time inside the double, steps) of the sweep on a one-GPU local Ray cluster."""
    from ray.cluster_utils import Cluster

    # Loopback only: Ray would otherwise resolve 127.0.0.1 to this host's routable address.
    ray_env = dict(env, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "num_gpus": 1, "object_store_memory": 100 << 20, "include_dashboard": False,
        "node_ip_address": "127.0.0.1"})
    try:
        out = workdir / "overhead-ray"
        wall = _run_sweep(sweep, out, ray_env, ["--executor", "ray", "--ray-address", cluster.address])
    finally:
        cluster.shutdown()
    steps = _steps(out)
    return wall, sum(s["duration_s"] for s in steps), len(steps)


def overhead(workdir: Path, variants: int, with_ray: bool = True) -> None:
    config = {"perf": {"latency_scale": 0, "max_samples": 10}}
    env = _env(config, workdir)
    sweep = workdir / "overhead.yaml"
    sweep.write_text(_sweep_text(_overhead_matrix(variants)))
    out = workdir / "overhead-run"
    wall = _run_sweep(sweep, out, env, [])
    steps = _steps(out)
    inside = sum(s["duration_s"] for s in steps)
    per_step_ms = (wall - inside) / len(steps) * 1000

    # Reference: the same trtexec calls, run directly one after another. The run steps need their engines,
    # which the sweep left in place; builds rewrite their own engine, so the order does not matter.
    argvs = [(s["argv"], s["dir"]) for s in sorted(steps, key=lambda s: s["kind"] != "build")]
    ref_env = dict(env, CUDA_VISIBLE_DEVICES="0")
    ref_log = workdir / "reference.log"
    start = time.perf_counter()
    for argv, cwd in argvs:
        # Into a log file like the runner's (not /dev/null): the same I/O as the steps did.
        with open(ref_log, "wb") as log:
            subprocess.run(argv, cwd=cwd, env=ref_env, stdout=log, stderr=subprocess.STDOUT, check=False)
    ref = time.perf_counter() - start

    builds = sum(s["kind"] == "build" for s in steps)
    print(f"[overhead] {variants} variants = {len(steps)} steps ({builds} builds), "
          "double at zero latency, 1 GPU")
    print(f"  trtsweep run wall time        {wall:8.2f} s")
    print(f"  time inside the double         {inside:8.2f} s  (sum of the steps' duration_s)")
    print(f"  orchestration overhead         {per_step_ms:8.1f} ms per step (target < 50)")
    print(f"  reference: same argvs direct   {ref:8.2f} s  ({ref / len(steps) * 1000:.1f} ms per call)")
    print(f"  trtsweep wall / reference      {wall / ref:8.3f}x  "
          f"(+{(wall - ref) / len(steps) * 1000:.1f} ms per step over a bare loop)")
    if not with_ray:
        return
    ray_wall, ray_inside, ray_steps = _ray_overhead(sweep, workdir, env)
    ray_ms = (ray_wall - ray_inside) / ray_steps * 1000
    print(f"[overhead, ray] the same {ray_steps} steps on a 1-GPU local Ray cluster (--executor ray)")
    print(f"                                 {'local':>8}  {'ray':>8}")
    print(f"  wall time (s)                  {wall:8.2f}  {ray_wall:8.2f}")
    print(f"  time inside the double (s)     {inside:8.2f}  {ray_inside:8.2f}")
    print(f"  overhead per step (ms)         {per_step_ms:8.1f}  {ray_ms:8.1f}  (targets: 50, 100)")
    print(f"  ray - local per step (ms)      {'':8}  {ray_ms - per_step_ms:8.1f}")


def packing(workdir: Path, sleep_s: float) -> None:
    gpus = ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"]
    env = _env({"gpus": gpus, "perf": {"latency_scale": 0, "max_samples": 10, "sleep_s": sleep_s}}, workdir)
    sweep = workdir / "packing.yaml"
    # 4 builds + 16 runs: enough steps that the tail (one GPU idle while the other finishes) is visible.
    sweep.write_text(_sweep_text({"precision": ["fp32", "fp16"], "batch": [1, 2], "streams": [1, 2],
                                  "cuda_graph": [False, True]}))
    out = workdir / "packing-run"
    wall = _run_sweep(sweep, out, env, ["--gpus", "0,1"])
    steps = _steps(out)
    total = sum(s["duration_s"] for s in steps)
    by_engine: dict[str, float] = {}
    for s in steps:
        if s["kind"] == "run":
            engine = next(a for a in s["argv"] if a.startswith("--loadEngine="))
            by_engine[Path(engine.split("=", 1)[1]).parent.name] = max(
                by_engine.get(Path(engine.split("=", 1)[1]).parent.name, 0.0), s["duration_s"])
    chain = max(s["duration_s"] + by_engine.get(s["dir"].name, 0.0) for s in steps if s["kind"] == "build")
    ideal = max(total / len(gpus), chain)
    span = max(s["end"] for s in steps) - min(s["start"] for s in steps)
    used = sorted({str(s.get("gpu")) for s in steps})
    print(f"[packing] {len(steps)} steps sleeping {sleep_s:g} s each on 2 emulated GPUs "
          f"(used: {', '.join(used)})")
    print(f"  total step time                {total:8.2f} s")
    print(f"  ideal schedule                 {ideal:8.2f} s  (max(total / 2, build + its longest run))")
    print(f"  scheduled span                 {span:8.2f} s  -> span / ideal = {span / ideal:.3f} "
          "(target <= 1.05)")
    print(f"  whole command wall time        {wall:8.2f} s  -> wall / ideal = {wall / ideal:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=200)
    ap.add_argument("--sleep-s", type=float, default=1.0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folders here")
    ap.add_argument("--no-ray", action="store_true", help="skip the Ray backend's column")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="trtsweep-bench-"))
    try:
        overhead(workdir, args.variants, with_ray=not args.no_ray)
        packing(workdir, args.sleep_s)
    finally:
        if args.keep:
            shutil.copytree(workdir, args.keep, dirs_exist_ok=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
