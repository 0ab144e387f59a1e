"""units: one precision rule per unit, columns with one number of decimals."""

from __future__ import annotations

import math

from trtsweep import units


def test_number_uses_the_units_significant_digits_without_exponents() -> None:
    assert units.number(9.98889, "qps") == "9.989 qps"
    assert units.number(15374.3, "ms") == "15374 ms"
    assert units.number(0.004096, "ms") == "0.004096 ms"
    assert units.number(1.5, "x") == "1.50x"
    assert units.number(12.345, "%") == "12.3%"
    assert units.number(None, "ms") == "-"
    assert units.number(math.nan, "ms") == "-"
    assert units.number(3, "ms") == "3 ms"
    assert units.number(2.0, "ms") == "2 ms"  # trailing zeros of a single value carry nothing
    assert units.ratio(1.896) == "1.90x"


def test_column_shares_one_number_of_decimals() -> None:
    # Smallest value 9.98889 needs 3 decimals for 4 digits; the largest (1520.2) allows at most 2 (6 digits).
    assert units.column([9.98889, 263.4, 1520.2], "qps") == ["9.99", "263.40", "1520.20"]
    assert units.column([26.91, 2671.88], "ms") == ["26.91", "2671.88"]
    assert units.column([0.0, 12.5, None], "ms") == ["0.00", "12.50", "-"]
    assert units.column([1.2, 3], "ms", with_unit=True) == ["1.200 ms", "3 ms"]
    assert units.column([1.234, 2.5], "x") == ["1.23", "2.50"]
    assert units.column([None, None]) == ["-", "-"]
