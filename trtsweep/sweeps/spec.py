"""Load and validate a sweep file into a typed, immutable :class:`Spec`.

Reading the YAML and the model files (existence, sha256) is the only I/O of the sweeps package.
Every problem is collected before anything is raised, so one :class:`SpecError` lists them all,
each as ``file:line:col: message``; the CLI exits 2 on it and starts nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from trtsweep.sweeps.check import BAD, Checker, Path_, where
from trtsweep.sweeps.schema import AXIS_NAMES, BATCH_TOKEN, SWEEP, Problem, SpecError, show, suggest
from trtsweep.versions import parse_version

__all__ = [
    "Baseline", "MeasuredBaseline", "OrtBaseline", "PytorchBaseline",
    "Model", "ModelFile", "ModelInput", "Problem", "Rule", "RunSettings", "Spec", "SpecError", "Target",
    "TrtexecSpec", "load_spec", "parse_spec",
]


@dataclass(frozen=True)
class ModelFile:
    """An ONNX file: absolute path and content hash (the hash, not the path, goes into build ids)."""

    path: Path
    sha256: str


@dataclass(frozen=True)
class ModelInput:
    """A network input. ``shape`` has ``None`` at the batch dimension; min/opt/max override the profile."""

    name: str
    shape: tuple[int | None, ...]
    min: tuple[int, ...] | None = None
    opt: tuple[int, ...] | None = None
    max: tuple[int, ...] | None = None

    @property
    def batch_index(self) -> int:
        return self.shape.index(None)

    def at_batch(self, batch: int) -> tuple[int, ...]:
        """The concrete shape for ``batch``."""
        return tuple(batch if d is None else d for d in self.shape)


@dataclass(frozen=True)
class Model:
    """One entry of ``models``."""

    name: str
    onnx: ModelFile
    precision_onnx: tuple[tuple[str, ModelFile], ...]
    inputs: tuple[ModelInput, ...]

    def typed_onnx(self, precision: str) -> ModelFile | None:
        """The model file already converted to ``precision`` (for strongly typed builds), if given."""
        return dict(self.precision_onnx).get(precision)


@dataclass(frozen=True)
class TrtexecSpec:
    """``trtexec:`` -- which binary to use (``None`` = discover) and an optional version prefix pin."""

    path: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class Target:
    """``targets[]`` -- one device group: its name, the GPU model pattern its hosts carry, and the
    scheduler resources each of its steps asks for (besides one GPU)."""

    name: str
    gpu: str | None = None
    resources: tuple[tuple[str, float], ...] = ()

    @property
    def requested(self) -> dict[str, float]:
        """What one step asks the cluster for besides its GPU: the given resources, else ``{name: 1}``."""
        return dict(self.resources) or {self.name: 1.0}


@dataclass(frozen=True)
class RunSettings:
    """``run:`` -- timing settings shared by every variant."""

    warmup_ms: float = 200
    iterations: int = 10
    duration_s: float = 3
    avg_runs: int = 10
    percentiles: tuple[float, ...] = (90, 95, 99)
    repeats: int = 1
    timeout_s: float = 600
    build_timeout_s: float = 3600


@dataclass(frozen=True)
class Rule:
    """An include/exclude entry or a baseline selector: selector key -> accepted values."""

    values: tuple[tuple[str, tuple[Any, ...]], ...]
    line: int | None = None

    def matches(self, axes: Mapping[str, Any]) -> bool:
        """True when every key of the rule accepts the value ``axes`` has for it."""
        return all(axes.get(key) in accepted for key, accepted in self.values)

    def as_dict(self) -> dict[str, tuple[Any, ...]]:
        return dict(self.values)


@dataclass(frozen=True)
class PytorchBaseline:
    """``baseline.pytorch``: the user's factory (``module:factory`` or ``file.py:factory``), how to run it."""

    model: str
    device: str = "cuda"
    dtype: str = "float32"
    compile: bool = False
    channels_last: bool = False


@dataclass(frozen=True)
class OrtBaseline:
    """``baseline.onnxruntime``: the ONNX file (absolute) and the execution providers."""

    model: Path
    providers: tuple[str, ...] = ("CUDAExecutionProvider", "CPUExecutionProvider")


