"""Build, load and inference phases of the trtexec double (test tool only).

The "engine" is a small file: the ``ftrt`` tag, one JSON header line (TensorRT version, precision, shape
profile, GPU, build-time profiling verbosity, layers) and zero padding to a precision-dependent size.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from tdouble_args import BadInput, dims_text, parse_shapes
from tdouble_fail import inject, matching
from tdouble_log import Gpu, Out, reached
from tdouble_perf import (
    Setup,
    g6,
    layer_info_json,
    layer_times,
    profile_json,
    profile_table,
    simulate,
    summary,
    times_json,
    trace_lines,
)
from tdouble_shapes import build_profile, model_io

MAGIC = b"ftrt"
SIZE_FACTOR = {
    "fp32": 1.0,
    "tf32": 1.0,
    "fp16": 0.5,
    "bf16": 0.5,
    "int8": 0.27,
    "fp8": 0.27,
    "best": 0.27,
    "int4": 0.15,
}
DEFAULT_LAYERS = [
    "Reformatting CopyNode for Input Tensor 0 to /conv1/Conv + /relu/Relu",
    "/conv1/Conv + /relu/Relu",
    "/maxpool/MaxPool",
    "/layer1/layer1.0/conv1/Conv + /layer1/layer1.0/relu/Relu",
    "/layer2/layer2.0/conv1/Conv + /layer2/layer2.0/relu/Relu",
    "/avgpool/GlobalAveragePool",
    "/fc/Gemm",
    "Reformatting CopyNode for Output Tensor 0 to /fc/Gemm",
]


@dataclass
class Context:
    out: Out
    cfg: dict
    opts: dict
    gpu: Gpu
    argv_text: str
    engine: dict = field(default_factory=dict)
    shapes: dict[str, list[int]] = field(default_factory=dict)

    @property
    def batch(self) -> int:
        first = next(iter(self.shapes.values()), [1])
        return first[0] if first else 1


def _failed(out: Out, lines: list[str]) -> int:
    for line in lines:
        out.e(line)
    out.status("FAILED")
    return 1


def build(ctx: Context) -> int | None:
    """Parse + build (+ deserialize unless inference is skipped); an rc means the run ended here."""
    out, o, cfg = ctx.out, ctx.opts, ctx.cfg
    v, onnx = out.version, o["onnx"]
    ten = reached(v, (10, 0))
    out.i("[TRT] [MemUsageChange] Init CUDA: CPU +1, GPU +0, now: CPU 32, GPU 458 (MiB)")
    out.i("Start parsing network model." if ten else "Start parsing network model")
    setup_fail = [
        "Parsing model failed",
        "Failed to create engine from model or file.",
        "Engine set up failed",
    ]
    if cfg["require_model_file"] and not Path(onnx).is_file():
        out.e(f"Could not open file {onnx}")
        out.e(f"[TRT] ModelImporter.cpp:{954 if ten else 773}: Failed to parse ONNX model from file: {onnx}")
        return _failed(out, ["Failed to parse onnx file"] + setup_fail)
    rule = "-" * 64
    for line in (rule, f"Input filename:   {onnx}", "ONNX IR version:  0.0.8", "Opset version:    17", rule):
        out.i("[TRT] " + line)
    inputs, outputs = model_io(ctx)
    try:
        profile = build_profile(ctx, inputs)
    except BadInput as exc:
        return _failed(
            out,
            [
                str(exc),
                "Network And Config setup failed",
                "Building engine failed",
                "Failed to create engine from model or file.",
                "Engine set up failed",
            ],
        )
    static = parse_shapes(o["shapes"])
    ctx.shapes = {n: static.get(n, trio[1]) for n, trio in profile.items()}
    fail = matching(cfg["fails"], "build", ctx.argv_text, o["precision"], ctx.batch)
    if fail and fail["mode"] in ("unsupported_op", "parse_error"):
        return inject(out, fail, "build")
    out.i("Finished parsing network model. Parse time: 0.0170852" if ten else "Finish parsing network model")
    cache = o["timing_cache"]
    cached = bool(cache) and Path(cache).is_file()
    if cache and not cached:
        out.w(f"[TRT] Could not read cache from: {cache}. A new cache will be generated and written.")
    if fail:
        return inject(out, fail, "build")
    speed = 1.0
    if o["workspace_mib"] is not None and o["workspace_mib"] < 1:
        out.w(
            "[TRT] UNSUPPORTED_STATE: Skipping tactic 0 due to insufficient memory on requested size of "
            "206080 "
            "detected for tactic 0x0000000000000000."
        )
        out.i(
            "[TRT] Some tactics do not have sufficient workspace memory to run. Increasing workspace size "
            "will "
            "enable more tactics, please check verbose output for requested sizes."
        )
        speed *= 1.3
    level = o["opt_level"] if o["opt_level"] >= 0 else 3
    speed *= 1.0 + 0.04 * (3 - level)
    if not cache:
        out.i("[TRT] Local timing cache in use. Profiling results in this builder pass will not be stored.")
    out.i(f"[TRT] Detected {len(inputs)} inputs and {len(outputs)} output network tensors.")
    build_s = cfg["perf"]["build_s"] * (0.5 if cached else 1.0) * (0.6 + 0.15 * level)
    out.i(f"[TRT] Engine generation completed in {g6(build_s * 0.92)} seconds.")
    ctx.engine = {
        "trtexec_double_engine": 1,
        "trt_version": ".".join(map(str, v)),
        "trt_version_full": ".".join(map(str, v)) + f".{cfg['build']}",
        "precision": o["precision"],
        "profile": {n: [list(t) for t in trio] for n, trio in profile.items()},
        "dynamic": any(t[0] != t[2] for t in profile.values()),
        "gpu": ctx.gpu.name,
        "profiling_verbosity": o["verbosity"],
        "speed_factor": speed,
        "model": onnx,
        "outputs": {n: d for n, d in outputs.items()},
        "layers": cfg["layers"] or DEFAULT_LAYERS,
    }
    size = int(cfg["engine_kib"] * 1024 * SIZE_FACTOR.get(o["precision"], 1.0))
    if o["save_engine"]:
        blob = MAGIC + b"\x00trtexec-double\n" + json.dumps(ctx.engine).encode() + b"\n"
        Path(o["save_engine"]).write_bytes(blob + b"\x00" * max(0, size - len(blob)))
        size = max(size, len(blob))
    if cache:
        Path(cache).write_bytes(b"trtexec-double timing cache\n")
    if o["export_layer_info"]:
        _layer_info(ctx, export_only=True)
    if reached(v, (9, 0)):
        out.i(f"Created engine with size: {g6(size / 2**20)} MiB")
    out.i(f"Engine built in {g6(build_s)} sec.")
    if o["skip_inference"]:
        return None
    out.i(f"[TRT] Loaded engine size: {size // 2**20} MiB")  # TRT rounds down
    out.i("Engine deserialized in 0.00676279 sec.")
    return None


def load(ctx: Context) -> int | None:
    """Read the engine file and refuse plans of another TensorRT version with the library's messages."""
    out, o = ctx.out, ctx.opts
    v, path = out.version, Path(o["load_engine"])
    ten = reached(v, (10, 0))
    if not path.is_file():
        return _failed(
            out,
            [
                f"Error opening engine file: {path}",
                "Failed to create engine from model or file.",
                "Engine set up failed",
            ],
        )
    blob = path.read_bytes()
    if not ten:
        out.i("Engine loaded in 0.00697214 sec.")
    tail = (
        ["Engine deserialization failed", "Got invalid engine!", "Inference set up failed"]
        if ten
        else ["Engine deserialization failed", "Engine set up failed"]
    )
    header: dict | None = None
    if blob.startswith(MAGIC):
        try:
            header = json.loads(blob.split(b"\n", 2)[1])
        except (IndexError, ValueError):
            header = None
    if header is None:
        api = "IRuntime::deserializeCudaEngine: " if ten else "[stdArchiveReader.cpp::StdArchiveReader::32] "
        return _failed(
            out,
            [
                f"Error[1]: {api}Error Code 1: Serialization (Serialization assertion "
                "plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed.)"
            ]
            + tail,
        )
    mine = ".".join(map(str, v)) + f".{ctx.cfg['build']}"
    if header["trt_version"] != ".".join(map(str, v)):
        text = (
            f"The engine plan file is not compatible with this version of TensorRT, expecting library "
            "version "
            f"{mine} got {header['trt_version_full']}, please rebuild."
        )
        first = (
            f"Error[6]: IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error ({text})"
            if ten
            else f"Error[6]: {text}"
        )
        extra = (
            []
            if ten
            else [
                "Error[4]: [runtime.cpp::deserializeCudaEngine::66] Error Code 4: Internal Error "
                "(Engine deserialization failed.)"
            ]
        )
        return _failed(out, [first] + extra + tail)
    if header["gpu"] != ctx.gpu.name:
        out.w(
            "[TRT] Using an engine plan file across different models of devices is not recommended and is "
            "likely "
            "to affect performance or even cause errors."
        )
    out.i(f"[TRT] Loaded engine size: {len(blob) // 2**20} MiB")
    out.i("Engine deserialized in 0.00608274 sec.")
    ctx.engine = header
    static = parse_shapes(o["shapes"])
    for name, (lo, _, hi) in header["profile"].items():
        if name in static:
            ctx.shapes[name] = static[name]
        elif lo == hi:
            ctx.shapes[name] = lo
        else:
            ctx.shapes[name] = [1 if a != b else a for a, b in zip(lo, hi, strict=True)]
            out.w(
                f"Shape missing for input with dynamic shape: {name}Automatically setting shape to: "
                f"{dims_text(ctx.shapes[name])}"
            )
    return None


