"""The one declarative schema of a sweep file, and the checker that applies it to YAML nodes.

Everything a user can write in ``sweep.yaml`` is described once, here: keys, types, allowed values,
defaults and help text. Three things derive from it, so they cannot drift apart:

* validation (:class:`Checker`, used by :mod:`trtsweep.sweeps.spec`),
* the Markdown reference (:func:`describe`, for the README and ``--help``),
* the ``--only KEY=VALUE`` selectors (:func:`parse_axis_value`, used by
  :func:`trtsweep.sweeps.expand.select`).

The checker works on composed YAML *nodes* rather than on constructed Python objects, because only
nodes keep the ``start_mark`` that lets every problem be reported as ``file:line:col``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "int8", "fp8", "best")
SHAPE_MODES = ("static", "dynamic")
BATCH_TOKEN = "batch"  # the word that marks the batch dimension in an input's shape


# ---------------------------------------------------------------- problems


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input; ``line``/``col`` are 1-based, ``None`` when there is no position."""

    file: str
    line: int | None
    col: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class SpecError(Exception):
    """Bad input: every problem found at once. The CLI exits with :attr:`exit_code` and runs nothing."""

    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        # Sorted by position so a user can fix the file top to bottom; file order is kept stable.
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.col or 0, p.message))
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def suggest(word: str, known: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean 'x'?"`` for the closest known word, else the list of what is valid."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(known)}" if known else ""


# ---------------------------------------------------------------- kinds

ScalarType = Literal["str", "path", "int", "float", "bool", "dim"]


@dataclass(frozen=True)
class Scalar:
    """A single value. ``str``/``path`` accept any plain scalar as its text (so ``version: 10.3`` works)."""

    type: ScalarType
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False

    def expected(self) -> str:
        """Human description used in messages and docs, e.g. ``an integer >= 1``."""
        if self.choices:
            text = "one of " + ", ".join(show(c) for c in self.choices)
        else:
            text = {
                "str": "a string",
                "path": "a file path",
                "int": "an integer",
                "float": "a number",
                "bool": "true or false",
                "dim": f"a positive integer or '{BATCH_TOKEN}'",
            }[self.type]
            if self.minimum is not None and self.maximum is not None:
                text += f" in [{show(self.minimum)}, {show(self.maximum)}]"
            elif self.minimum is not None:
                text += f" >= {show(self.minimum)}"
        return text + (" or null" if self.nullable else "")


@dataclass(frozen=True)
class Seq:
    """A YAML list."""

    item: Kind
    min_items: int = 0
    unique: bool = False


@dataclass(frozen=True)
class MapOf:
    """A mapping with free keys (input names, batch sizes)."""

    key: Scalar
    value: Kind


@dataclass(frozen=True)
class Field:
    """One key of a :class:`Section`."""

    name: str
    kind: Kind
    help: str
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class Section:
    """A mapping with known keys. ``fill_defaults=False`` for partial selectors (include/exclude)."""

    fields: tuple[Field, ...]
    fill_defaults: bool = True

    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class OneOrMany:
    """A matrix axis: one value or a non-empty list of distinct values; always becomes a tuple."""

    item: Kind


@dataclass(frozen=True)
class FlagSets:
    """Free trtexec flags: a list of strings is one set; a list of lists is several sets (an axis)."""


Kind = Scalar | Seq | MapOf | Section | OneOrMany | FlagSets


# ---------------------------------------------------------------- the axes

Stage = Literal["build", "run", "shape"]


@dataclass(frozen=True)
class Axis:
    """A matrix axis. ``stage``: does it change the engine (build), only the run, or both (shape)."""

    name: str
    item: Scalar | FlagSets
    default: Any
    stage: Stage
    help: str


