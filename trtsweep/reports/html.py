"""The HTML report: ``build_report`` reads run folders, draws the charts and writes ``index.html``.

The page is self-contained apart from its PNG files beside it: inline CSS, an optional few lines of inline
JavaScript for sorting/filtering (the page reads the same with it off), no fonts, scripts or styles from
anywhere else; a Content-Security-Policy meta tag makes the browser refuse any network load should a
future template edit add one. Every string that comes from logs is escaped by jinja2's autoescape.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from trtsweep import __version__
from trtsweep.reports import plots, tables
from trtsweep.reports.data import ReportData, collect
from trtsweep.reports.markdown import render_markdown
from trtsweep.reports.plots import telemetry as _telemetry  # noqa: F401 - plots.telemetry below
from trtsweep.store import atomic_write_text

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class ReportResult:
    """What ``build_report`` wrote, and what it could not show (one sentence per gap)."""

    out_dir: Path
    index_html: Path
    summary_md: Path
    pngs: list[Path]
    missing: list[str]


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = tables.fmt
    env.filters["sortkey"] = _sort_key
    return env


def _sort_key(value: Any) -> str:
    """The data-v attribute the sorting script reads: numbers as numbers, the rest as text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, int | float) else str(value)


def render_html(data: ReportData) -> str:
    """The page's HTML for collected data (charts must already be drawn into ``data.plots``)."""
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            d=data,
            version=__version__,
            # metric columns no variant has (e.g. H2D in TensorRT 7 logs) would only add a column of dashes
            columns=[
                c
                for c in tables.METRIC_COLUMNS
                if any(r["metrics"].get(c.key) is not None for r in data.rows)
            ],
            generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            # chart gaps are said under Charts; the notice at the top keeps to the data and points there
            notices=[m for m in data.missing if m not in {p.missing for p in data.plots}],
            chart_gaps=sum(1 for p in data.plots if p.missing),
            gpu_warnings=plots.telemetry.warnings(data.findings),
        )
    )


def build_report(
    run_dirs: Sequence[Path | str],
    out_dir: Path | None = None,
    baseline: dict[str, Any] | None = None,
    title: str | None = None,
) -> ReportResult:
    """Write ``index.html``, one PNG per chart and ``summary.md`` into ``out_dir``.

    ``out_dir`` defaults to ``RUN_DIR/report`` of the first run folder. ``baseline`` is a dict as
    ``reports.baseline.baseline_from_cli`` returns (default: each run's own baseline). Missing data
    never raises: it ends up in ``ReportResult.missing`` and in a notice on the page.
    """
    if not run_dirs:
        raise ValueError("no run folder given")
    data = collect([Path(p) for p in run_dirs], baseline, title)
    out = Path(out_dir) if out_dir is not None else Path(run_dirs[0]) / "report"
    out.mkdir(parents=True, exist_ok=True)
    ctx = plots.PlotContext(models=data.models, labels=data.labels, rows=data.rows, out_dir=out,
                            expect_speedup=data.expect_speedup)
    data.plots = plots.all_plots(ctx, data.baseline.label if data.baseline else None)
    for plot in data.plots:
        # "no baseline" is already one of the data gaps; the speedup chart need not say it again
        if plot.missing and not (plot.name == "speedup" and data.baseline is None):
            data.missing.append(plot.missing)
    if data.findings_note:
        data.missing.append(data.findings_note)
    index = out / "index.html"
    summary = out / "summary.md"
    atomic_write_text(index, render_html(data))
    atomic_write_text(summary, render_markdown(data))
    return ReportResult(
        out_dir=out,
        index_html=index,
        summary_md=summary,
        pngs=[p.path for p in data.plots if p.path is not None],
        missing=list(data.missing),
    )
