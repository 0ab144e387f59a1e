"""Trend charts of nightly series: nights as dots, each level as a line, change points and new baselines
marked, blips crossed out. Renders what :mod:`trtsweep.analysis.history_series` found; computes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure  # Figure alone, never pyplot: no GUI backend, no global state

from trtsweep.reports.plots.base import GREY, _text, house_style

NIGHT = "#0072B2"
LEVEL = "#333333"
WORSE = "#D55E00"
BETTER = "#009E73"
BREAK = "#7f7f7f"
# A series to draw is a reports.dashboard.SeriesView (typed as Any here: that module imports this one).
SeriesView = Any
UNITS = {"samples_per_s": "samples/s", "batches_per_s": "batches/s", "qps": "queries/s",
         "gpu_compute_cv_pct": "%"}


def axis_label(metric: str) -> str:
    unit = UNITS.get(metric, "ms")
    return f"{metric} ({unit})"


def _draw(ax: Any, s: SeriesView, metric: str, title: str) -> None:
    nights = s.nights
    xs = list(range(len(nights)))
    ys = [n.value for n in nights]
    outliers = set(s.analysis.outliers)
    normal = [i for i in xs if i not in outliers]
    ax.plot(normal, [ys[i] for i in normal], color=NIGHT, marker="o", markersize=3, linewidth=0.8,
            label="night (median of repeats)")
    if outliers:
        ax.plot(sorted(outliers), [ys[i] for i in sorted(outliers)], linestyle="none", marker="x", color=GREY,
                markersize=6, label="one-night blip (ignored)")
    for a, b, level in s.analysis.segment_levels:
        ax.hlines(level, a - 0.4, b - 0.6, color=LEVEL, linewidth=1.6)
    for c in s.changes:
        colour = WORSE if c.kind == "regression" else BETTER
        ax.axvline(c.index - 0.5, color=colour, linestyle="--", linewidth=1.2)
        ax.annotate(f"{c.change:+.1%}", (c.index - 0.5, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -10), textcoords="offset points", color=colour, fontsize=9, fontweight="bold")
    for start in s.analysis.series.starts[1:]:
        ax.axvline(start - 0.5, color=BREAK, linestyle=":", linewidth=1.4)
        why = s.analysis.series.why.get(start, "new baseline")
        ax.annotate(_text(why, 28), (start - 0.5, 0.0), xycoords=("data", "axes fraction"), xytext=(3, 3),
                    textcoords="offset points", color=BREAK, fontsize=8)
    if s.verdict.pending:
        ax.plot([xs[-1]], [ys[-1]], marker="o", markersize=9, markerfacecolor="none", color=WORSE,
                linestyle="none", label="tonight alone deviates")
    step = max(1, len(nights) // 7)
    ticks = xs[::step]
    ax.set_xticks(ticks, [nights[i].night[5:] if len(nights) < 300 else nights[i].night[:7] for i in ticks])
    ax.set_xlim(-0.8, len(nights) - 0.2)
    ax.set_ylabel(axis_label(metric))
    ax.set_title(_text(title, 80), loc="left")


def draw_series(s: SeriesView, path: Path, metric: str) -> Path:
    """One series' chart as a PNG."""
    with house_style():
        fig = Figure(figsize=(7.6, 2.6), dpi=96, layout="constrained")
        ax = fig.subplots()
        _draw(ax, s, metric, f"{s.variant}  [{s.verdict.kind}]")
        fig.savefig(path, format="png", facecolor="white")
    return path


def draw_grid(series: Sequence[SeriesView], path: Path, metric: str) -> Path:
    """Several series, one panel each, in one PNG (``history trend``)."""
    cols = 1 if len(series) == 1 else 2
    rows = max(1, -(-len(series) // cols))
    with house_style():
        fig = Figure(figsize=(7.6 * cols, 2.7 * rows), dpi=96, layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
        for ax, s in zip(axes, series, strict=False):
            _draw(ax, s, metric, f"{s.target} · {s.variant}")
        for ax in axes[len(series):]:
            ax.set_visible(False)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", facecolor="white")
    return path
