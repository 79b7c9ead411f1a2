"""`gep carbon` CLI and the [carbon] run step: outputs, byte identity, errors, the Sichuan demo fragment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.carbon.step import Config, run_step
from gep.config import RunConfig
from gep.pipeline import RunContext, demo_data_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    d = tmp_path / "碳汇_测试"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\nR1,2015,1,500\nR1,2015,2,300\nR1,2025,1,520\nR1,2025,2,280\n",
                              encoding="utf-8")
    (d / "tr.csv").write_text("region_id,year_from,year_to,class_from,class_to,area_ha\n"
                              "R1,2015,2025,1,1,500\nR1,2015,2025,2,2,280\nR1,2015,2025,2,1,20\n", encoding="utf-8")
    (d / "pools.csv").write_text("lucode,lulc_name,c_above,c_below,c_soil,c_dead\n1,forest,60,15,100,5\n2,grass,2,8,80,0\n",
                                 encoding="utf-8")
    return d


def _run(d: Path, out: str, *extra: str) -> object:
    return CliRunner().invoke(main, ["carbon", "--landcover", str(d / "lc.csv"), "--transitions", str(d / "tr.csv"),
                                     "--coefficients", str(d / "pools.csv"), "--out", str(d / out), *extra])


def test_cli_outputs_and_byte_identity(case: Path) -> None:
    r1 = _run(case, "a", "--price-per-tc", "100", "--discount-rate", "7", "--price-change", "2")
    assert r1.exit_code == 0, r1.output
    flux = pl.read_csv(case / "a/tables/carbon_flux.csv")
    assert flux.columns == ["region_id", "year_from", "year_to", "method", "class_from", "class_to",
                            "delta_c_t", "co2e_t", "value_cny", "npv_cny"]
    assert pl.read_csv(case / "a/tables/carbon_stock.csv").columns == ["region_id", "year", "class", "pool", "c_t"]
    # 20 ha grass→forest: 20 × (180 − 90) = 1800 t C; NPV = 1800 × 100/10 × 6.961275455217626 = 125302.958…
    row = flux.row(0, named=True)
    assert (row["class_from"], row["class_to"], row["delta_c_t"]) == (2, 1, 1800.0)
    assert row["npv_cny"] == pytest.approx(1800 * 10 * 6.961275455217626, rel=1e-12)
    r2 = _run(case, "b", "--price-per-tc", "100", "--discount-rate", "7", "--price-change", "2")
    assert r2.exit_code == 0
    for name in ("carbon_flux.csv", "carbon_stock.csv", "carbon_gep_quantities.csv"):
        assert (case / "a/tables" / name).read_bytes() == (case / "b/tables" / name).read_bytes()


def test_cli_price_per_tco2_equals_per_tc(case: Path) -> None:
    assert _run(case, "c", "--price-per-tco2", "60").exit_code == 0
    flux = pl.read_csv(case / "c/tables/carbon_flux.csv")
    # 1800 t C = 6600 t CO2 × 60 = 396000 CNY
    assert flux["value_cny"][0] == pytest.approx(396000.0, rel=1e-12)


def test_cli_unreconciled_exits_2_and_writes_nothing(case: Path) -> None:
    (case / "tr.csv").write_text("region_id,year_from,year_to,class_from,class_to,area_ha\n"
                                 "R1,2015,2025,1,1,500\nR1,2015,2025,2,2,270\nR1,2015,2025,2,1,20\n", encoding="utf-8")
    res = _run(case, "bad")
    assert res.exit_code == 2
    assert "NOT_RECONCILED" in res.output and "region R1, class 2" in res.output
    assert not (case / "bad").exists()


def test_cli_both_prices_is_an_error(case: Path) -> None:
    res = _run(case, "x", "--price-per-tc", "1", "--price-per-tco2", "1")
    assert res.exit_code == 2 and not (case / "x").exists()


def test_config_rejects_bad_rates() -> None:
    with pytest.raises(ValueError):
        Config(discount_rate=-100)
    with pytest.raises(ValueError):
        Config(price_per_tc=1.0, price_per_tco2=1.0)


def test_demo_fragment_runs_and_balances() -> None:
    from gep.extent import build_extent
    from gep.loaders import load_landcover

    cw = pl.read_csv(ROOT / "coefficients/crosswalks/tnls.csv", infer_schema=False)
    ext = build_extent(load_landcover(demo_data_dir() / "sichuan_landcover_synthetic.csv"), cw)
    frag = tomllib.loads((demo_data_dir() / "config/30_carbon.toml").read_text(encoding="utf-8"))["carbon"]
    ctx = RunContext(config=RunConfig())
    ctx.extent = ext
    run_step(Config.model_validate(frag), ctx)
    stock, flux = ctx.tables["carbon_stock"], ctx.tables["carbon_flux"]
    assert set(stock["year"].unique().to_list()) == {2015, 2020, 2025}
    # identity: Σ stock-difference flux per region and period = stock(t2) − stock(t1)
    tot = stock.group_by("region_id", "year").agg(pl.col("c_t").sum())
    sd = flux.filter(pl.col("method") == "stock_difference").group_by("region_id", "year_from", "year_to").agg(
        pl.col("delta_c_t").sum())
    chk = (sd.join(tot.rename({"year": "year_from", "c_t": "s1"}), on=["region_id", "year_from"])
           .join(tot.rename({"year": "year_to", "c_t": "s2"}), on=["region_id", "year_to"]))
    assert chk.height == 183 * 2
    assert (chk["delta_c_t"] - (chk["s2"] - chk["s1"])).abs().max() < 1e-6
    assert {w.code for w in ctx.warnings} >= {"UNVERIFIED_COEFFICIENT"}
    # the GEP quantities are a valid account quantities table
    q = ctx.tables["carbon_gep_quantities"]
    assert set(q["service"].unique().to_list()) == {"carbon_sequestration"} and set(q["unit"].unique()) == {"t CO2"}


def test_gep_quantities_are_readable_by_the_account(case: Path) -> None:
    from gep.account.inputs import read_quantities

    assert _run(case, "q", "--price-per-tc", "100").exit_code == 0
    q = read_quantities(case / "q/tables/carbon_gep_quantities.csv")
    # stock-difference only: 1800 t C over 10 years = 180 t C/yr = 660 t CO2/yr, reported for 2025
    assert q.select("year", "service", "component", "quantity").rows() == [(2025, "carbon_sequestration", "co2",
                                                                             pytest.approx(660.0))]


def test_cli_without_crosswalk_or_invest_table_is_an_input_error(case: Path) -> None:
    res = CliRunner().invoke(main, ["carbon", "--landcover", str(case / "lc.csv"), "--out", str(case / "nc")])
    assert res.exit_code == 2 and "NO_ECOSYSTEM_TYPES" in res.output and not (case / "nc").exists()


def test_classes_named_as_ecosystem_types_need_no_crosswalk(case: Path) -> None:
    (case / "lc2.csv").write_text("region_id,year,class,area_ha\nR1,2020,阔叶,10\nR1,2020,草甸,5\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["carbon", "--landcover", str(case / "lc2.csv"), "--method", "gain-loss",
                                    "--price-per-tco2", "60", "--out", str(case / "et")])
    assert res.exit_code == 0, res.output
    flux = pl.read_csv(case / "et/tables/carbon_flux.csv")
    # placeholder rates: 10 ha × 1.0 + 5 ha × 0.2 = 11 t C/yr = 40.333 t CO2 × 60 = 2420 CNY
    assert flux["delta_c_t"].sum() == pytest.approx(11.0) and flux["value_cny"].sum() == pytest.approx(2420.0)
    stock = pl.read_csv(case / "et/tables/carbon_stock.csv")
    # 10 × 166 + 5 × 129.5 = 2307.5 t C
    assert stock["c_t"].sum() == pytest.approx(2307.5)


def test_gain_loss_inputs_from_files_and_rerun_from_run_toml(case: Path) -> None:
    (case / "lc2.csv").write_text("region_id,year,class,area_ha\nR1,2020,阔叶,110\nR1,2020,草甸,40\n", encoding="utf-8")
    (case / "forest.csv").write_text("region_id,year,class,area_ha,gw_t_dm_ha_yr,harvest_m3\nR1,2020,阔叶,50,4,100\n",
                                     encoding="utf-8")
    (case / "grass.csv").write_text("region_id,year,class,area_ha,climate_zone,soil_type,mg_from,mg_to,input_to\n"
                                    "R1,2020,草甸,10,warm_temperate_moist,HAC,severely_degraded,improved,high\n",
                                    encoding="utf-8")
    (case / "rates.csv").write_text("class,rate_t_c_ha_yr\n阔叶,2.0\n", encoding="utf-8")
    args = ["carbon", "--landcover", str(case / "lc2.csv"), "--method", "gain-loss", "--price-per-tc", "100",
            "--forest-inventory", str(case / "forest.csv"), "--grassland-management", str(case / "grass.csv"),
            "--rates", str(case / "rates.csv"), "--out", str(case / "gl")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    flux = pl.read_csv(case / "gl/tables/carbon_flux.csv")
    got = {(m, c): d for m, c, d in flux.select("method", "class_from", "delta_c_t").iter_rows()}
    # gain 50 × 4 × 1.24 × 0.47 = 116.56; harvest −100 × 1.4 × 1.24 × 0.47 = −81.592; rate (110 − 50) × 2.0 = 120
    # grassland 10 × 64 × (1.14 × 1.11 − 0.70)/20 = 18.0928; rate (40 − 10) × 0.2 = 6
    assert got == {("ipcc_forest_gain", "阔叶"): pytest.approx(116.56), ("ipcc_forest_harvest", "阔叶"): pytest.approx(-81.592),
                   ("gain_loss_rate", "阔叶"): pytest.approx(120.0), ("ipcc_grassland_soc", "草甸"): pytest.approx(18.0928),
                   ("gain_loss_rate", "草甸"): pytest.approx(6.0)}
    # run.toml repeats the run byte for byte
    res2 = CliRunner().invoke(main, ["run", str(case / "gl/run.toml"), "--out", str(case / "gl2")])
    assert res2.exit_code == 0, res2.output
    for name in ("carbon_flux.csv", "carbon_stock.csv"):
        assert (case / "gl/tables" / name).read_bytes() == (case / "gl2/tables" / name).read_bytes()


def test_forest_row_without_growth_is_rejected(case: Path) -> None:
    (case / "forest.csv").write_text("region_id,year,class,harvest_m3\nR1,2020,阔叶,100\n", encoding="utf-8")
    from gep.carbon.gainloss import load_forest_inventory
    from gep.errors import InputError

    with pytest.raises(InputError) as ei:
        load_forest_inventory(case / "forest.csv")
    assert ei.value.codes == ["MISSING_VALUE"] and ei.value.problems[0].row == 2


def test_gep_link_replaces_the_account_rate_estimate_no_double_count() -> None:
    import gep.account.function_value as fv_mod
    from gep.coefficients import load_set

    from gep.account.step import fv_parameters
    from gep.carbon import params
    from gep.carbon.step import compute
    from gep.carbon.valuation import CarbonPrice

    ext = pl.DataFrame({"region_id": ["A", "A"], "year": [2020, 2020], "class": ["阔叶", "草甸"],
                        "ecosystem_type": ["阔叶", "草甸"], "area_ha": [10.0, 5.0]}).with_columns(pl.col("year").cast(pl.Int32))
    cs = params.load_carbon_set()
    res = compute(ext, params.set_densities(ext, cs), cs, CarbonPrice(100.0, None, "t", "user"), method="gain-loss")
    ind, prices, rates = fv_parameters(load_set("function_value_cn"))
    alone = fv_mod.function_value_services(ind, prices, extent=ext, rates=rates)
    linked = fv_mod.function_value_services(ind, prices, extent=ext, rates=rates, quantities=res.quantities)
    carbon = pl.col("service").is_in(["carbon_sequestration", "oxygen_release"])
    # the function-value set carries no carbon (or CO2-derived oxygen) rates of its own: carbon is counted
    # from one place, the carbon step (issue 14, item 4; the old rates were 2.5–3× those of carbon_default)
    assert alone.filter(carbon).height == 0
    assert rates.filter(carbon).height == 0
    # the carbon quantities: 11 t C/yr × 44/12 = 40.333 t CO2, counted once
    assert linked.filter(carbon)["quantity"].sum() == pytest.approx(11 * 44 / 12, rel=1e-12)
    # other services are untouched
    assert linked.filter(~carbon)["value_cny"].sum() == pytest.approx(alone.filter(~carbon)["value_cny"].sum())


def test_carbon_and_account_paths_give_the_same_tonnes(tmp_path: Path) -> None:
    """`gep carbon` alone and `gep run` with [carbon] + [account]: the GEP 固碳 quantity equals the carbon step's tonnes."""
    d = tmp_path / "碳"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\n510104,2020,乔木林地,100\n510104,2020,天然牧草地,40\n"
                              "510104,2020,沼泽地,10\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["carbon", "--landcover", str(d / "lc.csv"), "--crosswalk", "tnls",
                                    "--method", "gain-loss", "--price-per-tco2", "60", "--out", str(d / "c")])
    assert res.exit_code == 0, res.output
    flux = pl.read_csv(d / "c/tables/carbon_flux.csv")
    tonnes_carbon = flux.filter(pl.col("year_to") == 2020)["co2e_t"].sum()
    # carbon_default rates: 针阔混交 (乔木林地) and 草甸 (天然牧草地), 湿地 (沼泽地), in t C/ha/yr × 44/12
    rates = dict(pl.read_csv(ROOT / "coefficients/sets/carbon_default/rates.csv").select(
        "ecosystem_type", "value").iter_rows())
    by_hand = (100 * rates["针阔混交"] + 40 * rates["草甸"] + 10 * rates["湿地"]) * 44 / 12
    assert tonnes_carbon == pytest.approx(by_hand, rel=1e-12)
    (d / "run.toml").write_text(
        '[run]\ntitle = "carbon once"\nreport = false\n[inputs]\nlandcover = ["lc.csv"]\ncrosswalk = "tnls"\n'
        '[carbon]\nmethod = "gain-loss"\nprice_per_tco2 = 60.0\n[account]\nmethods = ["function_value"]\n',
        encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(d / "run.toml"), "--out", str(d / "r")])
    assert res.exit_code == 0, res.output
    services = pl.read_csv(d / "r/tables/services.csv")
    tonnes_account = services.filter(pl.col("service") == "carbon_sequestration")["quantity"].sum()
    assert tonnes_account == pytest.approx(tonnes_carbon, rel=1e-12)
    # oxygen follows the same carbon: O2 = CO2 × 1.2/1.63 (photosynthesis stoichiometry)
    o2 = services.filter(pl.col("service") == "oxygen_release")["quantity"].sum()
    assert o2 == pytest.approx(tonnes_carbon * 1.2 / 1.63, rel=1e-12)
    # without the carbon step the account says so instead of estimating carbon on its own
    res = CliRunner().invoke(main, ["account", "--landcover", str(d / "lc.csv"), "--crosswalk", "tnls",
                                    "--method", "function-value", "--out", str(d / "a")])
    assert res.exit_code == 0 and "CARBON_NOT_COMPUTED" in res.output
    assert pl.read_csv(d / "a/tables/services.csv").filter(
        pl.col("service") == "carbon_sequestration").height == 0


