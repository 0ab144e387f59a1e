"""Change points in a nightly series, and tonight's verdict. Pure: numbers in, findings out.

A series is one value per night (the median of that night's repeat medians, see
:mod:`trtsweep.analysis.history_series`), worked on the log scale so a 5 % step reads the same at 0.1 ms
and at 100 ms. Detection follows what works in asv (step detection with an L1 cost, a minimum segment
size, blips dropped):

1. **Blips**: a night far from its neighbours (the median of up to three nights either side) while the
   nights just before and after agree with them is an outlier, not a change; tonight, with no next night
   yet, is *pending* when it alone deviates. Both are left out of the segmentation.
2. **Segmentation**: PELT (Killick et al. 2012, exact optimal partitioning with pruning) minimising the sum
   of absolute deviations from each segment's median plus a penalty per change point. The penalty is
   ``PENALTY_SCALE x sigma x log(n)`` with sigma the series' robust noise (:func:`noise_sigma`, from
   night-to-night differences, so steps do not inflate it); segments are at least ``min_size`` nights.
3. **Filters**: a change point stays only when the step between its two segments is at least
   ``threshold`` (default 3 %) by the Hodges-Lehmann ratio and significant by the Mann-Whitney test
   (:func:`trtsweep.analysis.stats.shift`); the weakest failing one is merged away and the rest re-tested.

:func:`verdict` turns that into ``regression`` / ``improvement`` / ``no_change`` / ``inconclusive`` for the
latest night, with the night the change started, its size and interval, and the runs on both sides.
A *gate* (a function of the latest night returning a reason, or None) can make a verdict inconclusive:
the hook for clock/telemetry checks that live elsewhere.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from trtsweep.analysis.stats import mad_sigma, shift

THRESHOLD = 0.03
MIN_SIZE = 3
ALPHA = 0.05
PENALTY_SCALE = 2.0
# Noise never counts as less than this (log units): identical values would otherwise make any wiggle a step.
SIGMA_FLOOR = 0.001
BLIP_SIGMAS = 4.0
NEIGHBOURS = 3
# Nights after a change point during which the nightly check still reports it (then it is the new level).
WINDOW = 7

REGRESSION = "regression"
IMPROVEMENT = "improvement"
NO_CHANGE = "no_change"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Night:
    """One night of one series: the combined value and where it came from."""

    night: str  # YYYY-MM-DD
    value: float  # median of the night's repeat values
    run_ids: tuple[str, ...]
    repeats: int
    spread: float | None = None  # log spread between the night's repeats (None with one repeat)


@dataclass(frozen=True)
class ChangePoint:
    """A step between two segments: ``index`` is the first night of the new level."""

    index: int
    ratio: float  # Hodges-Lehmann after/before
    low: float
    high: float
    confidence: float
    p_value: float
    before: tuple[int, int]  # [start, end) night indexes of the segment before
    after: tuple[int, int]

    @property
    def change(self) -> float:
        return self.ratio - 1.0


@dataclass
class Detection:
    """What :func:`detect` found in one series (indexes into the values given)."""

    change_points: list[ChangePoint] = field(default_factory=list)
    outliers: list[int] = field(default_factory=list)
    pending: int | None = None  # the last night, when it alone deviates
    sigma: float = 0.0
    penalty: float = 0.0


Gate = Callable[[Night], str | None]


def noise_sigma(logs: Sequence[float]) -> float:
    """Robust night-to-night noise (log units): MAD sigma of successive differences / sqrt 2.

    Differences see a step only once, so a level change barely moves it; floored at SIGMA_FLOOR."""
    if len(logs) < 3:
        return SIGMA_FLOOR
    diffs = [b - a for a, b in zip(logs, logs[1:], strict=False)]
    sigma = (mad_sigma(diffs) or 0.0) / math.sqrt(2.0)
    return max(sigma, SIGMA_FLOOR)


class _Segment:
    """A growing segment x[s:t] kept sorted, with the sum of its lower half: its L1 cost in O(1) after
    each O(log n) insertion (the list's memmove is C-fast at these sizes)."""

    __slots__ = ("items", "lower", "total")

    def __init__(self, values: Sequence[float]) -> None:
        self.items = sorted(values)
        self.total = math.fsum(self.items)
        self.lower = math.fsum(self.items[: len(self.items) // 2])

    def add(self, v: float) -> None:
        items = self.items
        n = len(items)
        m = n // 2
        p = bisect.bisect_right(items, v)
        items.insert(p, v)
        self.total += v
        if n % 2 == 0:  # the lower half keeps m items: v enters it, pushing out its largest
            if p < m:
                self.lower += v - items[m]
        else:  # the lower half grows to m + 1 items
            self.lower += v if p <= m else items[m]

    def cost(self) -> float:
        """Sum of |x - median|: (upper half) - (lower half), the middle item counting for neither."""
        items = self.items
        n = len(items)
        middle = items[n // 2] if n % 2 else 0.0
        return (self.total - self.lower - middle) - self.lower


def pelt_l1(logs: Sequence[float], penalty: float, min_size: int = MIN_SIZE) -> list[int]:
    """Optimal change points (first index of each new segment) under L1 cost + ``penalty`` per change.

    PELT: F(t) = min over s of F(s) + C(x[s:t]) + penalty, keeping only starts that can still win
    (the L1 cost is subadditive across a split, which is what makes the pruning exact)."""
    n = len(logs)
    if n < 2 * min_size:
        return []
    bisect_right = bisect.bisect_right
    x = [float(v) for v in logs]
    best = [math.inf] * (n + 1)
    best[0] = -penalty
    last = [0] * (n + 1)
    segments: dict[int, _Segment] = {}  # admissible starts, each with x[s:t-1]
    waiting: list[int] = [0]  # starts not yet min_size nights behind t
    for t in range(min_size, n + 1):
        while waiting and t - waiting[0] >= min_size:
            s = waiting.pop(0)
            if math.isfinite(best[s]):
                segments[s] = _Segment(x[s:t - 1])
        if not segments:
            if t <= n - min_size:
                waiting.append(t)
            continue
        v = x[t - 1]
        scored = []
        top, arg = math.inf, 0
        for s, seg in segments.items():
            # seg.add(v); seg.cost(), inlined: this loop is most of the time of a year-long series
            items = seg.items
            k = len(items)
            m = k // 2
            p = bisect_right(items, v)
            items.insert(p, v)
            seg.total += v
            if k % 2 == 0:
                if p < m:
                    seg.lower += v - items[m]
                middle = items[m]
            else:
                seg.lower += v if p <= m else items[m]
                middle = 0.0
            base = best[s] + (seg.total - seg.lower - middle) - seg.lower
            scored.append((s, base))
            if base + penalty < top:
                top, arg = base + penalty, s
        best[t], last[t] = top, arg
        for s, base in scored:
            if base > top:
                del segments[s]
        if t <= n - min_size:
            waiting.append(t)
    cps = []
    t = n
    while t > 0:
        s = last[t]
        if s > 0:
            cps.append(s)
        t = s
    return sorted(cps)


def _blips(logs: Sequence[float], tol: float) -> tuple[list[int], int | None]:
    """Isolated outlier nights, and the last night when it alone deviates (pending).

    A night is a blip when it is more than ``tol`` from the median of the nights before it and from that
    of the nights after it, while those two agree: the first night of a step is near the nights after."""
    n = len(logs)
    out: list[int] = []
    pending = None
    for i in range(1, n):
        left = statistics.median(logs[max(0, i - NEIGHBOURS):i])
        if abs(logs[i] - left) <= tol:
            continue
        if i == n - 1:
            pending = i
            continue
        right = statistics.median(logs[i + 1:i + 1 + NEIGHBOURS])
        if abs(logs[i] - right) > tol and abs(left - right) <= tol:
            out.append(i)
    return out, pending


def detect(values: Sequence[float], threshold: float = THRESHOLD, min_size: int = MIN_SIZE,
           alpha: float = ALPHA, penalty_scale: float = PENALTY_SCALE) -> Detection:
    """Change points of a series of positive nightly values (see the module doc for the method)."""
    if any(not (v > 0 and math.isfinite(v)) for v in values):
        raise ValueError("nightly values must be positive finite numbers")
    logs = [math.log(v) for v in values]
    sigma = noise_sigma(logs)
    tol = max(BLIP_SIGMAS * sigma, math.log1p(threshold))
    outliers, pending = _blips(logs, tol)
    dropped = set(outliers) | ({pending} if pending is not None else set())
    keep = [i for i in range(len(logs)) if i not in dropped]
    kept = [logs[i] for i in keep]
    penalty = penalty_scale * sigma * math.log(max(len(kept), 2))
    cps = pelt_l1(kept, penalty, min_size)
    found = _filtered(kept, cps, threshold, alpha)
    # back to indexes of the original series
    mapped = []
    for c in found:
        mapped.append(ChangePoint(keep[c.index], c.ratio, c.low, c.high, c.confidence, c.p_value,
                                  (keep[c.before[0]], keep[c.before[1] - 1] + 1),
                                  (keep[c.after[0]], keep[c.after[1] - 1] + 1)))
    return Detection(mapped, outliers, pending, sigma, penalty)


def _filtered(logs: Sequence[float], cps: list[int], threshold: float, alpha: float) -> list[ChangePoint]:
    cps = list(cps)
    while True:
        bounds = [0, *cps, len(logs)]
        tested = []
        for i, c in enumerate(cps):
            a = [math.exp(v) for v in logs[bounds[i]:c]]
            b = [math.exp(v) for v in logs[c:bounds[i + 2]]]
            s = shift(a, b)
            ok = abs(s.change) >= threshold and s.p_value < alpha
            tested.append((ok, s, i, c, (bounds[i], c), (c, bounds[i + 2])))
        failing = [t for t in tested if not t[0]]
        if not failing:
            return [ChangePoint(c, s.ratio, s.low, s.high, s.confidence, s.p_value, before, after)
                    for _, s, _, c, before, after in tested]
        # merge away the weakest (largest p, then smallest step) and test the rest again
        worst = max(failing, key=lambda t: (t[1].p_value, -abs(t[1].change)))
        cps.pop(worst[2])


@dataclass(frozen=True)
class Verdict:
    """Tonight's verdict for one series, with the evidence."""

    kind: str  # REGRESSION, IMPROVEMENT, NO_CHANGE, INCONCLUSIVE
    reason: str  # one sentence
    night: str | None = None  # the night the change started
    change: ChangePoint | None = None
    runs_before: tuple[str, ...] = ()
    runs_after: tuple[str, ...] = ()
    nights: int = 0  # nights in the series judged
    pending: bool = False  # tonight alone deviates: a blip or the first night of a step, not called yet
    detection: Detection | None = None


def min_nights(min_size: int = MIN_SIZE) -> int:
    """Nights a series needs before a change can be called: two segments, and 5 nights before the newest
    (three against three can never reach p < 0.05 in a rank test: its smallest two-sided p is 0.1)."""
    return min_size + 5


def verdict(nights: Sequence[Night], higher_is_better: bool = False, threshold: float = THRESHOLD,
            min_size: int = MIN_SIZE, alpha: float = ALPHA, window: int = WINDOW,
            gate: Gate | None = None) -> Verdict:
    """The latest night's verdict for a series (oldest night first, one baseline segment)."""
    n = len(nights)
    if n == 0:
        return Verdict(INCONCLUSIVE, "no night in this series", nights=0)
    last = nights[-1]
    if gate is not None:
        why = gate(last)
        if why:
            return Verdict(INCONCLUSIVE, why, nights=n)
    if last.spread is not None and last.spread > math.log1p(threshold):
        return Verdict(INCONCLUSIVE, f"tonight's repeats disagree by {math.expm1(last.spread):.1%} "
                       f"(log spread), more than the {threshold:.0%} threshold: an unstable night", nights=n)
    need = min_nights(min_size)
    if n < need:
        return Verdict(INCONCLUSIVE, f"{n} night(s) in this baseline segment; {need} are needed", nights=n)
    found = detect([x.value for x in nights], threshold, min_size, alpha)
    pending = found.pending == n - 1
    recent = [c for c in found.change_points if n - c.index <= window]
    if not recent:
        note = " (tonight alone deviates: not a change unless the next nights agree)" if pending else ""
        return Verdict(NO_CHANGE, f"no change point in the last {window} nights{note}", nights=n,
                       pending=pending, detection=found)
    cp = recent[-1]
    slower = cp.ratio < 1 if higher_is_better else cp.ratio > 1
    kind = REGRESSION if slower else IMPROVEMENT
    before = tuple(dict.fromkeys(r for x in nights[cp.before[0]:cp.before[1]] for r in x.run_ids))
    after = tuple(dict.fromkeys(r for x in nights[cp.after[0]:cp.after[1]] for r in x.run_ids))
    reason = (f"{cp.change:+.1%} since {nights[cp.index].night} ({cp.confidence:.0%} interval "
              f"{cp.low - 1:+.1%} .. {cp.high - 1:+.1%}, p={cp.p_value:.2g}, "
              f"{cp.before[1] - cp.before[0]} nights before, {cp.after[1] - cp.after[0]} after)")
    return Verdict(kind, reason, nights[cp.index].night, cp, before, after, n, pending, found)
