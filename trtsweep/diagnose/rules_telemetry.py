"""Diagnosis rules on the GPU telemetry recorded during each step (``orchestrate/telemetry.py``).

- ``clock_throttled``: a run's median SM clock sat more than ``analysis.telemetry.CLOCK_DROP`` below the
  GPU's maximum (clocks not deliberately locked), or a throttle reason (power cap, thermal, hardware
  slowdown) was active for at least ``THROTTLE_SHARE`` of its busy time;
- ``gpu_shared``: compute processes that are neither trtsweep nor its trtexec were on the GPU while it timed;
- :func:`cite_telemetry` adds what the telemetry saw to an ``unstable_measurement`` finding.

Every figure comes from ``analysis.telemetry``; a run folder without telemetry (imported logs, no NVML)
gives no finding here.
"""

from __future__ import annotations

from typing import Any

from trtsweep.analysis import telemetry as at
from trtsweep.diagnose.context import Context, Evidence, Finding, View


def view_summary(view: View) -> dict[str, Any] | None:
    """The variant's telemetry over its repeats (the worst repeat's reasons), or None."""
    return at.combine(r.telemetry for r in view.repeats)


def rule_clock_throttled(ctx: Context) -> list[Finding]:
    """``clock_throttled``: which variants ran below the GPU's clock, under which reason, for how long."""
    items: list[tuple[float, Evidence]] = []
    sampled = 0
    reasons: dict[str, float] = {}
    for v in ctx.views:
        summary = view_summary(v)
        if summary is None:
            continue
        sampled += 1
        t = at.throttling(summary)
        if t is None:
            continue
        if t.reason:
            reasons[t.reason] = max(reasons.get(t.reason, 0.0), t.share or 0.0)
        power = summary.get("power_w") or {}
        extra = ""
        if power.get("median") is not None and summary.get("power_limit_w"):
            extra = f"; power median {power['median']:.0f} W of {summary['power_limit_w']:.0f} W limit"
        items.append(((t.drop or 0.0) + (t.share or 0.0), Evidence(
            f"{v.variant_id}: {t.text}{extra}", v.variant_id,
            {"sm_clock_median_mhz": t.median_mhz, "max_sm_clock_mhz": t.max_mhz, "clock_drop": t.drop,
             "reason": t.reason, "reason_share": t.share, "power_median_w": power.get("median"),
             "power_limit_w": summary.get("power_limit_w")})))
    if not items:
        return []
    mixed = len(items) < sampled
    fixes = [at.REASON_FIXES[r] for r in sorted(reasons, key=lambda r: -reasons[r]) if r in at.REASON_FIXES]
    main = max(reasons, key=lambda r: reasons[r]) if reasons else None
    title = (f"GPU clock throttled in {len(items)} of {sampled} variant(s)"
             + (f": {main} up to {reasons[main] * 100:.0f} % of the run" if main else ""))
    why = ("While trtexec timed, the GPU ran below its maximum SM clock"
           + (f" ({at.REASON_WORDS.get(main, main)})" if main else "")
           + ". Times measured at a lower clock are slower than the engine is, and variants measured at "
             "different clocks do not compare.")
    if mixed:
        why += " Here some variants throttled and others did not, so comparisons between them are biased."
    step = ("Lock the SM clock for the whole sweep: nvidia-smi -lgc <MHz>,<MHz> (root; pick a clock the GPU "
            "holds under this load, e.g. the throttled median) and reset with nvidia-smi -rgc afterwards. "
            + (fixes[0][0].upper() + fixes[0][1:] + "." if fixes else "")
            + " trtsweep doctor lists the current settings.")
    return [Finding("clock_throttled", "high" if mixed else "medium", 0.9, title, why, step.strip(), None,
                    [e for _, e in sorted(items, key=lambda t: -t[0])])]


def rule_gpu_shared(ctx: Context) -> list[Finding]:
    """``gpu_shared``: other compute processes on the GPU during timing (pid, name, when, memory)."""
    evidence = []
    pids: set[int] = set()
    for v in ctx.views:
        summary = view_summary(v)
        others = at.foreign(summary)
        if not others:
            continue
        pids.update(int(p["pid"]) for p in others)
        shown = ", ".join(
            f"pid {p['pid']} ({p.get('name') or '?'}, seen {p['first_s']:.1f}-{p['last_s']:.1f} s"
            + (f", {p['max_used_mib']:.0f} MiB" if p.get("max_used_mib") else "") + ")" for p in others[:4])
        evidence.append(Evidence(f"{v.variant_id}: {shown}", v.variant_id,
                                 {"foreign_processes": others}))
    if not evidence:
        return []
    return [Finding(
        "gpu_shared", "high", 0.9,
        f"Another process used the GPU while {len(evidence)} variant(s) were timed ({len(pids)} process(es))",
        "NVML listed compute processes on the step's GPU that are neither trtsweep nor its trtexec. They "
        "compete for SMs, memory bandwidth and power, so these timings are slower and noisier than the "
        "engine is.",
        "Stop the other processes (nvidia-smi --query-compute-apps=pid,process_name,used_memory "
        "--format=csv lists them) or run on a GPU of your own (--gpus), then re-run these variants "
        "(trtsweep run --fresh, or delete their folders).", None, evidence)]


def cite_telemetry(ctx: Context, found: list[Finding]) -> None:
    """Add to ``unstable_measurement`` what the telemetry saw for each unstable variant (throttling, clock
    range, other processes), so the finding names a likely cause instead of listing them all."""
    unstable = next((f for f in found if f.code == "unstable_measurement"), None)
    if unstable is None:
        return
    views = {v.variant_id: v for v in ctx.views}
    added = []
    for e in list(unstable.evidence):
        view = views.get(e.variant_id or "")
        summary = view_summary(view) if view else None
        if summary is None:
            continue
        parts = []
        clocks = summary.get("sm_clock_mhz") or {}
        if clocks.get("min") is not None and clocks.get("max") is not None:
            parts.append(f"SM clock {clocks['min']:.0f}-{clocks['max']:.0f} MHz "
                         f"(median {clocks['median']:.0f})")
        t = at.throttling(summary)
        if t is not None and t.reason:
            parts.append(f"{t.reason} {(t.share or 0) * 100:.0f} % of the run")
        others = at.foreign(summary)
        if others:
            parts.append(f"{len(others)} other process(es) on the GPU")
        if parts:
            added.append(Evidence(f"{e.variant_id}: telemetry: " + "; ".join(parts), e.variant_id,
                                  {"telemetry": {"sm_clock_mhz": clocks, "throttle": summary.get("throttle"),
                                                 "foreign_pids": [p["pid"] for p in others]}}))
    if added:
        unstable.evidence.extend(added)
        unstable.explanation += (" The GPU telemetry recorded during these runs is listed with them: a "
                                 "throttle reason or another process is the likely cause.")
