"""Nested regions (REGION_COUNTED_TWICE), partial roll-ups (PARTIAL_ROLLUP), years missing from a change
decomposition (YEAR_NOT_COMPARABLE) and `gep account --sheet` (gep.account.tables, gep.account.step, cli/account.py)."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from gep.account.equivalent import equivalent_factor_services
from gep.account.tables import (
    adcode_ancestors,
    change_decomposition,
    missing_years,
    nested_regions,
    regions_present,
    registry_ancestors,
    rollup_coverage,
)
from gep.cli.main import main
from gep.regions import load_registry

EQ = pl.DataFrame({"ecosystem_type": ["水田", "水田"], "service": ["food_production", "water_supply"],
                   "value": [1.36, -2.63]})


def _extent(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"region_id": pl.Utf8, "year": pl.Int32, "class": pl.Utf8,
                                      "ecosystem_type": pl.Utf8, "area_ha": pl.Float64}, orient="row")


def _ids(*ids: str) -> pl.DataFrame:
    return pl.DataFrame({"region_id": list(ids)})


def _gep(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# ---------------------------------------------------------------------------
# pure functions


def test_adcode_ancestors_follow_gb2260_structure() -> None:
    a = adcode_ancestors(_ids("510104", "510100", "510000", "C1"))
    assert a.rows() == [("510100", "510000"), ("510104", "510000"), ("510104", "510100")]  # C1: not an adcode


def test_nested_regions_finds_prefecture_and_province_with_a_member() -> None:
    anc = adcode_ancestors(_ids("510104", "510100", "510000", "513223"))
    pairs = nested_regions(_ids("510104", "510100", "510000", "513223"), anc)
    # 510000 contains 510100, 510104 and 513223; 510100 contains 510104
    assert pairs.rows() == [("510100", "510000"), ("510104", "510000"), ("513223", "510000"), ("510104", "510100")]
    assert nested_regions(_ids("510104", "510105", "513223"), adcode_ancestors(_ids("510104", "510105"))).height == 0
    assert nested_regions(_ids("510100", "510700"), adcode_ancestors(_ids("510100", "510700"))).height == 0


def test_registry_ancestors_of_sichuan() -> None:
    anc = registry_ancestors(load_registry("sichuan"))
    assert set(anc.filter(pl.col("region_id") == "510104")["ancestor_id"].to_list()) == {"510100", "510000"}
    assert anc.filter(pl.col("region_id") == "510100")["ancestor_id"].to_list() == ["510000"]


def test_rollup_coverage_counts_members_with_data_per_year() -> None:
    parents = pl.DataFrame({"region_id": ["a1", "a2", "a3", "b1"], "parent_id": ["A", "A", "A", "B"]})
    present = pl.DataFrame({"region_id": ["a1", "a1", "a3", "b1"], "year": [2015, 2020, 2020, 2020]})
    cov = {(r["parent_id"], r["year"]): r for r in rollup_coverage(present, parents).iter_rows(named=True)}
    assert set(cov) == {("A", 2015), ("A", 2020), ("B", 2020)}
    assert (cov[("A", 2015)]["members_with_data"], cov[("A", 2015)]["members_total"]) == (1, 3)
    assert cov[("A", 2015)]["missing"] == ["a2", "a3"]
    assert (cov[("A", 2020)]["members_with_data"], cov[("A", 2020)]["missing"]) == (2, ["a2"])
    assert (cov[("B", 2020)]["members_with_data"], cov[("B", 2020)]["members_total"]) == (1, 1)


def test_change_decomposition_leaves_out_a_region_missing_a_year() -> None:
    ext = _extent([("R1", 2015, "x", "水田", 100.0), ("R1", 2020, "x", "水田", 90.0),
                   ("R2", 2020, "x", "水田", 50.0)])
    s = equivalent_factor_services(ext, EQ, 1000.0)
    d = change_decomposition(s, ext, 2015, 2020)
    assert d["region_id"].to_list() == ["R1"]  # R2 has no 2015 data: no row (not a change from zero)
    # R1: −10 ha × (1.36 − 2.63) × 1000 = 12 700 CNY, all area effect
    assert d["total_change_cny"][0] == pytest.approx(12_700.0)
    assert d["area_effect_cny"][0] == pytest.approx(12_700.0)
    gaps = missing_years(regions_present(s, ext), 2015, 2020)
    assert gaps.rows() == [("R2", "equivalent_factor", 2015)]


def test_built_up_only_year_is_a_real_zero_not_a_gap() -> None:
    # R3 has land cover in 2015 (built-up only, no service value) → 2015 GEP 0 is data, not missing
    ext = _extent([("R3", 2015, "城镇", None, 10.0), ("R3", 2020, "x", "水田", 10.0)])
    s = equivalent_factor_services(ext, EQ, 1000.0)
    d = change_decomposition(s, ext, 2015, 2020).row(0, named=True)
    # 10 ha × (1.36 − 2.63) × 1000 = −12 700 CNY
    assert d["value_from_cny"] == 0.0 and d["total_change_cny"] == pytest.approx(-12_700.0)
    assert missing_years(regions_present(s, ext), 2015, 2020).height == 0


# ---------------------------------------------------------------------------
# through the CLI


def test_prefecture_and_member_rejected_with_rows(tmp_path: Path) -> None:
    d = tmp_path / "嵌套 地区"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\n510104,2020,水田,100\n513223,2020,水田,5\n"
                              "510100,2020,水田,100\n510100,2020,旱地,10\n", encoding="utf-8")
    out = d / "out"
    res = _gep("account", "--landcover", d / "lc.csv", "--crosswalk", "tnls", "--method", "equivalent-factor",
               "--regions", "sichuan", "--out", out)
    assert res.exit_code == 2, res.output
    assert res.output.count("[REGION_COUNTED_TWICE]") == 1
    line = next(ln for ln in res.output.splitlines() if "REGION_COUNTED_TWICE" in ln)
    # 510100 is on rows 4 and 5 (header = row 1), its member 510104 on row 2
    assert "'510100' (" in line and "rows 4, 5" in line and "'510104' (" in line and "row 2)" in line
    assert not out.exists()


def test_nesting_checked_without_registry_by_adcode(tmp_path: Path) -> None:
    d = tmp_path / "无注册表"
    d.mkdir()
    (d / "功能量.csv").write_text("region_id,year,service,component,quantity,unit\n"
                                "510000,2020,water_supply,domestic,10,万m3\n"
                                "513223,2020,water_supply,domestic,1,万m3\n", encoding="utf-8")
    res = _gep("account", "--method", "function-value", "--quantities", d / "功能量.csv", "--out", d / "out")
    assert res.exit_code == 2, res.output
    assert "[REGION_COUNTED_TWICE]" in res.output and "功能量.csv, row 2" in res.output
    assert "'513223' (" in res.output and "row 3)" in res.output


def test_partial_prefecture_rollup_warns_with_counts(tmp_path: Path) -> None:
    d = tmp_path / "地级"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\n510104,2020,水田,100\n510105,2020,水田,10\n"
                              "510104,2015,水田,100\n", encoding="utf-8")
    out = d / "out"
    res = _gep("account", "--landcover", d / "lc.csv", "--crosswalk", "tnls", "--method", "equivalent-factor",
               "--regions", "sichuan", "--level", "prefecture", "--out", out)
    assert res.exit_code == 0, res.output
    g = pl.read_csv(out / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    assert g["region_id"].unique().to_list() == ["510100"]
    warnings = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    partial = sorted((w for w in warnings if w["code"] == "PARTIAL_ROLLUP"), key=lambda w: w["message"])
    n = load_registry("sichuan").counties.filter(pl.col("parent_id") == "510100").height  # 20 in the registry
    assert len(partial) == 2  # one per year
    assert f"in 2015: only 1 of its {n} member counties" in partial[0]["message"]
    assert f"missing {n - 1}: 510105, 510106, 510107, 510108, 510112, …" in partial[0]["message"]
    assert f"in 2020: only 2 of its {n} member counties" in partial[1]["message"]
    assert "510105" not in partial[1]["message"] and "成都市" in partial[1]["message"]
    # at the prefecture level both years have data for 成都市 → one decomposition row, no YEAR_NOT_COMPARABLE
    assert "YEAR_NOT_COMPARABLE" not in {w["code"] for w in warnings}


def test_missing_year_warning_names_region_and_period(tmp_path: Path) -> None:
    d = tmp_path / "两期"
    d.mkdir()
    (d / "lc.csv").write_text("region_id,year,class,area_ha\nR1,2015,水田,100\nR1,2020,水田,90\nR2,2020,水田,5\n",
                              encoding="utf-8")
    out = d / "out"
    res = _gep("account", "--landcover", d / "lc.csv", "--crosswalk", "tnls", "--method", "equivalent-factor",
               "--out", out)
    assert res.exit_code == 0, res.output
    cd = pl.read_csv(out / "tables" / "change_decomposition.csv")
    assert cd["region_id"].to_list() == ["R1"]
    w = [w for w in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
         if w["code"] == "YEAR_NOT_COMPARABLE"]
    assert len(w) == 1 and "R2 has no data for 2015" in w[0]["message"] and "2015→2020" in w[0]["message"]


def test_sheet_option_reads_named_sheet(tmp_path: Path) -> None:
    d = tmp_path / "工作簿"
    d.mkdir()
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["本表为测试数据"])
    ws = wb.create_sheet("地类")
    ws.append(["region_id", "year", "class", "area_ha"])
    ws.append(["510104", 2020, "水田", 100])
    wb.save(d / "lc.xlsx")
    out = d / "out"
    res = _gep("account", "--landcover", d / "lc.xlsx", "--sheet", "地类", "--crosswalk", "tnls",
               "--method", "equivalent-factor", "--out", out)
    assert res.exit_code == 0, res.output
    # 100 ha 水田 × 3.89 × 3406.5 = 1 325 128.5 CNY (xie2015 equivalents)
    g = pl.read_csv(out / "tables" / "gep.csv")
    assert g["total_cny"][0] == pytest.approx(1_325_128.5)
    bad = _gep("account", "--landcover", d / "lc.xlsx", "--sheet", "没有", "--crosswalk", "tnls",
               "--method", "equivalent-factor", "--out", d / "out2")
    assert bad.exit_code == 2 and "[MISSING_SHEET]" in bad.output
    no_lc = _gep("account", "--sheet", "地类", "--method", "function-value", "--out", d / "out3")
    assert no_lc.exit_code == 2 and "--sheet" in no_lc.output
