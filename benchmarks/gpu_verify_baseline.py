"""Verify trtsweep's measured PyTorch baseline on a real NVIDIA GPU (one command, self-checking).

The tracker of ``examples/models`` as a PyTorch module (``examples/models/tracker_torch.py``) is measured
at batches 1, 8 and 64 in float32 and float16:

1. through trtsweep's real code path: a sweep file with ``baseline.pytorch``, its BASELINE steps planned by
   ``orchestrate.plan.baseline_steps`` and run by ``orchestrate.step.run_one`` (the runner in its own
   process, trtexec's protocol and statistics), the records read back from the run folder;
2. by hand in this process with ``torch.cuda.Event`` (events around the forward pass; the host clock around
   H2D + forward + D2H, synchronised), before and after (1), so drift shows up instead of biasing (1);
3. with a naive host timer without synchronisation (``perf_counter`` around ``model(x)``), which times the
   launch only and under-reports.

It prints one table and exits 0 only when every check holds: trtsweep's GPU compute median within
``--tolerance-pct`` (2 %) of the hand-timed one, the naive timer below the synchronised end-to-end time,
and the module's output equal to the ONNX model's (a numpy implementation of ``tracker.onnx``; also
ONNX Runtime when it is installed).

    python benchmarks/gpu_verify_baseline.py                   # on the GPU machine (torch with CUDA)
    python benchmarks/gpu_verify_baseline.py --reference-only  # no torch needed: numpy vs ONNX Runtime
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ONNX = REPO / "examples" / "models" / "tracker.onnx"
FACTORY = "examples/models/tracker_torch.py:make_tracker"
SHAPE = (3, 128, 64)


# ---------------------------------------------------------------- the ONNX model in numpy

def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int) -> np.ndarray:
    """3x3 convolution, padding 1 (im2col), in float64."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    oh, ow = (h + 2 - 3) // stride + 1, (wd + 2 - 3) // stride + 1
    cols = np.empty((n, c, 3, 3, oh, ow))
    for i in range(3):
        for j in range(3):
            cols[:, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    return np.einsum("nckluv,ockl->nouv", cols, w, optimize=True) + b[None, :, None, None]


def numpy_reference(x: np.ndarray, onnx_path: Path = ONNX) -> np.ndarray:
    """``tracker.onnx`` evaluated node by node in numpy (float64), from its own graph and weights."""
    import onnx
    from onnx import helper, numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in graph.initializer}
    values[graph.input[0].name] = x.astype(np.float64)
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        ins = [values[i] for i in node.input]
        if node.op_type == "Conv":
            out = _conv(ins[0], ins[1], ins[2], attrs.get("strides", [1, 1])[0])
        elif node.op_type == "Relu":
            out = np.maximum(ins[0], 0)
        elif node.op_type == "MaxPool":
            a = ins[0]
            n, c, h, w = a.shape
            out = a[:, :, :h // 2 * 2, :w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
        elif node.op_type == "GlobalAveragePool":
            out = ins[0].mean(axis=(2, 3), keepdims=True)
        elif node.op_type == "Flatten":
            out = ins[0].reshape(ins[0].shape[0], -1)
        elif node.op_type == "Gemm":
            out = ins[0] @ (ins[1].T if attrs.get("transB") else ins[1]) + ins[2]
        else:
            raise ValueError(f"numpy_reference: op {node.op_type} not implemented")
        values[node.output[0]] = out
    return values[graph.output[0].name]


def max_rel_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-12))


# ---------------------------------------------------------------- checks and the table

@dataclass
class Row:
    batch: int
    dtype: str
    trtsweep_gpu: float
    hand_gpu: float
    trtsweep_e2e: float
    hand_e2e: float
    naive: float
    iterations: int

    @property
    def gpu_diff_pct(self) -> float:
        return (self.trtsweep_gpu / self.hand_gpu - 1) * 100

    @property
    def e2e_diff_pct(self) -> float:
        return (self.trtsweep_e2e / self.hand_e2e - 1) * 100

    @property
    def naive_share(self) -> float:
        """What the naive timer reports, as a share of the synchronised end-to-end time."""
        return self.naive / self.trtsweep_e2e


