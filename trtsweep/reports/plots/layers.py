"""Per-layer report charts: top layers by GPU time, time share by precision and type, reformat share."""

from __future__ import annotations

from typing import Any

from matplotlib.ticker import MaxNLocator

from trtsweep.analysis.layers import layer_shares, timed
from trtsweep.analysis.model import VariantView
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


def _layer_view(ctx: PlotContext, label: str) -> VariantView | None:
    """The run's variant whose layers are shown: the measured variant with layer times and the most
    samples/s (variants the diagnosis left out, or whose layers it dropped, are never shown)."""
    model = ctx.models[list(ctx.labels).index(label)]
    cands = [v for v in model.views if timed(v.layers)]
    return max(cands, key=lambda v: v.samples_per_s or 0.0) if cands else None


_NO_LAYERS = "no per-layer times (run with --dumpProfile/--exportProfile and --separateProfileRun)"


def top_layers(ctx: PlotContext) -> PlotResult:
    """The slowest layers of each run's best variant, coloured by precision."""

    def draw(ax: Any, label: str) -> str | None:
        v = _layer_view(ctx, label)
        if v is None:
            return _NO_LAYERS
        layers = sorted(timed(v.layers), key=lambda x: -(x.time_ms or 0))[:TOP_LAYERS]
        ys = range(len(layers))
        # Layers that state no precision are grey ("not stated"), never filed under a guessed one.
        colors = [pstyle(x.precision or "not stated")[0] for x in layers]
        ax.barh(ys, [x.time_ms for x in layers], color=colors, height=0.7)
        ax.set_yticks(list(ys), [_text(x.name, 44) for x in layers])
        ax.invert_yaxis()
        ax.set_xlabel(f"GPU time per inference (ms)\nvariant {_text(v.variant_id, 40)}")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        for prec in sorted({x.precision or "not stated" for x in layers}, key=_porder):
            ax.barh([0], [0], color=pstyle(prec)[0], label=prec)
        _legend(ax, loc="lower right", title="precision")
        return None

    return _run_panels(
        ctx,
        "top_layers",
        f"Top {TOP_LAYERS} layers by GPU time",
        "Average GPU time per inference of each layer, for the variant with the most samples/s that "
        "has a layer profile; precision from the engine's layer information.",
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
    for i, label in enumerate(ctx.labels):
        v = _layer_view(ctx, label)
        split = layer_shares(timed(v.layers)) if v is not None else None
        for j, kind in enumerate(("precision", "type")):
            ax = axes[2 * i + j]
            prefix = f"{_panel_title(label)}\n" if n > 1 else ""
            ax.set_title(f"{prefix}by {kind}")
            if split is None:
                _no_data(ax, f"missing: {_NO_LAYERS}")
                continue
            by = split.by_precision if kind == "precision" else split.by_type
            if by is None:
                why = f"the layer records state no {kind} (export --exportLayerInfo with detailed verbosity)"
                _no_data(ax, f"missing: {why}")
                reasons.append(f"Time share by {kind} (partly): {label}: {why}")
                continue
            shares = sorted(by.items(), key=lambda kv: -kv[1])
            if len(shares) > 8:  # the long tail of rare layer types becomes one bar
                shares = shares[:7] + [("other", sum(p for _, p in shares[7:]))]
            colors = [pstyle(k)[0] if kind == "precision" else OKABE_ITO[0] for k, _ in shares]
            ax.barh(range(len(shares)), [p for _, p in shares], color=colors, height=0.7)
            ax.set_yticks(range(len(shares)), [_text(k, 28) for k, _ in shares])
            ax.invert_yaxis()
            ax.set_xlabel("Share of layer time (%)")
            ax.set_xlim(0, 100)
        if split is None:
            reasons.append(f"Time share by precision and layer type (partly): {label}: {_NO_LAYERS}")
        elif split.by_precision is not None or split.by_type is not None:
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
    views = {(label, v.variant_id): v for label, model in zip(ctx.labels, ctx.models, strict=True)
             for v in model.views if timed(v.layers)}
    picked = {
        label: _pick_rows(
            [r for r in _run_rows(ctx, label) if (label, r["variant_id"]) in views], "latency_median"
        )[0]
        for label in ctx.labels
    }

    def draw(ax: Any, label: str) -> str | None:
        rows = picked[label]
        if not rows:
            return _NO_LAYERS
        vals = [_reformat_pct(views[(label, r["variant_id"])]) for r in rows]
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




def _reformat_pct(view: VariantView) -> float:
    split = layer_shares(timed(view.layers))
    return split.reformat_pct if split is not None else 0.0
