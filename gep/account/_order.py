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

import numpy as np
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
    elif isinstance(s.dtype, pl.Categorical):
        return _categorical_ranks(s, nulls_last)
    else:
        values = s.cast(pl.Utf8).drop_nulls().unique().sort()
        size = len(values)
        codes = s.cast(pl.Utf8).cast(pl.Enum(values.to_list())).to_physical().cast(pl.Int64)
    return (codes.fill_null(size) if nulls_last else (codes + 1).fill_null(0)), size + 1


def _categorical_ranks(s: pl.Series, nulls_last: bool) -> tuple[pl.Series, int]:
    """value_ranks of a Categorical: its few distinct codes ranked by their text, then one array lookup per row."""
    phys = s.to_physical()
    nulls = phys.null_count()
    if nulls == s.len():
        return pl.repeat(0, s.len(), dtype=pl.Int64, eager=True), 1
    codes = phys.drop_nulls().to_numpy()
    rows = np.flatnonzero(phys.is_not_null().to_numpy()) if nulls else np.arange(codes.size)
    first = np.full(int(codes.max()) + 1, -1, dtype=np.int64)
    first[codes] = rows  # a row of each code present (the last one; any will do)
    present = np.flatnonzero(first >= 0)
    order = s.gather(first[present]).cast(pl.Utf8).arg_sort().to_numpy()  # codes present, by their text
    rank = np.zeros(first.size, dtype=np.int64)
    rank[present[order]] = np.arange(present.size)
    size = int(present.size)
    ranked = pl.Series(s.name, rank[phys.fill_null(0).to_numpy()])
    if nulls:
        ranked = pl.select(pl.when(phys.is_null()).then(size if nulls_last else -1).otherwise(ranked)).to_series()
    return (ranked if nulls_last else ranked + 1), size + 1


def key_codes(df: pl.DataFrame, keys: list[str], *, nulls_last: bool = True) -> pl.Series | None:
    """One Int64 per row whose order is the order of ``df.sort(keys, nulls_last=...)``; equal keys, equal codes.

    None when the distinct values are too many to pack into 62 bits (callers fall back to
    Polars' own multi-column sort or group_by).
    """
    ranks = [value_ranks(df.get_column(k), nulls_last) for k in keys]
    if math.prod(size for _, size in ranks) >= _MAX_CODE:
        return None
    code = ranks[0][0].to_numpy().astype(np.int64, copy=True)  # packed in place: one buffer, no temporaries
    for r, size in ranks[1:]:
        code *= size
        code += r.to_numpy()
    return pl.Series("__key", code)


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
        # themselves (a null sums to 0.0, as in a group sum)
        return df.select(*keys, *[pl.col(v).fill_null(0.0) for v in values])
    return (df.select(*keys, *values).with_columns(code)
            .group_by("__key").agg(*[pl.col(k).first() for k in keys], *[pl.col(v).sum() for v in values])
            .sort("__key").drop("__key"))


def keyed_like(small: pl.DataFrame, big: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``small`` with its ``keys`` cast to ``big``'s types, so a text lookup table joins a dictionary-encoded column."""
    return small.with_columns([pl.col(k).cast(big.schema[k]) for k in keys if small.schema[k] != big.schema[k]])
