"""The per-variant report charts: result sets in, one PNG file out (or why the chart cannot be drawn).

One style for all charts: Okabe–Ito colours (distinguishable with the common colour-vision deficiencies),
a fixed colour *and* marker per precision so the same precision looks the same on every chart, units on
every value axis, sizes chosen to be read at 100 % zoom. Several runs are drawn side by side, one panel
per run with a shared value axis, so GPUs compare at a glance.

The Agg backend is selected before anything imports pyplot; figures are built with
:class:`matplotlib.figure.Figure` directly, so no global pyplot state piles up over a 1,000-variant report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trtsweep.reports.plots.base import (
    MAX_BARS,
    PlotContext,
    PlotResult,
    _batch_axis,
    _best_by,
    _figure,
    _hbar_width,
    _legend,
    _natural,
    _no_data,
    _panel_title,
    _pick_rows,
    _porder,
    _run_panels,
    _run_rows,
    _save,
    _text,
    pstyle,
)
from trtsweep.reports.plots.layers import reformat_share, time_share, top_layers
from trtsweep.reports.plots.telemetry import clocks_power, variant_telemetry


def throughput_vs_batch(ctx: PlotContext) -> PlotResult:
    """Samples per second against batch size, one line per precision."""

    def draw(ax: Any, label: str) -> str | None:
        best = _best_by(_run_rows(ctx, label), "samples_per_s", high=True)
        if not best:
            return "no passed variant with a throughput and a batch size"
        for prec in sorted({p for p, _ in best}, key=_porder):
            pts = sorted((b, r["metrics"]["samples_per_s"]) for (p, b), r in best.items() if p == prec)
            color, marker = pstyle(prec)
            ax.plot([b for b, _ in pts], [y for _, y in pts], marker=marker, color=color, label=prec, lw=1.8)
        _batch_axis(ax, [b for _, b in best])
        _legend(ax, title="precision")
        return None

    return _run_panels(
        ctx,
        "throughput",
        "Throughput vs batch size",
        "Samples per second (trtexec's queries/s in samples: × batch for explicit-batch engines). Where "
        "other axes vary (streams, CUDA graph…), the best variant of each precision and batch is shown.",
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
            qps = r["metrics"]["samples_per_s"]
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
        "Samples/s with the feature on ÷ off, for variants with identical other axes "
        "(the same engine). Above 1: the feature helps.",
        draw,
        "Throughput ratio (×)",
        "no on/off pairs",
        cols=1,
        height=3.4,
        width=9.0 if len(ctx.labels) > 1 else None,
    )  # one row per run: many groups


# --- layer charts ------------------------------------------------------------------------------



def build_stats(ctx: PlotContext) -> PlotResult:
    """Engine build time and engine size per build (two panels per run)."""
    n = len(ctx.labels)
    per_run: list[list[tuple[str, str, float | None, float | None]]] = []
    for model in ctx.models:
        rs = model.result_set
        seen: dict[str, tuple[str, str, float | None, float | None]] = {}
        for v in rs.variants:
            rec = v.build or v.record  # imported runs carry build figures in the run's own record
            key = v.build_id or v.variant_id
            if rec is None or key in seen:
                continue
            if rec.build.engine_build_s is not None or rec.build.engine_size_mib is not None:
                prec = model.all_axes[v.variant_id].get("precision") or "unknown"
                seen[key] = (key, prec, rec.build.engine_build_s, rec.build.engine_size_mib)
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
    if variant_telemetry(ctx):  # a run folder without telemetry (imported logs, no NVML) has no such chart
        makers.append(("clocks_power", lambda: clocks_power(ctx)))
    out = []
    for name, make in makers:
        try:
            out.append(make())
        except Exception as exc:  # noqa: BLE001 - one odd record must not lose the other eight charts
            out.append(PlotResult(name, name, None, f"{name}: chart failed ({type(exc).__name__}: {exc})"))
    return out