def test_problems_of_every_input_file_are_reported_together(case: Path) -> None:
    (case / "tr.csv").write_text("region_id,year_from,year_to,class_from,class_to,area_ha\nR1,2025,2015,1,1,500\n",
                                 encoding="utf-8")
    (case / "forest.csv").write_text("region_id,year,class,harvest_m3\nR1,2025,1,100\n", encoding="utf-8")
    res = _run(case, "e", "--method", "both", "--forest-inventory", str(case / "forest.csv"))
    assert res.exit_code == 2
    assert "INVALID_VALUE" in res.output and "MISSING_VALUE" in res.output


def test_price_year_other_than_the_base_year_is_warned() -> None:
    from gep.config import RunSection

    ext = pl.DataFrame({"region_id": ["A"], "year": [2020], "class": ["阔叶"], "ecosystem_type": ["阔叶"],
                        "area_ha": [10.0]}).with_columns(pl.col("year").cast(pl.Int32))
    ctx = RunContext(config=RunConfig(run=RunSection.model_validate({"price_base_year": 2020})))
    ctx.extent = ext
    run_step(Config(method="gain-loss"), ctx)  # CEA has no 2020 price → latest (2025), with a warning
    par = dict(ctx.tables["carbon_parameters"].select("parameter", "value").iter_rows())
    assert par["price_year"] == 2025.0 and par["price_per_t_co2"] == pytest.approx(62.36)
    assert "PRICE_YEAR_DIFFERS" in [w.code for w in ctx.warnings]
    ctx2 = RunContext(config=RunConfig(run=RunSection.model_validate({"price_base_year": 2023})))
    ctx2.extent = ext
    run_step(Config(method="gain-loss"), ctx2)  # the base year has a CEA price: 68.15, no warning
    par2 = dict(ctx2.tables["carbon_parameters"].select("parameter", "value").iter_rows())
    assert par2["price_per_t_co2"] == pytest.approx(68.15) and "PRICE_YEAR_DIFFERS" not in [w.code for w in ctx2.warnings]