@dataclass(frozen=True)
class MeasuredBaseline:
    """A baseline trtsweep measures itself (BASELINE steps). ``base`` anchors the factory's import;
    ``marks`` map spec keys (``pytorch.model`` ...) to their (line, col) for later error messages."""

    for_model: str
    batches: tuple[int, ...]
    reference: str
    basis: str = "end_to_end"
    data_transfers: bool = True
    pytorch: PytorchBaseline | None = None
    onnxruntime: OrtBaseline | None = None
    base: Path = Path(".")
    marks: tuple[tuple[str, int, int], ...] = ()

    def frameworks(self) -> tuple[str, ...]:
        return tuple(f for f in ("pytorch", "onnxruntime") if getattr(self, f) is not None)

    def mark(self, key: str) -> tuple[int, int] | None:
        """(line, col) of a spec key, or of its closest given parent."""
        found = dict((k, (line, col)) for k, line, col in self.marks)
        while key:
            if key in found:
                return found[key]
            key = key.rpartition(".")[0]
        return found.get("")


@dataclass(frozen=True)
class Baseline:
    """What speedups are computed against: a variant ``selector``, external ``latency_ms`` by batch, or a
    ``measured`` baseline (which may come with fixed ``latency_ms`` figures to check them)."""

    label: str
    selector: Rule | None = None
    latency_ms: tuple[tuple[int, float], ...] = ()
    measured: MeasuredBaseline | None = None

    @property
    def external(self) -> bool:
        return self.selector is None


@dataclass(frozen=True)
class Spec:
    """A validated sweep file. ``matrix`` holds every axis (defaults filled) in schema order."""

    file: Path
    text: str
    trtexec: TrtexecSpec
    models: tuple[Model, ...]
    matrix: tuple[tuple[str, tuple[Any, ...]], ...]
    exclude: tuple[Rule, ...]
    include: tuple[Rule, ...]
    run: RunSettings
    gpus: tuple[int, ...] | None
    baseline: Baseline | None
    expect_speedup: float | None
    executor: str | None = None
    # Where ``executor`` was written (``file:line:col``), so a name the registry does not know -- checked
    # above this package, where the registry lives -- is still reported at its place in the file.
    executor_at: str | None = None
    targets: tuple[Target, ...] = ()
    slurm: dict[str, Any] | None = None  # the ``slurm:`` section as written (the backend checks it)

    def axis_values(self, name: str) -> tuple[Any, ...]:
        """Values of one matrix axis (``model`` gives the model names)."""
        if name == "model":
            return tuple(m.name for m in self.models)
        return dict(self.matrix)[name]

    def model(self, name: str) -> Model:
        return next(m for m in self.models if m.name == name)


# ---------------------------------------------------------------- loading


MAX_SPEC_BYTES = 4 << 20  # a sweep file is a page of YAML; more is a wrong file (or /dev/zero)


def read_spec_text(path: Path) -> str:
    """The sweep file's text, read once: ``<(cat s.yaml)`` works, a FIFO nobody writes to gives an empty
    text instead of hanging, and a device or a huge file is refused."""
    if path.is_dir():
        raise OSError(21, "is a folder, not a sweep file")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO without a writer must not block
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)  # now wait for a writer's data, if any
        if stat.S_ISCHR(os.fstat(fd).st_mode) or stat.S_ISBLK(os.fstat(fd).st_mode):
            raise OSError(19, "is a device, not a sweep file")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_SPEC_BYTES:
                raise OSError(27, f"is larger than {MAX_SPEC_BYTES >> 20} MiB, not a sweep file")
    finally:
        os.close(fd)
    return b"".join(chunks).decode("utf-8")


