"""trtexec argv by TensorRT version: one flag table, neutral build/run specs, pure argv generators.

The table (``flags_by_version.csv``, derived from the shared reference) says for each flag when it appeared,
was deprecated and was removed. Every flag this module emits is checked against it, so an argv returned
here is one that trtexec of that version parses. Requests a version cannot express raise
:class:`UnsupportedOnVersion` instead of silently producing a different experiment.

A version given with fewer parts stands for the whole series: ``(8, 4)`` means "an 8.4.x release" and is
compared on its two parts only (``--memPoolSize``, first seen in 8.4.1, counts as present on ``(8, 4)``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from typing import Literal

from trtsweep.versions import Version, at_least, format_version, parse_version

FlagState = Literal["ok", "deprecated", "removed", "absent"]
PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "int8", "fp8", "best")
_PRECISION_FLAG = {"fp16": "--fp16", "bf16": "--bf16", "int8": "--int8", "fp8": "--fp8", "best": "--best"}
_ALIASES = {"-h": "--help"}


class FlagError(ValueError):
    """A request that no trtexec can express (bad value, duplicate flag, malformed extra flag)."""


class UnsupportedOnVersion(FlagError):
    """A request the given trtexec version cannot express; the message says what would make it valid."""

    def __init__(self, what: str, version: Version, hint: str) -> None:
        self.what, self.version, self.hint = what, tuple(version), hint
        super().__init__(f"{what} on TensorRT {format_version(version)}: {hint}")


@dataclass(frozen=True)
class FlagInfo:
    """One row of the flag table. Versions are tuples; ``first_seen`` None = never a trtexec option."""

    name: str
    first_seen: Version | None
    deprecated_in: Version | None
    removed_in: Version | None
    absent_in: tuple[Version, ...]
    is_bool: bool
    repeatable: bool
    replacement: str


def _opt_version(text: str) -> Version | None:
    return parse_version(text) if text.strip() else None


@lru_cache(maxsize=1)
def flag_table() -> dict[str, FlagInfo]:
    """The packaged flag table, keyed by ``--name``."""
    text = resources.files(__package__).joinpath("flags_by_version.csv").read_text(encoding="utf-8")
    table: dict[str, FlagInfo] = {}
    for row in csv.DictReader(text.splitlines()):
        table[row["flag"]] = FlagInfo(
            name=row["flag"],
            first_seen=_opt_version(row["first_seen"]),
            deprecated_in=_opt_version(row["deprecated_in"]),
            removed_in=_opt_version(row["removed_in"]),
            absent_in=tuple(parse_version(v) for v in row["absent_in"].split(";") if v),
            is_bool=row["kind"] == "bool",
            repeatable=row["repeatable"] == "yes",
            replacement=row["replacement"],
        )
    return table


def _reached(version: Version, threshold: Version) -> bool:
    # A short version is a series: compare on its own length so (8, 4) reaches 8.4.1.
    return at_least(version, *threshold[: len(version)])


def flag_state(flag: str, version: Version) -> FlagState:
    """``ok``, ``deprecated`` (still parsed), ``removed`` (parsed by an older release) or ``absent``."""
    info = flag_table().get(_ALIASES.get(flag, flag))
    if info is None or info.first_seen is None or not _reached(version, info.first_seen):
        return "absent"
    if any(tuple(version[:2]) == tag[:2] for tag in info.absent_in):
        return "absent"
    if info.removed_in is not None and _reached(version, info.removed_in):
        return "removed"
    if info.deprecated_in is not None and _reached(version, info.deprecated_in):
        return "deprecated"
    return "ok"


def accepts(flag: str, version: Version) -> bool:
    """True when trtexec of ``version`` parses ``flag`` (possibly with a deprecation warning)."""
    return flag_state(flag, version) in ("ok", "deprecated")


@dataclass(frozen=True)
class BuildSpec:
    """What one engine build should do, independent of the trtexec version.

    ``precision`` is the engine precision wanted; ``model_precision`` is what the ONNX file itself carries
    (only TensorRT 11 cares: it takes precision from the model). ``onnx_by_precision`` names model files
    already converted to other precisions (e.g. ModelOpt AutoCast FP16). ``profiling_verbosity`` is
    dropped on releases without the flag (< 8.2). ``extra_flags`` are ``--name[=value]`` argv items.
    """

    onnx: str
    precision: str = "fp32"
    model_precision: str = "fp32"
    onnx_by_precision: Mapping[str, str] | None = None
    min_shapes: Mapping[str, str] | None = None
    opt_shapes: Mapping[str, str] | None = None
    max_shapes: Mapping[str, str] | None = None
    shapes: Mapping[str, str] | None = None
    workspace_mib: float | None = None
    builder_optimization_level: int | None = None
    timing_cache_file: str | None = None
    save_engine: str | None = None
    skip_inference: bool = True
    profiling_verbosity: str | None = "detailed"
    export_layer_info: str | None = None
    verbose: bool = False
    extra_flags: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class RunSpec:
    """One timed inference run of a saved engine, independent of the trtexec version.

    ``cuda_graph``/``spin_wait``/``data_transfers``/``separate_profile_run`` are tri-state: None keeps the
    version's default, True/False asks for that behaviour (10.x and 11.x have opposite defaults).
    ``separate_profile_run`` None means "add it when per-layer profiling would otherwise skew timings".
    """

    load_engine: str
    shapes: Mapping[str, str] | None = None
    streams: int | None = None
    cuda_graph: bool | None = None
    spin_wait: bool | None = None
    data_transfers: bool | None = None
    threads: bool = False
    warmup_ms: float | None = None
    iterations: int | None = None
    duration_s: float | None = None
    avg_runs: int | None = None
    percentiles: Sequence[float] | None = None
    export_times: str | None = None
    export_profile: str | None = None
    export_layer_info: str | None = None
    separate_profile_run: bool | None = None
    dump_profile: bool = False
    verbose: bool = False
    extra_flags: Sequence[str] = field(default_factory=tuple)


class _Argv:
    """Collects argv items for one version, checking each flag against the table and against repeats."""

    def __init__(self, version: Version) -> None:
        self.version = tuple(version)
        self.items: list[str] = []
        self.seen: set[str] = set()

    def add(self, flag: str, value: object = None, what: str | None = None) -> None:
        info = flag_table().get(flag)
        state = flag_state(flag, self.version)
        if state in ("removed", "absent"):
            hint = f"trtexec {format_version(self.version)} has no {flag}"
            if (
                state == "absent"
                and info is not None
                and info.first_seen is not None
                and not _reached(self.version, info.first_seen)
            ):
                hint += f" (it needs TensorRT {format_version(info.first_seen)}+)"
            elif state == "removed" and info is not None:
                hint += f" (removed in {format_version(info.removed_in or ())})"
                hint += f"; use {info.replacement}" if info.replacement else ""
            raise UnsupportedOnVersion(what or flag, self.version, hint)
        if flag in self.seen and not (info is not None and info.repeatable):
            raise FlagError(f"{flag} given twice (trtexec rejects a repeated {flag} as an unknown option)")
        self.seen.add(flag)
        if info is not None and info.is_bool:
            # trtexec ignores values on booleans ("--fp16=false" enables FP16): never emit one.
            self.items.append(flag)
        else:
            self.items.append(f"{flag}={value}")

    def add_extra(self, items: Sequence[str]) -> None:
        for item in items:
            if not item.startswith("--") or " " in item.split("=", 1)[0]:
                raise FlagError(f"extra flag {item!r} must be one '--name=value' item")
            name, sep, value = item.partition("=")
            info = flag_table().get(name)
            if info is not None and info.is_bool and sep:
                raise FlagError(f"extra flag {item!r}: {name} is boolean and takes no value")
            if info is not None and not info.is_bool and not sep:
                raise FlagError(f"extra flag {item!r}: {name} needs '={name[2:]}_value'")
            self.add(name, value, what=f"extra flag {name}")


def _num(value: float, integer_only: bool, what: str, version: Version) -> str:
    """Format a number the way the version's parser reads it (stoi on old releases, stod later)."""
    if float(value).is_integer():
        return str(int(value))
    if integer_only:
        raise UnsupportedOnVersion(
            f"{what} {value}",
            version,
            "this release parses it as an integer; give a whole number (fractions need TensorRT 8.4+)",
        )
    return repr(float(value))


