"""GPU telemetry of one step, summarised: clocks, power, temperature, clock-event reasons, other processes.

The sampler (``orchestrate/telemetry.py``) reads NVML at a fixed rate while trtexec runs and hands the
samples here; everything derived from them is computed in this module (the summary in ``record.json``,
``results.*`` and ``telemetry.json``, the figures the diagnosis and the report show, and the clock gate
``compare``/``history`` call). Pure: samples in, numbers out.

Clock statistics and reason shares are taken over the *busy* samples only (the GPU not idle): a RUN step
also loads its engine and exits, and the SM clock of an idle GPU (345 MHz on an H200) would otherwise
drag the median down and read as throttling.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

SUMMARY_VERSION = 1

# NVML's clock-event ("throttle") reason bits (nvml.h ``nvmlClocksEventReason*``), named as nvidia-smi's
# ``clocks_event_reasons.*`` query fields name them.
REASON_BITS: tuple[tuple[int, str], ...] = (
    (0x1, "gpu_idle"),
    (0x2, "applications_clocks_setting"),
    (0x4, "sw_power_cap"),
    (0x8, "hw_slowdown"),
    (0x10, "sync_boost"),
    (0x20, "sw_thermal_slowdown"),
    (0x40, "hw_thermal_slowdown"),
    (0x80, "hw_power_brake_slowdown"),
    (0x100, "display_clock_setting"),
)
# Reasons that lower the clock of a busy GPU below what it could run: the measurement is throttled.
THROTTLE_REASONS = ("sw_power_cap", "hw_slowdown", "sw_thermal_slowdown", "hw_thermal_slowdown",
                    "hw_power_brake_slowdown")
REASON_WORDS = {
    "gpu_idle": "GPU idle",
    "applications_clocks_setting": "clocks held by an application/locked clock setting",
    "sw_power_cap": "software power cap (power draw at the power limit)",
    "hw_slowdown": "hardware slowdown (power brake or temperature)",
    "sync_boost": "sync boost (clocks synchronised with other GPUs)",
    "sw_thermal_slowdown": "software thermal slowdown (GPU or memory too hot)",
    "hw_thermal_slowdown": "hardware thermal slowdown (too hot)",
    "hw_power_brake_slowdown": "hardware power brake (external power supply signal)",
    "display_clock_setting": "display clock setting",
}
REASON_FIXES = {
    "sw_power_cap": "lock the SM clock below the power-limited clock (nvidia-smi -lgc <MHz>,<MHz>, root) so "
                    "every variant runs at one clock, or raise the power limit to its default/maximum "
                    "(nvidia-smi -pl <W>, root)",
    "hw_slowdown": "check cooling and power delivery (nvidia-smi -q -d PERFORMANCE); lock a lower clock",
    "sw_thermal_slowdown": "improve cooling or lock a lower clock (nvidia-smi -lgc, root); let the GPU cool "
                           "between steps",
    "hw_thermal_slowdown": "the GPU overheats: check fans and airflow; lock a lower clock (nvidia-smi -lgc, "
                           "root)",
    "hw_power_brake_slowdown": "the power supply asserted the brake: check the node's power; lock a lower "
                               "clock",
}

# Defaults of the rules and the gate: a median SM clock more than this far below the GPU's maximum, a
# throttle reason active for at least this share of the busy time, two runs' clocks this far apart.
CLOCK_DROP = 0.10
THROTTLE_SHARE = 0.10
CLOCK_GATE = 0.05
NOT_AVAILABLE = "not available"


def decode_reasons(mask: int | None) -> list[str]:
    """Names of the clock-event reasons set in an NVML bit mask (unknown bits as ``0x...``)."""
    if mask is None:
        return []
    names = [name for bit, name in REASON_BITS if mask & bit]
    known = 0
    for bit, _ in REASON_BITS:
        known |= bit
    rest = mask & ~known
    if rest:
        names.append(hex(rest))
    return names


@dataclass(frozen=True)
class Sample:
    """One NVML reading of one GPU: seconds since the sampler started, then what NVML answered (None
    where the GPU does not support a query)."""

    t_s: float
    sm_mhz: float | None = None
    mem_mhz: float | None = None
    power_w: float | None = None
    temp_c: float | None = None
    util_pct: float | None = None
    mem_util_pct: float | None = None
    reasons: int | None = None

    @property
    def busy(self) -> bool:
        """Not idle: no ``gpu_idle`` reason and (where NVML reports it) some utilisation."""
        if self.reasons is not None and self.reasons & 0x1:
            return False
        return self.util_pct is None or self.util_pct > 0


@dataclass(frozen=True)
class ProcessSeen:
    """A compute process NVML listed on the GPU at one sample: ``ours`` (trtsweep or a descendant, e.g.
    trtexec), ``foreign`` (visible here, not ours), or ``unresolved`` (its pid is not in this pid
    namespace, e.g. another container: it cannot be told apart from ours)."""

    t_s: float
    pid: int
    kind: str
    name: str | None = None
    used_mib: float | None = None


@dataclass
class DeviceInfo:
    """The GPU the step was pinned to, as NVML names it, and how it was matched."""

    index: int | None = None
    name: str | None = None
    uuid: str | None = None
    pci_bus_id: str | None = None
    max_sm_mhz: float | None = None
    max_mem_mhz: float | None = None
    power_limit_w: float | None = None
    matched_by: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "name": self.name, "uuid": self.uuid, "pci_bus_id": self.pci_bus_id,
                "max_sm_mhz": self.max_sm_mhz, "max_mem_mhz": self.max_mem_mhz,
                "power_limit_w": self.power_limit_w, "matched_by": self.matched_by, **self.extra}


def _three(values: Sequence[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def not_available(reason: str) -> dict[str, Any]:
    """The summary of a step measured without telemetry (no NVML, no GPU, turned off): says why."""
    return {"version": SUMMARY_VERSION, "available": False, "status": NOT_AVAILABLE, "reason": reason}


def summarize(samples: Sequence[Sample], device: DeviceInfo, processes: Sequence[ProcessSeen] = (),
              rate_hz: float | None = None, process_rate_hz: float | None = None) -> dict[str, Any]:
    """The step's summary: min/median/max of SM clock, memory clock, power, temperature and utilisation over
    the busy samples, the share of busy samples under each clock-event reason, and the other processes."""
    busy = [s for s in samples if s.busy]

    def col(name: str, rows: Iterable[Sample]) -> list[float]:
        return [float(v) for s in rows if (v := getattr(s, name)) is not None]

    shares: dict[str, float] = {}
    with_reasons = [s for s in busy if s.reasons is not None]
    for s in with_reasons:
        for name in decode_reasons(s.reasons):
            shares[name] = shares.get(name, 0.0) + 1.0
    shares = {k: round(v / len(with_reasons), 4) for k, v in sorted(shares.items())}
    duration = (samples[-1].t_s - samples[0].t_s) if len(samples) >= 2 else 0.0
    return {
        "version": SUMMARY_VERSION,
        "available": True,
        "status": "ok" if samples else "no samples",
        "device": device.to_dict(),
        "rate_hz": rate_hz,
        "samples": len(samples),
        "busy_samples": len(busy),
        "duration_s": round(duration, 3),
        "sm_clock_mhz": _three(col("sm_mhz", busy)),
        "mem_clock_mhz": _three(col("mem_mhz", busy)),
        "power_w": _three(col("power_w", busy)),
        "temperature_c": _three(col("temp_c", busy)),
        "util_pct": _three(col("util_pct", busy)),
        "idle_sm_clock_mhz": _three(col("sm_mhz", [s for s in samples if not s.busy])),
        "max_sm_clock_mhz": device.max_sm_mhz,
        "power_limit_w": device.power_limit_w,
        "reasons": shares,
        "throttle": throttle_of_shares(shares),
        "foreign_processes": _processes(processes, "foreign", process_rate_hz),
        "unresolved_processes": _processes(processes, "unresolved", process_rate_hz),
    }


def throttle_of_shares(shares: Mapping[str, float]) -> dict[str, float]:
    """The throttle reasons among the shares (those that lower a busy GPU's clock)."""
    return {k: v for k, v in shares.items() if k in THROTTLE_REASONS and v > 0}


def _processes(seen: Sequence[ProcessSeen], kind: str, rate_hz: float | None) -> list[dict[str, Any]]:
    by_pid: dict[int, list[ProcessSeen]] = {}
    for p in seen:
        if p.kind == kind:
            by_pid.setdefault(p.pid, []).append(p)
    out = []
    for pid, items in sorted(by_pid.items()):
        mem = [p.used_mib for p in items if p.used_mib is not None]
        out.append({"pid": pid, "name": next((p.name for p in items if p.name), None),
                    "first_s": round(items[0].t_s, 3), "last_s": round(items[-1].t_s, 3),
                    "times_seen": len(items), "max_used_mib": max(mem) if mem else None})
    return out


# ---------------------------------------------------------------- reading a summary

def available(summary: Mapping[str, Any] | None) -> TypeGuard[Mapping[str, Any]]:
    """True when the summary holds measured telemetry with at least one busy sample."""
    return summary is not None and bool(summary.get("available")) and bool(summary.get("busy_samples"))


def sm_median(summary: Mapping[str, Any] | None) -> float | None:
    """Median SM clock (MHz) of the busy samples, or None."""
    if not available(summary):
        return None
    clocks = summary.get("sm_clock_mhz") or {}
    value = clocks.get("median")
    return float(value) if value is not None else None


def clock_drop(summary: Mapping[str, Any] | None) -> float | None:
    """How far the median SM clock sat below the GPU's maximum SM clock: 1 - median / max (0.26 = 26 %)."""
    median = sm_median(summary)
    top = (summary or {}).get("max_sm_clock_mhz")
    if median is None or not top:
        return None
    return max(0.0, 1.0 - median / float(top))


def locked(summary: Mapping[str, Any] | None) -> bool:
    """True when the clocks were held by an applications/locked clock setting most of the busy time (a
    lower clock is then deliberate, not throttling)."""
    return bool(available(summary)) and (summary.get("reasons") or {}).get(  # type: ignore[union-attr]
        "applications_clocks_setting", 0.0) >= 0.5


def worst_throttle(summary: Mapping[str, Any] | None) -> tuple[str, float] | None:
    """(reason, share of the busy time) of the throttle reason active longest, or None."""
    if not available(summary):
        return None
    throttle = summary.get("throttle") or {}
    if not throttle:
        return None
    name = max(throttle, key=lambda k: (throttle[k], k))
    return name, float(throttle[name])


@dataclass(frozen=True)
class Throttling:
    """Why a run's clocks are suspect: the clock drop and/or the longest throttle reason."""

    drop: float | None
    reason: str | None
    share: float | None
    median_mhz: float | None
    max_mhz: float | None
    locked: bool

    @property
    def text(self) -> str:
        parts = []
        if self.median_mhz is not None and self.max_mhz:
            parts.append(f"SM clock median {self.median_mhz:.0f} MHz of max {self.max_mhz:.0f} MHz "
                         f"({(self.drop or 0) * 100:.0f} % below)")
        if self.reason:
            parts.append(f"{self.reason} active {self.share * 100:.0f} % of the busy time")  # type: ignore
        return "; ".join(parts)


def throttling(summary: Mapping[str, Any] | None, drop_threshold: float = CLOCK_DROP,
               share_threshold: float = THROTTLE_SHARE) -> Throttling | None:
    """The run's throttling when its median SM clock is more than ``drop_threshold`` below the maximum
    (and the clocks were not deliberately locked) or a throttle reason was active at least
    ``share_threshold`` of the busy time; else None."""
    if not available(summary):
        return None
    drop = clock_drop(summary)
    worst = worst_throttle(summary)
    is_locked = locked(summary)
    dropped = drop is not None and drop > drop_threshold and not is_locked
    reasoned = worst is not None and worst[1] >= share_threshold
    if not dropped and not reasoned:
        return None
    name, share = worst if reasoned and worst else (None, None)
    return Throttling(drop, name, share, sm_median(summary), summary.get("max_sm_clock_mhz"),
                      is_locked)


def foreign(summary: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The foreign processes a summary saw (empty without telemetry)."""
    if not summary or not summary.get("available"):
        return []
    return list(summary.get("foreign_processes") or [])


def combine(summaries: Iterable[Mapping[str, Any] | None]) -> dict[str, Any] | None:
    """One summary for several repeats of a variant: the lowest min, the median of the medians, the highest
    max, each reason's largest share (the worst repeat) and every foreign process; None without any."""
    present = [s for s in summaries if available(s)]
    if not present:
        return None
    if len(present) == 1:
        return dict(present[0])
    out: dict[str, Any] = dict(present[0])
    for key in ("sm_clock_mhz", "mem_clock_mhz", "power_w", "temperature_c", "util_pct"):
        parts = [s[key] for s in present if s.get(key)]
        out[key] = None if not parts else {
            "min": min(p["min"] for p in parts), "max": max(p["max"] for p in parts),
            "median": round(statistics.median(p["median"] for p in parts), 3)}
    reasons: dict[str, float] = {}
    for s in present:
        for k, v in (s.get("reasons") or {}).items():
            reasons[k] = max(reasons.get(k, 0.0), float(v))
    out["reasons"] = dict(sorted(reasons.items()))
    out["throttle"] = throttle_of_shares(reasons)
    out["samples"] = sum(int(s.get("samples") or 0) for s in present)
    out["busy_samples"] = sum(int(s.get("busy_samples") or 0) for s in present)
    out["foreign_processes"] = [p for s in present for p in s.get("foreign_processes") or []]
    out["unresolved_processes"] = [p for s in present for p in s.get("unresolved_processes") or []]
    out["repeats"] = len(present)
    return out


def _max_clock(summary: Mapping[str, Any] | None) -> float | None:
    value = summary.get("max_sm_clock_mhz") if summary else None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def clock_gap(med_a: float, max_a: float | None, med_b: float, max_b: float | None,
              threshold: float = CLOCK_GATE, names: tuple[str, str] = ("A", "B")) -> str | None:
    """Why two median SM clocks (MHz) are too far apart to compare times measured at them, or None.

    Two GPU models (other maximum clocks: a hardware comparison) are compared by the share of their own
    maximum they ran at, since their clocks in MHz differ by design."""
    a, b = names
    if max_a and max_b and max_a != max_b:
        share_a, share_b = med_a / max_a, med_b / max_b
        gap = abs(share_a - share_b) / max(share_a, share_b)
        if gap > threshold:
            return (f"SM clock median at {share_a * 100:.0f} % of its maximum "
                    f"({a}, {med_a:.0f} of {max_a:.0f} MHz) vs {share_b * 100:.0f} % "
                    f"({b}, {med_b:.0f} of {max_b:.0f} MHz), {gap * 100:.0f} % apart "
                    f"(threshold {threshold * 100:g} %): one GPU ran further below its maximum")
        return None
    top = max(med_a, med_b)
    gap = abs(med_a - med_b) / top if top else 0.0
    if gap > threshold:
        return (f"SM clock median {med_a:.0f} MHz ({a}) vs {med_b:.0f} MHz ({b}), {gap * 100:.0f} % apart "
                f"(threshold {threshold * 100:g} %): the GPU ran at another clock")
    return None


def clock_gate(summary_a: Mapping[str, Any] | None, summary_b: Mapping[str, Any] | None,
               threshold: float = CLOCK_GATE) -> str | None:
    """Why a comparison of run A with run B is inconclusive on clock grounds, or None when their clocks
    agree (or when a side has no telemetry: no evidence either way).

    Inconclusive when the median SM clocks differ by more than ``threshold`` (relative to the higher one),
    or when one side throttled (``throttling``) and the other did not (see :func:`clock_gap` for two GPU
    models)."""
    med_a, med_b = sm_median(summary_a), sm_median(summary_b)
    if med_a is None or med_b is None:
        return None
    gap = clock_gap(med_a, _max_clock(summary_a), med_b, _max_clock(summary_b), threshold)
    if gap:
        return gap
    t_a, t_b = throttling(summary_a), throttling(summary_b)
    if (t_a is None) != (t_b is None):
        side, t = ("A", t_a) if t_a is not None else ("B", t_b)
        return f"side {side} throttled ({t.text}), the other did not"  # type: ignore[union-attr]
    return None
