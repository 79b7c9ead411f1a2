"""Gain–loss method: rates, IPCC Tier 1 forest gain/losses, grassland stock-change factors, wetland CH4."""

from __future__ import annotations

import polars as pl
import pytest

from gep.carbon import gainloss as GL
from gep.carbon import params
from gep.carbon.step import compute
from gep.carbon.valuation import CarbonPrice
from gep.errors import InputError

CSET = params.load_carbon_set()
EXT = pl.DataFrame({
    "region_id": ["A"] * 5, "year": [2020] * 5,
    "class": ["林", "草", "田", "城", "沼"],
    "ecosystem_type": ["阔叶", "草甸", "水田", None, "湿地"],
    "area_ha": [110.0, 40.0, 25.0, 25.0, 100.0],
}).with_columns(pl.col("year").cast(pl.Int32))
PRICE = CarbonPrice(100.0, None, "test", "user")


def _inv(**cols: object) -> pl.DataFrame:
    base: dict[str, object] = {"region_id": "A", "year": 2020, "class": "林", "area_ha": None, "gw_t_dm_ha_yr": None,
                               "iv_m3_ha_yr": None, "r": None, "bcef_i": None, "bcef_r": None, "cf": None,
                               "harvest_m3": None, "disturbance_area_ha": None, "disturbance_bw_t_dm_ha": None,
                               "disturbance_fd": None, "_row": 2}
    base.update(cols)
    schema = {k: (pl.Utf8 if k in ("region_id", "class") else pl.Int32 if k == "year" else pl.Int64 if k == "_row"
                  else pl.Float64) for k in base}
    return pl.DataFrame([base], schema=schema)


def _by_method(flux: pl.DataFrame) -> dict[tuple[str, str], float]:
    return {(m, c): d for m, c, d in flux.select("method", "class_from", "delta_c_t").iter_rows()}


def test_rate_method_hand_computed() -> None:
    # placeholder rates: 阔叶 1.0, 草甸 0.2, 湿地 0.8, 水田 0 (dropped), built-up none (dropped)
    res = compute(EXT, params.set_densities(EXT, CSET), CSET, PRICE, method="gain-loss")
    got = _by_method(res.flux)
    assert got == {("gain_loss_rate", "林"): 110.0, ("gain_loss_rate", "草"): pytest.approx(8.0),
                   ("gain_loss_rate", "沼"): pytest.approx(80.0)}
    # annual rows: year_from = year − 1
    assert set(res.flux.select("year_from", "year_to").iter_rows()) == {(2019, 2020)}


def test_user_rates_region_specific_beat_the_set() -> None:
    user = pl.DataFrame({"region_id": ["A", None], "class": [None, "草"], "ecosystem_type": ["阔叶", None],
                         "rate_t_c_ha_yr": [2.5, 0.5]})
    rates = GL.resolve_rates(EXT, CSET, user)
    r = dict(rates.select("class", "rate_t_c_ha_yr").iter_rows())
    assert r["林"] == 2.5 and r["草"] == 0.5 and r["沼"] == 0.8 and r["城"] == 0.0


def test_ipcc_forest_gain_harvest_disturbance() -> None:
    inv = _inv(area_ha=50.0, gw_t_dm_ha_yr=4.0, harvest_m3=100.0, disturbance_area_ha=2.0, disturbance_fd=0.5)
    res = compute(EXT, params.set_densities(EXT, CSET), CSET, PRICE, method="gain-loss", forest=inv)
    got = _by_method(res.flux)
    # set 阔叶: R 0.24, CF 0.47, BCEF_R 1.4; c_above 50 t C/ha
    # gain = 50 ha × 4 × (1 + 0.24) × 0.47 = 116.56
    assert got[("ipcc_forest_gain", "林")] == pytest.approx(116.56, rel=1e-12)
    # harvest = −100 m3 × 1.4 × 1.24 × 0.47 = −173.6 × 0.47 = −81.592
    assert got[("ipcc_forest_harvest", "林")] == pytest.approx(-81.592, rel=1e-12)
    # disturbance = −2 ha × (50/0.47) × 1.24 × 0.47 × 0.5 = −62
    assert got[("ipcc_forest_disturbance", "林")] == pytest.approx(-62.0, rel=1e-12)
    # the IPCC area is taken out of the rate row: (110 − 50) × 1.0 = 60
    assert got[("gain_loss_rate", "林")] == pytest.approx(60.0)


def test_ipcc_forest_volume_increment_and_own_factors() -> None:
    # I_V 5 m3/ha/yr × BCEF_I 0.8 × (1 + R 0.3) × CF 0.5 × 110 ha (area from the land cover) = 286
    inv = _inv(iv_m3_ha_yr=5.0, bcef_i=0.8, r=0.3, cf=0.5)
    rows, cov = GL.forest_ipcc_flux(inv, EXT, CSET, params.set_densities(EXT, CSET))
    assert _by_method(rows) == {("ipcc_forest_gain", "林"): pytest.approx(286.0, rel=1e-12)}
    assert cov["covered_ha"].to_list() == [110.0]


def test_ipcc_forest_missing_factor_for_non_forest_class() -> None:
    inv = _inv(**{"class": "城", "gw_t_dm_ha_yr": 3.0})
    with pytest.raises(InputError) as ei:
        GL.forest_ipcc_flux(inv, EXT, CSET, params.set_densities(EXT, CSET))
    assert set(ei.value.codes) == {"MISSING_COEFFICIENT"} and ei.value.problems[0].row == 2


