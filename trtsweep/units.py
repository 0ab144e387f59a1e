"""How numbers are written, the same in every output: one precision rule per unit.

Timing noise between trtexec processes is rarely below 0.1 %, so four significant digits carry all the
information a time or a rate holds (``9.98889 qps`` is ``9.989 qps``); ratios are read to the hundredth
(``1.90x``) and percentages to three digits. Numbers never switch to exponent notation, and values at or
above ``10**digits`` are written whole (``15374 ms``, not ``1.537e+04``).

A *column* of numbers is written with one number of decimals (:func:`column`), so the digits line up and
no cell looks more precise than its neighbours.

Rendering only: no layer computes with these strings. Importable from every layer (no trtsweep imports).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MISSING = "-"

# Significant digits per unit; an unknown unit gets the default.
DIGITS = {"ms": 4, "us": 4, "s": 3, "qps": 4, "/s": 4, "samples/s": 4, "MiB": 4, "GiB": 3, "%": 3,
          "MHz": 4, "W": 3, "C": 3}
DEFAULT_DIGITS = 4
# Ratios (speedups, B/A) are written with a fixed two decimals.
RATIO_DECIMALS = 2
MAX_DECIMALS = 6


def _decimals_for(value: float, digits: int) -> int:
    """Decimals that show ``value`` with ``digits`` significant digits (0 for large values)."""
    if value == 0 or not math.isfinite(value):
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    return min(MAX_DECIMALS, max(0, digits - 1 - magnitude))


def number(value: float | int | None, unit: str = "", digits: int | None = None,
           missing: str = MISSING) -> str:
    """One number with its unit's precision (``unit`` is appended after a space unless it is ``%``
    or ``x``). None, NaN and infinities are written as ``missing``."""
    if value is None or isinstance(value, bool):
        return missing if value is None else str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return missing
    text = _plain(float(value), unit, digits) if isinstance(value, float) else str(value)
    return _with_unit(text, unit)


def _plain(value: float, unit: str, digits: int | None) -> str:
    if unit == "x":
        return f"{value:.{RATIO_DECIMALS}f}"
    d = digits if digits is not None else DIGITS.get(unit, DEFAULT_DIGITS)
    decimals = _decimals_for(value, d)
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "x") else f"{text} {unit}"


def ratio(value: float | None, missing: str = MISSING) -> str:
    """A ratio as ``1.90x``."""
    return number(value, "x", missing=missing)


def column(values: Sequence[float | int | None], unit: str = "", digits: int | None = None,
           missing: str = MISSING, with_unit: bool = False) -> list[str]:
    """A column of numbers with one number of decimals.

    The decimals are those the smallest non-zero value needs for its unit's significant digits, but no
    more than the largest needs for two digits more (so ``26.91`` and ``2672`` give ``26.91`` and
    ``2672.00``; at most six decimals). Integers stay integers. ``with_unit`` appends the unit to each
    cell (tables usually name it in the header).
    """
    floats = [float(v) for v in values if isinstance(v, float) and math.isfinite(v)]
    if unit == "x":
        decimals = RATIO_DECIMALS
    elif floats:
        d = digits if digits is not None else DIGITS.get(unit, DEFAULT_DIGITS)
        largest = max(floats, key=abs)
        nonzero = [abs(v) for v in floats if v != 0]
        decimals = _decimals_for(largest, d)
        if nonzero:
            decimals = max(decimals, min(_decimals_for(min(nonzero), d), _decimals_for(largest, d + 2)))
    else:
        decimals = 0
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            out.append(missing)
            continue
        text = f"{float(v):.{decimals}f}" if isinstance(v, float) else str(v)
        out.append(_with_unit(text, unit) if with_unit else text)
    return out