def check_rows(rows: list[Row], tolerance_pct: float) -> list[str]:
    """The failed checks, in words (empty: all hold)."""
    bad = []
    for r in rows:
        if abs(r.gpu_diff_pct) > tolerance_pct:
            bad.append(f"batch {r.batch} {r.dtype}: GPU compute {r.trtsweep_gpu:.4g} ms vs hand "
                       f"{r.hand_gpu:.4g} ms ({r.gpu_diff_pct:+.2f} %, limit {tolerance_pct:g} %)")
        if not r.naive < r.trtsweep_e2e:
            bad.append(f"batch {r.batch} {r.dtype}: the naive timer ({r.naive:.4g} ms) did not under-report "
                       f"the synchronised end-to-end time ({r.trtsweep_e2e:.4g} ms)")
    return bad


def format_table(rows: list[Row]) -> str:
    head = ("batch", "dtype", "trtsweep GPU ms", "hand GPU ms", "diff", "trtsweep e2e ms", "hand e2e ms",
            "diff", "naive ms", "naive/e2e")
    lines = [" | ".join(head), " | ".join("-" * len(h) for h in head)]
    for r in rows:
        lines.append(" | ".join([
            str(r.batch), r.dtype, f"{r.trtsweep_gpu:.5g}", f"{r.hand_gpu:.5g}", f"{r.gpu_diff_pct:+.2f} %",
            f"{r.trtsweep_e2e:.5g}", f"{r.hand_e2e:.5g}", f"{r.e2e_diff_pct:+.2f} %", f"{r.naive:.5g}",
            f"{r.naive_share:.2f}x"]))
    return "\n".join(lines)


# ---------------------------------------------------------------- measuring (needs torch with CUDA)

def trtsweep_records(dtype: str, batches: list[int], args: argparse.Namespace, work: Path) -> dict[int, dict]:
    """The BASELINE steps of a sweep with ``baseline.pytorch``, run the way ``trtsweep run`` runs them."""
    from trtsweep.orchestrate.plan import baseline_steps
    from trtsweep.orchestrate.step import Gpu, run_one
    from trtsweep.sweeps.spec import load_spec

    # The factory path is relative to the sweep file's folder: the sweep file sits in the repository root.
    sweep = REPO / f".gpu-verify-sweep-{dtype}.yaml"
    sweep.write_text(json.dumps({
        "models": [{"name": "tracker", "onnx": str(ONNX),
                    "inputs": {"images": {"shape": ["batch", *SHAPE]}}}],
        "matrix": {"batch": batches},
        "run": {"warmup_ms": args.warmup_ms, "iterations": args.iterations, "duration_s": args.duration_s,
                "percentiles": [50, 90, 99]},
        "baseline": {"label": "PyTorch", "basis": "gpu_compute",
                     "pytorch": {"model": FACTORY, "device": "cuda", "dtype": dtype}},
    }))
    try:
        spec = load_spec(sweep)
    finally:
        sweep.unlink(missing_ok=True)
    out = {}
    for step in baseline_steps(spec, work / f"run-{dtype}"):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        result = run_one(step, Gpu(None), env)
        if result.status != "passed":
            log = step.log_path.read_text(errors="replace") if step.log_path.is_file() else ""
            raise SystemExit(f"BASELINE step {step.id} {result.status}: {result.reason}\n{log[-2000:]}")
        rec = json.loads((step.dir / "record.json").read_text())
        tel = rec.get("telemetry") or {}
        print(f"  trtsweep {step.id}: {rec['options']['timed_inferences']} inferences, GPU compute median "
              f"{rec['gpu_compute_ms']['median']:.5g} ms, end-to-end median "
              f"{rec['end_to_end_ms']['median']:.5g} ms; SM clock MHz while busy {tel.get('sm_clock_mhz')}, "
              f"reasons {tel.get('reasons')}", flush=True)
        out[rec["options"]["batch"]] = rec
    return out


