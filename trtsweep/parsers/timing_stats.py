"""trtexec's own statistics definitions, as pure functions.

trtexec computes its performance summary in single precision (``float``) over the timed samples
sorted ascending (``sampleReporting.cpp`` ``getPerformanceResult``). Reproducing a printed figure to
all six printed digits therefore needs the same float32 arithmetic, not numpy's float64 defaults:

* mean: a float32 *running* sum (``std::accumulate`` with a ``0.0f`` seed), divided by N;
* median: the middle element, or the float32 mean of the two middle ones for an even N;
* percentile p: not interpolated; ``exclude = int((1 - p/100) * N)`` evaluated in float32 and the
  element at ``max(N - 1 - exclude, 0)`` taken (float32 matters: N=1000, p=99 gives index 990);
* coefficient of variance: population standard deviation (divide by N) / mean * 100, with the squared
  deviations accumulated in float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from trtsweep.records import Stats, percentile_key

_F32 = np.float32


def to_float(value: np.floating | float) -> float:
    """The exact value of a float32 result as a Python float.

    Kept exact (not shortened to ``1.9292``): trtexec prints the float's exact binary value rounded to 6
    digits, and shortening first would round some values twice, the wrong way.
    """
    return float(_F32(value))


def sorted_f32(values: Iterable[float]) -> np.ndarray:
    """The values as an ascending float32 array (trtexec stores every duration as ``float``)."""
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float32)
    return np.sort(arr, kind="stable")


def percentile_index(p: float, n: int) -> int:
    """Index into an ascending list of ``n`` values that trtexec reports as percentile ``p``."""
    if n <= 0:
        return 0
    exclude = int(_F32(_F32(_F32(1) - _F32(p) / _F32(100)) * _F32(n)))
    return max(n - 1 - exclude, 0)


def trt_percentile(sorted_values: np.ndarray, p: float) -> float | None:
    """Percentile ``p`` (0..100) of an ascending float32 array, trtexec style; None for no values."""
    if len(sorted_values) == 0 or not 0 <= p <= 100:
        return None
    return to_float(sorted_values[percentile_index(p, len(sorted_values))])


def trt_median(sorted_values: np.ndarray) -> float | None:
    """Median of an ascending float32 array: the middle value, or the float32 mean of the middle two."""
    n = len(sorted_values)
    if n == 0:
        return None
    m = n // 2
    if n % 2:
        return to_float(sorted_values[m])
    return to_float((_F32(sorted_values[m - 1]) + _F32(sorted_values[m])) / _F32(2))


def _f32_mean(sorted_values: np.ndarray) -> np.float32:
    # np.cumsum accumulates sequentially in the requested dtype (unlike np.sum's pairwise scheme),
    # which is exactly std::accumulate over floats.
    total = np.cumsum(sorted_values, dtype=np.float32)[-1]
    return _F32(total / _F32(len(sorted_values)))


def trt_mean(values: np.ndarray) -> float | None:
    """Mean as trtexec computes it: a float32 running sum over ``values`` in the given order, divided by N.

    8.0+ sums the ascending values; 7.x sums in trace order (H2D start) before sorting, so pass the
    values in that order to reproduce a 7.x figure.
    """
    if len(values) == 0:
        return None
    return to_float(_f32_mean(np.asarray(values, dtype=np.float32)))


def f32_sum(values: Iterable[float]) -> float:
    """The float32 running sum of ``values`` in their order (``std::accumulate`` over floats)."""
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float32)
    return to_float(np.cumsum(arr, dtype=np.float32)[-1]) if len(arr) else 0.0


def coefficient_of_variance(sorted_values: np.ndarray) -> float | None:
    """Population std / mean * 100 in float32 (trtexec's CV, printed in the unstable-GPU warning)."""
    n = len(sorted_values)
    if n == 0:
        return None
    mean = _f32_mean(sorted_values)
    if mean == 0:
        return None
    diff = (sorted_values - mean).astype(np.float32)
    var = _F32(np.cumsum(diff * diff, dtype=np.float32)[-1] / _F32(n))
    return to_float(_F32(np.sqrt(var)) / mean * _F32(100))


def compute_stats(values: Iterable[float], percentiles: Sequence[float] = (90, 95, 99),
                  trace_order_mean: bool = False) -> Stats | None:
    """min/max/mean/median and the requested percentiles of ``values``, by trtexec's definitions.

    ``trace_order_mean`` sums in the given order instead of ascending (TensorRT 7.x).
    """
    raw = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float32)
    arr = np.sort(raw, kind="stable")
    if len(arr) == 0:
        return None
    pct: dict[str, float] = {}
    for p in percentiles:
        value = trt_percentile(arr, float(p))
        if value is not None:
            pct[percentile_key(p)] = value
    return Stats(
        min=to_float(arr[0]),
        max=to_float(arr[-1]),
        mean=trt_mean(raw if trace_order_mean else arr),
        median=trt_median(arr),
        percentiles=pct,
    )


