"""Entry point of the trtexec double (test tool only; never used by the product).

Env: ``TRTEXEC_DOUBLE_VERSION`` (default 10.8.0) and ``TRTEXEC_DOUBLE_CONFIG`` (JSON: version, gpus, perf,
model, fail); the env version wins over the config's. See README.md next to this file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import tdouble_engine as eng
from tdouble_args import BadInput, Options, mem_pools, percentiles
from tdouble_fail import inject, matching
from tdouble_gpuload import maybe_load
from tdouble_log import (
    Gpu,
    Out,
    device_block,
    echo_options,
    help_text,
    load_flags,
    parse_failure,
    reached,
    vtuple,
)
from tdouble_perf import PERF_DEFAULTS
from tdouble_shapes import shape_echo

DEFAULT_VERSION = "10.8.0"
BUILD_NUMBERS = {8: 6, 9: 7, 10: 43, 11: 12}
WEAK = ("--fp16", "--bf16", "--int8", "--fp8", "--int4", "--best")
DEPRECATION_TEXT = {
    "--streams": "--streams flag has been deprecated, use --infStreams flag instead.",
    "--plugins": "--plugins flag has been deprecated, use --staticPlugins flag instead.",
    "--buildOnly": "--buildOnly flag has been deprecated by --skipInference flag.",
    "--workspace": "--workspace flag has been deprecated by --memPoolSize flag.",
    "--explicitBatch": "--explicitBatch flag has been deprecated and has no effect!",
    "--heuristic": "--heuristic flag has been deprecated, use --builderOptimizationLevel=<N> flag instead "
    "(N <= 2 enables heuristic).",
    "--directIO": "--directIO flag has been deprecated",
    "--nvtxMode": "--nvtxMode flag has been deprecated by --profilingVerbosity flag.",
    "--useCudaGraph": "--useCudaGraph is deprecated. CUDA graph is now enabled by default. Use --noCudaGraph "
    "to disable CUDA graph.",
    "--useSpinWait": "--useSpinWait is deprecated. Spin wait is now enabled by default. Use --noSpinWait to "
    "disable spin wait.",
    "--noDataTransfers": "--noDataTransfers is deprecated. Data transfers are now disabled by default. Use "
    "--includeDataTransfers to enable data transfers.",
    "--separateProfileRun": "--separateProfileRun is deprecated. Profiling is now always done in a "
    "separate run.",
}


def load_config() -> dict:
    cfg: dict = {}
    path = os.environ.get("TRTEXEC_DOUBLE_CONFIG")
    if path:
        cfg = json.loads(Path(path).read_text())
    text = os.environ.get("TRTEXEC_DOUBLE_VERSION") or str(cfg.get("version") or DEFAULT_VERSION)
    version = (vtuple(text) + (0, 0, 0))[:3]
    perf = {**PERF_DEFAULTS, **cfg.get("perf", {})}
    perf["precision_factor"] = {
        **PERF_DEFAULTS["precision_factor"],
        **cfg.get("perf", {}).get("precision_factor", {}),
    }
    gpus = [Gpu(**g) if isinstance(g, dict) else Gpu(name=str(g)) for g in cfg.get("gpus", [])] or [Gpu()]
    fails = cfg.get("fail") or []
    return {
        "version": version,
        "build": int(cfg.get("build", BUILD_NUMBERS.get(version[0], 1))),
        "perf": perf,
        "gpus": gpus,
        "fails": fails if isinstance(fails, list) else [fails],
        "model": cfg.get("model"),
        "engine_kib": int(cfg.get("engine_kib", 256)),
        "require_model_file": cfg.get("require_model_file", True),
        "layers": cfg.get("layers"),
    }


def visible_gpus(gpus: list[Gpu]) -> list[Gpu]:
    """GPUs as CUDA numbers them after ``CUDA_VISIBLE_DEVICES`` (indices into the configured list)."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is None:
        return list(gpus)
    picked = []
    for part in env.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) >= len(gpus):
            break  # CUDA stops at the first invalid entry
        picked.append(gpus[int(part)])
    return picked