AXES: tuple[Axis, ...] = (
    Axis("precision", Scalar("str", PRECISIONS), "fp32", "build",
         "Engine precision. fp32 disables TF32 (--noTF32); tf32 is trtexec's default on Ampere+; fp16/bf16/"
         "int8/fp8/best enable those kernels (8.6/10.x flags). trtexec 11.x builds strongly typed networks "
         "only: the precision then comes from the model file (see models[].precision_onnx)."),
    Axis("batch", Scalar("int", minimum=1), 1, "shape",
         "Batch size: the value of the input dimension marked 'batch'. Static shapes build one engine per "
         "batch; dynamic shapes build one engine per model and precision whose profile spans every batch."),
    Axis("shapes", Scalar("str", SHAPE_MODES), "static", "build",
         "static: the engine is built for exactly the variant's shapes. dynamic: one min/opt/max profile "
         "over all batches of the sweep (min = smallest, opt = max = largest, unless the input overrides "
         "them) and the run uses the variant's batch."),
    Axis("streams", Scalar("int", minimum=1), 1, "run",
         "Parallel inference streams (--infStreams, --streams before 8.6). >1 measures throughput; "
         "per-inference latency is then not meaningful."),
    Axis("cuda_graph", Scalar("bool"), False, "run",
         "Capture the enqueue in a CUDA graph (--useCudaGraph; on 11.x, where it is the default, false "
         "adds --noCudaGraph)."),
    Axis("spin_wait", Scalar("bool"), False, "run",
         "Busy-wait for GPU completion (--useSpinWait; on 11.x false adds --noSpinWait). Explicit so results "
         "compare across versions whose defaults differ."),
    Axis("data_transfers", Scalar("bool"), True, "run",
         "Include host<->device copies in the timing. false adds --noDataTransfers (11.x: true adds "
         "--includeDataTransfers, since 11.x skips them by default)."),
    Axis("threads", Scalar("bool"), False, "run", "One host thread per stream (--threads)."),
    Axis("builder_optimization_level", Scalar("int", minimum=0, maximum=5, nullable=True), None, "build",
         "--builderOptimizationLevel (8.6+): higher builds longer for possibly faster engines. null = "
         "trtexec's default (3)."),
    Axis("workspace_mib", Scalar("float", minimum=0, nullable=True), None, "build",
         "Workspace memory pool in MiB (--memPoolSize=workspace:N on 8.4+, --workspace=N before). "
         "null = trtexec's default."),
    Axis("build_flags", FlagSets(), (), "build",
         "Extra trtexec flags for the engine build, each '--name' or '--name=value'. A list of strings is "
         "one set; a list of lists makes an axis of several sets."),
    Axis("run_flags", FlagSets(), (), "run",
         "Extra trtexec flags for the timed run (with --loadEngine), same form as build_flags."),
)
AXIS_BY_NAME: dict[str, Axis] = {a.name: a for a in AXES}
AXIS_NAMES: tuple[str, ...] = tuple(a.name for a in AXES)
# "model" selects among models[] in include/exclude/baseline/--only, like an axis.
SELECTOR_KEYS: tuple[str, ...] = ("model", *AXIS_NAMES)

_MODEL_FIELD = Field("model", OneOrMany(Scalar("str")), "Name of a model in models[].")

MATRIX = Section(tuple(Field(a.name, OneOrMany(a.item), a.help, default=(a.default,)) for a in AXES))
# include/exclude entries and the baseline selector: any subset of the axes, no defaults.
SELECTOR = Section((_MODEL_FIELD, *(Field(a.name, OneOrMany(a.item), a.help) for a in AXES)),
                   fill_defaults=False)

_DIMS = Seq(Scalar("int", minimum=1), min_items=1)

INPUT = Section((
    Field("shape", Seq(Scalar("dim"), min_items=1),
          f"Dimensions, with the word '{BATCH_TOKEN}' for the batch dimension (exactly once), e.g. "
          f"[{BATCH_TOKEN}, 3, 128, 64].", required=True),
    Field("min", _DIMS, "Override of the dynamic profile's minimum shape (full dims)."),
    Field("opt", _DIMS, "Override of the dynamic profile's optimum shape (full dims)."),
    Field("max", _DIMS, "Override of the dynamic profile's maximum shape (full dims)."),
))

MODEL = Section((
    Field("name", Scalar("str"), "Name used in variant ids, reports and selectors (any characters).",
          required=True),
    Field("onnx", Scalar("path"), "ONNX file; a relative path is relative to the sweep file's folder.",
          required=True),
    Field("precision_onnx", MapOf(Scalar("str", PRECISIONS), Scalar("path")),
          "ONNX files already converted to a precision, e.g. {fp16: model_fp16.onnx}. trtexec 11.x takes "
          "the precision from the model (strongly typed), so its fp16 variants need this file; 8.6/10.x "
          "use 'onnx' with a precision flag.", default={}),
    Field("inputs", MapOf(Scalar("str"), INPUT),
          "Network inputs by name (any characters except ','), each with its shape.", required=True),
))

