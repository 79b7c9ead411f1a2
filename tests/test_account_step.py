"""The [account] step and `gep account` end to end (files in a 中文 folder, run directory, errors, determinism)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.account.step import Config
from gep.config import InputsSection, RunConfig, RunSection
from gep.errors import InputError
from gep.pipeline import demo_config, execute


@pytest.fixture()
def county_files(tmp_path: Path) -> Path:
    d = tmp_path / "县级核算 输入"
    d.mkdir()
    # 2 counties, 2 years; 乔木林地 → 针阔混交 and 水田 → 水田 through the tnls crosswalk
    (d / "土地利用.csv").write_text(
        "地区代码,年份,地类,面积(亩)\n"
        "510104,2015,乔木林地,1500\n510104,2015,水田,750\n510104,2015,城镇村及工矿用地,150\n"
        "510104,2020,乔木林地,1800\n510104,2020,水田,600\n510104,2020,城镇村及工矿用地,150\n"
        "510105,2015,水田,150\n510105,2020,水田,150\n",
        encoding="utf-8",
    )
    (d / "功能量.csv").write_text(
        "地区代码,年份,服务,组分,功能量,单位\n"
        "510104,2015,水源涵养,,0.02,亿m3\n"
        "510104,2020,water_supply,domestic,10,万m3\n",
        encoding="utf-8",
    )
    (d / "价格.csv").write_text("服务,组分,价格,单位\nwater_conservation,,8.0,元/m3\n", encoding="utf-8")
    (d / "统计.csv").write_text(
        "region_id,year,service,component,value,unit\n510104,2015,农业产品,,120,万元\n510105,2020,recreation,,0.5,亿元\n",
        encoding="utf-8",
    )
    (d / "price_index.csv").write_text("year,index\n2010,100\n2015,110\n2020,125\n", encoding="utf-8")
    return d


def _cfg(d: Path, **step: object) -> RunConfig:
    base = {"methods": ["function_value", "equivalent_factor"], "quantities": [str(d / "功能量.csv")],
            "prices": str(d / "价格.csv"), "statistics": [str(d / "统计.csv")], "price_index": str(d / "price_index.csv")}
    base.update(step)
    return RunConfig(run=RunSection(title="t", report=False, price_base_year=2020),
                     inputs=InputsSection(landcover=[str(d / "土地利用.csv")], crosswalk="tnls"),
                     steps={"account": Config.model_validate(base)})


def test_step_writes_all_tables_with_hand_checked_values(county_files: Path) -> None:
    out = execute(_cfg(county_files), county_files / "输出", "pytest")
    t = out / "tables"
    for name in ("extent", "services", "gep", "gep_constant", "seea_physical_supply", "seea_monetary_supply",
                 "extent_account", "change_decomposition"):
        assert (t / f"{name}.csv").exists() and (t / f"{name}.parquet").exists(), name
    s = pl.read_csv(t / "services.csv", schema_overrides={"region_id": pl.Utf8, "component": pl.Utf8})
    fv = s.filter(pl.col("method") == "function_value", pl.col("region_id") == "510104", pl.col("year") == 2015)
    wc = fv.filter(pl.col("service") == "water_conservation")
    # county quantity 0.02 亿m3 = 2e6 m3 × user price 8.0 元/m3 = 1.6e7 CNY (replaces the area × rate estimate)
    assert wc.height == 1 and wc["value_cny"][0] == pytest.approx(1.6e7)
    assert wc["coefficient_id"][0].startswith("quantities|prices:价格.csv:row 2")
    ag = fv.filter(pl.col("service") == "agricultural_products")
    assert ag["value_cny"][0] == pytest.approx(1.2e6)  # 120 万元
    ef = s.filter(pl.col("method") == "equivalent_factor", pl.col("region_id") == "510105", pl.col("year") == 2015)
    # 150 亩 = 10 ha 水田 × Σ equivalents 3.89 × 3406.5 = 132 512.85 CNY
    assert ef["value_cny"].sum() == pytest.approx(10 * 3.89 * 3406.5, rel=1e-9)
    g = pl.read_csv(t / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    assert g.height == 8  # 2 regions × 2 years × 2 methods
    assert g.filter(pl.col("region_id") == "510104", pl.col("year") == 2015)["area_km2"][0] == pytest.approx(1.6)
    gc = pl.read_csv(t / "gep_constant.csv", schema_overrides={"region_id": pl.Utf8})
    # equivalent-factor values are 2010 prices → ×125/100 at 2020 prices
    e0 = g.filter(pl.col("method") == "equivalent_factor")["total_cny"].sum()
    e1 = gc.filter(pl.col("method") == "equivalent_factor")["total_cny"].sum()
    assert e1 == pytest.approx(e0 * 1.25)
    d = pl.read_csv(t / "change_decomposition.csv", schema_overrides={"region_id": pl.Utf8})
    parts = d["area_effect_cny"] + d["unit_value_effect_cny"] + d["unattributed_change_cny"]
    assert (parts - d["total_change_cny"]).abs().max() < 1e-4
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {s["id"] for s in m["coefficient_sets"]} == {"xie2015", "function_value_cn"}
    assert "UNVERIFIED_COEFFICIENT" in {w["code"] for w in m["warnings"]}
    assert m["price_base_year"] == 2020
    # totals over regions and growth are engine tables (gep.account.totals), at constant prices
    tot = pl.read_csv(t / "gep_totals.csv", schema_overrides={"region_id": pl.Utf8})
    every = tot.filter(pl.col("level") == "all").sort("method", "year")
    assert every["total_cny"].to_list() == pytest.approx(
        g.group_by("method", "year").agg(pl.col("total_cny").sum()).sort("method", "year")[
            "total_cny"].to_list())
    gr = pl.read_csv(t / "gep_growth.csv", schema_overrides={"region_id": pl.Utf8})
    assert gr["price_base_year"].unique().to_list() == [2020]
    ef_all = gr.filter(pl.col("level") == "all", pl.col("method") == "equivalent_factor")
    ef_c = gc.filter(pl.col("method") == "equivalent_factor").group_by("year").agg(
        pl.col("total_cny").sum()).sort("year")["total_cny"].to_list()
    assert ef_all["change_cny"].to_list() == pytest.approx([ef_c[1] - ef_c[0]])


def test_same_inputs_give_byte_identical_tables(county_files: Path) -> None:
    a = execute(_cfg(county_files), county_files / "a", "pytest")
    b = execute(_cfg(county_files), county_files / "b", "pytest")
    for name in ("services.csv", "gep.csv", "seea_monetary_supply.csv", "change_decomposition.csv"):
        assert (a / "tables" / name).read_bytes() == (b / "tables" / name).read_bytes(), name


def test_unit_mismatch_in_a_file_is_reported_with_file_and_row_and_nothing_written(county_files: Path) -> None:
    (county_files / "功能量.csv").write_text(
        "地区代码,年份,服务,组分,功能量,单位\n510104,2015,水源涵养,,3,t\n510104,2015,water_supply,ecological,1,m3\n",
        encoding="utf-8")
    with pytest.raises(InputError) as ei:
        execute(_cfg(county_files), county_files / "bad", "pytest")
    # the unit is checked against the indicator when the file is read (as gep validate does), so the
    # missing price of row 3 is found once the file itself is right
    assert ei.value.codes == ["UNIT_MISMATCH"]
    mism = ei.value.problems[0]
    assert "measured in m3" in mism.message and "'t'" in mism.message and mism.row == 2
    assert "功能量.csv" in (mism.file or "") and mism.column == "单位"  # the header as the file wrote it
    (county_files / "功能量.csv").write_text(
        "地区代码,年份,服务,组分,功能量,单位\n510104,2015,水源涵养,,3,m3\n510104,2015,water_supply,ecological,1,m3\n",
        encoding="utf-8")
    with pytest.raises(InputError) as ei:
        execute(_cfg(county_files), county_files / "bad", "pytest")
    missing = next(p for p in ei.value.problems if p.code == "MISSING_COEFFICIENT")
    assert "'ecological'" in missing.message and missing.row == 3
    assert not (county_files / "bad").exists()


def test_unknown_service_alias_reports_row(county_files: Path) -> None:
    (county_files / "统计.csv").write_text("region_id,year,service,value,unit\n510104,2015,生态旅游收入,1,亿元\n",
                                          encoding="utf-8")
    with pytest.raises(InputError) as ei:
        execute(_cfg(county_files), county_files / "bad", "pytest")
    (p,) = ei.value.problems
    assert (p.code, p.row, p.value) == ("UNKNOWN_SERVICE", 2, "生态旅游收入")


def test_cli_account_prefecture_rollup_and_input_error_exit_code(county_files: Path) -> None:
    runner = CliRunner()
    out = county_files / "cli"
    res = runner.invoke(main, ["account", "--landcover", str(county_files / "土地利用.csv"), "--crosswalk", "tnls",
                               "--method", "equivalent-factor", "--regions", "sichuan", "--level", "prefecture",
                               "--standard-value", "2000", "--out", str(out)])
    assert res.exit_code == 0, res.output
    g = pl.read_csv(out / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    assert g["region_id"].unique().to_list() == ["510100"]  # both counties are in 成都市
    s = pl.read_csv(out / "tables" / "services.csv", schema_overrides={"region_id": pl.Utf8})
    assert s["price"].unique().to_list() == [2000.0]
    bad = runner.invoke(main, ["account", "--method", "function-value", "--quantities",
                               str(county_files / "功能量.csv"), "--prices", str(county_files / "价格.csv"),
                               "--price-base-year", "2020", "--out", str(county_files / "cli2")])
    assert bad.exit_code == 2
    assert "--price-index" in bad.output


def test_cli_function_value_without_landcover(county_files: Path) -> None:
    out = county_files / "无土地"
    res = CliRunner().invoke(main, ["account", "--method", "function-value", "--quantities",
                                    str(county_files / "功能量.csv"), "--statistics", str(county_files / "统计.csv"),
                                    "--out", str(out)])
    assert res.exit_code == 0, res.output
    g = pl.read_csv(out / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    row = g.filter(pl.col("region_id") == "510104", pl.col("year") == 2015).row(0, named=True)
    # 2e6 m3 × 7.06 (set price) + 1.2e6 (statistics) = 1.532e7
    assert row["total_cny"] == pytest.approx(2e6 * 7.06 + 1.2e6)


def test_demo_fragment_covers_2015_2020_2025_by_both_methods(tmp_path: Path) -> None:
    demo = demo_config()
    cfg = RunConfig(run=demo.run.model_copy(update={"report": False}), inputs=demo.inputs,
                    steps={"account": demo.steps["account"]}, source=demo.source)
    out = execute(cfg, tmp_path / "演示", "pytest")
    g = pl.read_csv(out / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    assert sorted(g["year"].unique().to_list()) == [2015, 2020, 2025]
    assert sorted(g["method"].unique().to_list()) == ["equivalent_factor", "function_value"]
    assert g["region_id"].n_unique() == 183
    assert g["gep_per_capita_cny"].null_count() == 0
    assert (out / "tables" / "gep_constant.csv").exists()
    d = pl.read_csv(out / "tables" / "change_decomposition.csv", schema_overrides={"region_id": pl.Utf8})
    assert sorted(set(zip(d["year_from"], d["year_to"], strict=True))) == [(2015, 2020), (2015, 2025), (2020, 2025)]
    # periods chain: Δ(2015→2020) + Δ(2020→2025) = Δ(2015→2025) for every region and method
    def period(a: int, b: int) -> pl.DataFrame:
        return d.filter(pl.col("year_from") == a, pl.col("year_to") == b).select(
            "region_id", "method", pl.col("total_change_cny").alias(f"d{a}_{b}"))

    chain = period(2015, 2020).join(period(2020, 2025), on=["region_id", "method"]).join(
        period(2015, 2025), on=["region_id", "method"])
    assert chain.height == 183 * 2
    assert (chain["d2015_2020"] + chain["d2020_2025"] - chain["d2015_2025"]).abs().max() < 1e-3


def test_carbon_step_quantities_and_registry_area(county_files: Path) -> None:
    from gep.regions import load_registry

    from gep.account.step import run_step
    from gep.pipeline import RunContext

    cfg = RunConfig(run=RunSection(title="t", report=False), steps={})
    ctx = RunContext(config=cfg, registry=load_registry("sichuan"))
    # carbon step output in the quantities shape (t CO2), e.g. gep.carbon's carbon_gep_quantities
    ctx.tables["carbon_gep_quantities"] = pl.DataFrame({
        "region_id": ["510104", "510104"], "year": [2020, 2020], "service": ["carbon_sequestration"] * 2,
        "component": ["forest", "grassland"], "quantity": [1000.0, 10.0], "unit": ["t CO2", "t CO2"]})
    run_step(Config(methods=["function_value"], statistics=[str(county_files / "统计.csv")]), ctx)
    s = ctx.tables["services"].filter(pl.col("service") == "carbon_sequestration")
    # 1010 t CO2 × 380 CNY/t (Garzê 2010 afforestation cost) = 383 800 CNY
    assert s["value_cny"].sum() == pytest.approx(383_800.0)
    g = ctx.tables["gep"].filter(pl.col("region_id") == "510104", pl.col("year") == 2020)
    reg_area = ctx.registry.counties.filter(pl.col("region_id") == "510104")["area_km2"][0]
    assert g["area_km2"][0] == pytest.approx(reg_area)  # no land cover: area from the registry
