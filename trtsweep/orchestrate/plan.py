"""Variants -> steps: one BUILD step per distinct engine, one RUN step per variant and repeat.

Pure: nothing here runs trtexec or touches files. Every argv is built for the trtexec version that will
run it (``flags.build_argv``/``flags.run_argv``); a variant the version cannot express is collected as a
problem, and all problems are raised together as :class:`PlanError` before anything runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from trtsweep import store
from trtsweep.baselines.folder import plan_units
from trtsweep.store.runfolder import portable_argv
from trtsweep.sweeps.expand import Variant, spec_lock
from trtsweep.sweeps.spec import Spec
from trtsweep.trtexec.flags import BuildSpec, FlagError, RunSpec, build_argv, run_argv
from trtsweep.versions import Version, format_version

# Rough figures for the estimate when nothing has been measured yet: trtexec's own start-up, engine
# load and context creation (run), and a typical engine build of a small CNN (build).
RUN_OVERHEAD_S = 4.0
BUILD_GUESS_S = 60.0


class PlanError(ValueError):
    """Some variants cannot be run by this trtexec; one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class Step:
    """One trtexec invocation and where its artifacts go."""

    id: str
    kind: Literal["build", "run", "baseline"]
    dir: Path
    argv: tuple[str, ...]
    build_id: str
    timeout_s: float
    variant_id: str | None = None
    repeat: int = 0
    depends_on: str | None = None
    outputs: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    run_dir: Path | None = None
    target: str | None = None  # the device group (sweep ``targets``) it runs on; None = the implicit one

    @property
    def log_path(self) -> Path:
        return self.dir / ("build.log" if self.kind == "build" else "run.log")

    @property
    def portable_argv(self) -> list[str]:
        """The argv with the run folder written as ``${RUN_DIR}``: what the status file records, so a
        moved run folder still recognises its finished steps."""
        return portable_argv(self.argv, self.run_dir)





@dataclass
class Plan:
    run_dir: Path
    trtexec: str
    version: Version
    variants: list[Variant]
    builds: list[Step]
    runs: list[Step]
    lock: dict[str, Any]
    baselines: list[Step] = field(default_factory=list)  # BASELINE steps: measured PyTorch / ONNX Runtime

    @property
    def steps(self) -> list[Step]:
        return [*self.builds, *self.baselines, *self.runs]

    def estimate_s(self, run_seconds: float) -> float:
        """Serial time estimate: guessed builds plus warm-up, timed loop and overhead per run and baseline."""
        return len(self.builds) * BUILD_GUESS_S + (len(self.runs) + len(self.baselines)) * (
            run_seconds + RUN_OVERHEAD_S)


def timing_cache(run_dir: Path, target: str | None) -> Path:
    """The shared timing cache of the engines of one target: tactic timings are only valid for the GPU
    model that measured them, so each target keeps its own (``timing.cache`` without targets)."""
    return run_dir / "engines" / ("timing.cache" if target is None else f"timing-{target}.cache")


def versioned_build_id(build_id: str, version: Version) -> str:
    """Engines are only valid for the TensorRT that built them: the version is part of the build id."""
    return f"{build_id}-v{format_version(version)}"


def _shape_text(dims: Sequence[int]) -> str:
    return "x".join(str(d) for d in dims)


def _build_spec(variant: Variant, engine: Path, layers: Path, cache: Path) -> BuildSpec:
    key = variant.build
    dynamic = key.shapes == "dynamic"
    profile = {p.name: p for p in key.profile}
    return BuildSpec(
        onnx=key.onnx,
        precision=key.precision,
        model_precision="fp32",
        onnx_by_precision={key.precision: key.typed_onnx} if key.typed_onnx else None,
        min_shapes={n: _shape_text(p.min) for n, p in profile.items()} if dynamic else None,
        opt_shapes={n: _shape_text(p.opt) for n, p in profile.items()} if dynamic else None,
        max_shapes={n: _shape_text(p.max) for n, p in profile.items()} if dynamic else None,
        shapes=None if dynamic else {n: _shape_text(p.opt) for n, p in profile.items()},
        workspace_mib=key.workspace_mib,
        builder_optimization_level=key.builder_optimization_level,
        timing_cache_file=str(cache),
        save_engine=str(engine),
        skip_inference=True,
        profiling_verbosity="detailed",
        export_layer_info=str(layers),
        verbose=True,
        extra_flags=tuple(key.build_flags),
    )


