"""``python -m trtsweep.baselines.runner``: measure one baseline in its own process (a BASELINE step).

It builds the framework's inference (the user's ``nn.Module`` from its factory, or an ONNX Runtime
session), runs trtexec's protocol (:mod:`.protocol`) and writes ``baseline.json`` (the record) and
``times.json`` (the samples, in ``--exportTimes`` layout) into ``--out``; its stdout is the step's log.
``--check`` only sets up and runs one inference: setup problems are printed as JSON lines
(``{"key": ..., "message": ...}``) and the exit status is 2, so ``trtsweep run`` refuses the spec before
anything runs.

Exit status: 0 measured; 1 the measurement failed (e.g. out of memory); 2 the setup is wrong.

    python -m trtsweep.baselines.runner --framework pytorch \\
        --model examples/models/tracker_torch.py:make_tracker --input images=8x3x128x64 \\
        --device cuda --dtype float16 --out /tmp/b8
    python -m trtsweep.baselines.runner --framework onnxruntime --model examples/models/tracker.onnx \\
        --input images=1x3x128x64 --providers CPUExecutionProvider --iterations 50 \\
        --duration-s 0 --out /tmp/b1
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from trtsweep.baselines import frameworks as fw
from trtsweep.baselines.protocol import Settings, measure
from trtsweep.baselines.record import SAMPLES_FILE, build_record, samples
from trtsweep.store.runfolder import atomic_write_json

RESULT_FILE = "baseline.json"  # the runner's record; the step writes record.json from it


def _shape(text: str) -> tuple[str, tuple[int, ...]]:
    name, sep, dims = text.rpartition("=")
    try:
        if not sep or not name:
            raise ValueError
        shape = tuple(int(d) for d in dims.split("x"))
        if any(d < 1 for d in shape):
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not NAME=DxDxD (e.g. images=8x3x128x64)") from None
    return name, shape


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trtsweep.baselines.runner",
                                description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--framework", choices=("pytorch", "onnxruntime"), required=True)
    p.add_argument("--model", required=True, help="pytorch: package.module:factory or file.py:factory; "
                   "onnxruntime: the ONNX file")
    p.add_argument("--base", type=Path, default=Path.cwd(), help="folder relative imports and paths start "
                   "from (the sweep file's) [default: the current folder]")
    p.add_argument("--input", dest="inputs", type=_shape, action="append", required=True,
                   metavar="NAME=DIMS", help="an input and its shape at the measured batch (repeatable, in "
                   "the forward's order)")
    p.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--dtype", choices=fw.DTYPES, default="float32")
    p.add_argument("--compile", action="store_true", help="torch.compile the module")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--providers", default="CUDAExecutionProvider,CPUExecutionProvider")
    p.add_argument("--warmup-ms", type=float, default=200.0)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--duration-s", type=float, default=3.0)
    p.add_argument("--percentiles", default="90,95,99")
    p.add_argument("--no-data-transfers", action="store_true", help="leave H2D/D2H copies out")
    p.add_argument("--out", type=Path, help="folder for baseline.json and times.json")
    p.add_argument("--check", action="store_true", help="set up and run one inference only")
    return p


def make_inference(args: argparse.Namespace) -> Any:
    """The configured framework's inference (raises :class:`~.frameworks.SetupError`)."""
    inputs = [fw.InputSpec(n, s) for n, s in args.inputs]
    if args.framework == "pytorch":
        module = fw.make_module(args.model, args.base)
        fw.check_forward_names(module, inputs)
        return fw.TorchInference(module, inputs, args.device, args.dtype, args.channels_last, args.compile,
                                 not args.no_data_transfers)
    path = Path(args.model) if Path(args.model).is_absolute() else args.base / args.model
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    return fw.OrtInference(path, inputs, providers)


def _first_inference(inference: Any, framework: str) -> None:
    """One inference: a shape the module does not take fails here, as a setup problem."""
    try:
        inference.run_once()
    except Exception as exc:  # noqa: BLE001 - the user's module may raise anything
        key = "pytorch.model" if framework == "pytorch" else "onnxruntime.model"
        raise fw.SetupError(key, f"one inference at the sweep's input shapes failed: "
                            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None


def run(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings(args.warmup_ms, args.iterations, args.duration_s,
                        tuple(float(x) for x in args.percentiles.split(",") if x.strip()),
                        not args.no_data_transfers)
    try:
        inference = make_inference(args)
        _first_inference(inference, args.framework)
    except fw.SetupError as exc:
        if args.check:
            print(json.dumps({"key": exc.key, "message": str(exc)}))
        print(f"trtsweep baseline: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(json.dumps({"ok": True}))
        return 0
    if args.out is None:
        print("trtsweep baseline: error: --out is required to measure", file=sys.stderr)
        return 2
    print(f"measuring {args.framework} {args.model} ({', '.join(f'{n}={s}' for n, s in args.inputs)}) with "
          f"warm-up {settings.warmup_ms:g} ms, >= {settings.iterations} iterations and >= "
          f"{settings.duration_s:g} s", flush=True)
    m = measure(inference, settings)
    events = args.framework == "pytorch" and args.device == "cuda"
    notes = [] if events else ["no CUDA events: times are host-clock times of the synchronous call; "
                               "compare this baseline end to end"]
    options = {"framework": args.framework, "framework_version": inference.version(), "model": args.model,
               "shapes": {n: list(s) for n, s in args.inputs}, "batch": args.inputs[0][1][0],
               "warmup_ms": settings.warmup_ms, "iterations": settings.iterations,
               "duration_s": settings.duration_s, "percentiles": list(settings.percentiles),
               "data_transfers": settings.data_transfers}
    if args.framework == "pytorch":
        options.update(device=args.device, dtype=args.dtype, compile=args.compile,
                       channels_last=args.channels_last)
    else:
        options.update(providers=getattr(inference, "providers", []))
    rec = build_record(m, args.framework, str(args.out / RESULT_FILE), device=inference.device_info(),
                       options=options, gpu_events=events, notes=notes)
    rec.command = shlex.join([sys.executable, "-m", "trtsweep.baselines.runner", *(argv or sys.argv[1:])])
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(args.out / SAMPLES_FILE, samples(m))
    atomic_write_json(args.out / RESULT_FILE, rec.to_dict())
    med = (rec.gpu_compute_ms or rec.latency_ms)
    print(f"{len(m.timings)} timed inferences in {m.walltime_s:.3f} s after {m.warmup_count} warm-up ones; "
          f"{'GPU compute' if rec.gpu_compute_ms else 'latency'} median "
          f"{med.median if med else float('nan'):.5g} ms, end-to-end median "
          f"{rec.end_to_end_ms.median if rec.end_to_end_ms else float('nan'):.5g} ms, "
          f"{rec.throughput_qps or 0:.5g} qps", flush=True)
    return 0


def main() -> None:
    try:
        sys.exit(run())
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