RUN = Section((
    Field("warmup_ms", Scalar("float", minimum=0), "Warm-up before timing, ms (--warmUp).", default=200),
    Field("iterations", Scalar("int", minimum=1), "Minimum timed iterations (--iterations).", default=10),
    Field("duration_s", Scalar("float", minimum=0),
          "Minimum timed duration, s (--duration); trtexec runs until both limits are reached, so 0 means "
          "'iterations only'.", default=3),
    Field("avg_runs", Scalar("int", minimum=1), "Iterations averaged per trace line (--avgRuns).",
          default=10),
    Field("percentiles", Seq(Scalar("float", minimum=0, maximum=100), min_items=1, unique=True),
          "Latency percentiles to report (--percentile; trtexec <= 8.4 prints only the first).",
          default=(90, 95, 99)),
    Field("repeats", Scalar("int", minimum=1),
          "Runs of every variant, interleaved (round 1 runs all variants, then round 2 ...) so run-to-run "
          "noise can be measured apart from drift.", default=1),
    Field("timeout_s", Scalar("float", minimum=1), "Time limit of one run step, s.", default=600),
    Field("build_timeout_s", Scalar("float", minimum=1), "Time limit of one engine build, s.", default=3600),
))

BASELINE_PYTORCH = Section((
    Field("model", Scalar("str"), "The factory returning your torch.nn.Module: 'package.module:factory' "
          "(imported with the sweep file's folder on sys.path) or 'path/file.py:factory' (relative to it).",
          required=True),
    Field("device", Scalar("str", ("cuda", "cpu")), "Where PyTorch runs.", default="cuda"),
    Field("dtype", Scalar("str", ("float32", "float16")), "Weights and inputs dtype.", default="float32"),
    Field("compile", Scalar("bool"), "torch.compile the module first.", default=False),
    Field("channels_last", Scalar("bool"), "channels_last memory format for the module and 4-D inputs.",
          default=False),
))

BASELINE_ORT = Section((
    Field("providers", Seq(Scalar("str"), min_items=1, unique=True),
          "ONNX Runtime execution providers, in order; each must be available.",
          default=("CUDAExecutionProvider", "CPUExecutionProvider")),
    Field("model", Scalar("path"), "ONNX file; default: the sweep model's onnx."),
))

BASELINE = Section((
    Field("label", Scalar("str"), "Name shown in reports, e.g. PyTorch. Default: 'baseline'.",
          default="baseline"),
    Field("pytorch", BASELINE_PYTORCH,
          "Measure a PyTorch baseline: one BASELINE step per batch and repeat, with trtexec's protocol "
          "(run.warmup_ms, run.iterations, run.duration_s) and statistics, on the sweep's GPUs."),
    Field("onnxruntime", BASELINE_ORT, "Measure an ONNX Runtime baseline the same way."),
    Field("reference", Scalar("str", ("pytorch", "onnxruntime"), nullable=True),
          "Which measured baseline speedups use; default: pytorch when given, else onnxruntime."),
    Field("basis", Scalar("str", ("end_to_end", "gpu_compute")),
          "What a measured baseline's speedup compares: end_to_end (TensorRT's time per batch vs the "
          "baseline's synchronised host-clock time, copies included when data_transfers) or gpu_compute "
          "(GPU compute medians, CUDA events on both sides; needs pytorch on cuda).", default="end_to_end"),
    Field("data_transfers", Scalar("bool"), "Include the H2D/D2H copies in each measured inference.",
          default=True),
    Field("batches", Seq(Scalar("int", minimum=1), min_items=1, unique=True),
          "Batches to measure the baseline at; default: every batch of the sweep."),
    Field("for_model", Scalar("str"), "The models[] entry the measured baseline stands for; default: the "
          "first."),
    Field("variant", SELECTOR,
          "Baseline variants: those matching these axis values; every variant is compared with the "
          "baseline that equals it on all other axes (same batch, ...)."),
    Field("latency_ms", MapOf(Scalar("int", minimum=1), Scalar("float", minimum=0)),
          "External figures instead: latency in ms of one inference of a whole batch, by batch size, "
          "e.g. {1: 40, 8: 160}. Batches not listed get no speedup (nothing is interpolated)."),
))

