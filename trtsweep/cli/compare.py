"""``trtsweep compare``: two run folders (or several GPUs) side by side, with noise-aware verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from trtsweep.cli.app import UserError, main
from trtsweep.cli.options import load_run

METRIC_NAMES = ("gpu_compute", "latency", "throughput", "p99")


@main.command("compare")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    type=click.Choice(METRIC_NAMES),
    metavar="NAME",
    help="gpu_compute (default), latency, throughput or p99 (latency p99); repeatable.",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    metavar="PCT",
    help="Smallest change that counts, in percent [default: max(3, 2 x pooled between-repeat spread)].",
)
@click.option(
    "--match",
    "match",
    default=None,
    metavar="AXIS[,AXIS]",
    help="Match variants on these axes only (e.g. batch,precision for logs run with other flags).",
)
@click.option("--layers", is_flag=True, help="Add a per-layer diff for variants with profiles on both sides.")
@click.option("--fail-on-regression", is_flag=True, help="Exit 3 when a variant is slower.")
@click.option("--fail-on-inconclusive", is_flag=True, help="Exit 4 when a verdict is inconclusive.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "md", "json", "html"]),
    default="text",
    show_default=True,
    help="json is stable: see trtsweep/reports/compare.schema.json.",
)
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(path_type=Path),
    default=None,
    help="Write there instead of printing (html: a folder for index.html and the chart).",
)
def compare_cmd(
    run_dirs: tuple[Path, ...],
    metrics: tuple[str, ...],
    threshold: float | None,
    match: str | None,
    layers: bool,
    fail_on_regression: bool,
    fail_on_inconclusive: bool,
    fmt: str,
    out: Path | None,
) -> None:
    """Compare run B with run A (or several runs with the first), variant by variant.

    Variants are matched by model and axis values. Each repeat (one trtexec process) counts once: its
    median of the metric; the change B/A is a Hodges-Lehmann ratio with a 95 % interval. Verdicts:
    slower, faster, same (interval inside the threshold) or inconclusive (with what to do). GPU,
    driver, CUDA, TensorRT, clocks and power limit are compared first.

    \b
    Examples:
      trtsweep compare runs/before runs/after --fail-on-regression
      trtsweep compare runs/h100 runs/a100 runs/l4 --format html -o compare-gpus
      trtsweep compare runs/trt10.8 runs/trt10.13 --layers --format md > comment.md

    \b
    Exit status: 0 no regression; 3 a regression (--fail-on-regression); 4 inconclusive
    (--fail-on-inconclusive); 2 bad input (not run folders, no variant in common, a metric no run has).
    """
    from trtsweep.analysis.compare import CompareError, compare_runs
    from trtsweep.analysis.compare_layers import layer_diffs
    from trtsweep.reports.compare_render import render

    if len(run_dirs) < 2:
        raise UserError("compare needs at least two run folders (RUN_A RUN_B [RUN_C ...])")
    if threshold is not None and not 0 < threshold < 100:
        raise UserError(f"--threshold {threshold:g}: expected a percentage between 0 and 100")
    runs = [load_run(d) for d in run_dirs]
    for rs, d in zip(runs, run_dirs, strict=True):
        if not any(v.records for v in rs.variants):
            raise UserError(f"{d}: run folder has no results (no variant was measured)")
    names = [n.strip() for n in match.split(",") if n.strip()] if match else None
    try:
        multi = compare_runs(
            runs, metrics or ("gpu_compute",), None if threshold is None else threshold / 100, names
        )
    except CompareError as exc:
        raise UserError(str(exc)) from None
    diffs = layer_diffs(multi) if layers else None
    try:
        text = render(multi, fmt, diffs, out)
    except OSError as exc:
        raise UserError(f"{out}: cannot write ({exc.strerror or exc})") from None
    if text is not None:
        click.echo(text, nl=not text.endswith("\n"))
    if fail_on_regression and multi.has_regression:
        sys.exit(3)
    if fail_on_inconclusive and multi.has_inconclusive:
        sys.exit(4)
