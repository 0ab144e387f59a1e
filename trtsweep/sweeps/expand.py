"""Expand a :class:`~trtsweep.sweeps.spec.Spec` into variants with stable ids.

A variant is one combination of axis values for one model. It is split into what changes the engine
(:class:`BuildKey`, identified by ``build_id``, so variants sharing an engine build it once) and what
only changes the timed run (:class:`RuntimeSettings`). Everything here is pure.

Ids are ``<readable slug>-<6 hex>``; the hex is the sha256 of the canonical JSON of the variant's
axis values, leaving out axes at their schema default, so the id depends neither on key order in the
YAML nor on which other variants the sweep holds, and adding a new axis (with a default) to the
schema later does not change existing ids.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from math import prod
from typing import Any

from trtsweep.sweeps.schema import (
    AXIS_BY_NAME,
    AXIS_NAMES,
    SELECTOR_KEYS,
    FlagSets,
    Problem,
    SpecError,
    parse_axis_value,
    show,
    suggest,
)
from trtsweep.sweeps.spec import Baseline, Model, Spec, Target

LOCK_VERSION = 1


@dataclass(frozen=True)
class InputShape:
    """Concrete dims of one input for a run (``--shapes``)."""

    name: str
    dims: tuple[int, ...]


@dataclass(frozen=True)
class InputProfile:
    """Optimization profile of one input; static engines have min == opt == max."""

    name: str
    min: tuple[int, ...]
    opt: tuple[int, ...]
    max: tuple[int, ...]


@dataclass(frozen=True)
class BuildKey:
    """Everything that changes the engine, except the trtexec version (the plan adds that).

    ``onnx`` is the file used with precision flags (8.6/10.x); ``typed_onnx`` the file already in the
    variant's precision, for strongly typed builds (11.x) -- ``None`` when the model names none.
    """

    model: str
    onnx: str
    onnx_sha256: str
    typed_onnx: str | None
    typed_onnx_sha256: str | None
    precision: str
    shapes: str
    profile: tuple[InputProfile, ...]
    builder_optimization_level: int | None
    workspace_mib: float | None
    build_flags: tuple[str, ...]
    batch: int | None = None  # the batch of a static engine (already in profile); None for dynamic
    # The device group it is built for: an engine is only valid for the GPU model that built it, so each
    # target builds its own. None (no ``targets`` in the sweep) keeps the identity, and ids, as before.
    target: str | None = None
    gpu: str | None = None

    def canonical(self) -> dict[str, Any]:
        """JSON-ready identity of the engine: file contents by hash, not by path, so moving the
        sweep folder does not invalidate built engines."""
        where = {} if self.target is None else {"target": self.target, "gpu": self.gpu}
        return {**where,
            "model": self.model,
            "onnx_sha256": self.onnx_sha256,
            "typed_onnx_sha256": self.typed_onnx_sha256,
            "precision": self.precision,
            "shapes": self.shapes,
            "profile": [[p.name, list(p.min), list(p.opt), list(p.max)] for p in self.profile],
            "builder_optimization_level": self.builder_optimization_level,
            "workspace_mib": self.workspace_mib,
            "build_flags": list(self.build_flags),
        }


@dataclass(frozen=True)
class RuntimeSettings:
    """Per-variant settings of the timed run that do not change the engine."""

    batch: int
    shapes: tuple[InputShape, ...]
    streams: int
    cuda_graph: bool
    spin_wait: bool
    data_transfers: bool
    threads: bool
    run_flags: tuple[str, ...]


@dataclass(frozen=True)
class Variant:
    """One point of the sweep. ``axis_values`` holds ``model`` (then ``target`` when the sweep names
    targets) then every axis, in schema order."""

    id: str
    model: str
    axis_values: tuple[tuple[str, Any], ...]
    build: BuildKey
    build_id: str
    runtime: RuntimeSettings

    @property
    def target(self) -> str | None:
        """The device group this variant runs on, or None (the sweep names no targets)."""
        return self.build.target

    @property
    def axes(self) -> dict[str, Any]:
        """``{"model": ..., "precision": ..., "batch": ..., ...}``."""
        return dict(self.axis_values)

    def value(self, key: str) -> Any:
        """Value of a selector key (an axis, ``model``, ``id`` or ``build_id``)."""
        if key in ("id", "build_id"):
            return getattr(self, key)
        return self.axes[key]


@dataclass(frozen=True)
class BaselineRef:
    """What one variant is compared with: another variant, or an external latency."""

    label: str
    variant_id: str | None = None
    latency_ms: float | None = None


# ---------------------------------------------------------------- hashing and slugs


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, no spaces, tuples as lists."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _slug_text(text: str, limit: int = 24) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:limit].strip("_")
    return slug or "model"


def _variant_slug(axes: dict[str, Any]) -> str:
    where = [_slug_text(axes["target"])] if "target" in axes else []
    parts = [_slug_text(axes["model"]), *where, axes["precision"], f"b{axes['batch']}",
             "dyn" if axes["shapes"] == "dynamic" else "st", f"s{axes['streams']}"]
    # Booleans appear only when they differ from the default, to keep ids short and readable.
    parts += [word for flag, on, word in (("cuda_graph", True, "graph"), ("spin_wait", True, "spin"),
                                          ("data_transfers", False, "nodt"), ("threads", True, "thr"))
              if axes[flag] is on]
    if axes["builder_optimization_level"] is not None:
        parts.append(f"O{axes['builder_optimization_level']}")
    if axes["workspace_mib"] is not None:
        parts.append(f"ws{axes['workspace_mib']}")
    parts += [tag for tag, key in (("bflags", "build_flags"), ("rflags", "run_flags")) if axes[key]]
    return "-".join(parts)


def variant_id(axes: dict[str, Any]) -> str:
    """``tracker-fp16-b8-dyn-s2-graph-1a2b3c``: slug + 6 hex of the non-default axis values."""
    significant = {k: v for k, v in axes.items()
                   if k in ("model", "target") or v != AXIS_BY_NAME[k].default}
    return f"{_variant_slug(axes)}-{_digest(significant)[:6]}"


def build_id(key: BuildKey) -> str:
    """``tracker-fp16-dyn-1a2b3c4d``: slug + 8 hex of :meth:`BuildKey.canonical` (no trtexec version)."""
    shape = "dyn" if key.batch is None else f"st-b{key.batch}"
    where = "" if key.target is None else f"{_slug_text(key.target)}-"
    return f"{_slug_text(key.model)}-{where}{key.precision}-{shape}-{_digest(key.canonical())[:8]}"


# ---------------------------------------------------------------- expansion


MAX_VARIANTS = 5000


class TooManyVariants(ValueError):
    """The matrix expands to more variants than allowed (counted before anything is expanded)."""


def matrix_size(spec: Spec) -> int:
    """An upper bound of the variant count, from the axis lengths alone: models x product of the axes,
    plus every include rule's own product (exclusions only shrink it). Counting costs nothing, so a
    typo'd matrix of 10^6 variants is refused before it takes minutes and gigabytes to expand."""
    matrix = dict(spec.matrix)
    total = len(spec.models) * prod(len(matrix[a]) for a in AXIS_NAMES)
    for rule in spec.include:
        chosen = rule.as_dict()
        models = len(chosen.get("model", spec.models))
        total += models * prod(len(chosen.get(a, matrix[a])) for a in AXIS_NAMES)
    return total * max(1, len(spec.targets))  # every variant runs on every target


