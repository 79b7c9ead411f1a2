"""Imported-products deduction (GB/T 46869-2025: GEP = supplied − from outside the region): rows, gep.csv column, identities, errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.account.identities import AccountIdentityError
from gep.account.imported import imported_deduction_services
from gep.account.inputs import read_imported
from gep.account.tables import check_gep, gep_totals, seea_supply_tables
from gep.errors import InputError

IND = pl.DataFrame({"service": ["agricultural_products", "water_supply", "water_conservation"],
                    "category": ["provisioning", "provisioning", "regulating"]})
PRICES = pl.DataFrame({"service": ["water_supply"], "component": ["domestic"], "price": [2.6],
                       "price_unit": ["CNY/m3"], "price_year": [2010], "coefficient_id": ["fv:prices:water_supply/domestic"]},
                      schema_overrides={"price_year": pl.Int32})


def _imported(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"region_id": pl.Utf8, "year": pl.Int32, "service": pl.Utf8, "component": pl.Utf8,
                                      "value": pl.Float64, "quantity": pl.Float64, "unit": pl.Utf8}, orient="row")


def _own_services() -> pl.DataFrame:
    """R1 2020: provisioning 1 000 000 CNY (statistics), regulating 300 000 CNY (quantity × price)."""
    return pl.DataFrame(
        {"region_id": ["R1", "R1"], "year": [2020, 2020], "ecosystem_type": [None, "阔叶"],
         "category": ["provisioning", "regulating"], "service": ["agricultural_products", "water_conservation"],
         "component": ["", ""], "quantity": [None, 50_000.0], "quantity_unit": [None, "m3"], "price": [None, 6.0],
         "price_unit": [None, "CNY/m3"], "value_cny": [1_000_000.0, 300_000.0],
         "method": ["function_value", "function_value"], "coefficient_id": ["statistics", "quantities|p"],
         "price_year": [2020, 2020]},
        schema_overrides={"year": pl.Int32, "price_year": pl.Int32, "quantity": pl.Float64, "price": pl.Float64,
                          "ecosystem_type": pl.Utf8, "quantity_unit": pl.Utf8, "price_unit": pl.Utf8})


def test_money_and_quantity_rows_become_negative_deduction_rows() -> None:
    imp = _imported([("R1", 2020, "农业产品", "", 50.0, None, "万元"),
                     ("R1", 2020, "water_supply", "domestic", None, 10.0, "万m3")])
    imp = imp.with_columns(pl.col("service").replace({"农业产品": "agricultural_products"}))
    d = imported_deduction_services(imp, IND, PRICES)
    assert set(d["category"]) == {"imported_deduction"} and set(d["method"]) == {"function_value"}
    ag = d.filter(pl.col("service") == "agricultural_products")
    # 50 万元 = 500 000 CNY, deducted
    assert ag["value_cny"].to_list() == [-500_000.0] and ag["quantity"].is_null().all()
    ws = d.filter(pl.col("service") == "water_supply")
    # 10 万m3 = 100 000 m3 × 2.6 CNY/m3 = 260 000 CNY, deducted; quantity −10 万m3 so quantity × price = value
    assert ws["value_cny"][0] == pytest.approx(-260_000.0)
    assert ws["quantity"][0] == -10.0 and ws["quantity_unit"][0] == "万m3"
    assert ws["coefficient_id"][0] == "imported|fv:prices:water_supply/domestic"
    assert ws["price_year"][0] == 2010


def test_gep_total_is_categories_minus_deduction_and_seea_supply_is_gross() -> None:
    imp = _imported([("R1", 2020, "agricultural_products", "", 50.0, None, "万元"),
                     ("R1", 2020, "water_supply", "domestic", None, 10.0, "万m3")])
    services = pl.concat([_own_services(), imported_deduction_services(imp, IND, PRICES)], how="vertical_relaxed")
    g = gep_totals(services)
    assert g.height == 1
    # categories are the region's own supply: provisioning 1 000 000, regulating 300 000 (deduction not in them)
    assert g["provisioning_cny"][0] == 1_000_000.0 and g["regulating_cny"][0] == 300_000.0
    # deduction 500 000 + 260 000 = 760 000; total = 1 300 000 − 760 000 = 540 000
    assert g["imported_deduction_cny"][0] == pytest.approx(760_000.0)
    assert g["total_cny"][0] == pytest.approx(540_000.0)
    _, monetary = seea_supply_tables(services)
    assert "imported_deduction" not in set(monetary["category"])
    assert monetary["value_cny"].sum() == pytest.approx(1_300_000.0)


def test_no_deduction_gives_a_zero_column_and_the_old_total() -> None:
    g = gep_totals(_own_services())
    assert g["imported_deduction_cny"].to_list() == [0.0]
    assert g["total_cny"].to_list() == [1_300_000.0]
    assert str(g["imported_deduction_cny"][0]) == "0.0"  # not −0.0 in the CSV
    # a second region with a deduction: the region without one still shows 0.0, not −0.0
    imp = _imported([("R2", 2020, "agricultural_products", "", 1.0, None, "元")])
    both = pl.concat([_own_services(), imported_deduction_services(imp, IND, PRICES)], how="vertical_relaxed")
    g = gep_totals(both).sort("region_id")
    assert [str(v) for v in g["imported_deduction_cny"]] == ["0.0", "1.0"]
    assert g["total_cny"].to_list() == [1_300_000.0, -1.0]


def test_identity_check_catches_a_total_that_ignores_the_deduction_or_a_positive_deduction() -> None:
    imp = _imported([("R1", 2020, "agricultural_products", "", 50.0, None, "万元")])
    services = pl.concat([_own_services(), imported_deduction_services(imp, IND, PRICES)], how="vertical_relaxed")
    g = gep_totals(services)
    with pytest.raises(AccountIdentityError, match="categories"):
        check_gep(services, g.with_columns((pl.col("total_cny") + 500_000.0).alias("total_cny")))
    flipped = services.with_columns(
        pl.when(pl.col("category") == "imported_deduction").then(-pl.col("value_cny")).otherwise(pl.col("value_cny"))
        .alias("value_cny"))
    with pytest.raises(AccountIdentityError, match="≤ 0"):
        check_gep(flipped, g)


def test_missing_price_and_unit_mismatch_are_input_errors_naming_them() -> None:
    imp = _imported([("R1", 2020, "water_supply", "industrial", None, 5.0, "万m3"),
                     ("R1", 2021, "water_supply", "domestic", None, 5.0, "t")])
    imp = imp.with_columns(pl.Series("source_row", [2, 3]), pl.lit("调入.csv").alias("source_file"))
    with pytest.raises(InputError) as e:
        imported_deduction_services(imp, IND, PRICES)
    codes = {(p.code, p.row) for p in e.value.problems}
    assert ("MISSING_COEFFICIENT", 2) in codes  # industrial water has no price
    assert ("UNIT_MISMATCH", 3) in codes  # t × CNY/m3
    assert any("industrial" in p.message for p in e.value.problems)
    assert any("t" in str(p.value) and "m3" in p.message + str(p.value) for p in e.value.problems
               if p.code == "UNIT_MISMATCH")


def test_reader_rejects_rows_with_both_or_neither(tmp_path: Path) -> None:
    d = tmp_path / "调入产品"
    d.mkdir()
    f = d / "调入.csv"
    f.write_text("地区代码,年份,服务,组分,价值,功能量,单位\n"
                 "R1,2020,农业产品,,50,,万元\n"
                 "R1,2020,水资源,domestic,5,10,万m3\n"
                 "R1,2020,林业产品,,,,万元\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_imported(f, "调入.csv")
    got = sorted((p.code, p.row) for p in e.value.problems)
    assert got == [("INVALID_VALUE", 3), ("MISSING_VALUE", 4)]


def _files(tmp_path: Path) -> Path:
    d = tmp_path / "区域外 生态产品"
    d.mkdir()
    (d / "统计.csv").write_text("region_id,year,service,component,value,unit\n"
                               "510104,2020,agricultural_products,,200,万元\n"
                               "510104,2020,recreation,,0.1,亿元\n", encoding="utf-8")
    (d / "功能量.csv").write_text("region_id,year,service,component,quantity,unit\n"
                                "510104,2020,water_supply,domestic,100,万m3\n", encoding="utf-8")
    (d / "调入.csv").write_text("region_id,year,service,component,value,quantity,unit\n"
                              "510104,2020,agricultural_products,,30,,万元\n"
                              "510104,2020,water_supply,domestic,,20,万m3\n", encoding="utf-8")
    return d


def test_cli_imported_option_end_to_end(tmp_path: Path) -> None:
    d = _files(tmp_path)
    res = CliRunner().invoke(main, ["account", "--method", "function-value", "--statistics", str(d / "统计.csv"),
                                    "--quantities", str(d / "功能量.csv"), "--imported", str(d / "调入.csv"),
                                    "--out", str(d / "输出")])
    assert res.exit_code == 0, res.output
    g = pl.read_csv(d / "输出" / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    # own: 2 000 000 + 10 000 000 + 100 万m3 × 2.6 = 2 600 000 → 14 600 000 CNY
    # deducted: 300 000 + 20 万m3 × 2.6 = 520 000 → 820 000 CNY; total 13 780 000 CNY
    assert g["provisioning_cny"][0] == pytest.approx(4_600_000.0)
    assert g["cultural_cny"][0] == pytest.approx(10_000_000.0)
    assert g["imported_deduction_cny"][0] == pytest.approx(820_000.0)
    assert g["total_cny"][0] == pytest.approx(13_780_000.0)
    s = pl.read_csv(d / "输出" / "tables" / "services.csv", schema_overrides={"region_id": pl.Utf8})
    ded = s.filter(pl.col("category") == "imported_deduction")
    assert ded.height == 2 and (ded["value_cny"] < 0).all() and set(ded["method"]) == {"function_value"}
    manifest = json.loads((d / "输出" / "manifest.json").read_text(encoding="utf-8"))
    assert any(i["role"] == "imported products" for i in manifest["inputs"])


def test_cli_imported_needs_the_function_value_method(tmp_path: Path) -> None:
    d = _files(tmp_path)
    (d / "lc.csv").write_text("region_id,year,class,area_ha\n510104,2020,水田,10\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["account", "--method", "equivalent-factor", "--landcover", str(d / "lc.csv"),
                                    "--imported", str(d / "调入.csv"), "--out", str(d / "x")])
    assert res.exit_code == 2 and "--imported" in res.output


def test_config_imported_with_zero_width_monte_carlo_reproduces_the_net_total(tmp_path: Path) -> None:
    from gep.config import load_config
    from gep.pipeline import execute

    d = _files(tmp_path)
    cfg = d / "run.toml"
    cfg.write_text('[run]\nreport = false\n[account]\nmethods = ["function_value"]\n'
                   'statistics = ["统计.csv"]\nquantities = ["功能量.csv"]\nimported = ["调入.csv"]\n'
                   "[uncertainty]\ndraws = 20\nseed = 1\n", encoding="utf-8")
    out = execute(load_config(cfg), d / "run", "test")
    g = pl.read_csv(out / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    assert g["total_cny"][0] == pytest.approx(13_780_000.0)
    unc = pl.read_csv(out / "tables" / "uncertainty.csv", schema_overrides={"region_id": pl.Utf8})
    tot = unc.filter(pl.col("service") == "total")
    assert tot["p50_cny"][0] == pytest.approx(13_780_000.0, rel=1e-12)


def test_prefecture_rollup_sums_member_deductions(tmp_path: Path) -> None:
    d = tmp_path / "地级 汇总"
    d.mkdir()
    (d / "统计.csv").write_text("region_id,year,service,component,value,unit\n"
                               "510104,2020,agricultural_products,,200,万元\n"
                               "510105,2020,agricultural_products,,100,万元\n", encoding="utf-8")
    (d / "调入.csv").write_text("region_id,year,service,component,value,unit\n"
                              "510104,2020,agricultural_products,,30,万元\n"
                              "510105,2020,agricultural_products,,5,万元\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["account", "--method", "function-value", "--statistics", str(d / "统计.csv"),
                                    "--imported", str(d / "调入.csv"), "--regions", "sichuan", "--level", "prefecture",
                                    "--out", str(d / "输出")])
    assert res.exit_code == 0, res.output
    g = pl.read_csv(d / "输出" / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    assert g["region_id"].to_list() == ["510100"]
    # 成都市: own 300 万元, deducted 30 + 5 = 35 万元 → total 265 万元
    assert g["provisioning_cny"][0] == pytest.approx(3_000_000.0)
    assert g["imported_deduction_cny"][0] == pytest.approx(350_000.0)
    assert g["total_cny"][0] == pytest.approx(2_650_000.0)


def test_deduction_for_a_region_without_account_warns(tmp_path: Path) -> None:
    d = _files(tmp_path)
    (d / "调入_错.csv").write_text("region_id,year,service,component,value,unit\n"
                                 "510104,2019,agricultural_products,,30,万元\n", encoding="utf-8")  # year typo
    res = CliRunner().invoke(main, ["account", "--method", "function-value", "--statistics", str(d / "统计.csv"),
                                    "--imported", str(d / "调入_错.csv"), "--out", str(d / "输出")])
    assert res.exit_code == 0, res.output
    manifest = json.loads((d / "输出" / "manifest.json").read_text(encoding="utf-8"))
    (w,) = [w for w in manifest["warnings"] if w["code"] == "DEDUCTION_WITHOUT_ACCOUNT"]
    assert "2019" in w["message"]
    g = pl.read_csv(d / "输出" / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8}).sort("year")
    assert g["total_cny"].to_list() == [pytest.approx(-300_000.0), pytest.approx(12_000_000.0)]
