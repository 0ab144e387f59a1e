"""Shared style and helpers of the report charts (see :mod:`trtsweep.reports.plots`).

Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), a fixed colour *and* marker
per precision, units on every value axis, sizes read at 100 % zoom. The Agg backend is selected before
anything imports pyplot; figures are built with :class:`matplotlib.figure.Figure` directly, so no global
pyplot state piles up over a 1,000-variant report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")  # must precede any pyplot import (also by third-party code) on a headless host

from matplotlib.figure import Figure  # noqa: E402

from trtsweep.analysis.model import ResultModel  # noqa: E402
from trtsweep.store import ResultSet  # noqa: E402

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
GREY = "#999999"
PRECISION_STYLE: dict[str, tuple[str, str]] = {
    "fp32": ("#0072B2", "o"),
    "tf32": ("#56B4E9", "v"),
    "fp16": ("#E69F00", "s"),
    "bf16": ("#D55E00", "D"),
    "int8": ("#009E73", "^"),
    "fp8": ("#CC79A7", "P"),
    "int4": ("#F0E442", "X"),
    "best": ("#000000", "*"),
    "mixed": ("#666666", "h"),
    "unknown": (GREY, "o"),
}
PRECISION_ORDER = tuple(PRECISION_STYLE)
STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 100,
    "figure.dpi": 100,
    "text.usetex": False,
}
MAX_BARS = 25  # beyond this a per-variant bar chart is unreadable: keep the best of each precision/batch
TOP_LAYERS = 15


@dataclass
class PlotResult:
    """One chart: its file (None when it could not be drawn), and why not."""

    name: str
    title: str
    path: Path | None
    missing: str | None = None
    caption: str = ""
    wide: bool = False  # several panels in a row: the page gives it the full width


@dataclass
class PlotContext:
    """What every chart function receives."""

    models: Sequence[ResultModel]
    labels: Sequence[str]
    rows: list[dict[str, Any]]  # tables.variant_rows(...)
    out_dir: Path
    expect_speedup: float | None = None

    @property
    def runs(self) -> list[ResultSet]:
        return [m.result_set for m in self.models]


def pstyle(precision: str) -> tuple[str, str]:
    return PRECISION_STYLE.get(precision, (GREY, "."))


def _porder(precision: str) -> int:
    return PRECISION_ORDER.index(precision) if precision in PRECISION_ORDER else len(PRECISION_ORDER)


def _natural(s: str) -> list[Any]:
    """Sort key that puts b8 before b32."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", s)]


def _text(s: str, limit: int = 48) -> str:
    """Label text safe for matplotlib: '$' would start mathtext and can fail on a layer name."""
    s = s if len(s) <= limit else s[: limit - 1] + "…"
    return s.replace("$", r"\$")


def _panel_title(label: str) -> str:
    """A run label as a panel title: GPU on the first line, host and date below when it is long, so that
    three panels side by side keep their titles inside the figure."""
    text = _text(label, 60)
    if len(text) > 34 and " / " in text:
        gpu, rest = text.split(" / ", 1)
        return f"{gpu}\n{rest}"
    return text


def _figure(
    n_panels: int,
    width: float | None = None,
    height: float = 3.8,
    sharey: bool = True,
    cols: int | None = None,
    sharex: bool = False,
) -> tuple[Figure, list[Any]]:
    # One panel alone gets more room; three side by side must still fit a 1,600 px wide page.
    width = width or (7.5 if n_panels == 1 else 5.2)
    cols = cols or min(n_panels, 3)
    rows = math.ceil(n_panels / cols)
    with house_style():
        fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
        axes = fig.subplots(rows, cols, sharey=sharey, sharex=sharex, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def house_style() -> Any:
    """``matplotlib.rc_context`` of :data:`STYLE`: every chart of every report drawn in one style (the
    cast: matplotlib types rc keys as a Literal, STYLE is a plain dict)."""
    return matplotlib.rc_context(cast(Any, STYLE))


def _hbar_width(ctx: PlotContext) -> float:
    """Panel width of a horizontal-bar chart: room for labels alone, 3 panels must fit the page."""
    return 7.0 if len(ctx.labels) == 1 else 5.3


def _save(fig: Figure, ctx: PlotContext, name: str) -> Path:
    path = ctx.out_dir / f"{name}.png"
    with house_style():
        fig.savefig(path, format="png", facecolor="white")
    return path


def _run_rows(ctx: PlotContext, label: str, passed: bool = True) -> list[dict[str, Any]]:
    return [r for r in ctx.rows if r["run"] == label and (r["status"] == "passed" or not passed)]


def _no_data(ax: Any, text: str) -> None:
    # axis("off") rather than clearing ticks: with a shared y axis, clearing ticks here would clear them on
    # the other runs' panels too.
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#444444", wrap=True)


def _legend(ax: Any, **kw: Any) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, **kw)