def float32_grid(timestamp_ms: float) -> float | None:
    """Spacing of float32 values around ``timestamp_ms`` (its ulp), None for 0 or non-finite input."""
    if not math.isfinite(timestamp_ms) or timestamp_ms == 0:
        return None
    return float(np.spacing(_F32(abs(timestamp_ms))))


def snap_duration(printed: float, start_ms: float) -> float:
    """Recover the float32 duration trtexec had from its 6-significant-digit export.

    trtexec derives a duration as the float32 difference of two float32 timestamps measured from the
    start of the inference loop, so the true value is a multiple of the timestamps' ulp (2^-12 ms near
    3000 ms). When that grid is coarser than the printed rounding, the nearest grid point *is* the
    original value; summing the printed values instead shifts a 10,000-sample float32 mean in its
    5th digit. The snapped value is used only if it lies within the printed rounding, so exports
    whose timestamps are not float32 are left untouched.
    """
    grid = float32_grid(start_ms)
    if grid is None or not math.isfinite(printed) or printed == 0:
        return printed
    snapped = round(printed / grid) * grid
    return snapped if abs(snapped - printed) <= printed_tolerance(printed) else printed


def snap_durations(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Durations moved back onto the float32 grid of their timestamps, when the file shows they are on it.

    8.x+ derives durations as differences of float32 timestamps (see :func:`snap_duration`);
    7.x exports are not on that grid (snapping would move ~4 % of their values at random), so the
    snap is applied only when nearly every sample whose grid is coarser than the printed rounding
    lies within that rounding of a grid point.
    """
    out = values.copy()
    ok = np.isfinite(values) & np.isfinite(starts) & (values != 0) & (starts != 0)
    if not ok.any():
        return out
    grid = np.spacing(np.abs(starts[ok]).astype(np.float32)).astype(np.float64)
    snapped = np.round(values[ok] / grid) * grid
    tol = 0.5 * 10.0 ** (np.floor(np.log10(np.abs(values[ok]))) - 5) * (1 + 1e-9)
    close = np.abs(snapped - values[ok]) <= tol
    telling = grid > 4 * tol  # where a random value would rarely land near a grid point
    if not telling.any() or close[telling].mean() < 0.99:
        return out
    # Where two grid points lie within the printed rounding the true one is unknown: keep the printed value.
    out[ok] = np.where(close & (grid > 2 * tol), snapped, values[ok])
    return out


def printed_tolerance(value: float, digits: int = 6) -> float:
    """Half a unit in the last place of ``value`` printed with ``digits`` significant digits."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    exponent = math.floor(math.log10(abs(value)))
    # A hair of slack so that a value exactly on a rounding boundary is accepted from either side.
    return 0.5 * 10.0 ** (exponent - digits + 1) * (1 + 1e-9)


def agrees_with_printed(printed: float, computed: float, digits: int = 6) -> bool:
    """True when ``computed`` printed with ``digits`` significant digits could read as ``printed``."""
    if printed == 0:
        return abs(computed) <= 1e-12
    # The printed value was itself rounded from the true one: accept anything within half a unit of
    # its last digit (a 6-digit value on a decade boundary may have been rounded up from below).
    tol = max(printed_tolerance(printed, digits), printed_tolerance(computed, digits))
    return abs(printed - computed) <= tol
