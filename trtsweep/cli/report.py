"""``trtsweep report``: a self-contained HTML report (or Markdown summary) of run folders."""

from __future__ import annotations

from pathlib import Path

import click

from trtsweep.cli.app import main
from trtsweep.cli.options import baseline_or_exit, load_run, with_baseline


@main.command("report", short_help="Write a self-contained HTML report (PNG charts, tables, findings).")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Folder for index.html, the PNG charts and summary.md [default: RUN_DIR/report].")
@with_baseline
@click.option("--title", default=None, help="Title of the report page.")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]), default="html", show_default=True,
              help="md prints the Markdown summary (for CI comments) instead of writing the page.")
@click.option("--open", "open_page", is_flag=True,
              help="Open index.html in the default browser once written (xdg-open, open, start).")
def report_cmd(run_dirs: tuple[Path, ...], out_dir: Path | None, baseline: str | None,
               baseline_ms: str | None, baseline_label: str | None, title: str | None, fmt: str,
               open_page: bool) -> None:
    """Write a self-contained HTML report (PNG charts, tables, findings) of one or more run folders.

    Works on folders from 'trtsweep run' and 'trtsweep import'; several folders are shown side by side,
    labelled by GPU and host (e.g. the same sweep on three GPUs). The page loads nothing from the network
    and reads fine with JavaScript off. Data a run lacks (no layer profile, TensorRT 7 logs without a
    GPU compute breakdown, failed variants) is listed as missing rather than drawn empty.

    \b
    Examples:
      trtsweep report runs/h100
      trtsweep report runs/h100 runs/ada -o report-gpus
      trtsweep report runs/h100 --format md
      trtsweep report runs/h100 --open
    """
    from trtsweep.reports.html import build_report
    from trtsweep.reports.markdown import markdown_summary

    for run_dir in run_dirs:
        load_run(run_dir)  # one clear error for a folder that is not a run folder
    base = baseline_or_exit(baseline, baseline_ms, baseline_label)
    if fmt == "md" and open_page:
        raise click.UsageError("--open opens the HTML page: it does not go with --format md")
    if fmt == "md":
        out = markdown_summary(list(run_dirs), base, title)
        click.echo(out, nl=not out.endswith("\n"))
        return
    result = build_report(list(run_dirs), out_dir, base, title)
    click.echo(f"report: {result.index_html}")
    click.echo(f"  {len(result.pngs)} charts, summary: {result.summary_md}")
    for gap in result.missing:
        click.echo(f"  missing: {gap}")
    if open_page:
        _open(result.index_html)


def _open(page: Path) -> None:
    """Open the page in the user's browser; where none can be started (a server, no desktop), say so and
    go on: the report is written either way, so this is never an error."""
    try:
        code = click.launch(str(page.resolve()))
    except OSError as exc:  # no opener program at all
        code, why = 1, str(exc)
    else:
        why = f"the opener exited with status {code}"
    if code != 0:
        click.echo(f"  could not open a browser ({why}); open {page} yourself", err=True)