def _shapes(shapes: Mapping[str, str | Iterable[object]], version: Version) -> str:
    parts = []
    for name, dims in shapes.items():
        if "," in name:
            raise FlagError(f"input name {name!r} contains ',' which trtexec shape specs cannot express")
        text = dims if isinstance(dims, str) else "x".join(str(d) for d in dims)
        # 7.0 splits at the first ':'; quoting the name keeps 'x:0' whole. 7.1+ splits at the last ':'.
        if ":" in name and not at_least(version, 7, 1):
            name = f"'{name}'"
        parts.append(f"{name}:{text}")
    return ",".join(parts)


def _precision(spec: BuildSpec, argv: _Argv) -> str:
    """Emit precision flags; return the ONNX path to build from (11.x may pick a converted model)."""
    p, v = spec.precision, argv.version
    if p not in PRECISIONS:
        raise FlagError(f"unknown precision {p!r}; expected one of {', '.join(PRECISIONS)}")
    if at_least(v, 11):
        # 11.x is strongly typed: types come from the model, only TF32 can still be switched off.
        same_model = p == spec.model_precision or {p, spec.model_precision} == {"fp32", "tf32"}
        onnx = spec.onnx if same_model else (spec.onnx_by_precision or {}).get(p)
        if onnx is None:
            raise UnsupportedOnVersion(
                f"precision {p}",
                v,
                f"{v[0]}.x takes precision from the model; give an {p.upper()} ONNX file for this precision "
                f"(models[].precision_onnx.{p} in the sweep file)",
            )
        if p == "fp32":
            argv.add("--noTF32", what="precision fp32")
        return onnx
    if p == "fp32":
        if accepts("--noTF32", v):  # TF32 exists (and is on by default) from 7.1
            argv.add("--noTF32", what="precision fp32")
    elif p == "tf32":
        if not accepts("--noTF32", v):
            raise UnsupportedOnVersion("precision tf32", v, "TF32 needs TensorRT 7.1+; use precision fp32")
    else:
        argv.add(_PRECISION_FLAG[p], what=f"precision {p}")
    return spec.onnx