def _check_shapes(ctx: Context) -> str | None:
    for name, dims in ctx.shapes.items():
        lo, _, hi = ctx.engine["profile"].get(name, (dims, dims, dims))
        if len(dims) != len(lo) or any(d < a or d > b for d, a, b in zip(dims, lo, hi, strict=False)):
            shown = "[" + ",".join(map(str, dims)) + "]"
            rng = "[" + ",".join(map(str, lo)) + "]..[" + ",".join(map(str, hi)) + "]"
            return (
                f"Error[3]: IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check "
                f"failed, condition: satisfyProfile. Set dimension {shown} for tensor {name} does not "
                "satisfy "
                f"any optimization profiles. Valid range for profile 0: {rng}.)"
            )
    return None


def _layer_info(ctx: Context, export_only: bool = False) -> None:
    out, o, engine = ctx.out, ctx.opts, ctx.engine
    verbosity = engine.get("profiling_verbosity", "layer_names_only")
    layers = [] if verbosity == "none" else list(engine["layers"])
    io = [(n, "Input", dims_text(t[1])) for n, t in engine["profile"].items()]
    io += [(n, "Output", dims_text(d)) for n, d in engine["outputs"].items()]
    if o["export_layer_info"]:
        Path(o["export_layer_info"]).write_text(
            layer_info_json(layers, io, verbosity == "detailed", reached(out.version, (11, 0)))
        )
    if export_only or not o["dump_layer_info"]:
        return
    out.i("Layer Information:")
    if verbosity == "layer_names_only":
        out.i(
            "[TRT] The profiling verbosity was set to ProfilingVerbosity::kLAYER_NAMES_ONLY when the engine "
            "was "
            "built, so only the layer names will be returned. Rebuild the engine with "
            "ProfilingVerbosity::kDETAILED "
            "to get more verbose layer information."
        )
    out.i("Layers:")
    for name in layers:
        out.raw(
            name if verbosity != "detailed" else f"Name: {name}, LayerType: kgen, Inputs: [], Outputs: [], "
        )
    out.raw("")
    out.raw("Bindings:")
    for name, _, _ in io:
        out.raw(name)