TRTEXEC = Section((
    Field("path", Scalar("path"), "trtexec executable; default: --trtexec, else PATH, else the usual "
          "TensorRT install folders."),
    Field("version", Scalar("str"), "Required version prefix, e.g. '10.3'; a different trtexec is refused."),
))

TARGET = Section((
    Field("name", Scalar("str"), "Name of the device group, used in variant ids, engine and run folders and "
          "the results' 'target' column: letters, digits, '_', '.', '-'.", required=True),
    Field("gpu", Scalar("str"), "The GPU model its hosts carry, as a pattern of the name nvidia-smi prints "
          "(e.g. 'NVIDIA H100*'); a step whose GPU does not match fails with the reason instead of timing "
          "another model."),
    Field("resources", MapOf(Scalar("str"), Scalar("float", minimum=0)),
          "Ray custom resources each step requests besides its one GPU, e.g. {h100: 1} (start the hosts "
          "with `ray start --resources '{\"h100\": 8}'`). Default: {<name>: 1}.", default={}),
))

# Slurm's sbatch settings for --executor slurm. Only the keys given are passed on: the backend
# (orchestrate.backends.slurm_options) holds the defaults and checks the formats Slurm takes.
SLURM = Section((
    Field("partition", Scalar("str"), "GPU partition the jobs go to (--partition); default: the cluster's."),
    Field("gres", Scalar("str"), "Generic resources per job (--gres), default 'gpu:1': one GPU per step."),
    Field("constraint", Scalar("str"), "Node features (--constraint), e.g. h100: builds and their runs "
          "share the node type."),
    Field("time_limit", Scalar("str"), "Time limit per job (--time), e.g. '01:00:00' (the default)."),
    Field("account", Scalar("str"), "Account to charge (--account)."),
    Field("qos", Scalar("str"), "Quality of service (--qos)."),
    Field("max_parallel", Scalar("int", minimum=1), "Jobs in the queue at once, over every array "
          "(default 8)."),
    Field("max_retries", Scalar("int", minimum=0), "Resubmissions of a preempted, timed-out or cancelled "
          "job before its steps fail (default 2)."),
    Field("poll_s", Scalar("float", minimum=0.1), "Seconds between two looks at the queue (default 5)."),
), fill_defaults=False)

SWEEP = Section((
    Field("trtexec", TRTEXEC, "Which trtexec to use.", default={}),
    Field("models", Seq(MODEL, min_items=1), "The models to sweep.", required=True),
    Field("matrix", MATRIX, "Axes: every combination of their values is one variant.", default={}),
    Field("exclude", Seq(SELECTOR),
          "Drop combinations matching an entry (axis -> value or list of values; omitted axes match all).",
          default=()),
    Field("include", Seq(SELECTOR),
          "Add combinations after exclude: named axes take the given values, omitted axes every matrix "
          "value. Combinations already present are not repeated.", default=()),
    Field("run", RUN, "Timing settings shared by all variants.", default={}),
    Field("gpus", Seq(Scalar("int", minimum=0), min_items=1, unique=True),
          "GPU indices to spread the steps over (--gpus overrides). Omitted: the executor's default."),
    Field("executor", Scalar("str"), "Backend that runs the steps: local (this host, one worker per GPU), "
          "ray (many hosts; pip install 'trtsweep[ray]'), slurm (jobs on an HPC cluster; pip install "
          "'trtsweep[slurm]'). --executor overrides. Default: local."),
    Field("slurm", SLURM, "sbatch settings for the slurm executor (see docs/slurm.md)."),
    Field("targets", Seq(TARGET, min_items=1),
          "Device groups (GPU models) to run on: every variant runs on every target, each with its own "
          "engines. Omitted: one implicit target, this host (or whatever GPU the executor gives)."),
    Field("baseline", BASELINE, "What speedups are computed against: 'variant', 'latency_ms', or a "
          "measured 'pytorch' / 'onnxruntime' baseline (beside 'latency_ms' if you like)."),
    Field("expect_speedup", Scalar("float", minimum=0),
          "Speedup over the baseline you expect; 'trtsweep diagnose' explains shortfalls."),
))


