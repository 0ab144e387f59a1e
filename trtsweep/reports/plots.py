"""Every report chart: result sets in, one PNG file out (or a reason why the chart cannot be drawn).

One style for all charts: Okabe–Ito colours (distinguishable with the common colour-vision deficiencies),
a fixed colour *and* marker per precision so the same precision looks the same on every chart, units on
every value axis, sizes chosen to be read at 100 % zoom. Several runs are drawn side by side, one panel
per run with a shared value axis, so GPUs compare at a glance.

The Agg backend is selected before anything imports pyplot; figures are built with
:class:`matplotlib.figure.Figure` directly, so no global pyplot state piles up over a 1,000-variant report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # must precede any pyplot import (also by third-party code) on a headless host

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from trtsweep.records import LayerRecord  # noqa: E402
from trtsweep.reports import tables  # noqa: E402
from trtsweep.store import ResultSet, VariantResult  # noqa: E402

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
STYLE = {
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

    runs: Sequence[ResultSet]
    labels: Sequence[str]
    rows: list[dict[str, Any]]  # tables.variant_rows(...)
    out_dir: Path
    expect_speedup: float | None = None


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
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
        axes = fig.subplots(rows, cols, sharey=sharey, sharex=sharex, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def _hbar_width(ctx: PlotContext) -> float:
    """Panel width of a horizontal-bar chart: room for labels alone, 3 panels must fit the page."""
    return 7.0 if len(ctx.labels) == 1 else 5.3


def _save(fig: Figure, ctx: PlotContext, name: str) -> Path:
    path = ctx.out_dir / f"{name}.png"
    with matplotlib.rc_context(STYLE):
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


def throughput_vs_batch(ctx: PlotContext) -> PlotResult:
    """Samples per second (qps × batch) against batch size, one line per precision."""

    def draw(ax: Any, label: str) -> str | None:
        best = _best_by(_run_rows(ctx, label), "throughput_qps", high=True)
        if not best:
            return "no passed variant with a throughput and a batch size"
        for prec in sorted({p for p, _ in best}, key=_porder):
            pts = sorted((b, r["metrics"]["throughput_qps"] * b) for (p, b), r in best.items() if p == prec)
            color, marker = pstyle(prec)
            ax.plot([b for b, _ in pts], [y for _, y in pts], marker=marker, color=color, label=prec, lw=1.8)
        _batch_axis(ax, [b for _, b in best])
        _legend(ax, title="precision")
        return None

    return _run_panels(
        ctx,
        "throughput",
        "Throughput vs batch size",
        "Samples per second (trtexec qps × batch). Where other axes vary (streams, CUDA graph…), "
        "the best variant of each precision and batch is shown.",
        draw,
        "Throughput (samples/s)",
        "no throughput data",
        zero_floor=True,
    )


def latency_vs_batch(ctx: PlotContext) -> PlotResult:
    """Median latency with a whisker up to p99, per precision."""

    def draw(ax: Any, label: str) -> str | None:
        best = _best_by(_run_rows(ctx, label), "latency_median", high=False)
        if not best:
            return "no passed variant with a latency and a batch size"
        precs = sorted({p for p, _ in best}, key=_porder)
        for i, prec in enumerate(precs):
            pts = sorted((b, r["metrics"]) for (p, b), r in best.items() if p == prec)
            shift = 1 + 0.04 * (i - (len(precs) - 1) / 2)  # small offset so whiskers do not overlap
            xs = [b * shift for b, _ in pts]
            med = [m["latency_median"] for _, m in pts]
            up = [max((m["latency_p99"] or med_v) - med_v, 0) for (_, m), med_v in zip(pts, med, strict=True)]
            color, marker = pstyle(prec)
            ax.errorbar(
                xs, med, yerr=[[0] * len(up), up], marker=marker, color=color, label=prec, capsize=3, lw=1.8
            )
        _batch_axis(ax, [b for _, b in best])
        _legend(ax, title="precision")
        return None

    return _run_panels(
        ctx,
        "latency",
        "Latency vs batch size (median, whisker to p99)",
        "Median latency per batch; the whisker reaches the 99th percentile. Lowest-latency "
        "variant of each precision and batch.",
        draw,
        "Latency (ms)",
        "no latency data",
        zero_floor=True,
    )


def speedup_vs_baseline(ctx: PlotContext, baseline_label: str | None) -> PlotResult:
    """Speedup against the baseline per batch, bars per precision, the expected speedup as a line."""
    title = f"Speedup vs {baseline_label}" if baseline_label else "Speedup vs baseline"
    if not baseline_label:
        return PlotResult(
            "speedup",
            title,
            None,
            f"{title}: no baseline given (pass --baseline or set baseline in the sweep)",
        )

    def draw(ax: Any, label: str) -> str | None:
        best = _best_by(_run_rows(ctx, label), "speedup", high=True)
        if not best:
            return f"no variant could be compared with {baseline_label} (no matching batch/selector)"
        batches = sorted({b for _, b in best})
        precs = sorted({p for p, _ in best}, key=_porder)
        width = 0.8 / len(precs)
        for i, prec in enumerate(precs):
            xs = [j + (i - (len(precs) - 1) / 2) * width for j, b in enumerate(batches) if (prec, b) in best]
            ys = [best[(prec, b)]["metrics"]["speedup"] for b in batches if (prec, b) in best]
            bars = ax.bar(xs, ys, width=width * 0.95, color=pstyle(prec)[0], label=prec)
            ax.bar_label(bars, fmt="%.1f×", fontsize=8, padding=2)
        ax.axhline(1.0, color="#444444", lw=0.8)
        if ctx.expect_speedup:
            ax.axhline(
                ctx.expect_speedup,
                color="#000000",
                ls="--",
                lw=1.3,
                label=f"expected ×{ctx.expect_speedup:g}",
            )
        ax.set_xticks(range(len(batches)), [str(b) for b in batches])
        ax.set_xlabel("Batch size")
        ax.margins(y=0.15)  # room for the value labels above the bars
        _legend(ax, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return None

    return _run_panels(
        ctx,
        "speedup",
        title,
        f"Time per batch of {baseline_label} ÷ time per batch of the variant (higher is faster)."
        + (" Dashed line: the expected speedup." if ctx.expect_speedup else ""),
        draw,
        "Speedup (×)",
        "no speedup data",
    )


# --- per-variant charts -------------------------------------------------------------------------


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


def latency_breakdown(ctx: PlotContext) -> PlotResult:
    """Stacked H2D, GPU compute, D2H and host overhead (latency − the rest) per variant."""
    parts = (
        ("h2d_median", "H2D", "#56B4E9"),
        ("gpu_compute_median", "GPU compute", "#0072B2"),
        ("d2h_median", "D2H", "#E69F00"),
        (None, "host overhead", "#CC79A7"),
    )
    picked: dict[str, tuple[list[dict[str, Any]], str]] = {}
    for label in ctx.labels:
        have = [
            r
            for r in _run_rows(ctx, label)
            if r["metrics"]["gpu_compute_median"] is not None and r["metrics"]["latency_median"] is not None
        ]
        picked[label] = _pick_rows(have, "latency_median")

    def draw(ax: Any, label: str) -> str | None:
        rows = picked[label][0]
        if not rows:
            return (
                "no H2D / GPU compute / D2H breakdown in the records "
                "(TensorRT 7 logs print only the host latency)"
            )
        ys = range(len(rows))
        left = [0.0] * len(rows)
        for key, name, color in parts:
            if key is None:
                vals = [
                    max(r["metrics"]["latency_median"] - lft, 0.0) for r, lft in zip(rows, left, strict=True)
                ]
            else:
                vals = [r["metrics"][key] or 0.0 for r in rows]
            ax.barh(ys, vals, left=left, color=color, label=name, height=0.7)
            left = [a + b for a, b in zip(left, vals, strict=True)]
        ax.set_yticks(list(ys), [_text(r["variant_id"], 40) for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel("Latency, median (ms)")
        return None

    n = max((len(rows) for rows, _ in picked.values()), default=1)
    res = _run_panels(
        ctx,
        "breakdown",
        "Latency breakdown per variant",
        "Medians of H2D copy, GPU compute and D2H copy; host overhead is the median latency "
        "minus those three (0 when they add up to more). A missing H2D/D2H (e.g. "
        "--noDataTransfers) counts as 0.",
        draw,
        "",
        "no breakdown data",
        height=1.3 + 0.3 * n,
        width=_hbar_width(ctx),
        sharey=False,
        fig_legend=True,
        sharex=True,  # one time scale for every GPU, or a slower GPU's bars look as short as a fast one's
    )
    res.caption += "".join(sorted({note for _, note in picked.values() if note}))
    return res


def stream_graph_effect(ctx: PlotContext) -> PlotResult:
    """Throughput with multi-streams / CUDA graphs on ÷ off, for variants that differ only in that axis."""

    def pairs(label: str, axis: str, is_on: Callable[[Any], bool]) -> dict[tuple[str, int], float]:
        groups: dict[tuple[Any, ...], dict[bool, list[float]]] = {}
        for r in _run_rows(ctx, label):
            qps = r["metrics"]["throughput_qps"]
            if axis not in r["axes"] or qps is None:
                continue
            others = tuple(sorted((k, str(v)) for k, v in r["axes"].items() if k != axis))
            groups.setdefault((r["model"], others), {}).setdefault(is_on(r["axes"][axis]), []).append(qps)
        ratios: dict[tuple[str, int], list[float]] = {}
        for (_, others), by_state in groups.items():
            if True in by_state and False in by_state:
                d = dict(others)
                key = (d.get("precision", "?"), int(d["batch"]) if str(d.get("batch", "")).isdigit() else 0)
                ratios.setdefault(key, []).append(max(by_state[True]) / max(by_state[False]))
        return {k: sorted(v)[len(v) // 2] for k, v in ratios.items()}

    def draw(ax: Any, label: str) -> str | None:
        series = [
            (
                "multi-stream: best streams>1 ÷ streams=1",
                "#E69F00",
                pairs(label, "streams", lambda v: str(v).isdigit() and int(v) > 1),
            ),
            ("CUDA graph (on ÷ off)", "#009E73", pairs(label, "cuda_graph", lambda v: bool(v))),
        ]
        keys = sorted({k for _, _, s in series for k in s}, key=lambda k: (_porder(k[0]), k[1]))
        if not keys:
            return "no variants that differ only in streams or in cuda_graph"
        for i, (name, color, s) in enumerate(series):
            xs = [j + (i - 0.5) * 0.4 for j, k in enumerate(keys) if k in s]
            ax.bar(xs, [s[k] for k in keys if k in s], width=0.38, color=color, label=name)
        ax.axhline(1.0, color="#444444", lw=0.8)
        ax.set_xticks(range(len(keys)), [f"{p}\nb{b}" for p, b in keys])
        ax.set_xlabel("Precision / batch size")
        ax.margins(y=0.3)  # headroom so the legend never covers a bar
        _legend(ax, loc="upper left", ncol=2)
        return None

    return _run_panels(
        ctx,
        "streams_graphs",
        "Multi-stream and CUDA-graph effect on throughput",
        "Throughput with the feature on ÷ off, for variants with identical other axes "
        "(the same engine). Above 1: the feature helps.",
        draw,
        "Throughput ratio (×)",
        "no on/off pairs",
        cols=1,
        height=3.4,
        width=9.0 if len(ctx.labels) > 1 else None,
    )  # one row per run: many groups


# --- layer charts ------------------------------------------------------------------------------


def _layer_variant(ctx: PlotContext, rs: ResultSet, label: str) -> VariantResult | None:
    """The run's variant whose layers are shown: the highest-throughput passed variant with layer times."""
    qps = {r["variant_id"]: r["metrics"]["throughput_qps"] or 0.0 for r in _run_rows(ctx, label)}
    cands = [v for v in rs.variants if v.variant_id in qps and _timed_layers(v)]
    return max(cands, key=lambda v: qps[v.variant_id]) if cands else None