def infer(ctx: Context, fail: dict | None) -> int:
    """Timed inference loop, summary, warnings, exports, profile (reference §3.2 order)."""
    out, o, cfg = ctx.out, ctx.opts, ctx.cfg
    v = out.version
    error = _check_shapes(ctx)
    if error:
        return _failed(out, [error, "Inference set up failed"])
    out.i(
        "[TRT] [MemUsageChange] TensorRT-managed allocation in IExecutionContext creation: CPU +0, GPU +2, "
        "now: "
        "CPU 0, GPU 26 (MiB)"
    )
    out.i("Setting persistentCacheLimit to 0 bytes.")
    out.i("Created execution context with device memory size: 1.91406 MiB")
    typed = " and type fp32" if reached(v, (10, 0)) else ""
    for name, dims in ctx.shapes.items():
        out.i(f"Using random values for input {name}")
        out.i(f"Input binding for {name} with dimensions {dims_text(dims)}{typed} is created.")
    for name, dims in ctx.engine["outputs"].items():
        shown = [ctx.batch if d < 0 else d for d in dims]
        out.i(f"Output binding for {name} with dimensions {dims_text(shown)}{typed} is created.")
    if o["dump_layer_info"] or o["export_layer_info"]:
        _layer_info(ctx)
    out.i("Starting inference")
    if fail:
        return inject(out, fail, "run")
    perf = dict(cfg["perf"])
    perf["latency_scale"] = perf["latency_scale"] * ctx.engine.get("speed_factor", 1.0)
    input_bytes = sum(4 * math.prod(d) for d in ctx.shapes.values())
    setup = Setup(
        ctx.engine["precision"],
        ctx.batch,
        ctx.engine["dynamic"],
        o["streams"],
        o["cuda_graph"],
        o["spin_wait"],
        o["transfers"],
        o["threads"],
        o["warmup_ms"],
        o["duration_s"] * 1000,
        max(1, o["iterations"]),
        input_bytes,
    )
    samples, warm = simulate(perf, setup)
    mean_gpu = sum(x.compute for x in samples) / len(samples)
    per_layer = layer_times(list(ctx.engine["layers"]), mean_gpu * 1.1)
    if o["profile"] and not o["separate_profile"] and reached(v, (8, 4)):
        out.i(
            "The e2e network timing is not reported since it is inaccurate due to the extra synchronizations "
            "when the profiler is enabled."
        )
        out.i(
            "To show e2e network timing report, add --separateProfileRun to profile layer timing in a "
            "separate "
            "run or remove --dumpProfile to disable the profiler."
        )
        out.i()
    else:
        wall = samples[-1].d2h_end - samples[0].h2d_start
        out.i(f"Warmup completed {warm} queries over {o['warmup_ms']:g} ms")
        out.i(f"Timing trace has {len(samples)} queries over {g6(wall / 1000)} s")
        out.i()
        out.i("=== Trace details ===")
        for line in trace_lines(samples, o["avg_runs"], v):
            out.i(line)
        out.i()
        info, warn, _ = summary(samples, o["percentiles"], v, o["streams"])
        for line in info:
            out.i(line)
        for line in warn:
            out.w(line)
        out.i("Explanations of the performance metrics are printed in the verbose logs.")
        out.i()
        if o["export_times"]:
            Path(o["export_times"]).write_text(times_json(samples))
    if o["dump_profile"]:
        for line in profile_table(per_layer, len(samples)):
            out.i(line)
        out.i()
    if o["export_profile"]:
        Path(o["export_profile"]).write_text(profile_json(per_layer, len(samples)))
    if perf.get("realtime"):
        time.sleep((o["warmup_ms"] + samples[-1].d2h_end - samples[0].h2d_start) / 1000)
    out.status("PASSED")
    return 0
