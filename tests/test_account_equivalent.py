"""Equivalent-factor ESV (gep.account.equivalent): hand-computed fixtures and published values."""

from __future__ import annotations

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
    """China 1990–2015: 4600.89 kg/hm² × 2.28 元/kg / 7 = 1498.58 元/hm² (mtoou.info/tubiao/414421.html,
    gep_methods.md §2.2; formula E_a = 1/7 Σ m_i p_i q_i / M of 张帅 et al., ChinaXiv 202106.00080)."""
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


@pytest.mark.skipif(not XIE2015.exists(), reason="xie2015 set not built")
def test_published_yinchuan_grassland_and_water_coefficients() -> None:
    """王波 & 杨太保 (Yinchuan ESV 1980–2018, ChinaXiv 202104.00050) print, in 100 元/hm² at 3406.5 元
    per equivalent, 草地 = mean(草原, 草甸) and 水体 = mean(水系, 湿地) (gep_methods.md §2.1):
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


@pytest.mark.skipif(not XIE2015.exists(), reason="xie2015 set not built")
def test_xie2015_all_service_value_per_hm2() -> None:
    """Σ equivalents × 3406.50 元 per hm² (gep_methods.md §2.1 table): 水系 427 890.47, 湿地 177 206.13,
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
