"""analysis.changepoints: PELT with the L1 cost against brute force, blips, filters and verdicts."""

from __future__ import annotations

import itertools
import math
import random
import statistics

import pytest

from trtsweep.analysis import changepoints as cp


def l1(xs: list[float]) -> float:
    m = statistics.median(xs)
    return sum(abs(x - m) for x in xs)


def brute_force(xs: list[float], penalty: float, min_size: int) -> tuple[float, list[int]]:
    """Every segmentation with segments >= min_size: the optimum by enumeration (small n only)."""
    n = len(xs)
    best: tuple[float, list[int]] = (math.inf, [])
    for k in range(0, n // min_size):
        for cuts in itertools.combinations(range(min_size, n - min_size + 1), k):
            bounds = [0, *cuts, n]
            if any(b - a < min_size for a, b in zip(bounds, bounds[1:], strict=False)):
                continue
            total = sum(l1(xs[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)) + penalty * k
            if total < best[0] - 1e-12:
                best = (total, list(cuts))
    return best


def cost_of(xs: list[float], cuts: list[int], penalty: float) -> float:
    bounds = [0, *cuts, len(xs)]
    return sum(l1(xs[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)) + penalty * len(cuts)


@pytest.mark.parametrize("seed", range(25))
def test_pelt_finds_the_optimum_brute_force_finds(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(6, 14)
    level = 0.0
    xs = []
    for _ in range(n):
        if rng.random() < 0.2:
            level += rng.choice([-1, 1]) * rng.uniform(0.02, 0.1)
        xs.append(level + rng.gauss(0, 0.01))
    penalty = rng.uniform(0.005, 0.08)
    opt, _ = brute_force(xs, penalty, 3)
    found = cp.pelt_l1(xs, penalty, 3)
    assert cost_of(xs, found, penalty) == pytest.approx(opt, abs=1e-12)


def test_segment_cost_updates_match_a_fresh_median() -> None:
    rng = random.Random(3)
    values = [rng.uniform(0, 1) for _ in range(40)]
    seg = cp._Segment(values[:3])
    for i in range(3, 40):
        seg.add(values[i])
        assert seg.cost() == pytest.approx(l1(values[: i + 1]), abs=1e-12)


def test_noise_sigma_ignores_a_step() -> None:
    # alternating +-0.01 around a level that jumps by 0.2 once: differences are +-0.02 except one
    xs = [(0.01 if i % 2 else -0.01) + (0.2 if i >= 10 else 0.0) for i in range(20)]
    # the definition, written out: MAD sigma of the successive differences over sqrt(2)
    diffs = [b - a for a, b in zip(xs, xs[1:], strict=False)]
    centre = statistics.median(diffs)
    expected = 1.4826 * statistics.median(abs(d - centre) for d in diffs) / math.sqrt(2)
    assert cp.noise_sigma(xs) == pytest.approx(max(expected, cp.SIGMA_FLOOR))
    assert cp.noise_sigma(xs) < 0.05  # the 0.2 step does not inflate it


def test_clean_step_is_found_and_dated() -> None:
    values = [1.0, 1.002, 0.998, 1.001, 0.999, 1.0, 1.003, 0.997, 1.05, 1.052, 1.048, 1.051, 1.05]
    found = cp.detect(values)
    [c] = found.change_points
    assert c.index == 8 and c.before == (0, 8) and c.after == (8, 13)
    # Hodges-Lehmann ratio: median of the 40 pairwise ratios after/before
    ratios = sorted(b / a for a in values[:8] for b in values[8:])
    assert c.ratio == pytest.approx(statistics.median(ratios), rel=1e-9)


def test_a_blip_is_an_outlier_not_a_change() -> None:
    values = [1.0, 1.002, 0.998, 1.001, 1.25, 0.999, 1.0, 1.003, 0.997, 1.001]
    found = cp.detect(values)
    assert found.outliers == [4] and found.change_points == []


def test_small_or_insignificant_steps_are_filtered() -> None:
    small = [1.0, 1.001, 0.999, 1.0, 1.001, 0.999, 1.02, 1.021, 1.019, 1.02, 1.021, 1.019]
    assert cp.detect(small).change_points == []  # 2 % < 3 % threshold
    assert len(cp.detect(small, threshold=0.01).change_points) == 1


def test_tonight_alone_is_pending() -> None:
    values = [1.0, 1.002, 0.998, 1.001, 0.999, 1.0, 1.003, 0.997, 1.0, 1.3]
    found = cp.detect(values)
    assert found.pending == 9 and found.change_points == []
    v = cp.verdict([cp.Night(str(i), x, (f"r{i}",), 1) for i, x in enumerate(values)])
    assert v.kind == cp.NO_CHANGE and v.pending


def _nights(values: list[float], spread: float | None = None) -> list[cp.Night]:
    return [cp.Night(f"n{i:02d}", x, (f"r{i}",), 3, spread) for i, x in enumerate(values)]


def test_verdicts() -> None:
    base = [1.0, 1.002, 0.998, 1.001, 0.999, 1.0, 1.003, 0.997, 1.0, 1.001]
    assert cp.verdict(_nights(base)).kind == cp.NO_CHANGE
    slower = cp.verdict(_nights(base + [1.06, 1.061, 1.059]))
    assert slower.kind == cp.REGRESSION and slower.night == "n10"
    assert slower.runs_before[-1] == "r9" and slower.runs_after == ("r10", "r11", "r12")
    faster = cp.verdict(_nights(base + [0.94, 0.941, 0.939]))
    assert faster.kind == cp.IMPROVEMENT
    # samples/s: more is better, so a drop is the regression
    assert cp.verdict(_nights(base + [0.94, 0.941, 0.939]), higher_is_better=True).kind == cp.REGRESSION
    assert cp.verdict(_nights(base[:5])).kind == cp.INCONCLUSIVE
    assert cp.verdict([]).kind == cp.INCONCLUSIVE
    unstable = cp.verdict(_nights(base, spread=math.log(1.05)))
    assert unstable.kind == cp.INCONCLUSIVE and "unstable" in unstable.reason
    # the change point stays reported for WINDOW nights, then it is the level
    later = cp.verdict(_nights(base + [1.06] * (cp.WINDOW + 1)))
    assert later.kind == cp.NO_CHANGE


def test_gate_makes_a_verdict_inconclusive() -> None:
    base = [1.0, 1.002, 0.998, 1.001, 0.999, 1.0, 1.003, 0.997, 1.0, 1.06, 1.061, 1.059]

    def throttled(night: cp.Night) -> str | None:
        return "SM clock 1200 MHz below its 2040 MHz maximum" if night.night == "n11" else None

    v = cp.verdict(_nights(base), gate=throttled)
    assert v.kind == cp.INCONCLUSIVE and "SM clock" in v.reason


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        cp.detect([1.0, 0.0, 1.0])