def hand_timing(module, torch, batch: int, dtype, args: argparse.Namespace) -> tuple[float, float]:  # noqa: ANN001
    """(GPU compute median, end-to-end median) in ms, timed by hand with torch.cuda.Event, same protocol."""
    host = torch.randn((batch, *SHAPE)).to(dtype).pin_memory()
    dev = host.to("cuda")
    out_host = None
    start, mid, end = (torch.cuda.Event(enable_timing=True) for _ in range(3))
    gpu, e2e = [], []
    clocks = _Clock()
    with torch.inference_mode():
        t_begin = time.perf_counter()
        while (time.perf_counter() - t_begin) * 1000 < args.warmup_ms:
            module(dev)
            torch.cuda.synchronize()
        loop = time.perf_counter()
        while len(gpu) < args.iterations or time.perf_counter() - loop < args.duration_s:
            t0 = time.perf_counter()
            dev.copy_(host, non_blocking=True)
            start.record()
            y = module(dev)
            mid.record()
            if out_host is None:
                out_host = torch.empty(y.shape, dtype=y.dtype, pin_memory=True)
            out_host.copy_(y, non_blocking=True)
            end.record()
            end.synchronize()
            e2e.append((time.perf_counter() - t0) * 1000)
            gpu.append(start.elapsed_time(mid))
            if len(gpu) % 200 == 0:
                clocks.sample()
    HAND_CLOCKS.append(clocks.median())
    return statistics.median(gpu), statistics.median(e2e)


HAND_CLOCKS: list[float | None] = []


class _Clock:
    """The SM clock (MHz) of GPU 0 sampled now and then through NVML, when nvidia-ml-py is there: the tracker
    is so small that its GPU time follows the clock the GPU happens to run at."""

    def __init__(self) -> None:
        self.values: list[float] = []
        try:
            import pynvml

            pynvml.nvmlInit()
            self.nvml, self.handle = pynvml, pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception:  # noqa: BLE001 - optional: no NVML, no clock column
            self.nvml = None

    def sample(self) -> None:
        if self.nvml is not None:
            self.values.append(float(self.nvml.nvmlDeviceGetClockInfo(self.handle, self.nvml.NVML_CLOCK_SM)))

    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def trtsweep_in_process(module, batch: int, dtype: str,  # noqa: ANN001
                        args: argparse.Namespace) -> tuple[float, float]:
    """trtsweep's measuring code (``TorchInference`` + ``measure`` + ``build_record``) run in this process,
    beside the hand timing: the same method without the BASELINE step's own process."""
    from trtsweep.baselines import frameworks as fw
    from trtsweep.baselines.protocol import Settings, measure
    from trtsweep.baselines.record import build_record

    inference = fw.TorchInference(module, [fw.InputSpec("images", (batch, *SHAPE))], "cuda", dtype)
    m = measure(inference, Settings(args.warmup_ms, args.iterations, args.duration_s, (50, 90, 99)))
    rec = build_record(m, "pytorch", "in-process", gpu_events=True)
    return rec.gpu_compute_ms.median, rec.end_to_end_ms.median  # type: ignore[union-attr]