def check_size(spec: Spec, limit: int | None = None) -> None:
    """Raise :class:`TooManyVariants` when :func:`matrix_size` exceeds ``limit`` (default MAX_VARIANTS)."""
    limit = MAX_VARIANTS if limit is None else limit
    size = matrix_size(spec)
    if size > limit:
        axes = ", ".join(f"{a} {len(v)}" for a, v in spec.matrix if len(v) > 1)
        raise TooManyVariants(
            f"{spec.file}: the matrix has up to {size:,} variants ({len(spec.models)} model(s) x "
            f"{axes or 'one value per axis'}), more than the limit of {limit:,}; narrow an axis, add "
            "exclude rules, or raise the limit with --max-variants")


def combinations(spec: Spec) -> list[dict[str, Any]]:
    """Axis dicts of the sweep in a deterministic order: the matrix (models in file order, axes in
    schema order, values as written) minus ``exclude``, then ``include`` additions not yet present."""
    matrix = dict(spec.matrix)
    names = tuple(m.name for m in spec.models)
    out: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()

    def add(model: str, values: tuple[Any, ...]) -> None:
        axes = {"model": model, **dict(zip(AXIS_NAMES, values, strict=True))}
        key = tuple(axes.values())
        if key not in seen:
            seen.add(key)
            out.append(axes)

    for model in names:
        for values in product(*(matrix[a] for a in AXIS_NAMES)):
            axes = {"model": model, **dict(zip(AXIS_NAMES, values, strict=True))}
            if not any(rule.matches(axes) for rule in spec.exclude):
                add(model, values)
    # include comes after exclude so a broad exclude can be followed by a precise re-include.
    for rule in spec.include:
        chosen = rule.as_dict()
        for model in chosen.get("model", names):
            for values in product(*(chosen.get(a, matrix[a]) for a in AXIS_NAMES)):
                add(model, values)
    return out


