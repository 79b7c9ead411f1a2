"""Integer keys for large tables: deterministic ordering and grouping by many text columns.

Polars sorts and groups several string columns through row encoding, which is slow on the
10⁷-row national services table. :func:`key_codes` replaces each key column by its rank among
the column's sorted distinct values (an Enum cast over the sorted distinct values, nulls
last) and packs the ranks into one Int64 whose order is the order of
``df.sort(keys, nulls_last=True)``. :func:`sort_by_keys` sorts by that integer;
:func:`sum_by` groups by it (one integer key instead of several text columns) and returns
the groups already in key order.
"""

from __future__ import annotations

import math

import polars as pl

_MAX_CODE = 2**62
SMALL_ROWS = 100_000  # below this, Polars' own multi-column sort and group_by are as fast


def value_ranks(s: pl.Series, nulls_last: bool) -> tuple[pl.Series, int]:
    """(rank of each value among the sorted distinct values as Int64, nulls ranked last or first; number of ranks)."""
    if s.dtype.is_integer():
        lo, hi = s.min(), s.max()
        if lo is None:
            return pl.zeros(s.len(), dtype=pl.Int64, eager=True), 1
        size = int(hi) - int(lo) + 1
        codes = s.cast(pl.Int64) - int(lo)
    elif isinstance(s.dtype, pl.Categorical):  # ranks of the few distinct codes, then one integer lookup per row
        distinct = s.unique().drop_nulls()
        codes_u = distinct.to_physical()
        order = distinct.cast(pl.Utf8).arg_sort()
        size = len(codes_u)
        codes = s.to_physical().replace_strict(codes_u.gather(order), pl.Series(range(size), dtype=pl.Int64),
                                               default=None, return_dtype=pl.Int64)
    else:
        values = s.cast(pl.Utf8).drop_nulls().unique().sort()
        size = len(values)
        codes = s.cast(pl.Utf8).cast(pl.Enum(values.to_list())).to_physical().cast(pl.Int64)
    return (codes.fill_null(size) if nulls_last else (codes + 1).fill_null(0)), size + 1


def key_codes(df: pl.DataFrame, keys: list[str], *, nulls_last: bool = True) -> pl.Series | None:
    """One Int64 per row whose order is the order of ``df.sort(keys, nulls_last=...)``; equal keys, equal codes.

    None when the distinct values are too many to pack into 62 bits (callers fall back to
    Polars' own multi-column sort or group_by).
    """
    ranks = [value_ranks(df.get_column(k), nulls_last) for k in keys]
    if math.prod(size for _, size in ranks) >= _MAX_CODE:
        return None
    code = ranks[0][0]
    for r, size in ranks[1:]:
        code = code * size + r
    return code.alias("__key")


def sort_by_keys(df: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``df`` sorted by ``keys`` ascending, nulls last, ties kept in input order."""
    code = key_codes(df, keys) if df.height >= SMALL_ROWS else None
    if code is None:
        return df.sort(keys, nulls_last=True, maintain_order=True)
    return df.with_columns(code).sort("__key", maintain_order=True).drop("__key")


def sum_by(df: pl.DataFrame, keys: list[str], values: list[str], *, nulls_last: bool = True) -> pl.DataFrame:
    """``df.group_by(keys).agg(sum of values)`` sorted by keys (nulls last or first); rows of a group summed in input order.

    Large tables are grouped by one packed integer key (:func:`key_codes`) instead of the text columns.
    """
    code = key_codes(df, keys, nulls_last=nulls_last) if df.height >= SMALL_ROWS else None
    if code is None:
        return (df.group_by(keys).agg([pl.col(v).sum() for v in values])
                .sort(keys, nulls_last=nulls_last, maintain_order=True))
    if code.len() > 1 and bool((code.diff().drop_nulls() > 0).all()):
        # already one row per key, in key order (a services table at its own grain): the sums are the rows
        # themselves, with −0.0 and null summed as a group sum would (to 0.0)
        return df.select(*keys, *[(pl.col(v).fill_null(0.0) + 0.0).alias(v) for v in values])
    return (df.select(*keys, *values).with_columns(code)
            .group_by("__key").agg(*[pl.col(k).first() for k in keys], *[pl.col(v).sum() for v in values])
            .sort("__key").drop("__key"))


def keyed_like(small: pl.DataFrame, big: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``small`` with its ``keys`` cast to ``big``'s types, so a text lookup table joins a dictionary-encoded column."""
    return small.with_columns([pl.col(k).cast(big.schema[k]) for k in keys if small.schema[k] != big.schema[k]])
