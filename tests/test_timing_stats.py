"""trtexec's statistics definitions, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from trtsweep.parsers import timing_stats as ts


@pytest.mark.parametrize(
    ("p", "n", "index"),
    [
        (99, 1000, 990),  # float32: (1 - 0.99) * 1000 = 9.99999 -> exclude 9; float64 gives 10 -> 989
        (90, 10, 8),  # float32 (1 - 0.9) * 10 = 1.0000002 -> exclude 1
        (95, 10, 9),  # float32 0.5000001 -> exclude 0
        (99, 10, 9),
        (50, 4, 1),  # exclude 2
        (100, 7, 6),
        (0, 7, 0),  # exclude 7 -> max(-1, 0)
        (99, 1, 0),
    ],
)
def test_percentile_index(p: float, n: int, index: int) -> None:
    assert ts.percentile_index(p, n) == index


def test_percentile_index_float64_would_differ() -> None:
    # The reason the float32 rule matters: plain Python arithmetic picks another element.
    assert 1000 - 1 - int((1 - 99 / 100) * 1000) == 989
    assert ts.percentile_index(99, 1000) == 990


def test_median_odd_and_even() -> None:
    assert ts.trt_median(ts.sorted_f32([3.0, 1.0, 2.0])) == 2.0
    assert ts.trt_median(ts.sorted_f32([4.0, 1.0, 3.0, 2.0])) == 2.5
    assert ts.trt_median(ts.sorted_f32([])) is None


def test_mean_is_float32_running_sum() -> None:
    # Ten 0.1f summed one by one in float32 give 1.00000012; / 10 = 0.100000012, whose nearest float32
    # is 0.1f + one ulp (7.45e-9) = 0.10000000894, not 0.1f (0.10000000149).
    mean = ts.trt_mean(ts.sorted_f32([0.1] * 10))
    assert mean == pytest.approx(0.10000000894, abs=1e-11)
    assert mean != float(np.float32(0.1))
    assert ts.trt_mean(ts.sorted_f32([1.0, 2.0, 3.0, 4.0])) == 2.5


def test_cv_uses_population_std() -> None:
    # [1, 2, 3, 4]: mean 2.5, population variance 1.25, std 1.1180340, CV 44.72136 % (sample std: 51.64 %)
    cv = ts.coefficient_of_variance(ts.sorted_f32([1.0, 2.0, 3.0, 4.0]))
    assert cv == pytest.approx(44.72136, abs=1e-4)
    assert ts.coefficient_of_variance(ts.sorted_f32([2.0, 2.0])) == 0.0
    assert ts.coefficient_of_variance(ts.sorted_f32([0.0, 0.0])) is None


def test_compute_stats_ten_values() -> None:
    stats = ts.compute_stats([float(x) for x in range(10, 0, -1)], (90, 95, 99))
    assert stats is not None
    assert (stats.min, stats.max, stats.mean, stats.median) == (1.0, 10.0, 5.5, 5.5)
    assert stats.percentiles == {"p90": 9.0, "p95": 10.0, "p99": 10.0}


def test_compute_stats_thousand_values_p99() -> None:
    stats = ts.compute_stats([float(x) for x in range(1, 1001)], (99, 99.9))
    assert stats is not None
    assert stats.percentiles["p99"] == 991.0  # index 990
    # float32 (1 - 0.999) * 1000 = 0.9999871 -> exclude 0, index 999
    assert stats.percentiles["p99.9"] == 1000.0
    assert stats.median == 500.5


def test_compute_stats_empty() -> None:
    assert ts.compute_stats([]) is None


def test_trace_order_mean_differs_from_sorted() -> None:
    # float32: 2^24 + 1 + 1 loses both ones in this order, keeps them when the small ones come first.
    values = [16777216.0, 1.0, 1.0]
    assert ts.compute_stats(values, (), trace_order_mean=True).mean == pytest.approx(16777216 / 3, rel=1e-7)
    assert ts.f32_sum(values) == 16777216.0
    assert ts.f32_sum(sorted(values)) == 16777218.0


def test_snap_duration_recovers_float32_value() -> None:
    # Near 200 ms the float32 spacing is 2^-16 ms; 0.275467 printed = 18053 * 2^-16 = 0.2754669189453125.
    assert ts.snap_duration(0.275467, 200.178) == 0.2754669189453125
    # Near 1 ms the grid is far finer than the printed digits: the value is kept.
    assert ts.snap_duration(0.275467, 1.0) == pytest.approx(0.275467, abs=1e-7)
    assert ts.snap_duration(0.0, 200.0) == 0.0


def test_agrees_with_printed() -> None:
    assert ts.agrees_with_printed(1.9292, 1.92919993)
    assert ts.agrees_with_printed(0.292246, 0.29224628)
    assert not ts.agrees_with_printed(0.292246, 0.29227743)
    assert ts.agrees_with_printed(0.0, 0.0)
    assert not ts.agrees_with_printed(0.0, 1e-6)
