"""What GPU telemetry costs: the sampler's CPU share of one core at 10 Hz, and the time it adds to a step.

    python benchmarks/telemetry_overhead.py [--seconds 10] [--steps 40]

By default against the fake NVML of the tests (``tests/fake_nvml``), so they measure trtsweep's own work
(the thread, the summary, ``telemetry.json``), not the driver's. With ``--real`` (on a GPU machine, with
``nvidia-ml-py`` importable) the same three measurements go through the real NVML on GPU 0, driver calls
included.

1. CPU share: process CPU time while only the sampler runs (the main thread sleeps) over wall time, minus
   the same without a sampler. Target < 1 % of one core.
2. Added ms per step: ``orchestrate.step.run_one`` of a step whose "trtexec" is ``/bin/true``, with the
   sampler on vs telemetry off, alternated, medians. Target < 5 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from trtsweep.orchestrate import telemetry as tm  # noqa: E402
from trtsweep.orchestrate.plan import Step  # noqa: E402
from trtsweep.orchestrate.step import Gpu, run_one  # noqa: E402

STREAM = REPO / "tests" / "fixtures" / "telemetry" / "h200_powercap.json"


REAL = False


def _fake() -> object | None:
    """The NVML library the measurements use: the fake one, or ``None`` (the real ``pynvml``) with --real."""
    import json

    if REAL:
        return None
    # Only here: tests/fake_nvml also holds a `pynvml` shim that must not shadow the real one under --real.
    sys.path.insert(0, str(REPO / "tests" / "fake_nvml"))
    from fake import FakeNvmlLib  # noqa: PLC0415


    doc = json.loads(STREAM.read_text())
    doc["gpus"][0]["stream"]["loop"] = True
    # Two compute processes, one foreign (init) and one ours, so the process list is read and classified.
    doc["gpus"][0]["processes"] = [{"pid": 1, "used_bytes": 2**30}, {"pid": os.getpid(), "used_bytes": 2**29}]
    return FakeNvmlLib(doc)


def cpu_share(seconds: float, rate_hz: float) -> tuple[float, float, int]:
    """(CPU share with the sampler, CPU share idle, samples taken) over ``seconds`` each."""
    def measure(sample: bool) -> tuple[float, int]:
        t = tm.Telemetry(_fake(), rate_hz=rate_hz)
        watch = t.watch("0", {}) if sample else tm.Watch(None, "off")
        cpu0, wall0 = time.process_time(), time.monotonic()
        with watch:
            time.sleep(seconds)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        n = len(watch.sampler.samples) if watch.sampler else 0
        return cpu / wall, n

    idle, _ = measure(False)
    busy, n = measure(True)
    return busy, idle, n


def per_sample_cpu_us(n: int = 20000) -> float:
    """CPU microseconds the sampler loop spends per sample (the NVML reads, and the process list every
    ``PROCESS_EVERY``-th sample with its /proc classification), measured in a tight loop: precise where
    the process CPU clock is too coarse for 0.1 % shares."""
    if REAL:
        import pynvml

        pynvml.nvmlInit()
        nvml = tm.Nvml(pynvml)
        n = min(n, 2000)  # real driver calls are slower; 2000 samples still take seconds
    else:
        nvml = tm.Nvml(_fake())
    dev = nvml.devices()[0]
    s = tm.Sampler(nvml, dev)
    h = nvml.handle(0)
    t0 = time.process_time()
    for k in range(n):
        s.samples.append(nvml.sample(h, k / 10))
        if k % tm.PROCESS_EVERY == 0:
            for pid, _used in nvml.processes(h):
                s.classifier.classify(pid)
    s.summary()
    return (time.process_time() - t0) / n * 1e6


def step_ms(steps: int) -> tuple[float, float]:
    """Median wall ms of ``run_one`` for a ``/bin/true`` step: (sampler on, telemetry off)."""
    root = Path(tempfile.mkdtemp(prefix="telemetry-bench-"))
    on = tm.Telemetry(_fake(), rate_hz=10.0)
    off = tm.Telemetry(enabled=False)
    true = shutil.which("true") or "/bin/true"
    times: dict[str, list[float]] = {"on": [], "off": []}
    try:
        for i in range(steps * 2):
            which = "on" if i % 2 == 0 else "off"
            step = Step(id=f"run/v{i}", kind="run", dir=root / "runs" / f"v{i}", argv=(true,), build_id="b",
                        timeout_s=30, variant_id=f"v{i}", run_dir=root)
            t0 = time.perf_counter()
            run_one(step, Gpu("0"), {}, telemetry=on if which == "on" else off)
            times[which].append((time.perf_counter() - t0) * 1000)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return statistics.median(times["on"]), statistics.median(times["off"])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--rate", type=float, default=10.0)
    p.add_argument("--real", action="store_true", help="the real NVML (pynvml) on GPU 0 instead of the fake")
    args = p.parse_args()
    global REAL
    REAL = args.real
    print("NVML:", "real (pynvml, GPU 0)" if REAL else "the tests' fake (tests/fake_nvml)")
    busy, idle, n = cpu_share(args.seconds, args.rate)
    print(f"sampler at {args.rate:g} Hz for {args.seconds:g} s: {n} samples; process CPU {busy * 100:.3f} % "
          f"of one core vs {idle * 100:.3f} % with no sampler (the CPU clock is too coarse to separate them)")
    us = per_sample_cpu_us()
    share = us * 1e-6 * args.rate
    print(f"per sample: {us:.1f} us of CPU (tight loop, summary included) x {args.rate:g} Hz = "
          f"{share * 100:.4f} % of one core (target < 1 %, ratio to target {share / 0.01:.3f})")
    with_ms, without_ms = step_ms(args.steps)
    added = with_ms - without_ms
    print(f"step (/bin/true, {args.steps} each, alternated): median {with_ms:.2f} ms with telemetry vs "
          f"{without_ms:.2f} ms off -> adds {added:.2f} ms (target < 5 ms, ratio to target {added / 5:.2f})")
    return 0 if share < 0.01 and added < 5 else 1


if __name__ == "__main__":
    sys.exit(main())
