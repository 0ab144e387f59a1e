"""Nightly series from the history's stored repeats, their baseline segments, and their analysis.

A *series* is one target (machine + GPU) and one variant. Each night's value is the median of that
night's repeat values (every run of the target that night, each repeat one number: trtexec's median of
the metric); the between-repeat spread of the night is kept to tell unstable nights.

A series is cut into *baseline segments* where a change is known not to be a regression: the TensorRT
version changes, or a run carries an ``expected`` annotation (``history annotate --expected``). Change
points are searched within segments only, and tonight is judged against its own segment, i.e. against
the nights of the same target, TensorRT version and variant since the last expected change.

Pure: stored values in, series and verdicts out.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trtsweep.analysis import axes as ax
from trtsweep.analysis import changepoints as cp
from trtsweep.analysis.stats import log_spread
from trtsweep.store.history import Point, VariantRow

# Nights of the current segment the nightly check reads: enough for any step to stand out, and a year
# of history does not make tonight's check slower.
LOOKBACK = 120


@dataclass
class Series:
    """The nights of one (target, variant), oldest first, with where its baseline segments start."""

    target: int
    variant: int
    nights: list[cp.Night]
    trt_versions: list[str | None]
    starts: list[int] = field(default_factory=lambda: [0])  # first night index of each segment
    why: dict[int, str] = field(default_factory=dict)  # segment start -> why a new baseline starts

    def segment(self, i: int) -> tuple[int, int]:
        """[start, end) of segment ``i`` (negative counts from the last)."""
        bounds = [*self.starts, len(self.nights)]
        i = i % len(self.starts)
        return bounds[i], bounds[i + 1]


@dataclass
class SeriesAnalysis:
    """A series with its change points (indexes into ``series.nights``) and the latest night's verdict."""

    series: Series
    change_points: list[cp.ChangePoint]
    outliers: list[int]
    verdict: cp.Verdict
    segment_levels: list[tuple[int, int, float]]  # [start, end) and median of each level between changes


def _night(night: str, values: Sequence[float], run_ids: Iterable[str]) -> cp.Night:
    spread = log_spread(values) if len(values) >= 2 else None
    return cp.Night(night, statistics.median(values), tuple(dict.fromkeys(run_ids)), len(values), spread)


def build_series(points: Iterable[Point], expected_runs: Iterable[str] = ()) -> dict[tuple[int, int], Series]:
    """Group stored repeat values into series, one night per date, segments cut at known changes."""
    expected = set(expected_runs)
    grouped: dict[tuple[int, int], dict[str, list[Point]]] = {}
    for p in points:
        grouped.setdefault((p.target, p.variant), {}).setdefault(p.night, []).append(p)
    out = {}
    for (target, variant), by_night in grouped.items():
        nights: list[cp.Night] = []
        versions: list[str | None] = []
        starts, why = [0], {}
        for night in sorted(by_night):
            pts = sorted(by_night[night], key=lambda p: (p.created, p.run, p.repeat))
            trt = pts[-1].trt_version
            i = len(nights)
            marked = [p.run_id for p in pts if p.run_id in expected]
            if i > 0 and marked:
                starts.append(i)
                why[i] = f"expected change at run {marked[0]}"
            elif i > 0 and trt and versions[-1] and trt != versions[-1]:
                starts.append(i)
                why[i] = f"TensorRT {versions[-1]} -> {trt}"
            nights.append(_night(night, [p.value for p in pts], [p.run_id for p in pts]))
            versions.append(trt)
        out[(target, variant)] = Series(target, variant, nights, versions, starts, why)
    return out


