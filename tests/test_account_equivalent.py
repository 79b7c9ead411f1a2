"""Equivalent-factor ESV (gep.account.equivalent): hand-computed fixtures and published values."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from gep.account.equivalent import (
    SERVICES_COLUMNS,
    adjustment_table,
    equivalent_factor_services,
    standard_value_net_profit,
    standard_value_one_seventh,
)

XIE2015 = Path(__file__).resolve().parents[1] / "coefficients" / "sets" / "xie2015" / "equivalents.csv"


def _extent(rows: list[tuple[str, int, str, str | None, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"region_id": pl.Utf8, "year": pl.Int32, "class": pl.Utf8, "ecosystem_type": pl.Utf8, "area_ha": pl.Float64},
        orient="row",
    )


def _xie2015() -> pl.DataFrame:
    return pl.read_csv(XIE2015, infer_schema_length=0).with_columns(pl.col("value").cast(pl.Float64))


EQ = pl.DataFrame(
    {
        "ecosystem_type": ["水田", "水田", "阔叶"],
        "service": ["food_production", "water_supply", "hydrological_regulation"],
        "value": [1.36, -2.63, 4.74],
    }
)


def test_hand_computed_values_and_negative_paddy_water_supply() -> None:
    # 水田 200 ha, 阔叶 50 ha (two classes mapped to 阔叶: 30 + 20), 建设用地 10 ha (no type)
    ext = _extent([
        ("510104", 2020, "水田", "水田", 200.0),
        ("510104", 2020, "乔木林地", "阔叶", 30.0),
        ("510104", 2020, "竹林地", "阔叶", 20.0),
        ("510104", 2020, "城镇村及工矿用地", None, 10.0),
    ])
    s = equivalent_factor_services(ext, EQ, 3406.5)
    assert s.columns == SERVICES_COLUMNS
    v = {(r["ecosystem_type"], r["service"]): r["value_cny"] for r in s.iter_rows(named=True)}
    # 200 hm2 × 1.36 × 3406.5 = 926 568.0 CNY
    assert v[("水田", "food_production")] == pytest.approx(926_568.0, abs=1e-6)
    # 200 × (−2.63) × 3406.5 = −1 791 819.0 CNY (irrigation water use: negative is valid)
    assert v[("水田", "water_supply")] == pytest.approx(-1_791_819.0, abs=1e-6)
    # (30 + 20) × 4.74 × 3406.5 = 807 340.5 CNY
    assert v[("阔叶", "hydrological_regulation")] == pytest.approx(807_340.5, abs=1e-6)
    assert s.height == 3  # built-up land carries no value
    # quantity × price = value on every row
    assert (s["quantity"] * s["price"] - s["value_cny"]).abs().max() < 1e-6
    assert set(s["category"]) == {"provisioning", "regulating"}
    assert s["price_year"].unique().to_list() == [2010]


def test_standard_value_one_seventh_published_china_1990_2015() -> None:
    """China 1990–2015: 4600.89 kg/hm² × 2.28 元/kg / 7 = 1498.58 元/hm² (mtoou.info/tubiao/414421.html;
    formula E_a = 1/7 Σ m_i p_i q_i / M of 张帅 et al., ChinaXiv 202106.00080)."""
    grain = pl.DataFrame({"crop": ["grain"], "sown_area_ha": [1.0], "yield_kg_per_ha": [4600.89],
                          "price_cny_per_kg": [2.28]})
    sv = standard_value_one_seventh(grain)["standard_value_cny_per_hm2"][0]
    assert round(sv, 2) == 1498.58


def test_standard_value_one_seventh_weights_by_sown_area() -> None:
    # rice 300 ha × 7000 kg/ha × 2.5 CNY/kg = 5.25e6; maize 100 ha × 6000 × 2.0 = 1.2e6
    # (5.25e6 + 1.2e6) / 400 ha / 7 = 2303.5714… CNY/hm2
    grain = pl.DataFrame({"region_id": ["A", "A", "B"], "crop": ["rice", "maize", "rice"],
                          "sown_area_ha": [300.0, 100.0, 10.0], "yield_kg_per_ha": [7000.0, 6000.0, 7000.0],
                          "price_cny_per_kg": [2.5, 2.0, 2.0]})
    sv = standard_value_one_seventh(grain)
    assert sv["region_id"].to_list() == ["A", "B"]
    assert sv["standard_value_cny_per_hm2"][0] == pytest.approx(6.45e6 / 400 / 7)
    assert sv["standard_value_cny_per_hm2"][1] == pytest.approx(2000.0)  # 7000 × 2.0 / 7


def test_standard_value_net_profit() -> None:
    # shares 0.5/0.25/0.25 × profits 4000/2000/3600 = 2000 + 500 + 900 = 3400 CNY/hm2
    grain = pl.DataFrame({"crop": ["rice", "wheat", "maize"], "sown_area_ha": [200.0, 100.0, 100.0],
                          "net_profit_cny_per_ha": [4000.0, 2000.0, 3600.0]})
    assert standard_value_net_profit(grain)["standard_value_cny_per_hm2"][0] == pytest.approx(3400.0)


def test_regional_standard_value_table_and_price_year() -> None:
    ext = _extent([("A", 2020, "水田", "水田", 1.0), ("B", 2020, "水田", "水田", 1.0)])
    sv = pl.DataFrame({"region_id": ["A", "B"], "standard_value_cny_per_hm2": [1000.0, 2000.0]})
    s = equivalent_factor_services(ext, EQ.filter(pl.col("service") == "food_production"), sv, price_year=2018)
    assert s["value_cny"].to_list() == pytest.approx([1360.0, 2720.0])
    assert s["price_year"].to_list() == [2018, 2018]


def test_adjustment_factors_by_service_group() -> None:
    # NPP ratio 1.2 scales food (1.36 → ×1.2); precipitation 0.5 scales water supply; hydrological too
    ext = _extent([("A", 2020, "水田", "水田", 100.0), ("A", 2020, "林", "阔叶", 100.0)])
    adj = adjustment_table(pl.DataFrame({"region_id": ["A", "A"], "factor": ["npp", "precipitation"],
                                         "ratio": [1.2, 0.5]}))
    s = equivalent_factor_services(ext, EQ, 1000.0, adjustments=adj)
    v = {r["service"]: r["value_cny"] for r in s.iter_rows(named=True)}
    assert v["food_production"] == pytest.approx(100 * 1.36 * 1.2 * 1000)  # 163 200
    assert v["water_supply"] == pytest.approx(100 * -2.63 * 0.5 * 1000)  # −131 500
    assert v["hydrological_regulation"] == pytest.approx(100 * 4.74 * 0.5 * 1000)  # 237 000


def test_published_yinchuan_grassland_and_water_coefficients() -> None:
    """王波 & 杨太保 (Yinchuan ESV 1980–2018, ChinaXiv 202104.00050) print, in 100 元/hm² at 3406.5 元
    per equivalent, 草地 = mean(草原, 草甸) and 水体 = mean(水系, 湿地) (Xie 2015 rows, docs/formulas.md EF1):
    草地 5.450 8.005 4.428 28.104 74.262 24.527 54.334 34.235 2.725 31.169 13.796; 水体 food 22.313,
    water supply 185.314, hydrological regulation 2154.100. One hm² of each pair member → value / 2 / 100."""
    ext = _extent([("草地", 2018, "a", "草原", 1.0), ("草地", 2018, "b", "草甸", 1.0),
                   ("水体", 2018, "c", "水系", 1.0), ("水体", 2018, "d", "湿地", 1.0)])
    s = equivalent_factor_services(ext, _xie2015(), 3406.5)
    per = s.group_by(["region_id", "service"]).agg((pl.col("value_cny").sum() / 2 / 100).round(3).alias("v"))
    got = {(r["region_id"], r["service"]): r["v"] for r in per.iter_rows(named=True)}
    order = ["food_production", "raw_materials", "water_supply", "gas_regulation", "climate_regulation",
             "environmental_purification", "hydrological_regulation", "soil_conservation", "nutrient_cycling",
             "biodiversity", "aesthetic_landscape"]
    printed = [5.450, 8.005, 4.428, 28.104, 74.262, 24.527, 54.334, 34.235, 2.725, 31.169, 13.796]
    assert [got[("草地", svc)] for svc in order] == printed
    assert got[("水体", "food_production")] == 22.313
    assert got[("水体", "water_supply")] == 185.314
    assert got[("水体", "hydrological_regulation")] == 2154.100


def test_xie2015_all_service_value_per_hm2() -> None:
    """Σ equivalents × 3406.50 元 per hm² (row sums of 谢高地 et al. 2015, 自然资源学报 30(8):1243-1254): 水系 427 890.47, 湿地 177 206.13,
    阔叶 78 179.18, 水田 13 251.28 (the paddy sum includes its negative water supply)."""
    ext = _extent([(t, 2010, t, t, 1.0) for t in ("水系", "湿地", "阔叶", "水田")])
    s = equivalent_factor_services(ext, _xie2015(), 3406.5)
    tot = {r["region_id"]: r["value_cny"] for r in
           s.group_by("region_id").agg(pl.col("value_cny").sum()).iter_rows(named=True)}
    # printed to 0.01 元; 3.89 × 3406.5 = 13 251.285 exactly, printed as 13 251.28, so compare within half a cent
    printed = {"水系": 427_890.47, "湿地": 177_206.13, "阔叶": 78_179.18, "水田": 13_251.28}
    assert tot.keys() == printed.keys()
    for k, v in printed.items():
        assert tot[k] == pytest.approx(v, abs=0.0051), k


# 罗盛锋 & 闫文德 2018. 广西北部湾沿岸地区生态系统服务价值变化及其驱动力. 生态学报 38(9):3248-3259
# (ChinaXiv 201805.00320). 表3 areas (km²) of 1999 / 2006 / 2014; 表1 maps 耕地→水田, 林地→阔叶, 果园→灌木,
# 水产养殖 and 红树林→湿地, 水体→水系, 裸地→裸地, 建设用地→no value; 3406.5 元/hm² (Xie 2015).
BEIBU_AREAS_KM2 = {
    # class: (ecosystem type, 1999, 2006, 2014)
    "耕地": ("水田", 3678.80, 2761.08, 2636.67),
    "林地": ("阔叶", 1525.38, 1923.88, 1915.22),
    "果园": ("灌木", 2553.95, 2725.06, 2720.13),
    "水产养殖": ("湿地", 249.31, 391.93, 314.19),
    "红树林": ("湿地", 80.38, 49.19, 13.07),
    "水体": ("水系", 290.43, 299.39, 364.49),
    "裸地": ("裸地", 341.46, 377.83, 282.26),
    "建设用地": (None, 122.40, 310.66, 595.73),
}
# 表7 value by ecosystem (元, printed to 3 significant digits)
BEIBU_TABLE7 = {
    "农田": (4.87e9, 3.66e9, 3.49e9), "森林": (2.52e10, 2.92e10, 2.91e10), "湿地": (5.84e9, 7.82e9, 5.80e9),
    "水域": (1.24e10, 1.28e10, 1.56e10), "荒漠": (2.33e7, 2.57e7, 1.92e7), "总价值": (4.83e10, 5.35e10, 5.40e10),
}
# 表8 value by service (元, 3 significant digits), 1999 / 2006 / 2014
BEIBU_TABLE8 = {
    "food_production": (2.16e9, 1.80e9, 1.74e9), "raw_materials": (9.09e8, 1.01e9, 9.94e8),
    "water_supply": (-1.82e9, -8.12e8, -6.19e8), "gas_regulation": (4.04e9, 4.14e9, 4.03e9),
    "climate_regulation": (8.40e9, 9.50e9, 9.36e9), "environmental_purification": (3.29e9, 3.73e9, 3.70e9),
    "hydrological_regulation": (2.16e10, 2.28e10, 2.40e10), "soil_conservation": (3.24e9, 3.79e9, 3.71e9),
    "nutrient_cycling": (4.82e8, 4.65e8, 4.50e8), "biodiversity": (4.02e9, 4.68e9, 4.41e9),
    "aesthetic_landscape": (1.98e9, 2.32e9, 2.17e9),
}


def _sig3(x: float) -> float:
    return float(f"{x:.3g}")


def test_published_beibu_gulf_1999_2006_2014() -> None:
    """罗盛锋 & 闫文德 2018 (北部湾, 生态学报 38(9):3248-3259): from the printed areas (表3) and Xie 2015
    equivalents at 3406.5 元/hm², reproduce every value of 表7 (by ecosystem: e.g. 农田 1999 =
    367 880 hm² × 3.89 × 3406.5 = 4.87×10⁹ 元; total 4.83/5.35/5.40×10¹⁰) and 表8 (by service, incl. the
    negative water supply −1.82×10⁹) to the printed 3 significant digits. 1 km² = 100 ha.

    Tolerance = half a unit of the 3rd significant digit + the effect of the areas' printed rounding
    (±0.005 km² = ±0.5 ha per class). 50 of the 51 printed values match at 3 significant digits outright;
    the 2014 water supply (computed −6.1849×10⁸, printed −6.19×10⁸) is 1.1×10⁴ 元 past the rounding
    boundary, well inside the ±3×10⁴ 元 that the area rounding allows."""
    rows = [("北部湾", y, cls, et, area[i] * 100.0)
            for cls, (et, *area) in BEIBU_AREAS_KM2.items() for i, y in enumerate((1999, 2006, 2014))]
    ext = _extent(rows)
    s = equivalent_factor_services(ext, _xie2015(), 3406.5)
    n_classes = ext.filter(pl.col("ecosystem_type").is_not_null()).group_by(["year", "ecosystem_type"]).agg(
        pl.col("area_ha").sum().alias("a"), pl.len().alias("n"))
    group = {"水田": "农田", "阔叶": "森林", "灌木": "森林", "湿地": "湿地", "水系": "水域", "裸地": "荒漠"}
    s = s.join(n_classes, on=["year", "ecosystem_type"]).with_columns(
        pl.col("ecosystem_type").replace_strict(group).alias("g"),
        (pl.col("value_cny").abs() / pl.col("a") * 0.5 * pl.col("n")).alias("tol"),  # ±0.5 ha per class
    )
    agg = [pl.col("value_cny").sum(), pl.col("tol").sum()]
    by_eco = {(r["year"], r["g"]): r for r in s.group_by(["year", "g"]).agg(agg).iter_rows(named=True)}
    totals = {r["year"]: r for r in s.group_by("year").agg(agg).iter_rows(named=True)}
    by_svc = {(r["year"], r["service"]): r for r in s.group_by(["year", "service"]).agg(agg).iter_rows(named=True)}
    exact = 0
    for i, y in enumerate((1999, 2006, 2014)):
        cells = [(totals[y] if eco == "总价值" else by_eco[(y, eco)], printed[i]) for eco, printed in BEIBU_TABLE7.items()]
        cells += [(by_svc[(y, svc)], printed[i]) for svc, printed in BEIBU_TABLE8.items()]
        for r, printed in cells:
            half_digit = 0.5 * 10 ** (math.floor(math.log10(abs(printed))) - 2)
            assert abs(r["value_cny"] - printed) <= half_digit + r["tol"], (y, r, printed)
            exact += _sig3(r["value_cny"]) == printed
    assert exact == 50  # of 51 cells: all but the 2014 water supply match at 3 significant digits without tolerance
