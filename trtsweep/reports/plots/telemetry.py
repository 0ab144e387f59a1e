"""The clocks/power chart: per variant, the SM clock (median, min-max) the GPU ran at while it was timed,
against its maximum, and the median power draw against the limit (``analysis.telemetry``)."""

from __future__ import annotations

from typing import Any

from trtsweep.analysis import telemetry as at
from trtsweep.reports.plots.base import PlotContext, PlotResult, _figure, _panel_title, _save, _text

NO_TELEMETRY = ("clocks and power: no GPU telemetry recorded (nvidia-ml-py not installed, no GPU, or "
                "imported logs)")


def variant_telemetry(ctx: PlotContext) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """(run label, [(variant id, combined summary)]) for the variants with telemetry."""
    out = []
    for model, label in zip(ctx.models, ctx.labels, strict=True):
        items = [(v.variant_id, s) for v in model.views
                 if (s := at.combine(r.telemetry for r in v.repeats)) is not None]
        if items:
            out.append((label, items))
    return out


def clocks_power(ctx: PlotContext) -> PlotResult:
    title = "GPU clocks and power while timing"
    runs = variant_telemetry(ctx)
    if not runs:
        return PlotResult("clocks_power", title, None, NO_TELEMETRY)
    fig, axes = _figure(len(runs), sharey=False)
    for ax, (label, items) in zip(axes, runs, strict=True):
        names = [_text(vid, 28) for vid, _ in items]
        med = [s["sm_clock_mhz"]["median"] for _, s in items]
        lo = [m - s["sm_clock_mhz"]["min"] for m, (_, s) in zip(med, items, strict=True)]
        hi = [s["sm_clock_mhz"]["max"] - m for m, (_, s) in zip(med, items, strict=True)]
        colors = ["#d62728" if at.throttling(s) else "#1f77b4" for _, s in items]
        xs = list(range(len(items)))
        ax.bar(xs, med, yerr=[lo, hi], color=colors, capsize=3, label="SM clock median (min-max)")
        top = max((s.get("max_sm_clock_mhz") or 0) for _, s in items)
        if top:
            ax.axhline(top, color="grey", linestyle="--", linewidth=1, label=f"max SM clock {top:.0f} MHz")
        ax.set_ylabel("SM clock (MHz)")
        ax.set_xticks(xs, names, rotation=45, ha="right", fontsize=7)
        ax.set_title(_panel_title(label))
        power = [(x, s["power_w"]["median"]) for x, (_, s) in zip(xs, items, strict=True) if s.get("power_w")]
        if power:
            twin = ax.twinx()
            twin.plot([p[0] for p in power], [p[1] for p in power], "k^", label="power median (W)")
            limit = max((s.get("power_limit_w") or 0) for _, s in items)
            if limit:
                twin.axhline(limit, color="black", linestyle=":", linewidth=1,
                             label=f"power limit {limit:.0f} W")
            twin.set_ylabel("power (W)")
            twin.set_ylim(0, max(limit, max(p[1] for p in power)) * 1.1)
            twin.legend(loc="lower right", fontsize=7)
        ax.legend(loc="lower left", fontsize=7)
    return PlotResult("clocks_power", title, _save(fig, ctx, "clocks_power"), None,
                      "Red bars: the run throttled (median clock >10 % below max, or a throttle reason for "
                      "10 % of it or more); see clock_throttled under Findings.", wide=len(runs) > 1)


def warnings(findings: list[dict[str, Any]]) -> list[str]:
    """The first-screen warnings: the titles of the findings that say the GPU was throttled or shared."""
    codes = ("clock_throttled", "gpu_shared")
    return [f"{f['run']}: {f['title']}" for f in findings if f.get("code") in codes]
