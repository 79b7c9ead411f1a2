"""Function-value GEP (gep.account.function_value): quantity × price with unit algebra, errors, priorities."""

from __future__ import annotations

import polars as pl
import pytest

from gep.account.function_value import function_value_services, rate_quantities
from gep.account.tables import gep_totals
from gep.errors import InputError

IND = pl.DataFrame(
    {
        "service": ["water_conservation", "soil_retention", "air_purification", "water_supply", "recreation",
                    "agricultural_products", "carbon_sequestration"],
        "category": ["regulating", "regulating", "regulating", "provisioning", "cultural", "provisioning",
                     "regulating"],
    }
)
# Garzê 2010 prices (白玛卓嘎 et al. 2017, Table 3)
PRICES = pl.DataFrame(
    {
        "service": ["water_conservation", "soil_retention", "soil_retention", "soil_retention", "air_purification",
                    "air_purification", "water_supply", "water_supply", "carbon_sequestration"],
        "component": ["", "sediment", "nitrogen", "phosphorus", "so2", "nox", "domestic", "industrial", ""],
        "price": [7.06, 4.0206, 3.2375, 3.024, 1200.0, 630.0, 2.6, 3.6, 380.0],
        "price_unit": ["CNY/m3", "CNY/t", "元/t", "CNY/t", "元/t", "CNY/t", "CNY/m3", "元/m3", "CNY/t"],
        "price_year": [2010] * 9,
        "coefficient_id": [f"p{i}" for i in range(9)],
    }
).with_columns(pl.col("price_year").cast(pl.Int32))


def _q(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"region_id": pl.Utf8, "year": pl.Int32, "service": pl.Utf8,
                                      "component": pl.Utf8, "quantity": pl.Float64, "unit": pl.Utf8},
                        orient="row").with_columns(pl.Series("source_row", list(range(2, len(rows) + 2))),
                                                   pl.lit("quantities.csv").alias("source_file"))


def test_quantity_times_price_with_magnitude_prefixes() -> None:
    q = _q([
        ("A", 2020, "water_conservation", "", 1.5, "亿m3"),  # 1.5e8 m3 × 7.06 = 1.059e9 CNY
        ("A", 2020, "air_purification", "so2", 20.0, "t"),  # 20 t × 1200 = 24 000
        ("A", 2020, "air_purification", "nox", 2.0, "千t"),  # 2000 t × 630 = 1 260 000
        ("A", 2020, "water_supply", "domestic", 300.0, "万m3"),  # 3e6 m3 × 2.6 = 7.8e6
    ])
    s = function_value_services(IND, PRICES, quantities=q)
    v = {(r["service"], r["component"]): r["value_cny"] for r in s.iter_rows(named=True)}
    assert v[("water_conservation", "")] == pytest.approx(1.059e9)
    assert v[("air_purification", "so2")] == pytest.approx(24_000.0)
    assert v[("air_purification", "nox")] == pytest.approx(1_260_000.0)
    assert v[("water_supply", "domestic")] == pytest.approx(7.8e6)
    g = gep_totals(s)
    # regulating = 1.059e9 + 24 000 + 1 260 000 = 1 060 284 000; provisioning 7.8e6
    assert g["regulating_cny"][0] == pytest.approx(1_060_284_000.0)
    assert g["total_cny"][0] == pytest.approx(1_068_084_000.0)


def test_shared_basis_components_soil_retention() -> None:
    # 10 万t of soil retained, no component given → valued once per priced component:
    # 1e5 t × (4.0206 + 3.2375 + 3.024) = 1e5 × 10.2821 = 1 028 210 CNY
    s = function_value_services(IND, PRICES, quantities=_q([("A", 2020, "soil_retention", "", 10.0, "万t")]))
    assert sorted(s["component"].to_list()) == ["nitrogen", "phosphorus", "sediment"]
    assert s["value_cny"].sum() == pytest.approx(1_028_210.0)


def test_unit_mismatch_names_both_units_and_row() -> None:
    q = _q([("A", 2020, "water_supply", "domestic", 5.0, "万m3"), ("A", 2020, "air_purification", "so2", 3.0, "m3")])
    with pytest.raises(InputError) as ei:
        function_value_services(IND, PRICES, quantities=q)
    (p,) = ei.value.problems
    assert p.code == "UNIT_MISMATCH"
    assert "'m3'" in p.message and "元/t" in p.message
    assert (p.file, p.row) == ("quantities.csv", 3)


def test_missing_price_names_the_component_and_collects_all() -> None:
    q = _q([
        ("A", 2020, "water_supply", "agricultural", 5.0, "万m3"),  # no agricultural water price here
        ("A", 2020, "water_supply", "ecological", 1.0, "万m3"),  # free-text component, no price
        ("A", 2020, "water_conservation", "", 1.0, "m3"),  # fine
    ])
    with pytest.raises(InputError) as ei:
        function_value_services(IND, PRICES, quantities=q)
    assert ei.value.codes == ["MISSING_COEFFICIENT", "MISSING_COEFFICIENT"]
    assert "'agricultural'" in ei.value.problems[0].message
    assert "'ecological'" in ei.value.problems[1].message
    assert [p.row for p in ei.value.problems] == [2, 3]


