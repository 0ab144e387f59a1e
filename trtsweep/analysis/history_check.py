"""``history check``: tonight's run against the series of the same target, TensorRT version and variant.

The run need not be in the history yet: its repeats join the stored ones in memory (nothing is written),
and a run already added is not counted twice. Pure: stored points and the run's entry in, verdicts out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trtsweep.analysis import changepoints as cp
from trtsweep.analysis.history_extract import is_higher_better
from trtsweep.analysis.history_series import SeriesAnalysis, analyse, build_series, until
from trtsweep.store.history import Point, RunEntry, VariantEntry

NEW_TARGET = -1  # the target id of a run whose target the history has never seen


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


def check_entry(entry: RunEntry, stored: Sequence[Point], target: int | None, variant_ids: dict[str, int],
                metric: str, expected_runs: Iterable[str] = (), threshold: float = cp.THRESHOLD,
                window: int = cp.WINDOW, gate: cp.Gate | None = None) -> CheckResult:
    """Verdicts for each variant of ``entry``.

    ``stored``: the history's points of the run's target and variants; ``target`` its id there (None when
    new); ``variant_ids``: the history's id of each variant key (new variants get ids that match nothing
    stored)."""
    ids = dict(variant_ids)
    for n, v in enumerate(entry.variants):
        ids.setdefault(v.key, -(n + 2))
    tgt = NEW_TARGET if target is None else target
    points = list(stored)
    if not any(p.run_id == entry.run_id for p in points):
        points += entry_points(entry, metric, tgt, ids)
    series = build_series(points, expected_runs)
    measured = {p.variant for p in points if p.run_id == entry.run_id}
    checks = []
    for v in entry.variants:
        s = series.get((tgt, ids[v.key]))
        if s is None or ids[v.key] not in measured:
            checks.append(VariantCheck(v, None))
            continue
        s = until(s, entry.night)
        checks.append(VariantCheck(v, analyse(s, is_higher_better(metric), threshold, window, gate,
                                              full=False)))
    return CheckResult(entry.run_id, entry.night, metric, checks)
