"""SYNTHETIC demo inputs of the carbon gain-loss paths (gep/demo_data/carbon/, scripts/make_demo_carbon_data.py)
and what the [carbon] demo fragment computes from them: IPCC forest gain/loss, grassland stock change,
no hectare counted twice, stock identities."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

import polars as pl
import pytest

from gep.carbon.step import Config, run_step
from gep.config import RunConfig
from gep.pipeline import RunContext, demo_data_dir

ROOT = Path(__file__).resolve().parents[1]
CARBON = demo_data_dir() / "carbon"
FOREST = CARBON / "sichuan_forest_inventory_synthetic.csv"
GRASS = CARBON / "sichuan_grassland_management_synthetic.csv"


def _read(p: Path) -> pl.DataFrame:
    return pl.read_csv(p, schema_overrides={"region_id": pl.Utf8})


def test_files_are_labelled_synthetic_and_rebuilt_byte_identically(tmp_path: Path) -> None:
    assert "SYNTHETIC DEMO DATA" in (CARBON / "README.md").read_text(encoding="utf-8")
    for p in (FOREST, GRASS):
        assert p.name.endswith("_synthetic.csv")
        assert set(_read(p)["data_status"].unique().to_list()) == {"synthetic"}
    spec = importlib.util.spec_from_file_location("make_demo_carbon_data", ROOT / "scripts/make_demo_carbon_data.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["make_demo_carbon_data"] = mod
    spec.loader.exec_module(mod)
    out = tmp_path / "演示碳数据"
    mod.main(["--out", str(out)])
    for p in (FOREST, GRASS):
        assert (out / p.name).read_bytes() == p.read_bytes()


def test_rows_match_the_land_cover() -> None:
    lc = _read(demo_data_dir() / "sichuan_landcover_synthetic.csv").select("region_id", "year", "class", pl.col("area_ha").alias("lc_ha"))
    f, g = _read(FOREST), _read(GRASS)
    # 21 counties of 雅安 (8) and 阿坝 (13) × 2 years; 31 counties of 阿坝 + 甘孜 with 天然牧草地 × 2 years
    assert (f.height, f["region_id"].n_unique(), g.height, g["region_id"].n_unique()) == (42, 21, 62, 31)
    for df in (f, g):
        j = df.select("region_id", "year", "class", *(["area_ha"] if "area_ha" in df.columns else [])).join(
            lc, on=["region_id", "year", "class"], how="left")
        assert j["lc_ha"].is_not_null().all()  # every row is a class of that county and year
        if "area_ha" in df.columns:  # a management change never covers more than the class area
            assert (j["area_ha"] <= j["lc_ha"]).all()


@pytest.fixture(scope="module")
def demo() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    from gep.extent import build_extent
    from gep.loaders import load_landcover

    cw = pl.read_csv(ROOT / "coefficients/crosswalks/tnls.csv", infer_schema=False)
    ext = build_extent(load_landcover(demo_data_dir() / "sichuan_landcover_synthetic.csv"), cw)
    frag = tomllib.loads((demo_data_dir() / "config/30_carbon.toml").read_text(encoding="utf-8"))["carbon"]
    ctx = RunContext(config=RunConfig())
    ctx.extent = ext
    run_step(Config.model_validate(frag), ctx)
    assert {i["role"] for i in ctx.inputs} >= {"forest_inventory", "grassland_management"}
    return ext, ctx.tables["carbon_stock"], ctx.tables["carbon_flux"]


def _row(flux: pl.DataFrame, method: str, region: str, year: int, cls: str) -> float:
    r = flux.filter((pl.col("method") == method) & (pl.col("region_id") == region) & (pl.col("year_to") == year)
                    & (pl.col("class_to") == cls))
    assert r.height == 1, (method, region, year, cls)
    return float(r["delta_c_t"][0])


def test_demo_exercises_ipcc_forest_and_grassland_paths(demo: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]) -> None:
    ext, _, flux = demo
    counts = dict(flux.group_by("method").len().iter_rows())
    assert (counts["ipcc_forest_gain"], counts["ipcc_forest_harvest"], counts["ipcc_grassland_soc"]) == (42, 42, 62)
    assert counts["ipcc_forest_disturbance"] == _read(FOREST)["disturbance_area_ha"].is_not_null().sum() > 0
    # 雅安 雨城区 511802, 2020, 乔木林地 (针阔混交 in tnls): A = 47766.04 ha (land cover), I_V = 5.68 m3/ha/yr,
    # H = 8977 m3, disturbance 84.46 ha at fd 0.3; set (针阔混交): BCEF_I = BCEF_R = 1.2, R = 0.24, CF = 0.47.
    # Eq 2.9/2.10 gain = A × I_V × BCEF_I × (1+R) × CF; Eq 2.12 harvest = −H × BCEF_R × (1+R) × CF
    a = 47766.04
    assert _row(flux, "ipcc_forest_gain", "511802", 2020, "乔木林地") == pytest.approx(a * 5.68 * 1.2 * 1.24 * 0.47,
                                                                                      rel=1e-12)
    assert _row(flux, "ipcc_forest_harvest", "511802", 2020, "乔木林地") == pytest.approx(-8977 * 1.2 * 1.24 * 0.47,
                                                                                         rel=1e-12)
    from gep.carbon import params

    pools = params.load_carbon_set().table("pools")
    assert pools is not None
    c_above = pools.filter((pl.col("ecosystem_type") == "针阔混交") & (pl.col("pool") == "c_above"))["value"][0]
    # Eq 2.14: −A_d × B_W × (1+R) × CF × fd with B_W = c_above / CF → −84.46 × c_above × 1.24 × 0.3
    assert _row(flux, "ipcc_forest_disturbance", "511802", 2020, "乔木林地") == pytest.approx(
        -84.46 * c_above * 1.24 * 0.3, rel=1e-12)
    # 阿坝 汶川 513221, 2020: 3901.86 ha 天然牧草地 high_intensity_grazing → nominal, cool_temperate_moist HAC
    # SOC_REF 81 t C/ha, F_LU 1: ΔC = 3901.86 × 81 × (1.0 − 0.9) / 20 = 1580.2533 t C/yr
    assert _row(flux, "ipcc_grassland_soc", "513221", 2020, "天然牧草地") == pytest.approx(1580.2533, rel=1e-12)
    # no hectare counted twice: the rate row of a covered class keeps only the uncovered area
    # (乔木林地 fully covered by the inventory → 0; 天然牧草地 of 513221: (A − 3901.86) × 0.2, placeholder 草甸 rate)
    assert _row(flux, "gain_loss_rate", "511802", 2020, "乔木林地") == 0.0
    a_g = ext.filter((pl.col("region_id") == "513221") & (pl.col("year") == 2020) & (pl.col("class") == "天然牧草地"))
    assert _row(flux, "gain_loss_rate", "513221", 2020, "天然牧草地") == pytest.approx(
        (a_g["area_ha"][0] - 3901.86) * 0.2, rel=1e-12)
    # 2015 has no inventory rows: rates there
    assert _row(flux, "gain_loss_rate", "511802", 2015, "乔木林地") > 0


def test_demo_identities(demo: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]) -> None:
    _, stock, flux = demo
    # CO2e = C × 44/12 on every row; value and NPV signs follow the carbon
    assert (flux["co2e_t"] - flux["delta_c_t"] * 44 / 12).abs().max() < 1e-6
    # stock difference per region and period equals the change of the stocks (pools summed)
    tot = stock.group_by("region_id", "year").agg(pl.col("c_t").sum())
    sd = flux.filter(pl.col("method") == "stock_difference").group_by("region_id", "year_from", "year_to").agg(
        pl.col("delta_c_t").sum())
    chk = (sd.join(tot.rename({"year": "year_from", "c_t": "s1"}), on=["region_id", "year_from"])
           .join(tot.rename({"year": "year_to", "c_t": "s2"}), on=["region_id", "year_to"]))
    assert chk.height == 183 * 2
    assert ((chk["delta_c_t"] - (chk["s2"] - chk["s1"])).abs() / chk["s2"].abs()).max() < 1e-12