def analyse(series: Series, higher_is_better: bool = False, threshold: float = cp.THRESHOLD,
            window: int = cp.WINDOW, gate: cp.Gate | None = None, full: bool = True) -> SeriesAnalysis:
    """The latest night's verdict, and (``full``) the change points and levels of every segment.

    The verdict reads at most the last :data:`LOOKBACK` nights of the current segment; without ``full``
    (the nightly check) nothing else is computed."""
    changes: list[cp.ChangePoint] = []
    outliers: list[int] = []
    levels: list[tuple[int, int, float]] = []
    for i in range(len(series.starts)) if full else ():
        lo, hi = series.segment(i)
        values = [n.value for n in series.nights[lo:hi]]
        found = cp.detect(values, threshold) if len(values) >= 2 * cp.MIN_SIZE else cp.Detection()
        shifted = [_shifted(c, lo) for c in found.change_points]
        changes.extend(shifted)
        outliers.extend(lo + j for j in found.outliers)
        cuts = [lo, *(c.index for c in shifted), hi]
        skip = set(outliers)
        for a, b in zip(cuts, cuts[1:], strict=False):
            kept = [series.nights[j].value for j in range(a, b) if j not in skip] or \
                [series.nights[j].value for j in range(a, b)]
            levels.append((a, b, statistics.median(kept)))
    lo, hi = series.segment(-1)
    start = max(lo, hi - LOOKBACK)
    judged = cp.verdict(series.nights[start:hi], higher_is_better, threshold, window=window, gate=gate)
    if judged.change is not None:
        judged = _offset_verdict(judged, start)
    return SeriesAnalysis(series, changes, sorted(set(outliers)), judged, levels)


def _shifted(c: cp.ChangePoint, by: int) -> cp.ChangePoint:
    return cp.ChangePoint(c.index + by, c.ratio, c.low, c.high, c.confidence, c.p_value,
                          (c.before[0] + by, c.before[1] + by), (c.after[0] + by, c.after[1] + by))


def _offset_verdict(v: cp.Verdict, by: int) -> cp.Verdict:
    assert v.change is not None
    return cp.Verdict(v.kind, v.reason, v.night, _shifted(v.change, by), v.runs_before, v.runs_after,
                      v.nights, v.pending, v.detection)


def until(series: Series, night: str) -> Series:
    """The series as it stood on ``night`` (later nights left out): what a check of that night sees."""
    n = sum(1 for x in series.nights if x.night <= night)
    starts = [s for s in series.starts if s < n] or [0]
    return Series(series.target, series.variant, series.nights[:n], series.trt_versions[:n], starts,
                  {k: v for k, v in series.why.items() if k < n})


# --- choosing variants ----------------------------------------------------------------------------

class SelectorError(ValueError):
    """A variant selector that is malformed or matches nothing: one line."""


def parse_selector(text: str) -> dict[str, str]:
    """``precision=fp16,batch=8`` -> {"precision": "fp16", "batch": "8"}; a bare word is a key or label."""
    if "=" not in text:
        return {"": text.strip()}
    out = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise SelectorError(f"variant selector {text!r}: expected KEY=VALUE[,KEY=VALUE], e.g. "
                                "precision=fp16,batch=8")
        out[key.strip()] = value.strip()
    return out


def matches(variant: VariantRow, selector: Mapping[str, str]) -> bool:
    """Whether a stored variant has every selected axis value (compared as ``axes.show`` prints them)."""
    if "" in selector:
        word = selector[""]
        return variant.key.startswith(word) or variant.label == word
    for key, want in selector.items():
        if key == "model":
            if want not in (variant.model, variant.model_sha256):
                return False
            continue
        value: Any = variant.axes.get(key)
        if value is None or ax.show(ax.typed(key, value)).lower() != ax.show(ax.typed(key, want)).lower():
            return False
    return True


def select_variants(variants: Sequence[VariantRow], selector: str | None) -> list[VariantRow]:
    """The variants a ``--variant`` selector names; :class:`SelectorError` when it names none."""
    if not selector:
        return list(variants)
    wanted = parse_selector(selector)
    chosen = [v for v in variants if matches(v, wanted)]
    if not chosen:
        keys = sorted({k for v in variants for k in v.axes})
        hint = f"; axes in the history: {', '.join(keys)}" if keys else "; the history holds no variant"
        raise SelectorError(f"variant selector {selector!r} matches no variant in the history{hint}")
    return chosen