def load_spec(path: str | Path) -> Spec:
    """Read (once) and validate a sweep file; raises :class:`SpecError` listing every problem."""
    path = Path(path)
    try:
        text = read_spec_text(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SpecError([Problem(str(path), None, None, f"cannot read sweep file: {reason}")]) from None
    return parse_spec(text, path)


def parse_spec(text: str, path: str | Path = "sweep.yaml") -> Spec:
    """Validate sweep ``text``; ``path`` names it in messages and anchors relative model paths."""
    file = str(path)
    root = _compose(text, file)
    checker = Checker(file)
    data = checker.check(root, SWEEP, ()) if root is not None else BAD
    if root is None:
        checker.error(None, "the sweep file is empty; it needs at least 'models'")
    if data is BAD:
        # Structure is broken somewhere; still check what can be (e.g. model files) so that every
        # problem shows at once, but only on the parts that did validate.
        data = _salvage(root, checker)
    models = _models(data.get("models"), Path(path).resolve().parent, checker)
    names = tuple(m.name for m in models) if models is not None else None
    matrix = data.get("matrix")
    exclude = _rules(data.get("exclude"), "exclude", names, matrix, checker)
    include = _rules(data.get("include"), "include", names, None, checker)
    if models is not None and isinstance(matrix, dict):
        _check_profiles(models, matrix, include or (), checker)
    baseline = _baseline(data.get("baseline"), names, matrix, include or (), checker)
    if baseline is not None and isinstance(data.get("baseline"), dict):
        measured = _measured(data["baseline"], models, matrix, include or (), Path(path).resolve().parent,
                             checker)
        baseline = Baseline(baseline.label, baseline.selector, baseline.latency_ms, measured)
    targets = _targets(data.get("targets"), checker)
    executor_mark = checker.marks.get(("executor",))
    trtexec = data.get("trtexec")
    if isinstance(trtexec, dict) and trtexec.get("version") is not None:
        try:
            parse_version(trtexec["version"])
        except ValueError:
            checker.error_at(("trtexec", "version"), f"trtexec.version must look like '10.3', "
                             f"got '{trtexec['version']}'")
    if checker.problems:
        raise SpecError(checker.problems)
    return Spec(
        file=Path(path),
        text=text,
        trtexec=TrtexecSpec(**trtexec),
        models=models or (),
        matrix=tuple((name, matrix[name]) for name in AXIS_NAMES),
        exclude=exclude or (),
        include=include or (),
        run=RunSettings(**data["run"]),
        gpus=data["gpus"],
        baseline=baseline,
        expect_speedup=data["expect_speedup"],
        executor=data["executor"],
        executor_at=(f"{file}:{executor_mark.line + 1}:{executor_mark.column + 1}"
                     if data["executor"] is not None and executor_mark else None),
        targets=targets,
        slurm=dict(data["slurm"]) if isinstance(data.get("slurm"), dict) else None,
    )


TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


def _targets(raw: Any, checker: Checker) -> tuple[Target, ...]:
    """``targets[]``: names safe in ids, paths and Ray resource names, each once."""
    if not isinstance(raw, tuple):
        return ()
    out: list[Target] = []
    first: dict[str, int] = {}
    for i, entry in enumerate(raw):
        name = entry["name"]
        at: Path_ = ("targets", i, "name")
        if not TARGET_NAME.fullmatch(name):
            checker.error_at(at, f"{where(at)}: '{name}' must be 1-40 letters, digits, '_', '.' or '-' "
                             "(it names folders and cluster resources)")
        elif name in first:
            checker.error_at(at, f"{where(at)}: duplicate target name '{name}' (also targets[{first[name]}])")
        else:
            first[name] = i
        resources = tuple(sorted((k, float(v)) for k, v in entry["resources"].items()))
        out.append(Target(name, entry["gpu"], resources))
    return tuple(out)


def _compose(text: str, file: str) -> yaml.Node | None:
    """YAML text -> node tree with marks; syntax errors (tabs included) become Problems."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = str(exc.problem or exc.context or "invalid YAML")
        if exc.context and exc.problem and exc.context_mark:
            message = f"{exc.problem} ({exc.context} at line {exc.context_mark.line + 1})"
        if "'\\t'" in message:
            message = "tab character: YAML indentation and separators must be spaces, not tabs"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise SpecError([Problem(file, line, col, f"YAML syntax error: {message}")]) from None
    except yaml.YAMLError as exc:  # ReaderError: control characters, bad encoding
        position = getattr(exc, "position", None)
        line = col = None
        if isinstance(position, int):
            before = text[:position]
            line, col = before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1
        raise SpecError([Problem(file, line, col, f"YAML error: {exc}")]) from None


def _salvage(root: yaml.Node | None, checker: Checker) -> dict[str, Any]:
    """Re-check each top-level key on its own (problems already recorded are not repeated)."""
    out: dict[str, Any] = {}
    if not isinstance(root, yaml.MappingNode):
        return out
    fields = {f.name: f for f in SWEEP.fields}
    scratch = Checker(checker.file)
    for key_node, value_node in root.value:
        name = getattr(key_node, "value", None)
        if name in fields:
            value = scratch.check(value_node, fields[name].kind, (name,))
            out[name] = None if value is BAD else value
    checker.marks.update(scratch.marks)
    return out


def _resolve(raw: str, base: Path) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else base / path


def _model_file(raw: str, base: Path, at: Path_, checker: Checker) -> ModelFile | None:
    path = _resolve(raw, base)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        checker.error_at(at, f"model file {what}: '{raw}' (looked for {path})")
        return None
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return ModelFile(path, digest.hexdigest())


def _models(raw: Any, base: Path, checker: Checker) -> tuple[Model, ...] | None:
    if not isinstance(raw, tuple):
        return None
    out: list[Model] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            continue
        at: Path_ = ("models", i)
        if entry["name"] in seen:
            checker.error_at((*at, "name"), f"duplicate model name '{entry['name']}'")
        seen.add(entry["name"])
        onnx = _model_file(entry["onnx"], base, (*at, "onnx"), checker)
        typed = [(p, _model_file(f, base, (*at, "precision_onnx", p), checker))
                 for p, f in (entry.get("precision_onnx") or {}).items()]
        inputs = [_model_input(name, spec, (*at, "inputs", name), checker)
                  for name, spec in (entry.get("inputs") or {}).items()]
        if not entry.get("inputs"):
            checker.error_at((*at, "inputs"), f"{where(at)} needs at least one input")
        if onnx is not None and all(f for _, f in typed) and all(inputs) and inputs:
            out.append(Model(entry["name"], onnx, tuple(typed), tuple(inputs)))  # type: ignore[arg-type]
    return tuple(out) if len(out) == len(raw) else None


def _model_input(name: str, raw: dict[str, Any], at: Path_, checker: Checker) -> ModelInput | None:
    ok = True
    if "," in name:
        # trtexec's --shapes/--minShapes grammar separates entries by ',', with no escape.
        checker.error_at(at, f"input name '{name}' contains ',', which trtexec shape flags cannot express")
        ok = False
    shape = raw["shape"]
    if shape.count(BATCH_TOKEN) != 1:
        checker.error_at((*at, "shape"), f"{where(at)}.shape must mark exactly one dimension as "
                         f"'{BATCH_TOKEN}', got {shape.count(BATCH_TOKEN)}")
        ok = False
    bounds: dict[str, Any] = {k: raw.get(k) for k in ("min", "opt", "max")}
    given = [k for k, v in bounds.items() if v is not None]
    if given and len(given) != 3:
        checker.error_at((*at, given[0]), f"{where(at)}: give all of min, opt and max, or none")
        ok = False
    for key in given:
        if len(bounds[key]) != len(shape):
            checker.error_at((*at, key), f"{where(at)}.{key} has {len(bounds[key])} dims, shape has "
                             f"{len(shape)}")
            ok = False
    if ok and len(given) == 3:
        lo, mid, hi = bounds["min"], bounds["opt"], bounds["max"]
        if not all(a <= b <= c for a, b, c in zip(lo, mid, hi, strict=True)):
            checker.error_at((*at, "min"), f"{where(at)}: need min <= opt <= max in every dimension")
            ok = False
        fixed = [i for i, d in enumerate(shape) if d != BATCH_TOKEN and not lo[i] <= d <= hi[i]]
        if fixed:
            checker.error_at((*at, "min"), f"{where(at)}: shape dimension {fixed[0]} = {shape[fixed[0]]} "
                             "is outside min..max")
            ok = False
    if not ok:
        return None
    dims = tuple(None if d == BATCH_TOKEN else d for d in shape)
    return ModelInput(name, dims, bounds["min"], bounds["opt"], bounds["max"])


def _rules(raw: Any, key: str, models: tuple[str, ...] | None, matrix: Any,
           checker: Checker) -> tuple[Rule, ...] | None:
    """Check include/exclude entries; exclude values must occur in the matrix, or they drop nothing."""
    if not isinstance(raw, tuple):
        return None
    out: list[Rule] = []
    for i, entry in enumerate(raw):
        at: Path_ = (key, i)
        if not entry:
            checker.error_at(at, f"{where(at)} is empty; name at least one axis")
            continue
        _known_models(entry, models, at, checker)
        if isinstance(matrix, dict):
            for axis, values in entry.items():
                if axis == "model":
                    continue
                for j, value in enumerate(values):
                    if value not in matrix[axis]:
                        listed = ", ".join(map(show, matrix[axis]))
                        checker.error_at((*at, axis, j), f"{where(at)}: {axis} {show(value)} is not in the "
                                         f"matrix ({listed}), so it matches nothing")
        mark = checker.marks.get(at)
        out.append(Rule(tuple(entry.items()), mark.line + 1 if mark else None))
    return tuple(out)


def _known_models(entry: dict[str, Any], models: tuple[str, ...] | None, at: Path_,
                  checker: Checker) -> None:
    for j, name in enumerate(entry.get("model", ())):
        if models is not None and name not in models:
            checker.error_at((*at, "model", j),
                             f"unknown model '{name}' in {where(at)}{suggest(name, models)}")


def _sweep_values(matrix: dict[str, Any], include: tuple[Rule, ...], axis: str) -> set[Any]:
    values = set(matrix[axis])
    for rule in include:
        values.update(rule.as_dict().get(axis, ()))
    return values


def _check_profiles(models: tuple[Model, ...], matrix: dict[str, Any], include: tuple[Rule, ...],
                    checker: Checker) -> None:
    """A dynamic profile given per input must contain every batch the sweep runs."""
    batches = sorted(_sweep_values(matrix, include, "batch"))
    for i, model in enumerate(models):
        for inp in model.inputs:
            if inp.min is None or inp.max is None:
                continue
            b = inp.batch_index
            outside = [n for n in batches if not inp.min[b] <= n <= inp.max[b]]
            if outside:
                checker.error_at(("models", i, "inputs", inp.name, "min"),
                                 f"input '{inp.name}': profile batch range {inp.min[b]}..{inp.max[b]} "
                                 f"does not contain batch {outside[0]} of the sweep")


def _baseline(raw: Any, models: tuple[str, ...] | None, matrix: Any, include: tuple[Rule, ...],
              checker: Checker) -> Baseline | None:
    if not isinstance(raw, dict):
        return None
    at: Path_ = ("baseline",)
    selector, figures = raw.get("variant"), raw.get("latency_ms")
    if raw.get("pytorch") is not None or raw.get("onnxruntime") is not None:
        if selector is not None:
            checker.error_at((*at, "variant"), "baseline.variant cannot be combined with a measured baseline "
                             "(pytorch/onnxruntime); latency_ms can")
            return None
        return Baseline(raw["label"], None, tuple(sorted((figures or {}).items())))
    if (selector is None) == (figures is None):
        checker.error_at(at, "baseline needs exactly one of 'variant' (axis values) or 'latency_ms' "
                         "({batch: ms})")
        return None
    if figures is not None:
        if not figures:
            checker.error_at((*at, "latency_ms"), "baseline.latency_ms is empty")
        return Baseline(raw["label"], None, tuple(sorted(figures.items())))
    if not selector:
        checker.error_at((*at, "variant"), "baseline.variant is empty; name at least one axis")
        return None
    _known_models(selector, models, (*at, "variant"), checker)
    for axis, values in selector.items():
        if len(values) != 1:
            checker.error_at((*at, "variant", axis), f"baseline.variant.{axis} must be a single value")
        elif axis != "model" and isinstance(matrix, dict) and values[0] not in _sweep_values(
                matrix, include, axis):
            checker.error_at((*at, "variant", axis, 0),
                             f"baseline.variant: no variant has {axis} {show(values[0])}")
    return Baseline(raw["label"], Rule(tuple(selector.items())))



_MEASURED_KEYS = ("pytorch", "pytorch.model", "pytorch.device", "pytorch.dtype", "onnxruntime",
                  "onnxruntime.model", "onnxruntime.providers", "basis", "batches", "for_model")


def _measured(raw: dict[str, Any], models: tuple[Model, ...] | None, matrix: Any, include: tuple[Rule, ...],
              base: Path, checker: Checker) -> MeasuredBaseline | None:
    """``baseline.pytorch`` / ``baseline.onnxruntime``: what can be checked without importing anything
    (the factory's form, files, batches, basis); ``baselines.preflight`` checks the rest before a run."""
    at: Path_ = ("baseline",)
    torch_raw, ort_raw = raw.get("pytorch"), raw.get("onnxruntime")
    if torch_raw is None and ort_raw is None or models is None:
        return None
    ok = True
    names = tuple(m.name for m in models)
    target = raw.get("for_model") or names[0]
    if target not in names:
        checker.error_at((*at, "for_model"), f"unknown model '{target}' in baseline.for_model"
                         f"{suggest(target, names)}")
        return None
    model = next(m for m in models if m.name == target)
    pytorch = None
    if torch_raw is not None:
        factory = torch_raw["model"]
        module, sep, attr = factory.rpartition(":")
        if not sep or not module or not attr.isidentifier():
            checker.error_at((*at, "pytorch", "model"), f"baseline.pytorch.model must be "
                             f"'package.module:factory' or 'file.py:factory', got '{factory}'")
            ok = False
        elif module.endswith(".py") and not _resolve(module, base).is_file():
            checker.error_at((*at, "pytorch", "model"), f"factory file not found: '{module}' (looked for "
                             f"{_resolve(module, base)})")
            ok = False
        pytorch = PytorchBaseline(factory, torch_raw["device"], torch_raw["dtype"], torch_raw["compile"],
                                  torch_raw["channels_last"])
    ort = None
    if ort_raw is not None:
        onnx = (_model_file(ort_raw["model"], base, (*at, "onnxruntime", "model"), checker)
                if ort_raw.get("model") else model.onnx)
        if onnx is None:
            return None  # reported where the file is named
        ort = OrtBaseline(onnx.path, tuple(ort_raw["providers"]))
    reference = raw.get("reference") or ("pytorch" if pytorch is not None else "onnxruntime")
    if (pytorch if reference == "pytorch" else ort) is None:
        checker.error_at((*at, "reference"), f"baseline.reference is {reference}, but baseline.{reference} "
                         "is not given")
        ok = False
    elif raw["basis"] == "gpu_compute" and not (reference == "pytorch" and pytorch is not None
                                                 and pytorch.device == "cuda"):
        checker.error_at((*at, "basis"), "basis gpu_compute needs CUDA events on both sides: the reference "
                         "must be pytorch with device: cuda (ONNX Runtime and CPUs give host times only); "
                         "use basis: end_to_end")
        ok = False
    sweep_batches = sorted(_sweep_values(matrix, include, "batch")) if isinstance(matrix, dict) else []
    batches = tuple(raw.get("batches") or sweep_batches)
    for j, b in enumerate(raw.get("batches") or ()):
        if sweep_batches and b not in sweep_batches:
            checker.error_at((*at, "batches", j), f"baseline.batches: batch {b} is not a batch of the sweep "
                             f"({', '.join(map(str, sweep_batches))}), so no speedup would use it")
            ok = False
    marks = []
    for key in ("", *_MEASURED_KEYS):
        mark = checker.marks.get((*at, *key.split("."))) if key else checker.marks.get(at)
        if mark is not None:
            marks.append((key, mark.line + 1, mark.column + 1))
    if not ok:
        return None
    return MeasuredBaseline(target, batches, reference, raw["basis"], raw["data_transfers"], pytorch, ort,
                            base, tuple(marks))