def test_soil_depth_declared_wetland_flagged_and_ch4_assumption_warned(tmp_path: Path) -> None:
    pools = pl.read_csv(ROOT / "coefficients/sets/carbon_default/pools.csv", infer_schema_length=0)
    soil = pools.filter(pl.col("pool") == "c_soil")
    assert set(soil["soil_depth_cm"].to_list()) == {"0-100"}  # carbon.md: national density datasets, 0–100 cm
    assert pools.filter(pl.col("pool") != "c_soil")["soil_depth_cm"].null_count() == pools.height - soil.height
    soc_ref = pl.read_csv(ROOT / "coefficients/sets/carbon_default/grassland_soc_ref.csv", infer_schema_length=0)
    assert set(soc_ref["soil_depth_cm"].to_list()) == {"0-30"}  # IPCC Tier 1 SOC_REF (carbon.md §1.3)
    wet = pools.filter(pl.col("ecosystem_type") == "湿地")
    assert all("Xu et al. 2018" in n and "≈3×" in n for n in wet["note"].to_list())
    assert set(wet["verification"].to_list()) == {"unverified"}
    d = tmp_path / "湿地"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\n510104,2020,沼泽地,10\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["carbon", "--landcover", str(d / "lc.csv"), "--crosswalk", "tnls", "--method",
                                    "gain-loss", "--wetland-ch4-ef", "rewetted_temperate_nutrient_poor",
                                    "--price-per-tco2", "60", "--out", str(d / "o")])
    assert res.exit_code == 0, res.output
    assert "CH4_FACTOR_ASSUMPTION" in res.output and "modelling assumption" in res.output
    used = pl.read_csv(d / "o/tables/coefficients_used.csv", infer_schema_length=0)
    c_soil = used.filter((pl.col("table") == "pools") & pl.col("key").str.ends_with("c_soil"))
    assert set(c_soil["soil_depth"].to_list()) == {"soil depth 0-100 cm"}