def show(value: Any) -> str:
    """A value as the user would write it in YAML (true, null, 1024)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):  # a flag set
        return "[" + " ".join(map(str, value)) + "]"
    return str(value)


def normalize_number(value: Any) -> Any:
    """1024.0 -> 1024 so that canonical JSON (ids, hashes) does not depend on how a number was written."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------- --only values


def parse_axis_value(key: str, text: str, models: tuple[str, ...] = ()) -> Any:
    """Parse one ``--only`` value for selector ``key``; raises ValueError saying what is valid."""
    if key == "model":
        if models and text not in models:
            raise ValueError(f"unknown model '{text}'{suggest(text, models)}")
        return text
    axis = AXIS_BY_NAME[key]
    if isinstance(axis.item, FlagSets):
        raise ValueError(f"'{key}' cannot be selected with --only; use include/exclude")
    return _parse_text(axis.item, text)


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _parse_text(kind: Scalar, text: str) -> Any:
    low = text.strip().lower()
    if kind.nullable and low in ("null", "none", "default"):
        return None
    value: Any
    try:
        if kind.type == "bool":
            if low not in _TRUE + _FALSE:
                raise ValueError
            value = low in _TRUE
        elif kind.type == "int":
            value = int(low)
        elif kind.type == "float":
            value = normalize_number(float(low))
        else:
            value = text
    except ValueError:
        raise ValueError(f"'{text}' is not {kind.expected()}") from None
    if kind.choices and value not in kind.choices:
        raise ValueError(f"'{text}' is not valid{suggest(text, tuple(map(show, kind.choices)))}")
    if not in_range(kind, value):
        raise ValueError(f"'{text}' is not {kind.expected()}")
    return value


def in_range(kind: Scalar, value: Any) -> bool:
    if kind.minimum is not None and value < kind.minimum:
        return False
    return not (kind.maximum is not None and value > kind.maximum)


# ---------------------------------------------------------------- docs


def _kind_text(kind: Kind) -> str:
    if isinstance(kind, Scalar):
        return kind.expected()
    if isinstance(kind, OneOrMany):
        if isinstance(kind.item, FlagSets):
            return _kind_text(kind.item)
        return f"{_kind_text(kind.item)}, or a list of them"
    if isinstance(kind, FlagSets):
        return "list of flags, or list of lists of flags"
    if isinstance(kind, Seq):
        return f"list of ({_kind_text(kind.item)})"
    if isinstance(kind, MapOf):
        return f"mapping {kind.key.expected()} -> {_kind_text(kind.value)}"
    return "mapping"


def describe() -> str:
    """Markdown reference of every key of a sweep file, generated from the schema."""
    lines = ["# Sweep file reference", "",
             "Generated from `trtsweep.sweeps.schema`. Relative paths are relative to the sweep file.", ""]

    def section(kind: Section, prefix: str, depth: int) -> None:
        for f in kind.fields:
            name = f"{prefix}{f.name}"
            default = "required" if f.required else f"default {_doc_default(f.default)}"
            lines.append(f"{'  ' * depth}- `{name}` ({_kind_text(f.kind)}; {default}): {f.help}")
            inner = f.kind.value if isinstance(f.kind, MapOf) else f.kind
            inner = inner.item if isinstance(inner, Seq) else inner
            if isinstance(inner, Section) and inner is not SELECTOR:
                if isinstance(f.kind, Seq):
                    sub = f"{name}[]."
                elif isinstance(f.kind, MapOf):
                    sub = f"{name}.<name>."
                else:
                    sub = f"{name}."
                section(inner, sub, depth + 1)

    section(SWEEP, "", 0)
    lines += ["", "## Axes (`matrix`, and the keys of `include`/`exclude`/`baseline.variant`/`--only`)", "",
              "| axis | values | default | changes | meaning |", "|---|---|---|---|---|"]
    for a in AXES:
        values = _kind_text(a.item)
        changes = {"build": "engine", "run": "run only", "shape": "engine if static"}[a.stage]
        lines.append(f"| `{a.name}` | {values} | {_doc_default(a.default)} | {changes} | {a.help} |")
    lines += ["", "`model` (a name from `models`) can be used wherever an axis can be selected.", ""]
    return "\n".join(lines)


def _doc_default(value: Any) -> str:
    if value in ((), {}, None, ((),)):
        return "none" if value is None else "empty"
    if isinstance(value, tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return f"`{show(value)}`"