def build_argv(spec: BuildSpec, version: Version) -> list[str]:
    """argv items (without the trtexec path) that build ``spec`` on trtexec ``version``."""
    argv = _Argv(version)
    v = argv.version
    onnx = _precision(spec, argv)
    argv.items.insert(0, f"--onnx={onnx}")
    argv.seen.add("--onnx")
    if at_least(v, 7) and not at_least(v, 7, 2):
        argv.add("--explicitBatch")  # 7.0/7.1 only treat an ONNX model as explicit-batch when told so
    given = {
        k: s for k, s in (("min", spec.min_shapes), ("opt", spec.opt_shapes), ("max", spec.max_shapes)) if s
    }
    if given and spec.shapes:
        raise FlagError("give either shapes (static engine) or min/opt/max shapes, not both")
    if given and set(given) not in ({"opt"}, {"min", "opt", "max"}) and not at_least(v, 8, 5):
        raise UnsupportedOnVersion(
            "build shapes " + "/".join(given),
            v,
            "up to 8.4 give only opt shapes or all of min, opt and max shapes",
        )
    for key in ("min", "opt", "max"):
        if key in given:
            argv.add(f"--{key}Shapes", _shapes(given[key], v))
    if spec.shapes:
        argv.add("--shapes", _shapes(spec.shapes, v))
    if spec.workspace_mib is not None:
        if accepts("--memPoolSize", v):
            # A plain number is MiB on every release; "1024MiB" means 1024 *bytes* from 10.1 (unit trap).
            argv.add(
                "--memPoolSize",
                "workspace:" + _num(spec.workspace_mib, False, "workspace", v),
                what="workspace_mib",
            )
        else:
            argv.add("--workspace", _num(spec.workspace_mib, True, "workspace", v), what="workspace_mib")
    if spec.builder_optimization_level is not None:
        argv.add(
            "--builderOptimizationLevel",
            int(spec.builder_optimization_level),
            what="builder_optimization_level",
        )
    if spec.timing_cache_file:
        argv.add("--timingCacheFile", spec.timing_cache_file, what="timing_cache_file")
    if spec.save_engine:
        argv.add("--saveEngine", spec.save_engine)
    if spec.skip_inference:
        argv.add("--skipInference" if accepts("--skipInference", v) else "--buildOnly", what="skip_inference")
    if spec.profiling_verbosity and accepts("--profilingVerbosity", v):
        argv.add("--profilingVerbosity", spec.profiling_verbosity)
    if spec.export_layer_info:
        argv.add("--exportLayerInfo", spec.export_layer_info, what="export_layer_info")
    if spec.verbose:
        argv.add("--verbose")
    argv.add_extra(spec.extra_flags)
    return argv.items


