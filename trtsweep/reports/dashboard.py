"""The nightly dashboard (``history publish``) and the trend chart (``history trend``).

``collect_dashboard`` reads the history and has :mod:`trtsweep.analysis.history_series` analyse every
series (target x variant); ``build_dashboard`` draws one PNG per series and writes ``index.html``: the
latest verdicts first, then the open regressions, then the charts by target. The page is static and
self-contained like the run report: inline CSS, no script, no font or style from anywhere, a
Content-Security-Policy that refuses any network load, PNG files beside it; it works from ``file://``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from trtsweep import __version__
from trtsweep.analysis import changepoints as cp
from trtsweep.analysis.history_extract import is_higher_better
from trtsweep.analysis.history_series import (
    SelectorError,
    Series,
    SeriesAnalysis,
    analyse,
    build_series,
    select_variants,
)
from trtsweep.reports.dashboard_charts import draw_grid, draw_series
from trtsweep.store import atomic_write_text
from trtsweep.store.history import History, TargetRow

TEMPLATES = Path(__file__).parent / "templates"
VERDICT_ORDER = {cp.REGRESSION: 0, cp.INCONCLUSIVE: 1, cp.IMPROVEMENT: 2, cp.NO_CHANGE: 3}


@dataclass
class Change:
    index: int  # night index in the series
    night: str
    change: float
    low: float
    high: float
    p_value: float
    kind: str  # regression or improvement
    run_id: str


@dataclass
class SeriesView:
    """One series as the dashboard shows it."""

    target: str
    variant: str
    variant_key: str
    analysis: SeriesAnalysis
    notes: dict[int, list[str]]  # night index -> annotations of its runs
    changes: list[Change] = field(default_factory=list)
    chart: str | None = None  # file name beside index.html

    @property
    def nights(self) -> list[cp.Night]:
        return self.analysis.series.nights

    @property
    def verdict(self) -> cp.Verdict:
        return self.analysis.verdict

    @property
    def slug(self) -> str:
        return f"s-{self.analysis.series.target}-{self.variant_key}"


@dataclass
class DashboardData:
    title: str
    metric: str
    higher_is_better: bool
    series: list[SeriesView]
    runs: int
    targets: list[TargetRow]

    def latest(self) -> list[SeriesView]:
        return sorted(self.series, key=lambda s: (VERDICT_ORDER.get(s.verdict.kind, 9), s.target, s.variant))

    def open_regressions(self) -> list[tuple[SeriesView, Change]]:
        """The newest level change of each series' current segment, where it made things worse."""
        out = []
        for s in self.series:
            lo, _ = s.analysis.series.segment(-1)
            current = [c for c in s.changes if c.index >= lo]
            if current and current[-1].kind == cp.REGRESSION:
                out.append((s, current[-1]))
        return sorted(out, key=lambda sc: (sc[1].night, sc[0].target, sc[0].variant), reverse=True)

    def counts(self) -> dict[str, int]:
        out = {k: 0 for k in VERDICT_ORDER}
        for s in self.series:
            out[s.verdict.kind] = out.get(s.verdict.kind, 0) + 1
        return out


def _targets(h: History, name: str | None) -> list[TargetRow]:
    targets = h.targets()
    if not name:
        return targets
    want = name.lower()
    chosen = [t for t in targets
              if want in {t.name.lower(), (t.host or "").lower(), (t.gpu_name or "").lower(),
                          (t.gpu_uuid or "").lower()}]
    if not chosen:
        known = ", ".join(t.name for t in targets) or "none"
        raise SelectorError(f"target {name!r} matches no target in the history (targets: {known})")
    return chosen


def collect_dashboard(h: History, metric: str, selector: str | None = None, target: str | None = None,
                      last_nights: int | None = None, title: str = "trtsweep nightly") -> DashboardData:
    """Every matching series of ``metric`` analysed; :class:`SelectorError` for a selector matching none."""
    targets = _targets(h, target)
    variants = select_variants(h.variants(), selector)
    by_pk = {v.pk: v for v in variants}
    tnames = {t.pk: t.name for t in targets}
    annotations = h.annotations()
    expected = [a.run_id for a in annotations if a.expected]
    notes_by_run: dict[str, list[str]] = {}
    for a in annotations:
        notes_by_run.setdefault(a.run_id, []).append(("expected: " if a.expected else "") + a.note)
    points = h.points(metric, [t.pk for t in targets] if target else None,
                      list(by_pk) if selector else None)
    higher = is_higher_better(metric)
    views = []
    for (tpk, vpk), series in sorted(build_series(points, expected).items()):
        if tpk not in tnames or vpk not in by_pk:
            continue
        if last_nights is not None and len(series.nights) > last_nights:
            series = _tail(series, last_nights)
        result = analyse(series, higher)
        notes = {i: [t for r in n.run_ids for t in notes_by_run.get(r, [])]
                 for i, n in enumerate(series.nights)}
        view = SeriesView(tnames[tpk], by_pk[vpk].label, by_pk[vpk].key, result,
                          {i: t for i, t in notes.items() if t})
        for c in result.change_points:
            worse = c.ratio < 1 if higher else c.ratio > 1
            night = series.nights[c.index]
            view.changes.append(Change(c.index, night.night, c.change, c.low - 1, c.high - 1, c.p_value,
                                       cp.REGRESSION if worse else cp.IMPROVEMENT, night.run_ids[0]))
        views.append(view)
    return DashboardData(title, metric, higher, views, len(h.runs()), targets)


def _tail(series: Series, n: int) -> Series:
    cut = len(series.nights) - n
    starts = sorted({max(s - cut, 0) for s in series.starts})
    return Series(series.target, series.variant, series.nights[cut:], series.trt_versions[cut:], starts,
                  {k - cut: v for k, v in series.why.items() if k - cut > 0})


@dataclass(frozen=True)
class DashboardResult:
    index_html: Path
    charts: int
    regressions: int


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_dashboard(data: DashboardData) -> str:
    return _env().get_template("dashboard.html.j2").render(
        d=data, version=__version__, generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


def build_dashboard(h: History, out_dir: Path, metric: str,
                    title: str = "trtsweep nightly") -> DashboardResult:
    """Write ``out_dir/index.html`` and ``out_dir/charts/*.png`` (old charts of series no longer shown go)."""
    data = collect_dashboard(h, metric, title=title)
    charts = out_dir / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for s in data.series:
        name = f"{s.slug}.png"
        draw_series(s, charts / name, metric)
        s.chart = f"charts/{name}"
        wanted.add(name)
    for old in charts.glob("s-*.png"):
        if old.name not in wanted:
            old.unlink()
    index = out_dir / "index.html"
    atomic_write_text(index, render_dashboard(data))
    return DashboardResult(index, len(data.series), len(data.open_regressions()))


def trend_png(data: DashboardData, path: Path) -> Path:
    """Up to 12 series in one PNG (``history trend``)."""
    draw_grid(data.series[:12], path, data.metric)
    return path
