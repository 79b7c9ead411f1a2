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
    Category totals and shares from the printed category values given as statistics (亿元); the
    per-indicator quantity × price rows of its 表3 are reproduced in the next test."""
    ind = pl.DataFrame({"service": ["agricultural_products", "water_conservation", "recreation"],
                        "category": ["provisioning", "regulating", "cultural"]})
    stats = pl.DataFrame({"region_id": ["513300"] * 3, "year": [2010] * 3,
                          "service": ["agricultural_products", "water_conservation", "recreation"],
                          "component": ["", "", ""], "value": [632.64, 6842.28, 70.67], "unit": ["亿元"] * 3})
    g = gep_totals(function_value_services(ind, PRICES.clear(), statistics=stats))
    assert round(g["total_cny"][0] / 1e8, 2) == 7545.59
    shares = [round(100 * g[c][0] / g["total_cny"][0], 2) for c in ("provisioning_cny", "regulating_cny", "cultural_cny")]
    assert shares == [8.38, 90.68, 0.94]


# 白玛卓嘎, 肖燚, 欧阳志云, 王莉雁 2017. 甘孜藏族自治州生态系统生产总值核算研究. 生态学报 37(19):6302-6312
# (ChinaXiv 201711.00120), 表3 "2010年甘孜州生态系统服务功能量与价值量": quantity, unit price and value
# (亿元, 4 decimals) as printed. Columns: service, component, quantity, unit, price, price unit, printed value 亿元.
GARZE_TABLE3 = [
    ("water_supply", "生活", 1.36, "亿m3", 2.6, "元/m3", 3.5400),
    ("water_supply", "工业", 150.17, "亿m3", 3.6, "元/m3", 540.6113),
    ("water_supply", "农业", 17.31, "亿m3", 0.07, "元/m3", 1.2117),
    ("ecological_energy", "水电", 95.30, "亿kWh", 0.53, "元/kWh", 50.5090),
    ("water_conservation", "", 321.49, "亿m3", 7.06, "元/m3", 2269.7074),
    ("soil_retention", "减少泥沙淤积", 10.03, "亿m3", 15.58, "元/m3", 156.2555),
    ("soil_retention", "减少N面源污染", 1437.94, "万t", 875.0, "元/t", 125.8199),
    ("soil_retention", "减少P面源污染", 419.72, "万t", 2800.0, "元/t", 117.5226),
    ("flood_regulation", "湖泊", 2.43, "亿m3", 7.06, "元/m3", 17.1430),
    ("flood_regulation", "水库", 0.01, "亿m3", 7.06, "元/m3", 0.0684),
    ("flood_regulation", "沼泽", 6.00, "亿m3", 7.06, "元/m3", 42.3436),
    ("air_purification", "SO2", 1137.0, "t", 1200.0, "元/t", 0.0136),
    ("air_purification", "氮氧化物", 2772.0, "t", 630.0, "元/t", 0.0175),
    ("air_purification", "工业粉尘", 941.0, "t", 150.0, "元/t", 0.0014),
    ("water_purification", "COD", 5424.0, "t", 700.0, "元/t", 0.0380),
    ("water_purification", "氨氮", 625.0, "t", 875.0, "元/t", 0.0055),
    ("carbon_sequestration", "", 0.31, "亿t", 380.0, "元/t", 117.3548),
    ("oxygen_release", "", 2.51, "亿t", 727.0, "元/t", 1821.9182),
    ("climate_regulation", "植被蒸腾", 2799.10, "亿kWh", 0.53, "元/kWh", 1483.5208),
    ("climate_regulation", "水面蒸发", 1272.35, "亿kWh", 0.53, "元/kWh", 674.3433),
    ("pest_control", "森林", 158.0, "万hm2", 375.0, "元/hm2", 5.9250),
    ("pest_control", "草地", 711.13, "万hm2", 112.5, "元/hm2", 8.0003),
]
# quantities printed with this many decimals (the paper rounds quantities, not the values)
_DECIMALS = {1.36: 2, 150.17: 2, 17.31: 2, 95.30: 2, 321.49: 2, 10.03: 2, 1437.94: 2, 419.72: 2, 2.43: 2,
             0.01: 2, 6.00: 2, 0.31: 2, 2.51: 2, 2799.10: 2, 1272.35: 2, 711.13: 2}


def test_published_garze_2010_table3_quantity_times_price() -> None:
    """Reproduce every value of 白玛卓嘎 et al. 2017 表3 from its printed quantity and price, through the
    county input path (quantities + prices tables, units 亿m3 / 万t / 亿kWh / 万hm2, free-text Chinese
    components). Tolerance at the printed precision: the paper multiplies unrounded quantities, so a value
    may differ by up to half a unit of the quantity's last printed digit × price, plus half a unit of the
    value's last digit (0.00005 亿元). E.g. 321.49 亿m3 × 7.06 元/m3 = 2269.7194 vs printed 2269.7074."""
    q = _q([("513300", 2010, s, c, qty, qu) for s, c, qty, qu, _p, _pu, _v in GARZE_TABLE3])
    prices = pl.DataFrame(
        [(s, c, p, pu, 2010, f"garze:{s}/{c}") for s, c, _q, _qu, p, pu, _v in GARZE_TABLE3],
        schema={"service": pl.Utf8, "component": pl.Utf8, "price": pl.Float64, "price_unit": pl.Utf8,
                "price_year": pl.Int32, "coefficient_id": pl.Utf8}, orient="row",
    ).unique(subset=["service", "component"], keep="first", maintain_order=True)
    ind = pl.DataFrame({"service": ["water_supply", "ecological_energy", "water_conservation", "soil_retention",
                                    "flood_regulation", "air_purification", "water_purification",
                                    "carbon_sequestration", "oxygen_release", "climate_regulation", "pest_control"],
                        "category": ["provisioning"] * 2 + ["regulating"] * 9})
    s = function_value_services(ind, prices, quantities=q)
    got = {(r["service"], r["component"]): r["value_cny"] / 1e8 for r in s.iter_rows(named=True)}
    assert len(got) == len(GARZE_TABLE3)
    for svc, comp, qty, _qu, price, _pu, printed in GARZE_TABLE3:
        tol = 0.5 * 10 ** -_DECIMALS.get(qty, 0) * price * (got[(svc, comp)] / (qty * price)) + 0.5e-4
        assert got[(svc, comp)] == pytest.approx(printed, abs=tol), (svc, comp)
    # exact where the printed quantity carries all digits: 17.31 × 0.07, 95.30 × 0.53, 158 万hm2 × 375
    assert round(got[("water_supply", "农业")], 4) == 1.2117
    assert round(got[("ecological_energy", "水电")], 4) == 50.5090
    assert round(got[("pest_control", "森林")], 4) == 5.9250
    assert round(got[("air_purification", "SO2")], 4) == 0.0136
    # service subtotals printed in the table: water supply 545.36, soil retention 399.60, flood 59.56
    sub = s.group_by("service").agg((pl.col("value_cny").sum() / 1e8).alias("v"))
    sub = dict(zip(sub["service"], sub["v"], strict=True))
    assert sub["water_supply"] == pytest.approx(545.36, abs=0.02)
    assert sub["soil_retention"] == pytest.approx(399.60, abs=0.1)
    assert sub["flood_regulation"] == pytest.approx(59.56, abs=0.1)


