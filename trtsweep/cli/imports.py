"""``trtsweep import``: a folder of existing logs and exports becomes a run folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from trtsweep.cli.app import UserError, main


@main.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("-o", "--output", "run_dir", required=True, type=click.Path(path_type=Path),
              help="Run folder to create (must not exist yet, or be empty).")
def import_cmd(folder: Path, run_dir: Path) -> None:
    """Turn a folder of existing trtexec logs and exports into a run folder.

    Every file below FOLDER is recognised by content. A log and its exports are paired by file stem:
    the name without extensions (.log, .txt, .json, .times, .profile, .graph, .layers ...) and without
    the words 'times', 'timing', 'profile', 'layers' or 'raw' joined to it by '_' or '-', so
    'resnet.log', 'resnet.times.json', 'resnet.profile.json' and 'resnet.graph.json' make one
    variant. Each run of a log is one variant; axis values (precision,
    batch, shapes, streams, CUDA graph) come from the log's option echo. Writes records, results.csv
    and results.parquet in the run-folder layout, ready for 'trtsweep report' and 'trtsweep diagnose'.

    \b
    Examples:
      trtsweep import logs/h100 -o runs/h100
      trtsweep import logs/ada -o runs/ada

    \b
    Exit status: 0 all imported; 1 some files unrecognized or some runs failed; 2 bad paths.
    """
    from trtsweep.orchestrate.importer import import_folder

    if not folder.exists():
        raise UserError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise UserError(f"{folder}: not a folder (use 'trtsweep parse FILE' for one file)")
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(f"{run_dir}: exists and is not a folder; choose a new -o folder")
    if run_dir.exists() and any(run_dir.iterdir()):
        raise UserError(f"{run_dir}: already exists and is not empty; choose a new -o folder")
    if run_dir.resolve().is_relative_to(folder.resolve()):
        raise UserError(f"{run_dir}: inside {folder}, which is being imported; choose -o outside it")
    try:
        summary = import_folder(folder, run_dir)
    except OSError as exc:
        raise UserError(f"{run_dir}: cannot write the run folder ({exc.strerror or exc})") from None
    click.echo(f"imported {summary.variants} variant(s) into {summary.run_dir}")
    for path, why in summary.unrecognized:
        click.echo(f"  unrecognized: {path}: {why}")
    if summary.failed_runs:
        click.echo(f"  {summary.failed_runs} run(s) failed")
    click.echo(f"results: {summary.run_dir / 'results.csv'}")
    if summary.unrecognized or summary.failed_runs:
        sys.exit(1)
