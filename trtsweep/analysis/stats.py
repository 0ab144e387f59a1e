"""Statistics for comparing measurements: pure functions, numbers in, numbers out, no I/O.

The unit of replication is the **repeat** (one trtexec process): per-inference samples of one process
share its clocks, its engine load and its memory placement, so they are not independent and pooling them
as replicates makes identical builds look different. Callers reduce each repeat to one number (trtexec's
median of a metric) and hand those numbers here.

Changes are estimated as *ratios* B/A on the log scale, so a 5 % slowdown reads the same at 1 ms and at
100 ms:

- :func:`shift` gives the Hodges-Lehmann estimate of the ratio (the median of all pairwise ratios
  ``b_j / a_i``), its distribution-free confidence interval (Moses' interval from the Mann-Whitney
  distribution: exact for small samples, normal approximation for large ones) and the two-sided
  Mann-Whitney p-value.
- :func:`mann_whitney` is the rank test on its own; :func:`cov`, :func:`log_spread` and
  :func:`pooled_log_spread` measure dispersion between repeats.

With three repeats a side the exact two-sided 95 % interval does not exist (the smallest achievable
p-value is 0.1): :func:`shift` then widens to the whole range of pairwise ratios and reports the
confidence it really achieved, rather than claim one it does not have.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

# Above this many pairs the exact Mann-Whitney distribution is replaced by its normal approximation
# (the error is then far below the resolution anyone reads a p-value at).
EXACT_MAX_PAIRS = 400


@dataclass(frozen=True)
class Shift:
    """The change from sample A to sample B as a ratio B/A."""

    ratio: float  # Hodges-Lehmann estimate of B/A
    low: float  # lower end of the confidence interval of the ratio
    high: float  # upper end
    confidence: float  # the confidence the interval really has (may exceed the one asked for)
    p_value: float  # two-sided Mann-Whitney p-value
    n_a: int
    n_b: int

    @property
    def change(self) -> float:
        """The change as a fraction: +0.05 is 5 % more (slower for times)."""
        return self.ratio - 1.0


def _clean(values: Sequence[float], name: str) -> list[float]:
    out = [float(v) for v in values]
    if any(not math.isfinite(v) or v <= 0 for v in out):
        raise ValueError(f"{name}: every value must be a positive finite number")
    return out


@lru_cache(maxsize=256)
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """Number of arrangements giving each Mann-Whitney U (0..m*n) for samples of m and n, no ties."""
    # f(m, n, u) = f(m-1, n, u-n) + f(m, n-1, u): the largest observation is from A (it beats all n
    # of B) or from B. Built row by row over m for each n.
    if m == 0 or n == 0:
        return (1,)
    prev = _u_counts(m - 1, n)
    left = _u_counts(m, n - 1)
    out = [0] * (m * n + 1)
    for u, c in enumerate(left):
        out[u] += c
    for u, c in enumerate(prev):
        out[u + n] += c
    return tuple(out)


def _u_cdf(u: int, m: int, n: int) -> float:
    """P(U <= u) under the null hypothesis, exact."""
    counts = _u_counts(m, n)
    if u < 0:
        return 0.0
    return sum(counts[: u + 1]) / math.comb(m + n, m)


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def _normal_quantile(p: float) -> float:
    """Inverse of the standard normal CDF (bisection on erfc: simple and exact enough here)."""
    lo, hi = -12.0, 12.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if _normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _ranks(values: Sequence[float]) -> list[float]:
    """Mid-ranks (1-based), ties sharing the mean of their ranks."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean_rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = mean_rank
        i = j + 1
    return ranks