def test_grassland_stock_change_factors() -> None:
    mg = pl.DataFrame([{"region_id": "A", "year": 2020, "class": "草", "area_ha": 10.0, "climate_zone": "warm_temperate_moist",
                        "soil_type": "HAC", "mg_from": "severely_degraded", "mg_to": "improved", "input_from": None,
                        "input_to": "high", "soc_ref_t_c_ha": None, "d_yr": None, "_row": 2}],
                      schema_overrides={"year": pl.Int32, "input_from": pl.Utf8, "soc_ref_t_c_ha": pl.Float64,
                                        "d_yr": pl.Float64})
    res = compute(EXT, params.set_densities(EXT, CSET), CSET, PRICE, method="gain-loss", grassland=mg)
    got = _by_method(res.flux)
    # 10 ha × SOC_REF 64 × F_LU 1 × (1.14 × 1.11 − 0.70 × 1) / 20 = 640 × 0.5654 / 20 = 18.0928 t C/yr
    assert got[("ipcc_grassland_soc", "草")] == pytest.approx(18.0928, rel=1e-12)
    assert got[("gain_loss_rate", "草")] == pytest.approx((40 - 10) * 0.2)
    # degradation is a loss: nominal → high_intensity_grazing: 10 × 64 × (0.9 − 1.0)/20 = −3.2
    rows, _ = GL.grassland_soc_flux(mg.with_columns(pl.lit("nominal").alias("mg_from"),
                                                    pl.lit("high_intensity_grazing").alias("mg_to")), CSET)
    assert rows["delta_c_t"].to_list() == [pytest.approx(-3.2, rel=1e-12)]


def test_grassland_unknown_level_is_reported() -> None:
    mg = pl.DataFrame([{"region_id": "A", "year": 2020, "class": "草", "area_ha": 10.0, "climate_zone": "warm_temperate_moist",
                        "soil_type": "HAC", "mg_from": "overgrazed", "mg_to": "nominal", "input_from": None,
                        "input_to": None, "soc_ref_t_c_ha": None, "d_yr": None, "_row": 5}],
                      schema_overrides={"year": pl.Int32, "input_from": pl.Utf8, "input_to": pl.Utf8,
                                        "soc_ref_t_c_ha": pl.Float64, "d_yr": pl.Float64})
    with pytest.raises(InputError) as ei:
        GL.grassland_soc_flux(mg, CSET)
    assert [(p.column, p.row) for p in ei.value.problems] == [("mg_from", 5)]


def test_wetland_can_be_a_net_source_and_groups_sum() -> None:
    ef, ver = GL.ch4_factor_t_ch4(CSET, "rewetted_temperate_nutrient_poor")
    # 92 kg CH4-C/ha/yr × 16/12 = 122.667 kg CH4 = 0.122667 t CH4/ha/yr
    assert ef == pytest.approx(0.092 * 16 / 12, rel=1e-12) and ver == "secondary"
    gwp = GL.gwp_value(CSET, "AR6")
    res = compute(EXT, params.set_densities(EXT, CSET), CSET, PRICE, method="gain-loss", ch4=(ef, gwp))
    got = _by_method(res.flux)
    # CH4: 100 ha × 0.122667 t × 27 = 331.2 t CO2e → −331.2 × 12/44 = −90.3273 t C-eq; soil rate +80 → net −10.3273
    assert got[("wetland_ch4", "沼")] == pytest.approx(-331.2 * 12 / 44, rel=1e-12)
    ch4_row = res.flux.filter(pl.col("method") == "wetland_ch4")
    assert ch4_row["co2e_t"][0] == pytest.approx(-331.2, rel=1e-12)
    summ = res.summary.filter(pl.col("method") == "gain_loss")
    by_group = dict(summ.select("group", "delta_c_t").iter_rows())
    assert by_group["wetland"] == pytest.approx(80.0 - 331.2 * 12 / 44) and by_group["wetland"] < 0
    # reported separately and together: groups sum to 'all'
    assert by_group["all"] == pytest.approx(sum(v for k, v in by_group.items() if k != "all"), rel=1e-12)
    assert by_group["all"] == pytest.approx(res.flux["delta_c_t"].sum(), rel=1e-12)
    # AR5 GWP 28 gives a larger emission
    assert GL.gwp_value(CSET, "AR5") == 28.0


def test_gep_quantities_prefer_gain_loss_and_annualise_stock_difference() -> None:
    ext2 = pl.concat([EXT.with_columns(pl.lit(2015).cast(pl.Int32).alias("year"),
                                       pl.when(pl.col("class") == "林").then(100.0).otherwise(pl.col("area_ha")).alias("area_ha")),
                      EXT.with_columns(pl.when(pl.col("class") == "城").then(15.0).otherwise(pl.col("area_ha")).alias("area_ha"))])
    # 2015→2020: 林 +10 ha, 城 −10 ha; stock change 10 × 166 = 1660 t C over 5 years = 332 t C/yr = 1217.33 t CO2/yr
    d = params.set_densities(ext2, CSET)
    sd = compute(ext2, d, CSET, PRICE, method="stock-difference")
    q = sd.quantities
    assert q["quantity"].sum() == pytest.approx(1660 / 5 * 44 / 12, rel=1e-12)
    assert set(q["year"].to_list()) == {2020} and set(q["service"].to_list()) == {"carbon_sequestration"}
    both = compute(ext2, d, CSET, PRICE, method="both")
    gl = both.flux.filter(pl.col("method") != "stock_difference")
    # with gain-loss rows present, only those enter GEP (never both methods)
    assert both.quantities["quantity"].sum() == pytest.approx(gl["co2e_t"].sum(), rel=1e-12)
    assert set(both.quantities["year"].to_list()) == {2015, 2020}
