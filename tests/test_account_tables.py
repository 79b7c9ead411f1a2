"""Account tables (gep.account.tables): identities, SEEA extent account, roll-up, constant prices, decomposition."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gep.account.equivalent import equivalent_factor_services
from gep.account.identities import AccountIdentityError
from gep.account.tables import (
    change_decomposition,
    check_gep,
    extent_account,
    gep_totals,
    rollup_services,
    seea_supply_tables,
    to_constant_prices,
)
from gep.errors import InputError

EQ = pl.DataFrame({"ecosystem_type": ["水田", "水田", "阔叶", "阔叶"],
                   "service": ["food_production", "water_supply", "food_production", "aesthetic_landscape"],
                   "value": [1.36, -2.63, 0.29, 1.06]})


def _extent(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"region_id": pl.Utf8, "year": pl.Int32, "class": pl.Utf8,
                                      "ecosystem_type": pl.Utf8, "area_ha": pl.Float64}, orient="row")


EXT = _extent([
    ("510104", 2015, "水田", "水田", 100.0), ("510104", 2015, "乔木林地", "阔叶", 50.0),
    ("510104", 2015, "城镇村及工矿用地", None, 10.0),
    ("510104", 2020, "水田", "水田", 90.0), ("510104", 2020, "乔木林地", "阔叶", 60.0),
    ("510104", 2020, "城镇村及工矿用地", None, 10.0),
    ("510105", 2015, "水田", "水田", 10.0), ("510105", 2020, "水田", "水田", 10.0),
])


def test_gep_totals_categories_and_ratios() -> None:
    s = equivalent_factor_services(EXT, EQ, 1000.0)
    socio = pl.DataFrame({"region_id": ["510104"], "year": [2015], "population": [1000.0], "gdp_cny": [1e6]})
    area = pl.DataFrame({"region_id": ["510104"], "year": [2015], "area_km2": [1.6]})
    g = gep_totals(s, area_km2=area, socio=socio).filter(pl.col("region_id") == "510104", pl.col("year") == 2015)
    # provisioning: 100 × (1.36 − 2.63) × 1000 + 50 × 0.29 × 1000 = −127 000 + 14 500 = −112 500
    # cultural: 50 × 1.06 × 1000 = 53 000; total −59 500
    assert g["provisioning_cny"][0] == pytest.approx(-112_500.0)
    assert g["cultural_cny"][0] == pytest.approx(53_000.0)
    assert g["regulating_cny"][0] == 0.0 and g["supporting_cny"][0] == 0.0
    assert g["total_cny"][0] == pytest.approx(-59_500.0)
    assert g["gep_per_km2_cny"][0] == pytest.approx(-59_500.0 / 1.6)
    assert g["gep_per_capita_cny"][0] == pytest.approx(-59.5)
    assert g["gep_gdp_ratio"][0] == pytest.approx(-0.0595)


def test_identity_check_catches_a_wrong_total() -> None:
    s = equivalent_factor_services(EXT, EQ, 1000.0)
    g = gep_totals(s)
    bad = g.with_columns(pl.when(pl.col("region_id") == "510105").then(pl.col("total_cny") + 1.0)
                         .otherwise(pl.col("total_cny")).alias("total_cny"))
    with pytest.raises(AccountIdentityError):
        check_gep(s, bad)


def test_methods_are_never_mixed_in_one_total() -> None:
    s = equivalent_factor_services(EXT, EQ, 1000.0)
    fv = s.with_columns(pl.lit("function_value").alias("method"))
    g = gep_totals(pl.concat([s, fv]))
    assert g.height == 2 * gep_totals(s).height  # one row per method, never summed together
    assert set(g["method"]) == {"equivalent_factor", "function_value"}


def test_extent_account_opening_additions_reductions_closing() -> None:
    acc = extent_account(EXT).filter(pl.col("region_id") == "510104")
    rows = {r["ecosystem_type"]: r for r in acc.iter_rows(named=True)}
    assert rows["水田"]["opening_ha"] == 100.0 and rows["水田"]["reductions_ha"] == 10.0
    assert rows["水田"]["closing_ha"] == 90.0 and rows["水田"]["additions_ha"] == 0.0
    assert rows["阔叶"]["additions_ha"] == 10.0 and rows["阔叶"]["net_change_ha"] == 10.0
    assert rows[None]["opening_ha"] == rows[None]["closing_ha"] == 10.0  # built-up land stays in the extent
    assert acc["closing_ha"].sum() == 160.0  # Σ closing = region area


def test_seea_supply_tables_sum_to_gep() -> None:
    s = equivalent_factor_services(EXT, EQ, 1000.0)
    physical, monetary = seea_supply_tables(s)
    g = gep_totals(s)
    assert monetary["value_cny"].sum() == pytest.approx(g["total_cny"].sum())
    assert physical.height == 0  # equivalent-weighted areas are not physical service flows
    fv = s.with_columns(pl.lit("function_value").alias("method"))
    physical, _ = seea_supply_tables(fv)
    # 510104, 2015, 水田 food: 100 ha × 1.36 = 136 (quantity summed per region, year, service, type)
    row = physical.filter(pl.col("region_id") == "510104", pl.col("year") == 2015, pl.col("service") == "food_production",
                          pl.col("ecosystem_type") == "水田")
    assert row["quantity"][0] == pytest.approx(136.0)


def test_rollup_equals_sum_of_members_and_rejects_double_counting() -> None:
    s = equivalent_factor_services(EXT, EQ, 1000.0)
    parents = pl.DataFrame({"region_id": ["510104", "510105"], "parent_id": ["510100", "510100"]})
    rolled = gep_totals(rollup_services(s, parents))
    county = gep_totals(s)
    for y in (2015, 2020):
        assert rolled.filter(pl.col("year") == y)["total_cny"][0] == pytest.approx(
            county.filter(pl.col("year") == y)["total_cny"].sum())
    # a prefecture row next to its own counties would be counted twice
    twice = pl.concat([s, s.filter(pl.col("region_id") == "510105").with_columns(pl.lit("510100").alias("region_id"))])
    parents2 = pl.concat([parents, pl.DataFrame({"region_id": ["510100"], "parent_id": ["510100"]})])
    with pytest.raises(InputError) as ei:
        rollup_services(twice, parents2.filter(pl.col("region_id") != "510100"))
    assert set(ei.value.codes) == {"UNKNOWN_REGION", "REGION_COUNTED_TWICE"}


def test_constant_prices_rebase_from_price_year() -> None:
    s = equivalent_factor_services(EXT, EQ, 1000.0)  # price_year 2010
    idx = pl.DataFrame({"year": [2010, 2020], "index": [100.0, 125.0]})
    c = to_constant_prices(s, idx, 2020)
    assert c["value_cny"].sum() == pytest.approx(s["value_cny"].sum() * 1.25)
    assert (c["quantity"] * c["price"] - c["value_cny"]).abs().max() < 1e-6
    with pytest.raises(InputError) as ei:
        to_constant_prices(s, idx.filter(pl.col("year") == 2020), 2020)
    assert ei.value.codes == ["MISSING_VALUE"] and "2010" in ei.value.problems[0].message


def test_change_decomposition_hand_computed_midpoint() -> None:
    # 510104, standard value 1000 in 2015 and 1200 in 2020 (price effect) plus area change
    sv = pl.DataFrame({"year": [2015, 2020], "standard_value_cny_per_hm2": [1000.0, 1200.0]})
    s = equivalent_factor_services(EXT, EQ, sv)
    d = change_decomposition(s, EXT, 2015, 2020).filter(pl.col("region_id") == "510104").row(0, named=True)
    # 水田: u0 = −1270, u1 = −1524 CNY/ha; A 100 → 90. 阔叶: u0 = 1350, u1 = 1620; A 50 → 60.
    # area effect = −10 × (−1270 − 1524)/2 + 10 × (1350 + 1620)/2 = 13 970 + 14 850 = 28 820
    # unit effect = −254 × 95 + 270 × 55 = −24 130 + 14 850 = −9 280; total = 28 820 − 9 280 = 19 540
    assert d["area_effect_cny"] == pytest.approx(28_820.0)
    assert d["unit_value_effect_cny"] == pytest.approx(-9_280.0)
    assert d["total_change_cny"] == pytest.approx(19_540.0)
    assert d["unattributed_change_cny"] == 0.0


@settings(max_examples=40, deadline=None)
@given(
    a=st.lists(st.floats(0, 1e5), min_size=4, max_size=4),
    sv=st.tuples(st.floats(100, 1e4), st.floats(100, 1e4)),
)
def test_decomposition_is_exact_for_any_inputs(a: list[float], sv: tuple[float, float]) -> None:
    ext = _extent([("R", 2015, "x", "水田", a[0]), ("R", 2015, "y", "阔叶", a[1]),
                   ("R", 2020, "x", "水田", a[2]), ("R", 2020, "y", "阔叶", a[3])])
    s = equivalent_factor_services(ext, EQ, pl.DataFrame({"year": [2015, 2020], "standard_value_cny_per_hm2": list(sv)}))
    d = change_decomposition(s, ext, 2015, 2020).row(0, named=True)
    parts = d["area_effect_cny"] + d["unit_value_effect_cny"] + d["unattributed_change_cny"]
    assert parts == pytest.approx(d["total_change_cny"], rel=1e-9, abs=1e-5)
    assert d["unattributed_change_cny"] == pytest.approx(0.0, abs=1e-5)
