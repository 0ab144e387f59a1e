"""analysis.stats: hand-computed values (combinatorics of the Mann-Whitney distribution)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trtsweep.analysis import stats


def test_u_distribution_is_the_binomial_count_of_arrangements() -> None:
    # m=n=2: the 6 orderings give U = 0,1,2,2,3,4.
    assert stats._u_counts(2, 2) == (1, 1, 2, 1, 1)
    for m, n in [(3, 3), (5, 5), (4, 7)]:
        assert sum(stats._u_counts(m, n)) == math.comb(m + n, m)


def test_mann_whitney_exact_p_for_fully_separated_samples() -> None:
    # Only one arrangement of C(6,3)=20 puts all of B above A: two-sided p = 2/20.
    assert stats.mann_whitney([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)
    assert stats.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)


def test_mann_whitney_identical_values_carry_no_evidence() -> None:
    assert stats.mann_whitney([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]) == 1.0
    assert stats.mann_whitney([], [1.0]) == 1.0


def test_mann_whitney_normal_approximation_for_large_samples() -> None:
    a = [float(i) for i in range(30)]
    b = [float(i) + 0.5 for i in range(30)]
    p = stats.mann_whitney(a, b)  # 30 x 30 pairs: normal approximation
    # U_a = 435 (of 900), sigma = sqrt(900*61/12) = 67.64: z = (450-435-0.5)/67.64 = 0.2144.
    assert p == pytest.approx(2 * (1 - stats._normal_cdf(14.5 / math.sqrt(900 * 61 / 12))), rel=1e-9)
    assert 0.8 < p < 0.85


def test_shift_is_the_median_pairwise_ratio() -> None:
    s = stats.shift([10.0, 10.0, 10.0], [11.0, 11.0, 11.0])
    assert s.ratio == pytest.approx(1.1)
    assert s.change == pytest.approx(0.1)
    # three a side: no 95 % interval exists; the whole range has 1 - 2/20 = 90 %.
    assert s.confidence == pytest.approx(0.9)
    assert (s.low, s.high) == (pytest.approx(1.1), pytest.approx(1.1))


def test_shift_interval_with_five_a_side() -> None:
    a = [100.0, 101.0, 99.0, 100.5, 99.5]
    b = [v * 1.05 for v in a]
    s = stats.shift(a, b)
    assert s.ratio == pytest.approx(1.05, rel=1e-3)
    # m=n=5: U counts 1,1,2,3,...: P(U<=2) = 4/252 <= 0.025 < P(U<=3) = 7/252, so d_(3) .. d_(23).
    assert s.confidence == pytest.approx(1 - 2 * 4 / 252)
    assert s.low < 1.05 < s.high
    assert s.p_value == pytest.approx(stats.mann_whitney(a, b))


def test_shift_refuses_non_positive_values() -> None:
    with pytest.raises(ValueError):
        stats.shift([1.0, 0.0], [1.0])
    with pytest.raises(ValueError):
        stats.shift([], [1.0])


def test_dispersion_helpers() -> None:
    assert stats.cov([1.0]) is None
    assert stats.cov([9.0, 11.0]) == pytest.approx(math.sqrt(2) / 10)
    assert stats.log_spread([1.0, math.e]) == pytest.approx(1 / math.sqrt(2))
    # pooled: groups [1, e] (var 0.5, df 1) and [1, 1, 1] (var 0, df 2) -> sqrt(0.5 / 3)
    pooled = stats.pooled_log_spread([[1.0, math.e], [1.0, 1.0, 1.0], [5.0]])
    assert pooled == pytest.approx(math.sqrt(0.5 / 3))
    assert stats.pooled_log_spread([[5.0]]) is None
    assert stats.mad_sigma([1.0, 2.0, 3.0, 4.0, 100.0]) == pytest.approx(1.4826)


@given(st.lists(st.floats(0.1, 1000), min_size=1, max_size=12),
       st.lists(st.floats(0.1, 1000), min_size=1, max_size=12))
def test_shift_interval_contains_the_estimate_and_p_is_a_probability(a: list[float], b: list[float]) -> None:
    s = stats.shift(a, b)
    assert s.low <= s.ratio * (1 + 1e-12) and s.ratio <= s.high * (1 + 1e-12)
    assert 0.0 <= s.p_value <= 1.0
    assert 0.0 <= s.confidence <= 1.0
    # Swapping the sides inverts the ratio.
    assert stats.shift(b, a).ratio == pytest.approx(1 / s.ratio)