def hand_in_fresh_process(batch: int, dtype: str,
                          args: argparse.Namespace) -> tuple[float, float, float | None]:
    """The hand timing again, in a new Python process started the way trtsweep starts a BASELINE step: the
    control that separates "trtsweep measures differently" from "a fresh process meets another GPU state"."""
    import subprocess

    cmd = [sys.executable, __file__, "--hand-child", f"--batches={batch}", f"--dtypes={dtype}",
           f"--warmup-ms={args.warmup_ms}", f"--iterations={args.iterations}",
           f"--duration-s={args.duration_s}"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    return doc["gpu"], doc["e2e"], doc["clock"]


def naive_timing(module, torch, batch: int, dtype, n: int = 200) -> float:  # noqa: ANN001
    """The common mistake: a host timer around ``model(x)`` with no synchronisation after it."""
    dev = torch.randn((batch, *SHAPE), device="cuda").to(dtype)
    times = []
    with torch.inference_mode():
        for _ in range(n):
            torch.cuda.synchronize()  # an idle GPU before each call, as between two requests
            t0 = time.perf_counter()
            module(dev)
            times.append((time.perf_counter() - t0) * 1000)
        torch.cuda.synchronize()
    return statistics.median(times)


def module_matches_onnx(torch, module_fp32) -> list[str]:  # noqa: ANN001
    x = np.random.default_rng(1).standard_normal((2, *SHAPE)).astype(np.float32)
    ref = numpy_reference(x)
    with torch.inference_mode():
        got = module_fp32(torch.from_numpy(x).to("cuda")).float().cpu().numpy()
    torch_err = max_rel_error(got, ref)
    print(f"module vs numpy evaluation of tracker.onnx: max relative error {torch_err:.2e}")
    bad = [] if torch_err < 1e-3 else [f"the PyTorch module differs from tracker.onnx ({torch_err:.2e})"]
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: module checked against the numpy evaluation only")
        return bad
    sess = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    ort_err = max_rel_error(sess.run(None, {"images": x})[0], ref)
    print(f"onnxruntime vs numpy evaluation: max relative error {ort_err:.2e}")
    return bad + ([] if ort_err < 1e-4 else [f"numpy evaluation differs from onnxruntime ({ort_err:.2e})"])


def reference_only() -> int:
    """No torch needed: the numpy evaluation of tracker.onnx against ONNX Runtime."""
    import onnxruntime as ort

    x = np.random.default_rng(1).standard_normal((2, *SHAPE)).astype(np.float32)
    sess = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    err = max_rel_error(sess.run(None, {"images": x})[0], numpy_reference(x))
    print(f"numpy evaluation of tracker.onnx vs onnxruntime: max relative error {err:.2e}")
    return 0 if err < 1e-4 else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", default="1,8,64")
    p.add_argument("--dtypes", default="float32,float16")
    p.add_argument("--warmup-ms", type=float, default=500)
    p.add_argument("--iterations", type=int, default=500)
    p.add_argument("--duration-s", type=float, default=3)
    p.add_argument("--tolerance-pct", type=float, default=2.0)
    p.add_argument("--reference-only", action="store_true", help="only check numpy vs onnxruntime (CPU)")
    p.add_argument("--hand-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.reference_only:
        return reference_only()
    import torch

    if not torch.cuda.is_available():
        print("torch.cuda.is_available() is False: this script needs an NVIDIA GPU", file=sys.stderr)
        return 2
    from examples.models.tracker_torch import make_tracker

    if args.hand_child:
        dtype = {"float32": torch.float32, "float16": torch.float16}[args.dtypes]
        module = make_tracker().to("cuda", dtype=dtype)
        g, e = hand_timing(module, torch, int(args.batches), dtype, args)
        print(json.dumps({"gpu": g, "e2e": e, "clock": HAND_CLOCKS[-1]}))
        return 0
    batches = [int(b) for b in args.batches.split(",")]
    print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    bad = module_matches_onnx(torch, make_tracker().cuda())
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.dtypes.split(","):
            dtype = {"float32": torch.float32, "float16": torch.float16}[name]
            module = make_tracker().to("cuda", dtype=dtype)
            before, inproc = {}, {}
            for b in batches:
                before[b] = hand_timing(module, torch, b, dtype, args)
                inproc[b] = trtsweep_in_process(make_tracker(), b, name, args)
            records = trtsweep_records(name, batches, args, Path(tmp))
            after = {b: hand_timing(module, torch, b, dtype, args) for b in batches}
            n = len(batches)
            for b, before_clock, after_clock in zip(batches, HAND_CLOCKS[-2 * n:-n], HAND_CLOCKS[-n:],
                                                    strict=True):
                fresh = hand_in_fresh_process(b, name, args)
                hand = (before[b][0] + after[b][0]) / 2
                step_gpu = records[b]["gpu_compute_ms"]["median"]
                print(f"  {name} b{b}: hand in this process GPU {before[b][0]:.5g}/{after[b][0]:.5g} ms "
                      f"(before/after) at SM {before_clock}/{after_clock} MHz; trtsweep's code in this "
                      f"process GPU {inproc[b][0]:.5g} ms ({(inproc[b][0] / hand - 1) * 100:+.2f} % "
                      "vs hand); "
                      f"hand in a fresh process GPU {fresh[0]:.5g} ms at SM {fresh[2]} MHz (trtsweep's "
                      f"BASELINE step {(step_gpu / fresh[0] - 1) * 100:+.2f} % vs it)", flush=True)
            for b in batches:
                rec = records[b]
                rows.append(Row(b, name, rec["gpu_compute_ms"]["median"], (before[b][0] + after[b][0]) / 2,
                                rec["end_to_end_ms"]["median"], (before[b][1] + after[b][1]) / 2,
                                naive_timing(module, torch, b, dtype), rec["options"]["timed_inferences"]))
    print()
    print(format_table(rows))
    bad += check_rows(rows, args.tolerance_pct)
    print()
    if bad:
        print("FAILED:\n  " + "\n  ".join(bad))
        return 1
    print(f"all checks hold: trtsweep's GPU compute medians within {args.tolerance_pct:g} % of "
          "torch.cuda.Event timing by hand; the unsynchronised host timer under-reports at every batch; the "
          "module is tracker.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