def _timed_layers(v: VariantResult) -> list[LayerRecord]:
    rec = v.record
    return [x for x in (rec.layers or []) if x.time_ms is not None] if rec else []


def layer_shares(layers: Sequence[LayerRecord]) -> dict[str, dict[str, float]]:
    """Percent of summed layer time by precision, by layer type, and in reformat layers.

    Computed here rather than with parsers.layers.summarize_layers so the report does not depend on
    that function's exact output keys; both sum the same per-layer average times.
    """
    total = sum(x.time_ms or 0.0 for x in layers)
    out: dict[str, dict[str, float]] = {"precision": {}, "type": {}, "reformat": {"reformat": 0.0}}
    if total <= 0:
        return out
    for x in layers:
        pct = 100.0 * (x.time_ms or 0.0) / total
        prec = x.precision or "unknown"
        out["precision"][prec] = out["precision"].get(prec, 0.0) + pct
        typ = "Reformat" if x.is_reformat else (x.type or "unknown")
        out["type"][typ] = out["type"].get(typ, 0.0) + pct
        if x.is_reformat:
            out["reformat"]["reformat"] += pct
    return out


_NO_LAYERS = "no per-layer times (run with --dumpProfile/--exportProfile and --separateProfileRun)"


def top_layers(ctx: PlotContext) -> PlotResult:
    """The slowest layers of each run's best variant, coloured by precision."""

    def draw(ax: Any, label: str) -> str | None:
        rs = ctx.runs[list(ctx.labels).index(label)]
        v = _layer_variant(ctx, rs, label)
        if v is None:
            return _NO_LAYERS
        layers = sorted(_timed_layers(v), key=lambda x: -(x.time_ms or 0))[:TOP_LAYERS]
        ys = range(len(layers))
        colors = [pstyle(x.precision or "unknown")[0] for x in layers]
        ax.barh(ys, [x.time_ms for x in layers], color=colors, height=0.7)
        ax.set_yticks(list(ys), [_text(x.name, 44) for x in layers])
        ax.invert_yaxis()
        ax.set_xlabel(f"GPU time per inference (ms)\nvariant {_text(v.variant_id, 40)}")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        for prec in sorted({x.precision or "unknown" for x in layers}, key=_porder):
            ax.barh([0], [0], color=pstyle(prec)[0], label=prec)
        _legend(ax, loc="lower right", title="precision")
        return None

    return _run_panels(
        ctx,
        "top_layers",
        f"Top {TOP_LAYERS} layers by GPU time",
        "Average GPU time per inference of each layer, for the highest-throughput variant that "
        "has a layer profile.",
        draw,
        "",
        _NO_LAYERS,
        width=_hbar_width(ctx),
        height=5.2,
        sharex=True,
        sharey=False,
    )