def _batch_axis(ax: Any, batches: Sequence[int]) -> None:
    ax.set_xlabel("Batch size")
    if batches and max(batches) / max(min(batches), 1) >= 8:
        ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(set(batches)), [str(b) for b in sorted(set(batches))])
    ax.minorticks_off()


def _best_by(rows: list[dict[str, Any]], metric: str, high: bool) -> dict[tuple[str, int], dict[str, Any]]:
    """For every (precision, batch), the row with the best value of ``metric`` (other axes collapsed)."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows:
        val = r["metrics"].get(metric)
        if val is None or r["batch"] is None:
            continue
        key = (r["precision"], r["batch"])
        cur = out.get(key)
        if cur is None or (val > cur["metrics"][metric] if high else val < cur["metrics"][metric]):
            out[key] = r
    return out


def _run_panels(
    ctx: PlotContext,
    name: str,
    title: str,
    caption: str,
    draw: Callable[[Any, str], str | None],
    ylabel: str,
    missing_all: str,
    zero_floor: bool = False,
    fig_legend: bool = False,
    **fig_kw: Any,
) -> PlotResult:
    """Draw one panel per run; the chart is missing only when no run has data for it."""
    fig, axes = _figure(len(ctx.labels), **fig_kw)
    reasons = []
    drawn: list[Any] = []
    for ax, label in zip(axes, ctx.labels, strict=True):
        reason = draw(ax, label)
        if len(ctx.labels) > 1:
            ax.set_title(_panel_title(label))
        if reason:
            _no_data(ax, f"missing: {reason}")
            reasons.append((label, reason))
        else:
            ax.set_ylabel(ylabel)
            drawn.append(ax)
    if fig_legend and drawn:
        # one legend for the figure, under the panels, instead of one per panel over the bars
        handles, names = drawn[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncol=len(names), frameon=False)
    if zero_floor and drawn:
        # Only now, with every panel drawn: fixing the limit inside a panel would freeze a shared axis at
        # that panel's range and cut off the faster GPUs' lines.
        # Top from the data of every panel plus 12 % headroom, so a lone point is not drawn on the frame.
        top = max(ax.dataLim.ymax for ax in drawn)
        for ax in drawn:
            ax.set_ylim(0, top * 1.12 if top > 0 else 1)
    if len(reasons) == len(ctx.labels):
        return PlotResult(name, title, None, f"{title}: {reasons[0][1] if reasons else missing_all}")
    missing = "; ".join(f"{lab}: {r}" for lab, r in reasons) if reasons else None
    return PlotResult(
        name, title, _save(fig, ctx, name), f"{title} (partly): {missing}" if missing else None, caption
    )


# --- performance vs batch -----------------------------------------------------------------------


def _pick_rows(rows: list[dict[str, Any]], metric: str) -> tuple[list[dict[str, Any]], str]:
    """At most MAX_BARS rows, ordered by precision and batch; the note says when some were dropped."""
    rows = sorted(rows, key=lambda r: (_porder(r["precision"]), r["batch"] or 0, _natural(r["variant_id"])))
    if len(rows) <= MAX_BARS:
        return rows, ""
    best = list(_best_by(rows, metric, high=False).values()) or rows
    best = sorted(best, key=lambda r: (_porder(r["precision"]), r["batch"] or 0))[:MAX_BARS]
    return (
        best,
        f" Showing {len(best)} of {len(rows)} variants (the lowest-latency one per precision and batch).",
    )