def _percentiles(values: Sequence[float], argv: _Argv) -> None:
    for p in values:
        if not 0 <= p <= 100 or math.isnan(p):
            raise FlagError(f"percentile {p} is not in [0, 100]")
    text = ",".join(_num(p, False, "percentile", argv.version) for p in values)
    if len(values) > 1 and not at_least(argv.version, 8, 5):
        # Up to 8.4 "90,95,99" is silently read as 90 (stof), so refuse rather than mislead.
        raise UnsupportedOnVersion(
            f"percentiles {text}",
            argv.version,
            "up to 8.4 trtexec reports a single percentile; request one value (lists need TensorRT 8.5+)",
        )
    if values:
        argv.add("--percentile", text)


def _toggle(argv: _Argv, wanted: bool | None, on_flag: str, off_flag: str, what: str) -> None:
    """A behaviour whose default flipped in 11.0: opt in with ``on_flag`` before, out with ``off_flag``."""
    if wanted is None:
        return
    if at_least(argv.version, 11):
        if not wanted:
            argv.add(off_flag, what=what)
    elif wanted:
        argv.add(on_flag, what=what)


def run_argv(spec: RunSpec, version: Version) -> list[str]:
    """argv items (without the trtexec path) that time the saved engine of ``spec`` on ``version``."""
    argv = _Argv(version)
    v = argv.version
    old_ints = not at_least(v, 8, 4)  # warmUp/duration go through stoi up to 8.2
    argv.add("--loadEngine", spec.load_engine)
    if spec.shapes:
        argv.add("--shapes", _shapes(spec.shapes, v))
    if spec.streams is not None:
        argv.add(
            "--infStreams" if accepts("--infStreams", v) else "--streams", int(spec.streams), what="streams"
        )
    _toggle(argv, spec.cuda_graph, "--useCudaGraph", "--noCudaGraph", "cuda_graph")
    _toggle(argv, spec.spin_wait, "--useSpinWait", "--noSpinWait", "spin_wait")
    if spec.data_transfers is not None:
        # Inverted polarity: ≤10.x transfers are on unless --noDataTransfers; 11.x off unless included.
        if at_least(v, 11):
            if spec.data_transfers:
                argv.add("--includeDataTransfers", what="data_transfers")
        elif not spec.data_transfers:
            argv.add("--noDataTransfers", what="data_transfers=false")
    if spec.threads:
        argv.add("--threads")
    if spec.warmup_ms is not None:
        argv.add("--warmUp", _num(spec.warmup_ms, old_ints, "warmup_ms", v))
    if spec.iterations is not None:
        argv.add("--iterations", int(spec.iterations))
    if spec.duration_s is not None:
        argv.add("--duration", _num(spec.duration_s, old_ints, "duration_s", v))
    if spec.avg_runs is not None:
        argv.add("--avgRuns", int(spec.avg_runs))
    _percentiles(list(spec.percentiles or ()), argv)
    if spec.export_times:
        argv.add("--exportTimes", spec.export_times)
    if spec.dump_profile:
        argv.add("--dumpProfile")
    if spec.export_profile:
        argv.add("--exportProfile", spec.export_profile)
    if spec.export_layer_info:
        argv.add("--exportLayerInfo", spec.export_layer_info, what="export_layer_info")
    separate = spec.separate_profile_run
    if separate is None:
        # 8.4–10.x drop the summary and --exportTimes when the profiler runs in the timed loop.
        separate = (spec.dump_profile or bool(spec.export_profile)) and at_least(v, 8, 4)
    if separate and not at_least(v, 11):  # 11.x always profiles separately (the flag is a deprecated no-op)
        argv.add("--separateProfileRun", what="separate_profile_run")
    if spec.verbose:
        argv.add("--verbose")
    argv.add_extra(spec.extra_flags)
    return argv.items


def profile_argv(
    spec: RunSpec, version: Version, export_profile: str | None = None, dump_profile: bool = True
) -> list[str]:
    """argv for a per-layer profiling run of ``spec``'s engine, separate from the timed run.

    On 7.2–10.x ``--separateProfileRun`` keeps the printed latency unskewed by the profiler; 11.x always
    profiles in a separate pass. 7.0/7.1 cannot separate them: their timings in this run are perturbed.
    """
    wanted = replace(
        spec,
        export_profile=export_profile or spec.export_profile,
        dump_profile=dump_profile,
        separate_profile_run=accepts("--separateProfileRun", version) and not at_least(version, 11),
    )
    if not (wanted.dump_profile or wanted.export_profile):
        raise FlagError("a profiling run needs dump_profile or export_profile")
    return run_argv(wanted, version)
