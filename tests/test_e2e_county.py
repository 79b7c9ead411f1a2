"""End-to-end: a county statistician's files through the real `gep` CLI (GBK CSV in 亩/万亩, XLSX, Parquet).

Every number is hand-computed from coefficients/sets/xie2015/equivalents.csv (Xie 2015; standard
value 3406.5 CNY/hm2 at 2010 prices) and the tnls crosswalk (水田→水田, 旱地→旱地, 灌木林地→灌木,
河流水面→水系, 城镇住宅用地→no service value). Input files live in tests/data/e2e/.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from _e2e import gep, read_csv

DATA = Path(__file__).parent / "data" / "e2e"
COUNTY = DATA / "county"
BAD = DATA / "bad"

# Equivalent sums over the 11 services of Xie 2015 (equivalents.csv):
#   水田 1.36+0.09−2.63+1.11+0.57+0.17+2.72+0.01+0.19+0.21+0.09 = 3.89
#   旱地 0.85+0.40+0.02+0.67+0.36+0.10+0.27+1.03+0.12+0.13+0.06 = 4.01
#   灌木 0.19+0.43+0.22+1.41+4.23+1.28+3.35+1.72+0.13+1.57+0.69 = 15.22
#   水系 0.80+0.23+8.29+0.77+2.29+5.55+102.24+0.93+0.07+2.55+1.89 = 125.61
D = 3406.5
# 锦江区 510104: 15000 亩 水田 = 1000 ha, 3000 亩 旱地 = 200 ha, 30000 亩 城镇住宅用地 = 2000 ha (no value)
#   1000 × 3.89 × 3406.5 + 200 × 4.01 × 3406.5 = 13 251 285 + 2 732 013 = 15 983 298 CNY
JINJIANG_TOTAL = 15_983_298.0
# 茂县 513223: 1.5 万亩 灌木林地 = 1000 ha, 0.3 万亩 河流水面 = 200 ha
#   1000 × 15.22 × 3406.5 + 200 × 125.61 × 3406.5 = 51 846 930 + 85 578 093 = 137 425 023 CNY
MAOXIAN_TOTAL = 137_425_023.0




def gep_rows(run_dir: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    return {(r["region_id"], r["year"], r["method"]): r for r in read_csv(run_dir / "tables" / "gep.csv")}


def test_gbk_csv_mu_and_wanmu_equivalent_factor_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "县级核算" / "2020"
    res = gep("account", "--landcover", COUNTY / "锦江区2020_亩.csv", "--landcover", COUNTY / "茂县2020_万亩.csv",
              "--crosswalk", "tnls", "--method", "equivalent-factor", "--regions", "sichuan", "--out", out)
    assert res.exit_code == 0, res.output
    g = gep_rows(out)
    assert set(g) == {("510104", "2020", "equivalent_factor"), ("513223", "2020", "equivalent_factor")}
    assert float(g[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(JINJIANG_TOTAL, abs=0.01)
    assert float(g[("513223", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(MAOXIAN_TOTAL, abs=0.01)
    # categories: provisioning of 锦江区 = (1000 × (1.36+0.09−2.63) + 200 × (0.85+0.40+0.02)) × 3406.5
    #   = (−1180 + 254) × 3406.5 = −3 154 419 (the negative paddy water supply is kept)
    assert float(g[("510104", "2020", "equivalent_factor")]["provisioning_cny"]) == pytest.approx(-3_154_419.0, abs=0.01)
    # extent in ha: 亩 / 15 and 万亩 × 10 000 / 15, built-up land kept with no ecosystem type
    ext = {(r["region_id"], r["class"]): r for r in read_csv(out / "tables" / "extent.csv")}
    assert float(ext[("510104", "城镇住宅用地")]["area_ha"]) == pytest.approx(2000.0)
    assert ext[("510104", "城镇住宅用地")]["ecosystem_type"] == ""
    assert float(ext[("513223", "灌木林地")]["area_ha"]) == pytest.approx(1000.0)
    # one service row: 水系 hydrological regulation = 200 ha × 102.24 × 3406.5 = 69 656 112
    svc = [r for r in read_csv(out / "tables" / "services.csv")
           if r["region_id"] == "513223" and r["ecosystem_type"] == "水系" and r["service"] == "hydrological_regulation"]
    assert len(svc) == 1 and float(svc[0]["value_cny"]) == pytest.approx(69_656_112.0, abs=0.01)
    assert svc[0]["coefficient_id"] == "xie2015:equivalents:水系/hydrological_regulation"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {Path(i["path"]).name for i in manifest["inputs"] if i["role"] == "landcover"} == {
        "锦江区2020_亩.csv", "茂县2020_万亩.csv"}


def test_validate_detects_gbk_chinese_headers() -> None:
    res = gep("validate", COUNTY / "锦江区2020_亩.csv", COUNTY / "茂县2020_万亩.csv", "--regions", "sichuan",
              "--crosswalk", "tnls")
    assert res.exit_code == 0, res.output
    # 15000 + 3000 + 30000 亩 = 48 000 亩 = 3 200 ha; 1.8 万亩 = 1 200 ha
    assert "3,200.00 ha" in res.output and "1,200.00 ha" in res.output


def test_parquet_in_km2(tmp_path: Path) -> None:
    out = tmp_path / "parquet输出"
    res = gep("account", "--landcover", COUNTY / "maoxian_2020.parquet", "--crosswalk", "tnls",
              "--method", "equivalent-factor", "--regions", "sichuan", "--out", out)
    assert res.exit_code == 0, res.output
    # 10 km2 灌木林地 = 1000 ha, 2 km2 河流水面 = 200 ha: the same county total as the 万亩 file
    assert float(gep_rows(out)[("513223", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(MAOXIAN_TOTAL, abs=0.01)


def test_xlsx_named_sheet_through_run_config(tmp_path: Path) -> None:
    out = tmp_path / "工作表"
    res = gep("run", COUNTY / "xlsx_sheet_run.toml", "--out", out)
    assert res.exit_code == 0, res.output
    # 1000 ha 水田 + 200 ha 旱地 (公顷) = the same 15 983 298 CNY as the 亩 file
    assert float(gep_rows(out)[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(JINJIANG_TOTAL, abs=0.01)


def test_validate_xlsx_named_sheet() -> None:
    res = gep("validate", COUNTY / "土地利用2020.xlsx", "--sheet", "土地利用", "--regions", "sichuan", "--crosswalk", "tnls")
    assert res.exit_code == 0, res.output
    assert "1,200.00 ha" in res.output


def test_account_accepts_sheet_option(tmp_path: Path) -> None:
    out = tmp_path / "sheet"
    res = gep("account", "--landcover", COUNTY / "土地利用2020.xlsx", "--sheet", "土地利用", "--crosswalk", "tnls",
              "--method", "equivalent-factor", "--out", out)
    assert res.exit_code == 0, res.output


def test_first_sheet_of_notes_is_skipped_with_a_note_naming_the_sheet_read(tmp_path: Path) -> None:
    res = gep("validate", COUNTY / "土地利用2020.xlsx", "--regions", "sichuan")
    assert res.exit_code == 0, res.output
    assert "first sheet '填表说明' holds no table; read sheet '土地利用'" in res.output
    assert "[XLSX_SHEET_CHOSEN]" in res.output


def test_override_table_in_run_config(tmp_path: Path) -> None:
    out = tmp_path / "覆盖系数"
    res = gep("run", COUNTY / "override_run.toml", "--out", out)
    assert res.exit_code == 0, res.output
    g = gep_rows(out)
    # overrides: standard value 240 元/亩 = 240 × 15 = 3600 CNY/hm2; 水系 水文调节 102.24 → 50.00
    # 锦江区: (1000 × 3.89 + 200 × 4.01) × 3600 = 4692 × 3600 = 16 891 200
    assert float(g[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(16_891_200.0, abs=0.01)
    # 茂县: (1000 × 15.22 + 200 × (125.61 − 102.24 + 50.00)) × 3600 = (15 220 + 14 674) × 3600 = 107 618 400
    assert float(g[("513223", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(107_618_400.0, abs=0.01)
    sets = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["coefficient_sets"]
    (derived,) = [s for s in sets if s["id"] == "xie2015+overrides"]
    assert derived["base_id"] == "xie2015"
    changed = {(o["table"], o["old_value"], o["new_value"]) for o in derived["overrides"]}
    assert changed == {("standard_value", 3406.5, 3600.0), ("equivalents", 102.24, 50.0)}


# --------------------------------------------------------------------------- bad inputs
# Each must exit 2, name file, row (header = row 1) and column, and leave no output directory.

@pytest.mark.parametrize(("name", "code", "row", "column", "found"), [
    ("wrong_unit.csv", "UNKNOWN_UNIT", "row 3", "单位", "公里"),
    ("misspelled_column.csv", "MISSING_COLUMN", "row 1", "year", "yaer"),
    ("unknown_county.csv", "UNKNOWN_REGION", "row 3", "region_id", "519999"),
    ("class_not_in_crosswalk.csv", "UNKNOWN_CLASS", "row 3", "地类", "稻田"),
    # 亩 figures under a 公顷 header: 48 000 "ha" in 锦江区 (registry 60.7 km2 = 6 070 ha)
    ("mu_labelled_as_ha.csv", "AREA_EXCEEDS_REGION", "row 2", "area", "48,000.00 ha"),
])
def test_bad_landcover_exits_2_names_location_writes_nothing(tmp_path: Path, name: str, code: str, row: str,
                                                             column: str, found: str) -> None:
    out = tmp_path / "不应存在"
    res = gep("account", "--landcover", BAD / name, "--crosswalk", "tnls", "--method", "equivalent-factor",
              "--regions", "sichuan", "--out", out)
    assert res.exit_code == 2, res.output
    assert f"[{code}]" in res.output
    assert name in res.output and row in res.output and f"'{column}'" in res.output and found in res.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no temp sibling left behind either


def test_unknown_classes_all_listed() -> None:
    res = gep("validate", BAD / "class_not_in_crosswalk.csv", "--crosswalk", "tnls")
    assert res.exit_code == 2
    # both unknown classes, each with its row (稻田 row 3, 果林 row 4)
    assert "row 3" in res.output and "row 4" in res.output and "稻田" in res.output and "果林" in res.output


def test_excel_float_region_code_is_read_as_the_code(tmp_path: Path) -> None:
    # issue 15: 510104.0 (a code Excel wrote as a float) is read as 510104, not refused
    f = tmp_path / "代码带小数.csv"
    f.write_bytes("地区代码,年份,地类,面积（亩）\r\n510104.0,2020,水田,15000\r\n".encode("gbk"))
    res = gep("validate", f, "--regions", "sichuan")
    assert res.exit_code == 0, res.output
    assert "1 regions" in res.output or "1 region" in res.output


def test_unknown_region_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "代码错位.csv"
    f.write_bytes("地区代码,年份,地类,面积（亩）\r\n519999,2020,水田,15000\r\n".encode("gbk"))
    res = gep("validate", f, "--regions", "sichuan")
    assert res.exit_code == 2 and "[UNKNOWN_REGION]" in res.output, res.output


def test_trailing_empty_rows_are_ignored(tmp_path: Path) -> None:
    out = tmp_path / "空行"
    res = gep("account", "--landcover", BAD / "trailing_empty_rows.csv", "--crosswalk", "tnls",
              "--method", "equivalent-factor", "--regions", "sichuan", "--out", out)
    assert res.exit_code == 0, res.output
    assert float(gep_rows(out)[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(JINJIANG_TOTAL, abs=0.01)


def test_unverified_coefficients_warned_on_terminal(tmp_path: Path) -> None:
    res = gep("account", "--landcover", COUNTY / "锦江区2020_亩.csv", "--crosswalk", "tnls", "--method", "function-value",
              "--regions", "sichuan", "--out", tmp_path / "功能价值")
    assert res.exit_code == 0, res.output
    warnings = json.loads((tmp_path / "功能价值" / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert any(w["code"] == "UNVERIFIED_COEFFICIENT" for w in warnings)  # recorded ...
    shown = res.output.replace(str(tmp_path), "")  # the temp path holds this test's name
    assert "UNVERIFIED" in shown.upper()  # ... but not shown to the user who ran the command


def test_misspelled_config_key_is_explained(tmp_path: Path) -> None:
    text = (COUNTY / "override_run.toml").read_text(encoding="utf-8").replace("methods = ", "method = ")
    text = text.replace('"锦江区2020_亩.csv"', json.dumps(str(COUNTY / "锦江区2020_亩.csv"), ensure_ascii=False))
    text = text.replace('"茂县2020_万亩.csv"', json.dumps(str(COUNTY / "茂县2020_万亩.csv"), ensure_ascii=False))
    text = text.replace('"my_overrides.csv"', json.dumps(str(COUNTY / "my_overrides.csv"), ensure_ascii=False))
    cfg = tmp_path / "配置.toml"
    cfg.write_text(text, encoding="utf-8")
    res = gep("run", cfg, "--out", tmp_path / "out")
    assert res.exit_code == 2 and "[BAD_CONFIG]" in res.output
    line = next(i for i, l in enumerate(text.splitlines(), 1) if l.startswith("method = "))
    assert f"row {line}" in res.output  # the TOML line is named (this part works)
    assert "Extra inputs are not permitted" not in res.output and "'methods'" in res.output
    assert not (tmp_path / "out").exists()


def test_function_value_from_county_quantities_statistics_and_prices(tmp_path: Path) -> None:
    """茂县 2020 from its own tables (GBK, Chinese headers and service names), no land cover."""
    fv = DATA / "function_value"
    out = tmp_path / "功能价值法"
    res = gep("account", "--method", "function-value", "--quantities", fv / "功能量2020.csv", "--statistics",
              fv / "价值量2020.csv", "--prices", fv / "价格.csv", "--regions", "sichuan", "--out", out)
    assert res.exit_code == 0, res.output
    g = gep_rows(out)[("513223", "2020", "function_value")]
    # 水源涵养 2.5 亿m3 × 6.5 元/m3 (county price) = 1 625 000 000
    # 固碳 1.2 万t × 380 CNY/t (function_value_cn) = 4 560 000
    # 生态能源/hydropower 3.0 亿kWh × 0.53 CNY/kWh = 159 000 000
    # 农业产品 12 000 万元 = 120 000 000; 休闲旅游 0.85 亿元 = 85 000 000
    assert float(g["provisioning_cny"]) == pytest.approx(159_000_000 + 120_000_000)
    assert float(g["regulating_cny"]) == pytest.approx(1_625_000_000 + 4_560_000)
    assert float(g["cultural_cny"]) == pytest.approx(85_000_000)
    assert float(g["total_cny"]) == pytest.approx(1_993_560_000)
    # without land cover the registry area is used: 3 896.5 km2
    assert float(g["area_km2"]) == pytest.approx(3896.5)
    svc = {r["service"]: r for r in read_csv(out / "tables" / "services.csv")}
    assert svc["water_conservation"]["coefficient_id"] == "quantities|prices:价格.csv:row 2"
    assert svc["water_conservation"]["price_year"] == "2020"
    warnings = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert "PRICE_YEARS_MIXED" in {w["code"] for w in warnings}  # 2010 set prices + 2020 values in one total


def test_duplicate_across_files_names_rows() -> None:
    res = gep("validate", COUNTY / "锦江区2020_亩.csv", COUNTY / "土地利用2020.xlsx", "--sheet", "土地利用")
    assert res.exit_code == 2 and res.output.count("[DUPLICATE_KEY]") == 2  # 水田 and 旱地
    line = next(l for l in res.output.splitlines() if "class 水田" in l)
    assert "row 2" in line  # 水田 is row 2 of both files


def test_constant_prices_with_county_price_index(tmp_path: Path) -> None:
    fv = DATA / "function_value"
    out = tmp_path / "不变价"
    res = gep("account", "--method", "function-value", "--quantities", fv / "功能量2020.csv", "--statistics",
              fv / "价值量2020.csv", "--prices", fv / "价格.csv", "--regions", "sichuan", "--price-base-year", "2020",
              "--price-index", fv / "价格指数.csv", "--out", out)
    assert res.exit_code == 0, res.output
    (row,) = read_csv(out / "tables" / "gep_constant.csv")
    # 2010-priced rows × I(2020)/I(2010) = 130/100: (4 560 000 + 159 000 000) × 1.3 = 212 628 000;
    # 2020 rows unchanged: 1 625 000 000 + 120 000 000 + 85 000 000 → total 2 042 628 000
    assert float(row["total_cny"]) == pytest.approx(2_042_628_000)
    assert row["price_base_year"] == "2020"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["price_base_year"] == 2020
    assert "PRICE_YEARS_MIXED" not in {w["code"] for w in manifest["warnings"]}


def test_partial_rollup_is_flagged(tmp_path: Path) -> None:
    out = tmp_path / "地级汇总"
    res = gep("account", "--landcover", COUNTY / "锦江区2020_亩.csv", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--regions", "sichuan", "--level", "prefecture", "--out", out)
    if res.exit_code == 2:  # refusing is an acceptable fix
        assert not out.exists()
        return
    assert res.exit_code == 0, res.output
    assert float(gep_rows(out)[("510100", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(JINJIANG_TOTAL)
    warnings = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert any("510105" in w["message"] or "21" in w["message"] for w in warnings), warnings


def test_official_total_a_few_percent_above_polygon_area_is_not_fatal(tmp_path: Path) -> None:
    # 锦江区 polygon area 60.7 km2 = 6 070 ha; a complete table adding up to 6 252.1 ha (+3 %)
    f = tmp_path / "锦江区三调.csv"
    f.write_bytes("地区代码,年份,地类,面积(公顷)\r\n510104,2020,水田,1000\r\n510104,2020,旱地,200\r\n"
                  "510104,2020,城镇住宅用地,5052.1\r\n".encode("gbk"))
    out = tmp_path / "out"
    res = gep("account", "--landcover", f, "--crosswalk", "tnls", "--method", "equivalent-factor",
              "--regions", "sichuan", "--out", out)
    assert res.exit_code == 0, res.output
    assert float(gep_rows(out)[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(JINJIANG_TOTAL)


def test_per_capita_and_gep_gdp_ratio_from_gbk_socio(tmp_path: Path) -> None:
    out = tmp_path / "人均"
    res = gep("account", "--landcover", COUNTY / "锦江区2020_亩.csv", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--socio", COUNTY / "人口GDP2020.csv", "--out", out)
    assert res.exit_code == 0, res.output
    g = gep_rows(out)[("510104", "2020", "equivalent_factor")]
    # 常住人口 1 000, 地区生产总值(万元) 100 000 = 1e9 CNY: 15 983 298 / 1000 = 15 983.298; / 1e9 = 0.015983298
    assert float(g["gdp_cny"]) == pytest.approx(1e9)
    assert float(g["gep_per_capita_cny"]) == pytest.approx(15_983.298)
    assert float(g["gep_gdp_ratio"]) == pytest.approx(0.015983298)


def test_prefecture_with_its_own_county_is_rejected(tmp_path: Path) -> None:
    out = tmp_path / "重复计算"
    res = gep("account", "--landcover", BAD / "prefecture_with_its_county.csv", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--regions", "sichuan", "--out", out)
    assert res.exit_code == 2, res.output
    assert "[REGION_COUNTED_TWICE]" in res.output and "510100" in res.output
    assert not out.exists()


def test_xlsx_with_numeric_tnls_codes_missing_leading_zero(tmp_path: Path) -> None:
    # Excel stores 0101 / 0103 / 0701 as the numbers 101 / 103 / 701; gep still finds 水田 / 旱地 / 城镇住宅用地
    out = tmp_path / "地类编码"
    res = gep("account", "--landcover", COUNTY / "锦江区2020_地类编码.xlsx", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--regions", "sichuan", "--out", out)
    assert res.exit_code == 0, res.output
    assert float(gep_rows(out)[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(JINJIANG_TOTAL, abs=0.01)
    ext = {r["class"]: r["ecosystem_type"] for r in read_csv(out / "tables" / "extent.csv")}
    assert ext == {"101": "水田", "103": "旱地", "701": ""}


def test_carbon_quantity_in_tonnes_of_carbon_is_not_priced_as_co2(tmp_path: Path) -> None:
    values = {}
    for unit in ("t CO2", "t C"):
        f = tmp_path / f"固碳_{unit.replace(' ', '')}.csv"
        f.write_bytes(f"地区代码,年份,服务,组分,功能量,单位\r\n513223,2020,固碳,,100,{unit}\r\n".encode("gbk"))
        out = tmp_path / f"out_{unit.replace(' ', '')}"
        res = gep("account", "--method", "function-value", "--quantities", f, "--out", out)
        if res.exit_code == 2:  # refusing 't C' against a per-t-CO2 price is an acceptable fix
            assert unit == "t C" and "[UNIT_MISMATCH]" in res.output
            return
        assert res.exit_code == 0, res.output
        values[unit] = float(gep_rows(out)[("513223", "2020", "function_value")]["total_cny"])
    assert values["t CO2"] == pytest.approx(100 * 380)
    assert values["t C"] == pytest.approx(100 * 44 / 12 * 380)  # 139 333.33


def test_standard_value_from_county_grain_statistics(tmp_path: Path) -> None:
    out = tmp_path / "粮食标准当量"
    res = gep("account", "--landcover", COUNTY / "锦江区2020_亩.csv", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--grain", COUNTY / "粮食2020.csv", "--out", out)
    assert res.exit_code == 0, res.output
    # 1/7 rule (Xie 2008): D = 1/7 × Σ m_i p_i q_i / M
    #   = (600 × 8000 × 2.8 + 400 × 6000 × 2.2) / 1000 / 7 = (13 440 000 + 5 280 000) / 7000 = 2 674.2857 CNY/hm2
    d = (600 * 8000 * 2.8 + 400 * 6000 * 2.2) / 1000 / 7
    assert float(gep_rows(out)[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(4692 * d)
    svc = read_csv(out / "tables" / "services.csv")
    assert {r["price_year"] for r in svc} == {"2020"}  # the grain year's prices, not the set's 2010
    assert float(svc[0]["price"]) == pytest.approx(d)


def test_quantity_in_a_unit_the_price_cannot_value(tmp_path: Path) -> None:
    out = tmp_path / "单位不符"
    res = gep("account", "--method", "function-value", "--quantities", BAD / "quantities_wrong_units.csv",
              "--out", out)
    assert res.exit_code == 2, res.output
    assert res.output.count("[UNIT_MISMATCH]") == 2  # both rows, each named
    # checked against the indicator each quantity will meet (issue 15), so validate refuses them too
    assert ("quantities_wrong_units.csv, row 2, column '单位': service 'water_conservation' is measured in m3: "
            "quantity unit '万t' does not fit it") in res.output
    assert ("quantities_wrong_units.csv, row 3, column '单位': service 'carbon_sequestration' is measured in t: "
            "quantity unit '亿m3' does not fit it") in res.output
    val = gep("validate", BAD / "quantities_wrong_units.csv")
    assert val.exit_code == 2 and val.output.count("[UNIT_MISMATCH]") == 2, val.output
    assert not out.exists()


def test_title_row_above_header(tmp_path: Path) -> None:
    out = tmp_path / "标题行"
    res = gep("account", "--landcover", COUNTY / "锦江区2020_标题行.xlsx", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--out", out)
    if res.exit_code == 2:
        assert "row 2" in res.output, res.output
        return
    assert res.exit_code == 0, res.output
    assert float(gep_rows(out)[("510104", "2020", "equivalent_factor")]["total_cny"]) == pytest.approx(JINJIANG_TOTAL, abs=0.01)


def test_regional_npp_adjustment(tmp_path: Path) -> None:
    out = tmp_path / "调整"
    res = gep("account", "--landcover", COUNTY / "锦江区2020_亩.csv", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--adjustments", COUNTY / "调整系数.csv", "--out", out)
    assert res.exit_code == 0, res.output
    # equivalent-weighted hm2 of 锦江区 by service (1000 ha 水田 + 200 ha 旱地): food 1530, raw 170, water −2626,
    # gas 1244, climate 642, purification 190, hydrological 2774, soil 216, nutrient 214, biodiversity 236,
    # aesthetic 102 (Σ 4692). NPP ratio 1.2 scales all but water supply, hydrological regulation (precipitation)
    # and soil conservation (soil): 4328 × 1.2 + (−2626 + 2774 + 216) = 5193.6 + 364 = 5557.6 → × 3406.5
    total = float(gep_rows(out)[("510104", "2020", "equivalent_factor")]["total_cny"])
    assert total == pytest.approx(5557.6 * 3406.5)  # 18 931 964.4


def test_change_decomposition_skips_county_missing_a_year(tmp_path: Path) -> None:
    out = tmp_path / "两期"
    res = gep("account", "--landcover", COUNTY / "两期_青羊区缺2015.csv", "--crosswalk", "tnls", "--method",
              "equivalent-factor", "--out", out)
    assert res.exit_code == 0, res.output
    cd = {r["region_id"]: r for r in read_csv(out / "tables" / "change_decomposition.csv")}
    # 510104: 10 ha 水田 → 旱地: 10 × (4.01 − 3.89) × 3406.5 = 4 087.80 CNY, all area effect
    assert float(cd["510104"]["total_change_cny"]) == pytest.approx(4087.8)
    warnings = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["warnings"]
    assert "510105" not in cd or any("510105" in w["message"] for w in warnings)


def test_report_detail_key_in_run_config_and_the_option_that_overrides_it(tmp_path: Path) -> None:
    """[run] report_detail = "full" writes report_detail.xlsx from a TOML run; --detail capped overrides it,
    and the resolved run.toml records what was written (so a rerun reproduces it)."""
    text = (COUNTY / "override_run.toml").read_text(encoding="utf-8")
    text = text.replace("report = false", 'report = true\nreport_detail = "full"')
    text = text.replace('"锦江区2020_亩.csv", "茂县2020_万亩.csv"', f'"{COUNTY / "锦江区2020_亩.csv"}", "{COUNTY / "茂县2020_万亩.csv"}"')
    text = text.replace('"my_overrides.csv"', f'"{COUNTY / "my_overrides.csv"}"')
    cfg = tmp_path / "明细.toml"
    cfg.write_text(text, encoding="utf-8")
    full = tmp_path / "full"
    res = gep("run", cfg, "--out", full)
    assert res.exit_code == 0, res.output
    assert (full / "report.xlsx").is_file() and (full / "report_detail.xlsx").is_file()
    assert 'report_detail = "full"' in (full / "run.toml").read_text(encoding="utf-8")
    capped = tmp_path / "capped"
    res = gep("run", cfg, "--out", capped, "--detail", "capped")
    assert res.exit_code == 0, res.output
    assert (capped / "report.xlsx").is_file() and not (capped / "report_detail.xlsx").exists()
    assert 'report_detail = "capped"' in (capped / "run.toml").read_text(encoding="utf-8")
    bad = tmp_path / "坏.toml"
    bad.write_text(text.replace('report_detail = "full"', 'report_detail = "all"'), encoding="utf-8")
    res = gep("run", bad, "--out", tmp_path / "bad")
    assert res.exit_code == 2 and "report_detail" in res.output and not (tmp_path / "bad").exists()