def time_share(ctx: PlotContext) -> PlotResult:
    """Share of layer time by precision and by layer type (two panels per run)."""
    n = len(ctx.labels)
    fig, axes = _figure(2 * n, width=5.5, height=3.4, sharey=False, cols=2)  # one row per run
    drawn, reasons = 0, []
    for i, (rs, label) in enumerate(zip(ctx.runs, ctx.labels, strict=True)):
        v = _layer_variant(ctx, rs, label)
        for j, kind in enumerate(("precision", "type")):
            ax = axes[2 * i + j]
            prefix = f"{_panel_title(label)}\n" if n > 1 else ""
            ax.set_title(f"{prefix}by {kind}")
            if v is None:
                _no_data(ax, f"missing: {_NO_LAYERS}")
                continue
            shares = sorted(layer_shares(_timed_layers(v))[kind].items(), key=lambda kv: -kv[1])
            if len(shares) > 8:  # the long tail of rare layer types becomes one bar
                shares = shares[:7] + [("other", sum(p for _, p in shares[7:]))]
            colors = [pstyle(k)[0] if kind == "precision" else OKABE_ITO[0] for k, _ in shares]
            ax.barh(range(len(shares)), [p for _, p in shares], color=colors, height=0.7)
            ax.set_yticks(range(len(shares)), [_text(k, 28) for k, _ in shares])
            ax.invert_yaxis()
            ax.set_xlabel("Share of layer time (%)")
            ax.set_xlim(0, 100)
        if v is None:
            reasons.append(f"Time share by precision and layer type (partly): {label}: {_NO_LAYERS}")
        else:
            drawn += 1
    if not drawn:
        return PlotResult(
            "time_share", "Time share", None, f"Time share by precision and layer type: {_NO_LAYERS}"
        )
    return PlotResult(
        "time_share",
        "Time share by precision and by layer type",
        _save(fig, ctx, "time_share"),
        "; ".join(reasons) or None,
        "Share of the summed layer time, for the variant of the top-layers chart.",
        wide=True,
    )


