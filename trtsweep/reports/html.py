"""The HTML report: ``build_report`` reads run folders, draws the charts and writes ``index.html``.

The page is self-contained apart from its PNG files beside it: inline CSS, an optional few lines of inline
JavaScript for sorting/filtering (the page reads the same with it off), no fonts, scripts or styles from
anywhere else; a Content-Security-Policy meta tag makes the browser refuse any network load should a
future template edit add one. Every string that comes from logs is escaped by jinja2's autoescape.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from trtsweep import __version__
from trtsweep.reports import plots, tables
from trtsweep.reports.baseline import normalize_baseline
from trtsweep.store import ResultSet, atomic_write_text, load_result_set

TEMPLATES = Path(__file__).parent / "templates"
DIAGNOSIS_FILE = "diagnosis.json"


@dataclass
class ReportResult:
    """What ``build_report`` wrote, and what it could not show (one sentence per gap)."""

    out_dir: Path
    index_html: Path
    summary_md: Path
    pngs: list[Path]
    missing: list[str]


@dataclass
class ReportData:
    """Everything the HTML page and the Markdown summary show, collected once."""

    title: str
    runs: list[ResultSet]
    labels: list[str]
    axes: list[str]
    rows: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    environment: list[dict[str, Any]]
    commands: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    findings_note: str | None
    baseline: dict[str, Any] | None
    expect_speedup: float | None
    missing: list[str] = field(default_factory=list)
    plots: list[plots.PlotResult] = field(default_factory=list)


# --- findings ----------------------------------------------------------------------------------


def load_findings(
    rs: ResultSet, label: str, baseline: dict[str, Any] | None, expect_speedup: float | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Findings from ``trtsweep diagnose`` (when that module exists) and from RUN_DIR/diagnosis.json."""
    found: list[dict[str, Any]] = []
    note = None
    saved = rs.root / DIAGNOSIS_FILE
    if saved.is_file():
        try:
            data = json.loads(saved.read_text(encoding="utf-8"))
            found.extend(d for d in (data if isinstance(data, list) else []) if isinstance(d, dict))
        except (OSError, ValueError) as exc:
            note = f"{saved} could not be read ({exc})"
    try:
        from trtsweep.reports.diagnose import diagnose  # lazy: written separately, may be absent
    except (ImportError, AttributeError):
        note = note or "diagnosis not available in this trtsweep (trtsweep.reports.diagnose missing)"
    else:
        try:
            found.extend(f.to_dict() for f in diagnose(rs, baseline=baseline, expect_speedup=expect_speedup))
        except Exception as exc:  # noqa: BLE001 - a diagnosis bug must not cost the user the report
            note = f"diagnosis failed: {type(exc).__name__}: {exc}"
    seen: set[tuple[Any, Any]] = set()
    out = []
    for f in found:
        key = (f.get("code"), f.get("title"))
        if key not in seen:
            seen.add(key)
            out.append(
                {
                    **f,
                    "run": label,
                    "evidence": [
                        e if isinstance(e, dict) else {"text": str(e)} for e in f.get("evidence") or []
                    ],
                }
            )
    return out, note


# --- collection and writing --------------------------------------------------------------------


def collect(
    runs: Sequence[ResultSet | str | Path], baseline: dict[str, Any] | None = None, title: str | None = None
) -> ReportData:
    """Load the run folders (or take loaded result sets) and build every table of the report."""
    rss = [r if isinstance(r, ResultSet) else load_result_set(r) for r in runs]
    if not rss:
        raise ValueError("no run folder given")
    labels = tables.run_labels(rss)
    base = normalize_baseline(baseline) or next(
        (normalize_baseline(rs.baseline) for rs in rss if rs.baseline), None
    )
    expect = (base or {}).get("expect_speedup") or next(
        (rs.expect_speedup for rs in rss if rs.expect_speedup), None
    )
    findings: list[dict[str, Any]] = []
    notes = []
    for rs, label in zip(rss, labels, strict=True):
        found, note = load_findings(rs, label, baseline or rs.baseline, expect)
        findings.extend(found)
        if note:
            notes.append(note)
    data = ReportData(
        # Several labels in one heading wrap into an unreadable block; the meta line lists them instead.
        title=title
        or (
            f"trtsweep report: {labels[0]}"
            if len(labels) == 1
            else f"trtsweep report: {len(labels)} runs side by side"
        ),
        runs=rss,
        labels=labels,
        axes=tables.axis_names(rss),
        rows=tables.variant_rows(rss, labels, baseline),
        failures=tables.failure_rows(rss, labels),
        environment=tables.environment_rows(rss, labels),
        commands=tables.command_rows(rss, labels),
        findings=findings,
        findings_note=notes[0] if notes else None,
        baseline=base,
        expect_speedup=float(expect) if expect else None,
    )
    data.missing.extend(_data_gaps(data))
    return data


def _data_gaps(data: ReportData) -> list[str]:
    gaps = []
    for rs, label in zip(data.runs, data.labels, strict=True):
        n_pass = sum(v.status == "passed" for v in rs.variants)
        if not rs.variants:
            gaps.append(f"{label}: the run folder lists no variants")
        elif n_pass == 0:
            gaps.append(f"{label}: no variant passed, so there are no performance figures (see Failures)")
        if not rs.env:
            gaps.append(f"{label}: no env.json; environment taken from the logs where they state it")
    if data.baseline is None:
        gaps.append(
            "no baseline given, so no speedups (pass --baseline, e.g. precision=fp32 or pytorch:1=40)"
        )
    return gaps


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
            best_rows=[r for r in data.rows if r["overall_best"]],
            # chart gaps are said under Charts; the notice at the top keeps to the data and points there
            notices=[m for m in data.missing if m not in {p.missing for p in data.plots}],
            chart_gaps=sum(1 for p in data.plots if p.missing),
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
    from trtsweep.reports.markdown import render_markdown  # markdown imports collect() from here

    if not run_dirs:
        raise ValueError("no run folder given")
    data = collect([Path(p) for p in run_dirs], baseline, title)
    out = Path(out_dir) if out_dir is not None else Path(run_dirs[0]) / "report"
    out.mkdir(parents=True, exist_ok=True)
    ctx = plots.PlotContext(
        runs=data.runs, labels=data.labels, rows=data.rows, out_dir=out, expect_speedup=data.expect_speedup
    )
    data.plots = plots.all_plots(ctx, data.baseline["label"] if data.baseline else None)
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
