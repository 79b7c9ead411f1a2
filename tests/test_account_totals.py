"""Province and all-region GEP totals and growth (gep.account.totals), hand-computed.

Fixture (CNY, method function_value):
  region   2020: regulating, cultural, total   area_km2     2025 total
  510104        100, 20 → 120                 10            150
  510105         50,  0 →  50                 None          40
  520102         30, 10 →  40                 5             60
  province 510000: 2020 170 (area null: 510105 has none), 2025 190 → +20, +11.7647 %
  province 520000: 2020 40, 2025 60 → +20, +50 %, annual (1.5)^(1/5) − 1
  all regions:     2020 210, 2025 250 → +40 = 30 + (−10) + 20
"""

from __future__ import annotations

import polars as pl
import pytest
from gep.account.totals import gep_growth, gep_level_totals


def _gep() -> pl.DataFrame:
    rows = [("510104", 2020, 100.0, 20.0, 10.0), ("510105", 2020, 50.0, 0.0, None),
            ("520102", 2020, 30.0, 10.0, 5.0),
            ("510104", 2025, 120.0, 30.0, 10.0), ("510105", 2025, 40.0, 0.0, None),
            ("520102", 2025, 50.0, 10.0, 5.0)]
    df = pl.DataFrame(rows, orient="row", schema={"region_id": pl.Utf8, "year": pl.Int32,
                                                  "regulating_cny": pl.Float64,
                                                  "cultural_cny": pl.Float64,
                                                  "area_km2": pl.Float64})
    return df.with_columns(pl.lit("function_value").alias("method"),
                           (pl.col("regulating_cny") + pl.col("cultural_cny")).alias("total_cny"),
                           pl.lit(0.0).alias("imported_deduction_cny"))


def test_level_totals_hand_computed() -> None:
    t = gep_level_totals(_gep())
    assert t.select("level", "region_id", "year").rows() == [
        ("all", "all", 2020), ("all", "all", 2025), ("province", "510000", 2020),
        ("province", "510000", 2025), ("province", "520000", 2020), ("province", "520000", 2025)]
    assert t.get_column("total_cny").to_list() == [210.0, 250.0, 170.0, 190.0, 40.0, 60.0]
    assert t.get_column("regulating_cny").to_list() == [180.0, 210.0, 150.0, 160.0, 30.0, 50.0]
    assert t.get_column("n_regions").to_list() == [3, 3, 2, 2, 1, 1]
    # a total over regions of which one has no area has no area (and no GEP per km²)
    assert t.get_column("area_km2").to_list() == [None, None, None, None, 5.0, 5.0]
    assert t.get_column("gep_per_km2_cny").to_list()[4:] == [8.0, 12.0]


def test_level_totals_conserve_every_money_column() -> None:
    gep = _gep()
    t = gep_level_totals(gep).filter(pl.col("level") == "all")
    for col in ("regulating_cny", "cultural_cny", "total_cny"):
        by_year = gep.group_by("year").agg(pl.col(col).sum()).sort("year")
        assert t.get_column(col).to_list() == by_year.get_column(col).to_list()


def test_province_rows_only_for_codes_below_a_province() -> None:
    gep = _gep().with_columns(pl.Series("region_id", ["510000", "x", "510104"] * 2))
    t = gep_level_totals(gep)
    # 510000 is a province itself, "x" no code: only 510104 forms a province total
    prov = t.filter(pl.col("level") == "province")
    assert prov.get_column("n_regions").to_list() == [1, 1]
    assert t.filter(pl.col("level") == "all").get_column("n_regions").to_list() == [3, 3]


def test_growth_hand_computed() -> None:
    g = gep_growth(_gep())
    assert g.get_column("level").to_list() == ["all", "province", "province",
                                               "region", "region", "region"]
    row = {r["region_id"]: r for r in g.iter_rows(named=True)}
    assert row["all"]["change_cny"] == 40.0
    assert row["510000"]["change_pct"] == pytest.approx(20 / 170 * 100)
    assert row["520000"]["annual_pct"] == pytest.approx((1.5 ** 0.2 - 1) * 100)
    assert row["510105"]["change_cny"] == -10.0
    # identity: the change of all regions = Σ of the regions' changes
    regions = g.filter(pl.col("level") == "region").get_column("change_cny").sum()
    assert regions == row["all"]["change_cny"]


def test_growth_keeps_price_base_year() -> None:
    g = gep_growth(_gep().with_columns(pl.lit(2020).alias("price_base_year")))
    assert g.get_column("price_base_year").unique().to_list() == [2020]