def reformat_share(ctx: PlotContext) -> PlotResult:
    """Percent of layer time spent in reformat (format/precision conversion) layers, per variant."""
    with_layers = {
        (label, v.variant_id): v
        for rs, label in zip(ctx.runs, ctx.labels, strict=True)
        for v in rs.variants
        if _timed_layers(v)
    }
    picked = {
        label: _pick_rows(
            [r for r in _run_rows(ctx, label) if (label, r["variant_id"]) in with_layers], "latency_median"
        )[0]
        for label in ctx.labels
    }

    def draw(ax: Any, label: str) -> str | None:
        rows = picked[label]
        if not rows:
            return _NO_LAYERS
        vals = [
            layer_shares(_timed_layers(with_layers[(label, r["variant_id"])]))["reformat"]["reformat"]
            for r in rows
        ]
        ax.barh(range(len(rows)), vals, color=[pstyle(r["precision"])[0] for r in rows], height=0.7)
        ax.set_yticks(range(len(rows)), [_text(r["variant_id"], 40) for r in rows])
        ax.invert_yaxis()
        ax.set_xlabel("Share of layer time in reformat layers (%)")
        return None

    n = max((len(rows) for rows in picked.values()), default=1)
    return _run_panels(
        ctx,
        "reformat",
        "Reformat-layer share",
        "Time in layers TensorRT inserts to convert "
        "formats or precisions between layers, as a share of all layer time; bars coloured by "
        "precision.",
        draw,
        "",
        _NO_LAYERS,
        width=_hbar_width(ctx),
        height=1.3 + 0.3 * n,
        sharey=False,
    )


