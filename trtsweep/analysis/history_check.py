"""``history check``: tonight's run against the series of the same target, TensorRT version and variant.

The run need not be in the history yet: its repeats join the stored ones in memory (nothing is written),
and a run already added is not counted twice. Pure: stored points and the run's entry in, verdicts out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from trtsweep.analysis import changepoints as cp
from trtsweep.analysis import telemetry as tel
from trtsweep.analysis.history_extract import SM_CLOCK, THROTTLED, is_higher_better
from trtsweep.analysis.history_series import SeriesAnalysis, analyse, build_series, until
from trtsweep.store.history import Point, RunEntry, VariantEntry

NEW_TARGET = -1  # the target id of a run whose target the history has never seen
CLOCK_NIGHTS = 7  # the earlier nights tonight's clocks are held against


@dataclass(frozen=True)
class VariantCheck:
    variant: VariantEntry
    analysis: SeriesAnalysis | None  # None when tonight has no value of the metric for this variant

    @property
    def verdict(self) -> cp.Verdict:
        if self.analysis is None:
            return cp.Verdict(cp.INCONCLUSIVE, "tonight's run has no value of this metric")
        return self.analysis.verdict


@dataclass(frozen=True)
class CheckResult:
    run_id: str
    night: str
    metric: str
    checks: list[VariantCheck]

    def count(self, kind: str) -> int:
        return sum(1 for c in self.checks if c.verdict.kind == kind)

    @property
    def exit_code(self) -> int:
        """3 any regression, else 4 any inconclusive, else 0 (docs/architecture.md's exit codes)."""
        if self.count(cp.REGRESSION):
            return 3
        return 4 if self.count(cp.INCONCLUSIVE) else 0


def entry_points(entry: RunEntry, metric: str, target: int, variant_ids: dict[str, int]) -> list[Point]:
    """The run's repeats of ``metric`` as stored points would be."""
    return [Point(target, variant_ids[r.variant_key], -1, entry.run_id, entry.night, entry.created,
                  entry.trt_version, r.repeat, r.metrics[metric])
            for r in entry.repeats if metric in r.metrics and r.variant_key in variant_ids]


def clock_gates(entry: RunEntry, clocks: Mapping[str, Sequence[Point]],
                variant_ids: dict[str, int]) -> dict[str, cp.Gate]:
    """Per variant key, a gate that makes tonight inconclusive when the variant ran at another SM clock than
    on its last :data:`CLOCK_NIGHTS` earlier nights, or throttled when they mostly did not (or the reverse).

    ``clocks``: stored points of :data:`SM_CLOCK` and :data:`THROTTLED` by metric name. A variant without
    telemetry tonight or before gets no gate: no evidence either way."""
    gates: dict[str, cp.Gate] = {}
    for v in entry.variants:
        tonight = [r.metrics for r in entry.repeats if r.variant_key == v.key]
        vid = variant_ids.get(v.key)

        def earlier(metric: str, vid: int | None = vid) -> list[float]:
            pts = [p for p in clocks.get(metric, ()) if p.variant == vid and p.run_id != entry.run_id
                   and p.night < entry.night]
            nights = sorted({p.night for p in pts})[-CLOCK_NIGHTS:]
            return [p.value for p in pts if p.night in nights]

        why = _clock_reason([m[SM_CLOCK] for m in tonight if SM_CLOCK in m], earlier(SM_CLOCK),
                            [m[THROTTLED] for m in tonight if THROTTLED in m], earlier(THROTTLED))
        if why:
            gates[v.key] = _fixed(why)
    return gates


def _fixed(why: str) -> cp.Gate:
    """A gate that gives ``why`` for tonight (the only night a check's gate is asked about)."""
    def gate(_night: cp.Night) -> str | None:
        return why
    return gate


def _clock_reason(clock_now: list[float], clock_before: list[float], thr_now: list[float],
                  thr_before: list[float]) -> str | None:
    if clock_now and clock_before:
        gap = tel.clock_gap(statistics.median(clock_before), None, statistics.median(clock_now), None,
                            names=("earlier nights", "tonight"))
        if gap:
            return gap + ": lock the SM clock (trtsweep doctor says how)"
    if thr_now and thr_before:
        now, before = max(thr_now) > 0, statistics.mean(thr_before) >= 0.5
        if now != before:
            return ("tonight's run throttled and the earlier nights mostly did not" if now else
                    "the earlier nights throttled and tonight's run did not") + \
                ": the times are not comparable; lock the SM clock (trtsweep doctor says how)"
    return None


def check_entry(entry: RunEntry, stored: Sequence[Point], target: int | None, variant_ids: dict[str, int],
                metric: str, expected_runs: Iterable[str] = (), threshold: float = cp.THRESHOLD,
                window: int = cp.WINDOW, gate: cp.Gate | None = None,
                clocks: Mapping[str, Sequence[Point]] | None = None) -> CheckResult:
    """Verdicts for each variant of ``entry``.

    ``stored``: the history's points of the run's target and variants; ``target`` its id there (None when
    new); ``variant_ids``: the history's id of each variant key (new variants get ids that match nothing
    stored); ``clocks``: stored clock points for :func:`clock_gates` (a given ``gate`` comes first)."""
    ids = dict(variant_ids)
    for n, v in enumerate(entry.variants):
        ids.setdefault(v.key, -(n + 2))
    tgt = NEW_TARGET if target is None else target
    points = list(stored)
    if not any(p.run_id == entry.run_id for p in points):
        points += entry_points(entry, metric, tgt, ids)
    series = build_series(points, expected_runs)
    measured = {p.variant for p in points if p.run_id == entry.run_id}
    gates = clock_gates(entry, clocks or {}, ids)
    checks = []
    for v in entry.variants:
        s = series.get((tgt, ids[v.key]))
        if s is None or ids[v.key] not in measured:
            checks.append(VariantCheck(v, None))
            continue
        s = until(s, entry.night)
        checks.append(VariantCheck(v, analyse(s, is_higher_better(metric), threshold, window,
                                              gate or gates.get(v.key), full=False)))
    return CheckResult(entry.run_id, entry.night, metric, checks)