def _run_spec(spec: Spec, variant: Variant, engine: Path, step_dir: Path, profile: bool) -> RunSpec:
    rt = variant.runtime
    run = spec.run
    return RunSpec(
        load_engine=str(engine),
        shapes={s.name: _shape_text(s.dims) for s in rt.shapes},
        streams=rt.streams,
        cuda_graph=rt.cuda_graph,
        spin_wait=rt.spin_wait,
        data_transfers=rt.data_transfers,
        threads=rt.threads,
        warmup_ms=run.warmup_ms,
        iterations=run.iterations,
        duration_s=run.duration_s,
        avg_runs=run.avg_runs,
        percentiles=tuple(run.percentiles),
        export_times=str(step_dir / "times.json"),
        # Per-layer profiling only on the first repeat: it is the same engine every time, and the
        # separate profiling pass costs as long as the timed one.
        export_profile=str(step_dir / "profile.json") if profile else None,
        separate_profile_run=None,
        extra_flags=tuple(rt.run_flags),
    )


def baseline_for_lock(spec: Spec) -> dict[str, Any] | None:
    """The spec's baseline in the run folder's form (see ``reports.baseline``)."""
    b = spec.baseline
    if b is None:
        return None
    if b.measured is not None:
        out: dict[str, Any] = {"label": b.label, "measured": {"reference": b.measured.reference,
                                                               "basis": b.measured.basis}}
        if b.latency_ms:
            out["latency_ms"] = {str(batch): ms for batch, ms in b.latency_ms}
        return out
    if b.external:
        return {"label": b.label, "latency_ms": {str(batch): ms for batch, ms in b.latency_ms}}
    selector = {k: (list(v) if len(v) > 1 else v[0]) for k, v in (b.selector.values if b.selector else ())}
    return {"label": b.label, "variant": selector}


def make_plan(spec: Spec, variants: Sequence[Variant], run_dir: Path, trtexec: str,
              version: Version, lock_variants: Sequence[Variant] | None = None) -> Plan:
    """Steps for ``variants`` on trtexec ``version``; raises PlanError listing every variant it cannot run.

    ``lock_variants`` (default: ``variants``) are the variants the run folder's lock lists, a superset
    when a slice (``--only``) runs into a folder that already holds other variants of the same spec.
    """
    run_dir = Path(run_dir).resolve()
    problems: list[str] = []
    builds: dict[str, Step] = {}
    engines: dict[str, Path] = {}
    runs: list[Step] = []
    vtext = format_version(version)
    for variant in variants:
        bid = versioned_build_id(variant.build_id, version)
        edir = store.engine_dir(run_dir, bid)
        engine = edir / "engine.plan"
        if bid not in builds:
            cache = timing_cache(run_dir, variant.target)
            try:
                argv = build_argv(_build_spec(variant, engine, edir / "layers.json", cache), version)
            except FlagError as exc:
                problems.append(f"variant {variant.id} (engine {variant.build_id}), TensorRT {vtext}: {exc}")
                continue
            builds[bid] = Step(id=f"build/{bid}", kind="build", dir=edir, argv=(trtexec, *argv),
                               build_id=bid, timeout_s=spec.run.build_timeout_s,
                               outputs={"engine": str(engine), "layers": str(edir / "layers.json")},
                               run_dir=run_dir, target=variant.target)
            engines[bid] = engine
    # Repeats are interleaved (all variants once, then all again) so that slow drifts of clock or
    # temperature spread over every variant instead of biasing the last ones.
    for repeat in range(spec.run.repeats):
        for variant in variants:
            bid = versioned_build_id(variant.build_id, version)
            if bid not in builds:
                continue
            sdir = store.variant_dir(run_dir, variant.id, repeat)
            try:
                argv = run_argv(_run_spec(spec, variant, engines[bid], sdir, profile=repeat == 0), version)
            except FlagError as exc:
                if repeat == 0:
                    problems.append(f"variant {variant.id}, TensorRT {vtext}: {exc}")
                continue
            suffix = "" if repeat == 0 else f"/repeat-{repeat}"
            runs.append(Step(id=f"run/{variant.id}{suffix}", kind="run", dir=sdir, argv=(trtexec, *argv),
                             build_id=bid, timeout_s=spec.run.timeout_s, variant_id=variant.id,
                             repeat=repeat, depends_on=f"build/{bid}", run_dir=run_dir,
                             target=variant.target))
    if problems:
        raise PlanError(problems)
    baselines = baseline_steps(spec, run_dir)
    lock = spec_lock(lock_variants if lock_variants is not None else variants)
    expected: dict[str, list[list[str]]] = {}
    for step in runs:
        expected.setdefault(step.variant_id or "", []).append(step.portable_argv)
    for variant in lock_variants or ():
        if variant.id in expected:
            continue
        # A variant of an earlier slice (--only): what its steps must have run to still be current.
        bid = versioned_build_id(variant.build_id, version)
        engine = store.engine_dir(run_dir, bid) / "engine.plan"
        try:
            expected[variant.id] = [
                portable_argv((trtexec, *run_argv(_run_spec(spec, variant, engine,
                                                            store.variant_dir(run_dir, variant.id, k),
                                                            profile=k == 0), version)), run_dir)
                for k in range(spec.run.repeats)]
        except FlagError:
            continue
    for entry in lock["variants"]:
        entry["build_id"] = versioned_build_id(entry["build_id"], version)
        entry["repeats"] = spec.run.repeats
        if entry["id"] in expected:
            # What each repeat must have been run with to count as current (a changed spec makes the
            # steps measured with the old argv stale, and they are shown as such, never as current).
            entry["step_argv"] = expected[entry["id"]]
    if baselines:
        lock["baselines"] = [u.entry for u in plan_units(spec, run_dir)]
    if spec.targets:  # the device groups the variants' ``target`` axis names
        lock["targets"] = [{"name": t.name, "gpu": t.gpu, "resources": t.requested} for t in spec.targets]
    lock.update({"trtexec": {"path": trtexec, "version": vtext}, "baseline": baseline_for_lock(spec),
                 "expect_speedup": spec.expect_speedup,
                 "spec_sha256": hashlib.sha256(spec.text.encode()).hexdigest()})
    return Plan(run_dir=run_dir, trtexec=trtexec, version=version, variants=list(variants),
                builds=list(builds.values()), runs=runs, lock=lock, baselines=baselines)


