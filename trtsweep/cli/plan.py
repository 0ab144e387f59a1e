"""``trtsweep plan``: what ``run`` would do, without running anything."""

from __future__ import annotations

import json
from pathlib import Path

import click

from trtsweep.cli.app import main
from trtsweep.cli.options import (
    default_run_dir,
    load_and_expand,
    only_option,
    plan_or_exit,
    trtexec_for,
    trtexec_option,
)


@main.command("plan")
@click.argument("sweep", type=click.Path(path_type=Path))
@trtexec_option
@click.option("--trt-version", default=None, metavar="X.Y.Z",
              help="Plan for this TensorRT version (needed when no trtexec is installed here).")
@click.option("-o", "--output", "run_dir", type=click.Path(path_type=Path), default=None,
              help="Run folder the commands will write to [default: runs/<sweep name>].")
@only_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan_cmd(sweep: Path, trtexec_path: Path | None, trt_version: str | None, run_dir: Path | None,
             only: tuple[str, ...], fmt: str) -> None:
    """Show what `trtsweep run SWEEP` would do, without running anything (no GPU needed).

    Lists the variants, the engine builds (one per distinct engine: precision, shape profile, builder
    options), the exact trtexec commands for the installed (or --trt-version) trtexec, and an estimated
    serial time.

    \b
    Example:
      trtsweep plan sweep.example.yaml --trt-version 10.8
    """
    import shlex

    from trtsweep.orchestrate.plan import BUILD_GUESS_S, RUN_OVERHEAD_S

    spec, variants = load_and_expand(sweep, only)
    trtexec, version = trtexec_for(spec, trtexec_path, trt_version, need_binary=False)
    plan = plan_or_exit(spec, variants, run_dir or default_run_dir(sweep), trtexec, version)
    run_s = spec.run.warmup_ms / 1000 + spec.run.duration_s
    if fmt == "json":
        click.echo(json.dumps({
            "trtexec": trtexec, "version": ".".join(map(str, version)),
            "variants": plan.lock["variants"],
            "steps": [{"id": s.id, "kind": s.kind, "argv": list(s.argv), "depends_on": s.depends_on}
                      for s in plan.steps],
            "estimate_s": plan.estimate_s(run_s)}, indent=2))
        return
    ver = ".".join(map(str, version))
    click.echo(f"{len(variants)} variants, {len(plan.builds)} engine builds, {len(plan.runs)} runs "
               f"(repeats: {spec.run.repeats}) for trtexec {ver} at {trtexec}")
    click.echo("\nengine builds:")
    for s in plan.builds:
        click.echo(f"  {s.build_id}\n    {shlex.join(s.argv)}")
    click.echo("\nruns:")
    for s in plan.runs:
        if s.repeat == 0:
            click.echo(f"  {s.variant_id}\n    {shlex.join(s.argv)}")
    est = plan.estimate_s(run_s)
    click.echo(f"\nestimated time on one GPU: {est / 60:.0f} min ({len(plan.builds)} builds at "
               f"~{BUILD_GUESS_S:.0f} s assumed, {len(plan.runs)} runs at ~{run_s + RUN_OVERHEAD_S:.0f} s)")