def test_unknown_service_is_an_input_error() -> None:
    with pytest.raises(InputError) as ei:
        function_value_services(IND, PRICES, quantities=_q([("A", 2020, "sand_fixation", "", 1.0, "t")]))
    assert ei.value.codes == ["UNKNOWN_SERVICE"]


def test_statistics_money_units_and_priority_over_quantities_and_rates() -> None:
    stats = pl.DataFrame({"region_id": ["A", "A", "A"], "year": [2020] * 3,
                          "service": ["recreation", "agricultural_products", "water_conservation"],
                          "component": ["", "", ""], "value": [1.2, 350.0, 2000.0], "unit": ["亿元", "万元", "元"]})
    q = _q([("A", 2020, "water_conservation", "", 1.0, "亿m3"), ("A", 2020, "soil_retention", "", 1.0, "t")])
    ext = pl.DataFrame({"region_id": ["A"], "year": [2020], "class": ["林"], "ecosystem_type": ["阔叶"],
                        "area_ha": [100.0]}).with_columns(pl.col("year").cast(pl.Int32))
    rates = pl.DataFrame({"region_id": [None, None], "ecosystem_type": ["阔叶", "阔叶"],
                          "service": ["water_conservation", "carbon_sequestration"], "component": ["", ""],
                          "rate": [3000.0, 10.0], "rate_unit": ["m3/hm2", "t/hm2"], "coefficient_id": ["r1", "r2"]},
                         schema_overrides={"region_id": pl.Utf8})
    s = function_value_services(IND, PRICES, extent=ext, rates=rates, quantities=q, statistics=stats)
    v = s.group_by("service").agg(pl.col("value_cny").sum())
    v = dict(zip(v["service"], v["value_cny"], strict=True))
    assert v["recreation"] == pytest.approx(1.2e8)
    assert v["agricultural_products"] == pytest.approx(3.5e6)
    assert v["water_conservation"] == pytest.approx(2000.0)  # statistics win over quantities and rates
    assert v["soil_retention"] == pytest.approx(10.2821)  # 1 t × 10.2821 CNY/t (three components)
    assert v["carbon_sequestration"] == pytest.approx(100 * 10.0 * 380.0)  # 100 hm2 × 10 t/hm2 × 380
    stat_rows = s.filter(pl.col("coefficient_id") == "statistics")
    assert stat_rows["quantity"].null_count() == stat_rows.height
    assert stat_rows["price_year"].to_list() == [2020, 2020, 2020]


def test_region_specific_rates_replace_generic_ones() -> None:
    ext = pl.DataFrame({"region_id": ["A", "B"], "year": [2020, 2020], "class": ["林", "林"],
                        "ecosystem_type": ["阔叶", "阔叶"], "area_ha": [100.0, 100.0]}).with_columns(
        pl.col("year").cast(pl.Int32))
    rates = pl.DataFrame({"region_id": [None, "B"], "ecosystem_type": ["阔叶", "阔叶"],
                          "service": ["water_conservation"] * 2, "component": ["", ""], "rate": [3000.0, 5000.0],
                          "rate_unit": ["m3/hm2", "m3/亩"], "coefficient_id": ["generic", "B-specific"]},
                         schema_overrides={"region_id": pl.Utf8})
    q = rate_quantities(ext, rates).sort("region_id")
    assert q["quantity"].to_list() == pytest.approx([300_000.0, 100 * 15 * 5000.0])  # 1 ha = 15 亩
    assert q["rate_id"].to_list() == ["generic", "B-specific"]


def test_published_garze_2010_gep_category_identity() -> None:
    """白玛卓嘎 et al. 2017 (生态学报 37(19):6302-6312, abstract): Garzê 2010 GEP 7545.59 亿元 =
    provisioning 632.64 + regulating 6842.28 + cultural 70.67 亿元; shares 8.38 %, 90.68 %, 0.94 %.
    The paper's per-indicator quantities are not available to us, so this reproduces the category
    totals and shares from the printed category values given as statistics (亿元)."""
    ind = pl.DataFrame({"service": ["agricultural_products", "water_conservation", "recreation"],
                        "category": ["provisioning", "regulating", "cultural"]})
    stats = pl.DataFrame({"region_id": ["513300"] * 3, "year": [2010] * 3,
                          "service": ["agricultural_products", "water_conservation", "recreation"],
                          "component": ["", "", ""], "value": [632.64, 6842.28, 70.67], "unit": ["亿元"] * 3})
    g = gep_totals(function_value_services(ind, PRICES.clear(), statistics=stats))
    assert round(g["total_cny"][0] / 1e8, 2) == 7545.59
    shares = [round(100 * g[c][0] / g["total_cny"][0], 2) for c in ("provisioning_cny", "regulating_cny", "cultural_cny")]
    assert shares == [8.38, 90.68, 0.94]