def baseline_steps(spec: Spec, run_dir: Path) -> list[Step]:
    """One BASELINE step per measured baseline, batch and repeat (repeats interleaved, like runs): the
    baseline runner in its own process, on a GPU slot like any step, with the run timeout."""
    run_dir = Path(run_dir).resolve()
    units = plan_units(spec, run_dir)
    steps = []
    for repeat in range(spec.run.repeats):
        for u in units:
            suffix = "" if repeat == 0 else f"/repeat-{repeat}"
            steps.append(Step(id=f"baseline/{u.id}{suffix}", kind="baseline", dir=u.dirs[repeat],
                              argv=u.argvs[repeat], build_id="", timeout_s=spec.run.timeout_s,
                              repeat=repeat, run_dir=run_dir))
    return steps


def _run_seconds(spec: Spec) -> float:
    return spec.run.warmup_ms / 1000 + spec.run.duration_s


def plan_document(plan: Plan, spec: Spec) -> dict[str, Any]:
    """The plan as ``trtsweep plan --format json`` prints it."""
    return {
        "trtexec": plan.trtexec, "version": format_version(plan.version),
        "variants": plan.lock["variants"],
        "steps": [{"id": s.id, "kind": s.kind, "argv": list(s.argv), "depends_on": s.depends_on}
                  for s in plan.steps],
        "estimate_s": plan.estimate_s(_run_seconds(spec)),
    }


def describe_plan(plan: Plan, spec: Spec) -> str:
    """The plan as ``trtsweep plan`` prints it: counts, every build and run command, the estimate."""
    import shlex

    run_s = _run_seconds(spec)
    lines = [f"{len(plan.variants)} variants, {len(plan.builds)} engine builds, {len(plan.runs)} runs "
             f"(repeats: {spec.run.repeats}) for trtexec {format_version(plan.version)} at {plan.trtexec}",
             "", "engine builds:"]
    for s in plan.builds:
        lines += [f"  {s.build_id}", f"    {shlex.join(s.argv)}"]
    if plan.baselines:
        lines += ["", "baselines (measured by trtsweep, one process each):"]
        for s in plan.baselines:
            if s.repeat == 0:
                lines += [f"  {s.id.removeprefix('baseline/')}", f"    {shlex.join(s.argv)}"]
    lines += ["", "runs:"]
    for s in plan.runs:
        if s.repeat == 0:
            lines += [f"  {s.variant_id}", f"    {shlex.join(s.argv)}"]
    est = plan.estimate_s(run_s)
    lines += ["", f"estimated time on one GPU: {est / 60:.0f} min ({len(plan.builds)} builds at "
              f"~{BUILD_GUESS_S:.0f} s assumed, {len(plan.runs)} runs at ~{run_s + RUN_OVERHEAD_S:.0f} s)"]
    return "\n".join(lines) + "\n"
