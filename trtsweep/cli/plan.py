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
@click.option("--max-variants", type=click.IntRange(min=1), default=None, metavar="N",
              help="Allow a matrix of up to N variants [default: 5000].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def plan_cmd(sweep: Path, trtexec_path: Path | None, trt_version: str | None, run_dir: Path | None,
             only: tuple[str, ...], max_variants: int | None, fmt: str) -> None:
    """Show what `trtsweep run SWEEP` would do, without running anything (no GPU needed).

    Lists the variants, the engine builds (one per distinct engine: precision, shape profile, builder
    options), the exact trtexec commands for the installed (or --trt-version) trtexec, and an estimated
    serial time.

    \b
    Example:
      trtsweep plan sweep.example.yaml --trt-version 10.8
    """
    from trtsweep.orchestrate.plan import describe_plan, plan_document

    spec, variants = load_and_expand(sweep, only, max_variants=max_variants)
    trtexec, version = trtexec_for(spec, trtexec_path, trt_version, need_binary=False)
    plan = plan_or_exit(spec, variants, run_dir or default_run_dir(sweep), trtexec, version)
    if fmt == "json":
        click.echo(json.dumps(plan_document(plan, spec), indent=2))
    else:
        click.echo(describe_plan(plan, spec), nl=False)
