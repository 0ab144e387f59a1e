"""Option groups and helpers several commands share: the sweep, the trtexec, the baseline, a run folder."""

from __future__ import annotations

from pathlib import Path

import click

from trtsweep.cli.app import UserError

only_option = click.option(
    "--only", "only", multiple=True, metavar="KEY=VALUE[,VALUE]",
    help="Keep only variants whose axis KEY has one of these values (repeatable; all must match). "
    "Keys: the matrix axes, model, id, build_id.")
trtexec_option = click.option("--trtexec", "trtexec_path", type=click.Path(path_type=Path), default=None,
                               help="trtexec to use (else the spec's trtexec.path, $TRTEXEC, PATH, "
                               "/usr/src/tensorrt/bin/trtexec).")


def load_and_expand(sweep: Path, only: tuple[str, ...], with_all: bool = False,
                    max_variants: int | None = None):
    from trtsweep.sweeps.expand import TooManyVariants, check_size, expand, select
    from trtsweep.sweeps.spec import SpecError, load_spec

    try:
        spec = load_spec(sweep)
        check_size(spec, max_variants)
        everything = expand(spec)
        variants = select(everything, list(only)) if only else everything
    except (SpecError, TooManyVariants) as exc:
        raise UserError(str(exc)) from None
    if not variants:
        raise UserError(f"{sweep}: the sweep expands to no variant")
    return (spec, variants, everything) if with_all else (spec, variants)


def trtexec_for(spec, trtexec_path: Path | None, trt_version: str | None, need_binary: bool):
    """(path, version tuple) of the trtexec to plan for; a pinned version stands in when none is found."""
    from trtsweep.trtexec.discover import TrtexecNotFound, TrtexecProbeError, find_trtexec, probe

    if trt_version and not need_binary:
        return _planned_version(spec, trtexec_path, trt_version)
    pinned = trt_version or spec.trtexec.version
    try:
        path = find_trtexec(trtexec_path or spec.trtexec.path)
    except TrtexecNotFound as exc:
        if need_binary or not pinned:
            hint = "" if need_binary else "; or give --trt-version X.Y to plan for a version without one"
            raise UserError(f"no trtexec found: {exc}{hint}") from None
        return "trtexec", _padded(pinned)
    try:
        info = probe(path, pinned_version=pinned)
    except (TrtexecProbeError, ValueError) as exc:
        raise UserError(str(exc)) from None
    if info.version is None:
        raise UserError(f"{path} prints no TensorRT version (7.x): set trtexec.version in the spec")
    return str(path), info.version


def _padded(text: str):
    from trtsweep.versions import parse_version

    try:
        version = parse_version(text)
    except ValueError:
        raise UserError(f"--trt-version must look like 10.8 or 10.8.0, got {text!r}") from None
    # A found trtexec reports major.minor.patch; padding the given prefix the same way gives the plan the
    # engine ids and paths ("-v10.8.0") that `run` on that version will use.
    return version + (0,) * (3 - len(version))


def _planned_version(spec, trtexec_path: Path | None, trt_version: str):
    """Planning for an explicit --trt-version: it wins over whatever trtexec is installed (saying so)."""
    from trtsweep.trtexec.discover import TrtexecNotFound, TrtexecProbeError, find_trtexec, probe

    version = _padded(trt_version)
    try:
        path = find_trtexec(trtexec_path or spec.trtexec.path)
    except TrtexecNotFound:
        return "trtexec", version
    try:
        found = probe(path).version
    except (TrtexecProbeError, ValueError):
        found = None
    if found is not None and found[: len(version)] != version[: len(found)]:
        shown = ".".join(map(str, found))
        click.echo(f"note: planning for TensorRT {trt_version} as --trt-version asks; {path} is {shown} "
                   f"(trtsweep run would use {shown})", err=True)
    return str(path), version


def plan_or_exit(spec, variants, run_dir: Path, trtexec: str, version, lock_variants=None):
    from trtsweep.orchestrate.plan import PlanError, make_plan

    try:
        return make_plan(spec, variants, run_dir, trtexec, version, lock_variants)
    except PlanError as exc:
        raise UserError("the sweep cannot run on this trtexec:\n  " + "\n  ".join(exc.problems)) from None


def default_run_dir(sweep: Path) -> Path:
    return Path("runs") / sweep.stem


def load_run(run_dir: Path):
    from trtsweep import store

    try:
        return store.load_result_set(run_dir)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(f"{exc} (expected a folder written by 'trtsweep run' or 'trtsweep import')") from None


BASELINE_OPTIONS = [
    click.option("--baseline", "baseline", default=None, metavar="AXIS=VALUE[,AXIS=VALUE]",
                 help="Compare each variant with the variant of the same model and batch that has these "
                 "axis values, e.g. precision=fp32,shapes=static [default: the sweep's baseline]."),
    click.option("--baseline-ms", "baseline_ms", default=None, metavar="BATCH=MS[,BATCH=MS]",
                 help="External time per batch, e.g. PyTorch: 1=40,8=160."),
    click.option("--baseline-label", default=None, help="Name of the baseline in the output, e.g. PyTorch."),
]


def with_baseline(fn):
    for option in reversed(BASELINE_OPTIONS):
        fn = option(fn)
    return fn


def baseline_or_exit(baseline: str | None, baseline_ms: str | None, label: str | None):
    from trtsweep.analysis.baseline import baseline_from_cli

    try:
        return baseline_from_cli(baseline, baseline_ms, label)
    except ValueError as exc:
        raise UserError(str(exc)) from None