def test_function_value_cn_set_reproduces_garze_derived_prices() -> None:
    """The set's per-t soil-retention and sand-fixation prices are derived from the Garzê parameters; with the
    paper's totals (soil retained 38.86 亿t; sand fixed 779.42 万t) they give back 表3: sediment 156.2555,
    N 125.8199, P 117.5226, sand fixation 2.2835 亿元 (tolerance from the rounding of 38.86 亿t)."""
    from gep.account.step import fv_parameters, load_coefficient_set

    ind, prices, _rates = fv_parameters(load_coefficient_set("function_value_cn"))
    q = _q([("513300", 2010, "soil_retention", "", 38.86, "亿t"), ("513300", 2010, "sand_fixation", "", 779.42, "万t")])
    s = function_value_services(ind, prices, quantities=q)
    got = {r["component"] or r["service"]: r["value_cny"] / 1e8 for r in s.iter_rows(named=True)}
    assert got["sediment"] == pytest.approx(156.2555, abs=0.005 * 4.0207 + 1e-4)
    assert got["nitrogen"] == pytest.approx(125.8199, abs=0.005 * 3.2375 + 1e-4)
    assert got["phosphorus"] == pytest.approx(117.5226, abs=0.005 * 3.024 + 1e-4)
    assert round(got["sand_fixation"], 4) == 2.2835  # 779.42e4 t / (1.28 t/m3 × 0.1 m) × 3.75 元/m2