def _dynamic_profiles(spec: Spec, combos: list[dict[str, Any]]) -> dict[str, tuple[InputProfile, ...]]:
    """One profile per model spanning every batch its dynamic variants run: min = smallest batch,
    opt = max = largest. opt = largest because TensorRT tunes tactics at opt and the largest batch is
    where the GPU is busiest; an input's own min/opt/max replaces this."""
    profiles: dict[str, tuple[InputProfile, ...]] = {}
    for model in spec.models:
        batches = [c["batch"] for c in combos if c["model"] == model.name and c["shapes"] == "dynamic"]
        if not batches:
            continue
        lo, hi = min(batches), max(batches)
        profiles[model.name] = tuple(
            InputProfile(i.name, i.min, i.opt, i.max) if i.min and i.opt and i.max
            else InputProfile(i.name, i.at_batch(lo), i.at_batch(hi), i.at_batch(hi))
            for i in model.inputs)
    return profiles


def _build_key(model: Model, axes: dict[str, Any], profile: tuple[InputProfile, ...],
               target: Target | None = None) -> BuildKey:
    typed = model.typed_onnx(axes["precision"])
    return BuildKey(
        target=target.name if target else None,
        gpu=target.gpu if target else None,
        model=model.name,
        onnx=str(model.onnx.path),
        onnx_sha256=model.onnx.sha256,
        typed_onnx=str(typed.path) if typed else None,
        typed_onnx_sha256=typed.sha256 if typed else None,
        precision=axes["precision"],
        shapes=axes["shapes"],
        profile=profile,
        builder_optimization_level=axes["builder_optimization_level"],
        workspace_mib=axes["workspace_mib"],
        build_flags=axes["build_flags"],
        batch=None if axes["shapes"] == "dynamic" else axes["batch"],
    )


def expand(spec: Spec) -> list[Variant]:
    """All variants of ``spec`` in the order of :func:`combinations`."""
    combos = combinations(spec)
    dynamic = _dynamic_profiles(spec, combos)
    variants: list[Variant] = []
    ids: set[str] = set()
    # Every variant on every target, target-minor: the targets' queues fill in step with each other.
    placed = [(axes, t) for axes in combos for t in (spec.targets or (None,))]
    for plain, target in placed:
        axes = plain if target is None else {"model": plain["model"], "target": target.name,
                                             **{k: v for k, v in plain.items() if k != "model"}}
        model = spec.model(axes["model"])
        shapes = tuple(InputShape(i.name, i.at_batch(axes["batch"])) for i in model.inputs)
        if axes["shapes"] == "dynamic":
            profile = dynamic[model.name]
        else:
            profile = tuple(InputProfile(s.name, s.dims, s.dims, s.dims) for s in shapes)
        key = _build_key(model, axes, profile, target)
        runtime = RuntimeSettings(
            batch=axes["batch"], shapes=shapes, streams=axes["streams"], cuda_graph=axes["cuda_graph"],
            spin_wait=axes["spin_wait"], data_transfers=axes["data_transfers"], threads=axes["threads"],
            run_flags=axes["run_flags"])
        vid = variant_id(axes)
        if vid in ids:  # 24 bits behind an identical slug: practically impossible, but never silent
            raise RuntimeError(f"variant id collision on {vid}; rename a model to tell them apart")
        ids.add(vid)
        variants.append(Variant(vid, model.name, tuple(axes.items()), key, build_id(key), runtime))
    return variants


# ---------------------------------------------------------------- --only


