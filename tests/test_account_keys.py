"""Integer keys of large tables (gep.account._order): same order and sums as Polars' text-column sort and group_by."""

from __future__ import annotations

import numpy as np
import polars as pl

from gep.account._order import SMALL_ROWS, key_codes, sort_by_keys, sum_by, value_ranks
from gep.account.equivalent import SERVICES_SORT, conform_services, equivalent_factor_services

N = SMALL_ROWS + 5_000  # above the threshold: the integer-key path is the one tested


def _table(n: int = N) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    words = np.array(["水田", "旱地", "b", "a", "ab", "Z", "", "éa"])
    region = rng.choice(words, n).astype(object)
    region[rng.random(n) < 0.05] = None  # nulls in a text key
    return pl.DataFrame({
        "region_id": pl.Series(region, dtype=pl.Utf8),
        "year": rng.integers(1990, 2030, n).astype(np.int32),
        "service": rng.choice(words[:4], n),
        "value_cny": rng.random(n),
    })


def test_value_ranks_follow_sorted_text_and_put_nulls_last_or_first() -> None:
    s = pl.Series(["b", None, "a", "水田", "a"])
    ranks, size = value_ranks(s, nulls_last=True)
    assert ranks.to_list() == [1, 3, 0, 2, 0] and size == 4
    assert value_ranks(s, nulls_last=False)[0].to_list() == [2, 0, 1, 3, 1]
    years = pl.Series([2020, 2015, None], dtype=pl.Int32)
    assert value_ranks(years, nulls_last=True)[0].to_list() == [5, 0, 6]


def test_key_codes_order_is_the_sort_order() -> None:
    df = _table()
    keys = ["region_id", "year", "service"]
    for nulls_last in (True, False):
        code = key_codes(df, keys, nulls_last=nulls_last)
        assert code is not None
        got = df.with_columns(code).sort("__key", maintain_order=True).drop("__key")
        assert got.equals(df.sort(keys, nulls_last=nulls_last, maintain_order=True))
    assert sort_by_keys(df, keys).equals(df.sort(keys, nulls_last=True, maintain_order=True))


def test_sum_by_equals_group_by_then_sort() -> None:
    df = _table()
    keys = ["region_id", "year", "service"]
    for nulls_last in (True, False):
        want = df.group_by(keys).agg(pl.col("value_cny").sum()).sort(keys, nulls_last=nulls_last)
        got = sum_by(df, keys, ["value_cny"], nulls_last=nulls_last)
        assert got.select(keys).equals(want.select(keys))
        assert np.allclose(got["value_cny"].to_numpy(), want["value_cny"].to_numpy(), rtol=1e-12, atol=0)
    assert abs(sum_by(df, keys, ["value_cny"])["value_cny"].sum() - df["value_cny"].sum()) < 1e-6  # conservation
    small = df.head(10)
    assert sum_by(small, keys, ["value_cny"]).equals(
        small.group_by(keys).agg(pl.col("value_cny").sum()).sort(keys, nulls_last=True))


def test_equivalent_services_come_out_in_services_order_without_a_text_sort() -> None:
    rng = np.random.default_rng(5)
    regions = [f"{510100 + i:06d}" for i in range(800)][::-1]  # not in sorted order
    types = ["水田", "旱地", "阔叶"]
    n = len(regions) * 2 * len(types)
    extent = pl.DataFrame({
        "region_id": np.repeat(regions, 2 * len(types)),
        "year": np.tile(np.repeat([2020, 2015], len(types)), len(regions)).astype(np.int32),
        "class": np.tile(types, 2 * len(regions)),
        "ecosystem_type": np.tile(types, 2 * len(regions)),
        "area_ha": rng.uniform(1, 100, n),
    })
    eq = pl.DataFrame({"ecosystem_type": ["阔叶", "水田", "旱地", "水田"],
                       "service": ["water_supply", "water_supply", "food_production", "food_production"],
                       "value": [0.5, -2.63, 0.85, 1.36]})
    s = equivalent_factor_services(extent, eq, 3406.5)
    assert s.height == len(regions) * 2 * 4
    assert s.equals(conform_services(s.sample(fraction=1.0, shuffle=True, seed=1)))
    assert s.equals(s.sort(SERVICES_SORT, nulls_last=True, maintain_order=True))
    # one hand-computed row: 水田 water supply = area_ha × −2.63 × 3406.5
    row = s.filter((pl.col("region_id") == "510100") & (pl.col("year") == 2015)
                   & (pl.col("ecosystem_type") == "水田") & (pl.col("service") == "water_supply"))
    a = extent.filter((pl.col("region_id") == "510100") & (pl.col("year") == 2015)
                      & (pl.col("ecosystem_type") == "水田"))["area_ha"][0]
    assert abs(row["value_cny"][0] - a * -2.63 * 3406.5) < 1e-6


