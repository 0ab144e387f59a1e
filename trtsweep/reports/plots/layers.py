"""Per-layer report charts: top layers by GPU time, time share by precision and type, reformat share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.ticker import MaxNLocator

from trtsweep.records import LayerRecord
from trtsweep.reports.plots.base import (
    OKABE_ITO,
    TOP_LAYERS,
    PlotContext,
    PlotResult,
    _figure,
    _hbar_width,
    _legend,
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
from trtsweep.store import ResultSet, VariantResult


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