def select(variants: Sequence[Variant], only: Iterable[str]) -> list[Variant]:
    """Keep the variants matching every ``KEY=VALUE[,VALUE...]`` (values of one key are alternatives;
    repeating a key adds alternatives). Unknown keys or values raise :class:`SpecError`."""
    # ``target`` selects like an axis when the sweep names targets.
    targeted = ("target",) if any(v.target is not None for v in variants) else ()
    keys = ("id", "build_id", *targeted, *(k for k in SELECTOR_KEYS
                                           if k == "model" or not isinstance(AXIS_BY_NAME[k].item, FlagSets)))
    present: dict[str, list[Any]] = {k: [] for k in keys}
    for v in variants:
        for k in keys:
            if v.value(k) not in present[k]:
                present[k].append(v.value(k))
    models = tuple(present["model"])
    wanted: dict[str, set[Any]] = {}
    problems: list[Problem] = []

    def problem(message: str) -> None:
        problems.append(Problem("--only", None, None, message))

    for item in only:
        key, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not key or not text:
            problem(f"expected KEY=VALUE[,VALUE...], got '{item}'")
            continue
        if key not in keys:
            problem(f"unknown key '{key}'{suggest(key, keys)}")
            continue
        # A model name or id may itself contain ',': take the whole text when it names one exactly.
        parts = [text] if text in map(str, present[key]) else [p.strip() for p in text.split(",")]
        for part in parts:
            try:
                value = part if key in ("id", "build_id", "target") else parse_axis_value(key, part, models)
            except ValueError as exc:
                problem(f"{key}: {exc}")
                continue
            if value not in present[key]:
                shown = ", ".join(show(x) for x in present[key])
                problem(f"no variant has {key}={part}; values in this sweep: {shown}")
                continue
            wanted.setdefault(key, set()).add(value)
    if problems:
        raise SpecError(problems)
    return [v for v in variants if all(v.value(k) in values for k, values in wanted.items())]



# ---------------------------------------------------------------- baseline and lock


def resolve_baselines(baseline: Baseline | None, variants: Sequence[Variant]) -> dict[str, BaselineRef]:
    """Variant id -> what it is compared with; variants without a baseline are left out.

    A selector baseline pairs each variant with the variant that has the selector's values and equals
    it on every other axis (same model, batch, ...), possibly itself. External figures pair each
    variant with the latency given for its batch; other batches get nothing (no interpolation).
    """
    if baseline is None:
        return {}
    out: dict[str, BaselineRef] = {}
    if baseline.selector is None:
        figures = dict(baseline.latency_ms)
        for v in variants:
            if v.runtime.batch in figures:
                out[v.id] = BaselineRef(baseline.label, latency_ms=float(figures[v.runtime.batch]))
        return out
    override = {k: values[0] for k, values in baseline.selector.values}
    by_axes = {v.axis_values: v for v in variants}
    for v in variants:
        target = tuple((k, override.get(k, value)) for k, value in v.axis_values)
        match = by_axes.get(target)
        if match is not None:
            out[v.id] = BaselineRef(baseline.label, variant_id=match.id)
    return out


def baseline_for(baseline: Baseline | None, variant: Variant,
                 variants: Sequence[Variant]) -> BaselineRef | None:
    """The baseline of one variant (see :func:`resolve_baselines`), or ``None``."""
    return resolve_baselines(baseline, variants).get(variant.id)


def spec_lock(variants: Sequence[Variant]) -> dict[str, Any]:
    """JSON-ready content of ``spec.lock.json``: every variant with its id, axes, build and runtime."""
    return {
        "lock_version": LOCK_VERSION,
        "variants": [
            {
                "id": v.id,
                "model": v.model,
                "axes": {k: list(x) if isinstance(x, tuple) else x for k, x in v.axis_values},
                "build_id": v.build_id,
                "build": {**v.build.canonical(), "onnx": v.build.onnx, "typed_onnx": v.build.typed_onnx},
                "runtime": {
                    "batch": v.runtime.batch,
                    "shapes": {s.name: list(s.dims) for s in v.runtime.shapes},
                    "streams": v.runtime.streams,
                    "cuda_graph": v.runtime.cuda_graph,
                    "spin_wait": v.runtime.spin_wait,
                    "data_transfers": v.runtime.data_transfers,
                    "threads": v.runtime.threads,
                    "run_flags": list(v.runtime.run_flags),
                },
            }
            for v in variants
        ],
    }
