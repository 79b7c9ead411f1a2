"""Accounting identities of the GEP tables, checked in code after every build.

A failed identity is an engine bug, not an input problem, so it raises
:class:`AccountIdentityError` (an ordinary exception, exit status 1), never
``InputError``. Tolerance: relative 1e-9 of the larger magnitude plus 1e-6 CNY.
"""

from __future__ import annotations

import polars as pl

REL_TOL = 1e-9
ABS_TOL = 1e-6


class AccountIdentityError(AssertionError):
    """An accounting identity of the GEP tables does not hold (engine bug)."""


def _mismatch(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    scale = pl.max_horizontal(left.abs(), right.abs())
    return (left - right).abs() > (scale * REL_TOL + ABS_TOL)


def assert_sums_equal(
    parts: pl.DataFrame,
    totals: pl.DataFrame,
    keys: list[str],
    part_col: str,
    total_col: str,
    what: str,
) -> None:
    """Σ parts[part_col] grouped by ``keys`` equals totals[total_col] on the same keys (both ways)."""
    summed = parts.group_by(keys).agg(pl.col(part_col).sum().alias("_parts"))
    joined = summed.join(
        totals.select([*[pl.col(k).cast(summed.schema[k]) for k in keys], pl.col(total_col).alias("_total")]),
        on=keys, how="full", coalesce=True, nulls_equal=True,
    ).with_columns(pl.col("_parts").fill_null(0.0), pl.col("_total").fill_null(0.0))
    bad = joined.filter(_mismatch(pl.col("_parts"), pl.col("_total")))
    if bad.height:
        raise AccountIdentityError(f"identity failed: {what}; first mismatches:\n{bad.head(5)}")


def assert_row_sum(df: pl.DataFrame, part_cols: list[str], total_col: str, what: str) -> None:
    """Σ of ``part_cols`` in each row equals ``total_col`` (e.g. categories → total)."""
    bad = df.filter(_mismatch(pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in part_cols]), pl.col(total_col)))
    if bad.height:
        raise AccountIdentityError(f"identity failed: {what}; first mismatches:\n{bad.head(5)}")


def assert_unique(df: pl.DataFrame, keys: list[str], what: str) -> None:
    """No key appears twice (e.g. no region counted twice in a roll-up)."""
    dup = df.group_by(keys).len().filter(pl.col("len") > 1)
    if dup.height:
        raise AccountIdentityError(f"identity failed: {what}; duplicated keys:\n{dup.head(5)}")


def assert_single_method(df: pl.DataFrame, keys: list[str], what: str) -> None:
    """Each total (``keys``) is built from one method only: the two methods are never mixed."""
    mixed = df.group_by(keys).agg(pl.col("method").n_unique().alias("n")).filter(pl.col("n") > 1)
    if mixed.height:
        raise AccountIdentityError(f"identity failed: {what}; methods mixed in:\n{mixed.head(5)}")


def assert_close(left: float, right: float, what: str) -> None:
    """Scalar version of the tolerance used above."""
    if abs(left - right) > max(abs(left), abs(right)) * REL_TOL + ABS_TOL:
        raise AccountIdentityError(f"identity failed: {what}: {left!r} != {right!r}")