def build_stats(ctx: PlotContext) -> PlotResult:
    """Engine build time and engine size per build (two panels per run)."""
    n = len(ctx.labels)
    per_run: list[list[tuple[str, str, float | None, float | None]]] = []
    for rs in ctx.runs:
        seen: dict[str, tuple[str, str, float | None, float | None]] = {}
        for v in rs.variants:
            rec = v.build or v.record  # imported runs carry build figures in the run's own record
            key = v.build_id or v.variant_id
            if rec is None or key in seen:
                continue
            if rec.build.engine_build_s is not None or rec.build.engine_size_mib is not None:
                seen[key] = (key, tables.precision_of(v), rec.build.engine_build_s, rec.build.engine_size_mib)
        per_run.append(sorted(seen.values(), key=lambda t: (_porder(t[1]), _natural(t[0])))[:MAX_BARS])
    if not any(per_run):
        return PlotResult(
            "build",
            "Build time and engine size",
            None,
            "Build time and engine size: no engine build figures in the records",
        )
    tallest = max(len(b) for b in per_run)
    fig, axes = _figure(2 * n, width=5.5, height=1.4 + 0.3 * tallest, sharey=False, cols=2)  # a row per run
    for i, (label, builds) in enumerate(zip(ctx.labels, per_run, strict=True)):
        for j, (idx, unit, name) in enumerate(((2, "s", "Engine build time"), (3, "MiB", "Engine size"))):
            ax = axes[2 * i + j]
            ax.set_title(f"{_panel_title(label)}\n{name}" if n > 1 else name)
            pts = [b for b in builds if b[idx] is not None]
            if not pts:
                _no_data(ax, f"missing: no {name.lower()} in the records")
                continue
            ax.barh(range(len(pts)), [b[idx] for b in pts], color=[pstyle(b[1])[0] for b in pts], height=0.7)
            ax.set_yticks(range(len(pts)), [_text(b[0], 32) for b in pts])
            ax.invert_yaxis()
            ax.set_xlabel(f"{name} ({unit})")
    return PlotResult(
        "build",
        "Build time and engine size per build",
        _save(fig, ctx, "build"),
        None,
        "One bar per engine build, coloured by precision.",
        wide=True,
    )


def all_plots(ctx: PlotContext, baseline_label: str | None) -> list[PlotResult]:
    """Draw every chart; a chart that raises becomes a 'missing' entry rather than costing the report."""
    makers: list[tuple[str, Callable[[], PlotResult]]] = [
        ("throughput", lambda: throughput_vs_batch(ctx)),
        ("latency", lambda: latency_vs_batch(ctx)),
        ("speedup", lambda: speedup_vs_baseline(ctx, baseline_label)),
        ("breakdown", lambda: latency_breakdown(ctx)),
        ("streams_graphs", lambda: stream_graph_effect(ctx)),
        ("top_layers", lambda: top_layers(ctx)),
        ("time_share", lambda: time_share(ctx)),
        ("reformat", lambda: reformat_share(ctx)),
        ("build", lambda: build_stats(ctx)),
    ]
    out = []
    for name, make in makers:
        try:
            out.append(make())
        except Exception as exc:  # noqa: BLE001 - one odd record must not lose the other eight charts
            out.append(PlotResult(name, name, None, f"{name}: chart failed ({type(exc).__name__}: {exc})"))
    return out