def model_precision(onnx: str, cfg: dict) -> str:
    """11.x: the precision the ONNX file carries, guessed from its name (config ``model.precision`` wins)."""
    if cfg["model"] and cfg["model"].get("precision"):
        return str(cfg["model"]["precision"])
    for token in ("fp16", "bf16", "int8", "fp8", "int4", "fp32"):
        if re.search(rf"(^|[^a-z0-9]){token}([^a-z0-9]|$)", Path(onnx).name.lower()):
            return token
    return "fp32"


def resolve_precision(opts: Options, out: Out, onnx: str | None, cfg: dict) -> tuple[str, str]:
    """(engine precision, ``Precision:`` echo) from flags (≤10.x) or from the model (11.x)."""
    v = out.version
    if reached(v, (11, 0)):
        p = model_precision(onnx or "", cfg)
        return ("fp32" if opts.has("--noTF32") else "tf32") if p == "fp32" else p, "Strongly Typed"
    weak = [f for f in WEAK if opts.has(f)]
    if weak and reached(v, (10, 14)):
        out.w(
            "Weakly-typed networks have been deprecated in TensorRT. You can use the AutoCast tool "
            "(https://nvidia.github.io/TensorRT-Model-Optimizer/guides/8_autocast.html) to convert the "
            "network "
            "to be strongly typed."
        )
    if opts.has("--stronglyTyped"):
        for f in weak:
            out.w(
                f"Invalid usage, setting {f[2:]} mode is not allowed if graph is strongly typed. Disabling "
                f"BuilderFlag::k{f[2:].upper()}."
            )
        p = model_precision(onnx or "", cfg)
        return p, "Strongly Typed" if reached(v, (10, 2)) else "FP32 (Strongly Typed)"
    if opts.has("--int8") and opts.has("--fp8"):
        raise BadInput("Invalid usage, fp8 and int8 aren't allowed to be enabled together.")
    names = {
        "--best": "best",
        "--int8": "int8",
        "--fp8": "fp8",
        "--fp16": "fp16",
        "--bf16": "bf16",
        "--int4": "int4",
    }
    label = next((names[f] for f in names if opts.has(f)), "fp32" if opts.has("--noTF32") else "tf32")
    parts = ["FP32"]
    best = opts.has("--best")
    for flag, text in (
        ("--fp16", "FP16"),
        ("--bf16", "BF16"),
        ("--int8", "INT8"),
        ("--fp8", "FP8"),
        ("--int4", "INT4"),
    ):
        if (
            opts.has(flag)
            or (best and text in ("FP16", "INT8"))
            or (best and text == "BF16" and reached(v, (9, 0)))
        ):
            parts.append(text)
    return label, "+".join(parts)


def main(argv: list[str]) -> int:
    cfg = load_config()
    v = cfg["version"]
    flags = load_flags(v)
    args = argv[1:]
    out = Out(v, cfg["build"], " ".join([argv[0]] + args))
    out.status("RUNNING")
    if not args or any(a.partition("=")[0] in ("--help", "-h") for a in args):
        for line in help_text(flags):
            out.raw(line)
        if not args and not reached(v, (11, 1)):
            out.status("PASSED")
        return 0
    opts = Options(args, flags)
    if opts.leftover:
        return parse_failure(out, flags, [f"Unknown option: {n} {val}" for n, val in opts.leftover])
    out.verbose = opts.has("--verbose")
    try:
        o = resolve(opts, out, cfg, flags)
    except BadInput as exc:
        return parse_failure(out, flags, [str(exc)])
    gpus = visible_gpus(cfg["gpus"])
    echo_options(out, o)
    selected = o["device"] if 0 <= o["device"] < len(gpus) else None
    if selected is None and not reached(v, (9, 1)):
        out.i("=== Device Information ===")
        out.raw("Cuda failure: invalid device ordinal", err=True)
        signal.signal(signal.SIGABRT, signal.SIG_DFL)
        os.abort()
    device_block(out, gpus, selected, o["device"])
    if selected is None:
        return 1
    out.i(f"TensorRT version: {'.'.join(map(str, v))}")
    if reached(v, (8, 6)):
        out.i("Loading standard plugins")
    if cfg["perf"]["sleep_s"]:
        time.sleep(float(cfg["perf"]["sleep_s"]))
    ctx = eng.Context(out=out, cfg=cfg, opts=o, gpu=gpus[selected], argv_text=" ".join(args))
    if o["onnx"]:
        rc = eng.build(ctx)
        if rc is not None:
            return rc
        if o["skip_inference"]:
            out.i("Skipped inference phase since --skipInference is added.")
            out.status("PASSED")
            return 0
    else:
        rc = eng.load(ctx)
        if rc is not None:
            return rc
    fail = matching(cfg["fails"], "run", ctx.argv_text, ctx.engine["precision"], ctx.batch)
    if fail and fail["mode"] == "oom":
        return inject(out, fail, "run")
    maybe_load(o["duration_s"], o["warmup_ms"], o["device"])  # TRTEXEC_DOUBLE_GPU_LOAD=1: a real GPU load
    return eng.infer(ctx, fail)


