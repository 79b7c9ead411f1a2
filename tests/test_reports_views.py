"""Report views: order-independent sums (byte-identical reports), hand-computed."""

from __future__ import annotations

import polars as pl
import pytest
from gep.reports.views import exact_sum, sum_by


def test_exact_sum_does_not_depend_on_row_order() -> None:
    # float addition is not associative: (1e16 + 1) − 1e16 = 0 but (1e16 − 1e16) + 1 = 1
    a = pl.DataFrame({"k": ["x"] * 3, "v": [1e16, 1.0, -1e16]})
    b = pl.DataFrame({"k": ["x"] * 3, "v": [1e16, -1e16, 1.0]})
    assert a.get_column("v").sum() != b.get_column("v").sum()  # the problem is real
    got = [df.group_by("k").agg(exact_sum("v")).item(0, "v") for df in (a, b)]
    assert got == [1.0, 1.0]  # exact: the true sum, whatever the order


def test_exact_sum_rounds_to_micro_units_and_skips_nan() -> None:
    df = pl.DataFrame({"k": ["x", "x", "x"], "v": [0.1234567891, 2.0000004, float("nan")]})
    # 0.123457 + 2.000000 = 2.123457 (each value rounded to 10⁻⁶ of its unit; NaN → null)
    assert df.group_by("k").agg(exact_sum("v")).item(0, "v") == pytest.approx(2.123457,
                                                                              abs=1e-12)


def test_sum_by_orders_largest_first_then_key() -> None:
    df = pl.DataFrame({"pool": ["b", "a", "c", "a"], "c_t": [5.0, 2.0, 5.0, 1.0]})
    assert sum_by(df, "pool", "c_t").rows() == [("b", 5.0), ("c", 5.0), ("a", 3.0)]


def test_row_sums_do_not_depend_on_the_order() -> None:
    from gep.reports.views import row_sums

    # 1e16 + 1 − 1e16 added left to right loses the 1 (1e16 + 1 rounds to 1e16): 0.0;
    # the correctly rounded Σ is 1.0 whatever the order; nulls count as 0
    df = pl.DataFrame({"a": [1e16, 0.1, None], "b": [1.0, 0.2, None], "c": [-1e16, 0.3, 2.5]})
    assert row_sums(df, ["a", "b", "c"]) == [1.0, 0.6, 2.5]
    assert row_sums(df, ["c", "b", "a"]) == [1.0, 0.6, 2.5]