def test_dictionary_encoded_keys_rank_sort_and_sum_like_text() -> None:
    """A Categorical key (the account's in-memory services table) ranks by its text, not by its codes."""
    df = _table()
    enc = df.with_columns(pl.col("region_id", "service").cast(pl.Categorical))
    ranks_text, n_text = value_ranks(df["region_id"], nulls_last=False)
    ranks_enc, n_enc = value_ranks(enc["region_id"], nulls_last=False)
    assert n_text == n_enc and ranks_text.equals(ranks_enc)
    keys = ["region_id", "year", "service"]
    assert key_codes(df, keys).equals(key_codes(enc, keys))
    got = sum_by(enc, keys, ["value_cny"]).with_columns(pl.col("region_id", "service").cast(pl.Utf8))
    assert got.equals(sum_by(df, keys, ["value_cny"]))


def test_sum_by_at_the_tables_own_grain_returns_the_rows_as_group_sums_would() -> None:
    """One row per key already in key order: no regrouping; −0.0 and null come out bit for bit as a group sum gives them."""
    n = N
    df = pl.DataFrame({"k": np.arange(n, dtype=np.int64) // 1, "v": np.linspace(-1.0, 1.0, n)})
    df = df.with_columns(pl.when(pl.col("k") == 7).then(-0.0).when(pl.col("k") == 9).then(None)
                         .otherwise(pl.col("v")).alias("v"))
    got = sum_by(df, ["k"], ["v"])
    want = df.group_by("k").agg(pl.col("v").sum()).sort("k")
    assert got.equals(want) and got["v"].to_numpy().tobytes() == want["v"].to_numpy().tobytes()
    assert got["v"][9] == 0.0
    shuffled = df.sample(fraction=1.0, seed=1)  # not in key order: the grouping path, same result
    assert sum_by(shuffled, ["k"], ["v"]).equals(want)


def test_equivalent_services_same_from_the_dense_area_lookup_and_the_cell_join() -> None:
    """Years far apart make the (region, year, type) cell array too sparse for a dense lookup: the join path
    gives the same rows; a region missing a type in a year gets no row for that type in either path."""
    rng = np.random.default_rng(11)
    regions = [f"{510100 + i:06d}" for i in range(400)]
    types = ["水田", "旱地", "阔叶"]
    rows = [(r, y, t, float(rng.uniform(1, 100))) for r in regions for y in (0, 1) for t in types
            if not (r.endswith("7") and y == 1 and t == "旱地")]
    near = pl.DataFrame(rows, schema=["region_id", "year", "class", "area_ha"], orient="row").with_columns(
        pl.col("year").cast(pl.Int32) + 2015, pl.col("class").alias("ecosystem_type"))
    far = near.with_columns(pl.when(pl.col("year") == 2016).then(4015).otherwise(2015).cast(pl.Int32).alias("year"))
    eq = pl.DataFrame({"ecosystem_type": ["阔叶", "水田", "旱地"], "service": ["water_supply"] * 3,
                       "value": [0.5, -2.63, 0.85]})
    dense = equivalent_factor_services(near, eq, 3406.5)
    joined = equivalent_factor_services(far, eq, 3406.5)  # 400 regions × 2001 years × 3 types > 1M cells
    assert dense.height == len(rows) and joined.height == len(rows)
    assert joined.with_columns(pl.when(pl.col("year") == 4015).then(2016).otherwise(2015).cast(pl.Int32)
                               .alias("year")).equals(dense)