def resolve(opts: Options, out: Out, cfg: dict, flags: dict[str, dict[str, str]]) -> dict:
    """All option values the double acts on, with trtexec's defaults for the version."""
    v = out.version
    onnx, load, save = opts.get("--onnx"), opts.get("--loadEngine"), opts.get("--saveEngine")
    if load and save:
        raise BadInput("Incompatible load and save engine options selected")
    if not onnx and not load:
        raise BadInput("Model missing or format not recognized")
    for flag in opts.values:
        if flag in DEPRECATION_TEXT and flags[flag]["deprecated"]:
            out.w(DEPRECATION_TEXT[flag])
    if (
        reached(v, (10, 7))
        and not reached(v, (11, 0))
        and not any(opts.has(f) for f in WEAK + ("--noTF32", "--stronglyTyped"))
    ):
        out.i(
            "TF32 is enabled by default. Add --noTF32 flag to further improve accuracy with some "
            "performance cost."
        )
    precision, echo = resolve_precision(opts, out, onnx, cfg)
    pools, workspace = mem_pools(opts, v)
    verbosity = opts.get("--profilingVerbosity", "layer_names_only") or "layer_names_only"
    verbosity = {"default": "layer_names_only", "verbose": "detailed"}.get(verbosity, verbosity)
    eleven = reached(v, (11, 0))
    streams = opts.int("--infStreams", opts.int("--streams", 1))
    profiling = opts.has("--dumpProfile") or opts.has("--exportProfile")
    return {
        "onnx": onnx,
        "load_engine": load,
        "save_engine": save,
        "precision": precision,
        "precision_echo": echo,
        "mem_pools": pools,
        "workspace_mib": workspace,
        "verbosity": verbosity,
        "verbosity_enum": {"layer_names_only": 0, "none": 1, "detailed": 2}.get(verbosity, 0),
        "skip_inference": opts.has("--skipInference") or opts.has("--buildOnly"),
        "timing_cache": opts.get("--timingCacheFile"),
        "opt_level": opts.int("--builderOptimizationLevel", -1 if reached(v, (10, 0)) else 3),
        "shapes": opts.get("--shapes"),
        "min": opts.get("--minShapes"),
        "opt": opts.get("--optShapes"),
        "max": opts.get("--maxShapes"),
        "device": opts.int("--device", 0),
        "iterations": opts.int("--iterations", 10),
        "duration_s": opts.float("--duration", 3.0),
        "warmup_ms": opts.float("--warmUp", 200.0),
        "avg_runs": max(1, opts.int("--avgRuns", 10)),
        "streams": max(1, streams),
        "threads": opts.has("--threads"),
        "transfers": opts.has("--includeDataTransfers") if eleven else not opts.has("--noDataTransfers"),
        "spin_wait": not opts.has("--noSpinWait") if eleven else opts.has("--useSpinWait"),
        "cuda_graph": not opts.has("--noCudaGraph") if eleven else opts.has("--useCudaGraph"),
        "separate_profile": eleven or opts.has("--separateProfileRun"),
        "profile": profiling,
        "dump_profile": opts.has("--dumpProfile"),
        "export_profile": opts.get("--exportProfile"),
        "export_times": opts.get("--exportTimes"),
        "export_layer_info": opts.get("--exportLayerInfo"),
        "dump_layer_info": opts.has("--dumpLayerInfo"),
        "percentiles": percentiles(opts, v),
        "verbose": opts.has("--verbose"),
        **shape_echo(opts, v),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv))