def mann_whitney(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U test p-value that A and B come from one distribution.

    Exact when there are no ties and at most :data:`EXACT_MAX_PAIRS` pairs; otherwise the normal
    approximation with tie and continuity corrections. 1.0 when either sample is empty.
    """
    m, n = len(a), len(b)
    if m == 0 or n == 0:
        return 1.0
    pooled = [float(x) for x in a] + [float(x) for x in b]
    ranks = _ranks(pooled)
    u_a = sum(ranks[:m]) - m * (m + 1) / 2
    u = min(u_a, m * n - u_a)
    ties = len(set(pooled)) < len(pooled)
    if not ties and m * n <= EXACT_MAX_PAIRS:
        return min(1.0, 2.0 * _u_cdf(int(round(u)), m, n))
    total = m + n
    tie_term = 0.0
    for value in set(pooled):
        t = pooled.count(value)
        tie_term += t**3 - t
    var = m * n / 12.0 * ((total + 1) - tie_term / (total * (total - 1)))
    if var <= 0:
        return 1.0  # every value equal: no evidence of any difference
    z = (abs(u_a - m * n / 2.0) - 0.5) / math.sqrt(var)
    return min(1.0, 2.0 * (1.0 - _normal_cdf(max(z, 0.0))))


def _critical_rank(m: int, n: int, confidence: float) -> tuple[int, float]:
    """The k such that the pairwise differences d_(k) .. d_(mn+1-k) (1-based) cover with >= confidence.

    Returns (k, achieved confidence). k = 1 (the whole range) when no narrower interval qualifies.
    """
    alpha = 1.0 - confidence
    if m * n <= EXACT_MAX_PAIRS:
        # Largest c with P(U <= c - 1) <= alpha/2: interval [d_(c), d_(mn+1-c)].
        k = 1
        while _u_cdf(k, m, n) <= alpha / 2 and k < m * n // 2:
            k += 1
        achieved = 1.0 - 2.0 * _u_cdf(k - 1, m, n)
        return k, achieved
    z = _normal_quantile(1.0 - alpha / 2)
    k = int(math.floor(m * n / 2.0 - z * math.sqrt(m * n * (m + n + 1) / 12.0)))
    return max(k, 1), confidence


def shift(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Shift:
    """Hodges-Lehmann ratio B/A with a distribution-free interval and the Mann-Whitney p-value.

    ``a`` and ``b`` are one number per repeat (positive: times or rates). Raises ValueError when a side
    is empty or holds a value that is not positive and finite.
    """
    xa, xb = _clean(a, "A"), _clean(b, "B")
    if not xa or not xb:
        raise ValueError("both sides need at least one value")
    la, lb = [math.log(v) for v in xa], [math.log(v) for v in xb]
    diffs = sorted(y - x for x in la for y in lb)
    estimate = math.exp(statistics.median(diffs))
    m, n = len(xa), len(xb)
    k, achieved = _critical_rank(m, n, confidence)
    low, high = math.exp(diffs[k - 1]), math.exp(diffs[m * n - k])
    return Shift(estimate, low, high, achieved, mann_whitney(la, lb), m, n)


def cov(values: Sequence[float]) -> float | None:
    """Coefficient of variation (sample standard deviation / mean), None with fewer than 2 values."""
    xs = [float(v) for v in values]
    if len(xs) < 2:
        return None
    mean = statistics.fmean(xs)
    return statistics.stdev(xs) / mean if mean else None


def log_spread(values: Sequence[float]) -> float | None:
    """Sample standard deviation of the logs: the between-repeat spread as a relative figure.

    For small spreads it equals the CoV; it is what the ratio intervals are built on. None with fewer
    than 2 values.
    """
    xs = _clean(values, "values")
    if len(xs) < 2:
        return None
    return statistics.stdev(math.log(v) for v in xs)


def pooled_log_spread(groups: Sequence[Sequence[float]]) -> float | None:
    """The between-repeat spread pooled over groups (variants): sqrt of the df-weighted mean variance.

    Groups with fewer than 2 values carry no information and are skipped; None when none has 2.
    """
    num, df = 0.0, 0
    for group in groups:
        if len(group) < 2:
            continue
        s = log_spread(group)
        assert s is not None
        num += s * s * (len(group) - 1)
        df += len(group) - 1
    return math.sqrt(num / df) if df else None


def mad_sigma(values: Sequence[float]) -> float | None:
    """Robust standard deviation: 1.4826 x the median absolute deviation. None when empty."""
    xs = [float(v) for v in values]
    if not xs:
        return None
    centre = statistics.median(xs)
    return 1.4826 * statistics.median(abs(x - centre) for x in xs)
