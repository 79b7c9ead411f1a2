"""Built-in coefficient sets (xie2015, xie2003, xie2008, and the function-value and carbon sets) and the set loader/validator."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from gep.coefficients import (
    VERIFICATION,
    CoefficientSet,
    ecosystem_types,
    equivalents_by_type,
    list_sets,
    load_set,
    validate_set,
)

from gep.errors import InputError

XIE15_SERVICES = [
    "food_production", "raw_materials", "water_supply", "gas_regulation", "climate_regulation",
    "environmental_purification", "hydrological_regulation", "soil_conservation", "nutrient_cycling",
    "biodiversity", "aesthetic_landscape",
]

# 谢高地 et al. 2015, 自然资源学报 30(8):1243-1254: Σ equivalents per type and Σ × 3406.50 元/hm² (2010 prices), as printed.
XIE15_ROW_SUMS = {
    "旱地": (4.01, 13660.06), "水田": (3.89, 13251.28), "针叶": (17.53, 59715.95),
    "针阔混交": (23.09, 78656.09), "阔叶": (22.95, 78179.18), "灌木": (15.22, 51846.93),
    "草原": (5.07, 17270.96), "灌草丛": (19.69, 67073.99), "草甸": (11.43, 38936.29),
    "湿地": (52.02, 177206.13), "荒漠": (1.10, 3747.15), "裸地": (0.20, 681.30),
    "水系": (125.61, 427890.47), "冰川积雪": (10.27, 34984.75),
}
WARNING_ROWS = {"针叶", "草原", "草甸", "冰川积雪"}  # unverified rows (coefficients/sets/xie2015/equivalents.csv)

# Xie 2003 Σ per ecosystem group, and the 2003 paper's per-hectare values at 884.9 元/hm².
XIE03_SUMS = {"森林": 21.85, "草地": 7.24, "农田": 6.91, "湿地": 62.71, "水域": 45.97, "荒漠": 0.42}
XIE03_PER_HM2 = {"森林": 19334.0, "草地": 6406.5, "农田": 6114.3, "湿地": 55489.0, "水域": 40676.4, "荒漠": 371.4}
# Xie 2008 Σ per group and the paper's 2007 per-hectare totals at 449.1 元/hm².
XIE08_SUMS = {"森林": 28.12, "草地": 11.67, "农田": 7.90, "湿地": 54.77, "水域": 45.35, "荒漠": 1.39}
XIE08_PER_HM2 = {"森林": 12628.69, "草地": 5241.00, "农田": 3547.89, "湿地": 24597.21, "水域": 20366.69,
                 "荒漠": 624.25}


@pytest.fixture(scope="module")
def xie15() -> CoefficientSet:
    return load_set("xie2015")


@pytest.fixture(scope="module")
def xie08() -> CoefficientSet:
    return load_set("xie2008")


@pytest.fixture(scope="module")
def xie03() -> CoefficientSet:
    return load_set("xie2003")


def test_builtin_sets_present() -> None:
    assert {"xie2015", "xie2003", "xie2008"} <= set(list_sets())
    assert any(s.startswith("function_value") for s in list_sets())
    assert any(s.startswith("carbon") for s in list_sets())


@pytest.mark.parametrize("set_id", list_sets())
def test_every_builtin_set_validates_with_provenance(set_id: str) -> None:
    assert validate_set(set_id) == []
    cs = load_set(set_id)
    for name, t in cs.tables.items():
        assert t.height > 0, name
        for col in ("source", "unit", "verification"):
            empty = t.filter(pl.col(col).is_null() | (pl.col(col).str.strip_chars() == ""))
            assert empty.height == 0, f"{set_id}.{name}: empty {col}"
        assert set(t["verification"].unique().to_list()) <= set(VERIFICATION)
        assert t["value"].null_count() == 0
    rows, unverified = cs.row_counts()
    assert rows == sum(t.height for t in cs.tables.values()) and 0 <= unverified <= rows


def test_xie2015_is_complete_14_by_11(xie15: CoefficientSet) -> None:
    eq = xie15.table("equivalents")
    assert eq.height == 14 * 11
    assert xie15.keys("equivalents") == ["ecosystem_type", "service"]
    assert sorted(eq["ecosystem_type"].unique().to_list()) == sorted(ecosystem_types()["ecosystem_type"].to_list())
    assert sorted(eq["service"].unique().to_list()) == sorted(XIE15_SERVICES)
    assert (eq.group_by("ecosystem_type").len()["len"] == 11).all()
    assert set(eq["unit"].unique().to_list()) == {"equivalent"}
    assert set(eq["category"].unique().to_list()) == {"provisioning", "regulating", "supporting", "cultural"}
    # 水田 water supply is negative (irrigation consumption): the engine must allow it
    paddy_water = eq.filter((pl.col("ecosystem_type") == "水田") & (pl.col("service") == "water_supply"))
    assert paddy_water["value"].item() == pytest.approx(-2.63)


def test_xie2015_row_sums_and_value_per_hm2(xie15: CoefficientSet) -> None:
    eq = xie15.table("equivalents")
    d = xie15.table("standard_value").filter(pl.col("parameter") == "standard_equivalent_value")
    assert d["value"].item() == 3406.5 and d["unit"].item() == "CNY/hm2" and d["price_year"].item() == 2010
    sums = dict(eq.group_by("ecosystem_type").agg(pl.col("value").sum()).iter_rows())
    for t, (sigma, cny_per_hm2) in XIE15_ROW_SUMS.items():
        assert round(sums[t], 2) == pytest.approx(sigma, abs=1e-9), t
        # printed to 0.01 元; the exact products end in ...5 at the third decimal
        # (4.01 × 3406.5 = 13660.065), so allow half a printed unit plus float noise
        assert sums[t] * 3406.5 == pytest.approx(cny_per_hm2, abs=0.0051), t


def test_xie2015_unverified_rows_are_exactly_the_warning_rows(xie15: CoefficientSet) -> None:
    eq = xie15.table("equivalents")
    unv = eq.filter(pl.col("verification") == "unverified")
    assert set(unv["ecosystem_type"].unique().to_list()) == WARNING_ROWS
    assert unv.height == len(WARNING_ROWS) * 11
    assert set(eq.filter(pl.col("verification") != "unverified")["verification"].unique().to_list()) == {"secondary"}
    assert xie15.row_counts() == (155, 44)


def test_steppe_meadow_pair_mean_reproduces_yinchuan_columns(xie15: CoefficientSet) -> None:
    """王波 & 杨太保 (ChinaXiv 202104.00050) publish 100 元/hm² at 3406.5 元: 草地 = mean(草原, 草甸),
    水体 = mean(水系, 湿地); printed to 0.001 (谢高地 et al. 2015, 自然资源学报 30(8):1243-1254 rows)."""
    eq = xie15.table("equivalents")
    wide = {t: dict(eq.filter(pl.col("ecosystem_type") == t).select("service", "value").iter_rows())
            for t in ("草原", "草甸", "水系", "湿地")}
    grass = [5.450, 8.005, 4.428, 28.104, 74.262, 24.527, 54.334, 34.235, 2.725, 31.169, 13.796]
    for svc, printed in zip(XIE15_SERVICES, grass, strict=True):
        # e.g. food: (0.10 + 0.22) / 2 × 34.065 = 5.4504 → 5.450
        assert (wide["草原"][svc] + wide["草甸"][svc]) / 2 * 34.065 == pytest.approx(printed, abs=0.0005), svc
    water = {"food_production": 22.313, "water_supply": 185.314, "hydrological_regulation": 2154.100}
    for svc, printed in water.items():
        # e.g. hydrological: (102.24 + 24.23) / 2 × 34.065 = 2154.1003
        assert (wide["水系"][svc] + wide["湿地"][svc]) / 2 * 34.065 == pytest.approx(printed, abs=0.0005), svc


def test_xie2003_is_the_2003_table(xie03: CoefficientSet) -> None:
    # 谢高地, 鲁春霞, 冷允法, 郑度, 李双成 2003, 自然资源学报 18(2):189-196
    assert "18(2)" in xie03.manifest.citation and "鲁春霞, 冷允法" in xie03.manifest.citation
    eq = xie03.table("equivalents")
    assert eq.height == 6 * 9
    assert {"water_conservation", "soil_formation_protection", "waste_treatment", "biodiversity_protection",
            "recreation_culture"} <= set(eq["service"].to_list())
    sums = dict(eq.group_by("ecosystem_group").agg(pl.col("value").sum()).iter_rows())
    assert {g: round(v, 2) for g, v in sums.items()} == XIE03_SUMS
    # column sums × 884.9 元/hm² reproduce the 2003 per-hectare values to within 0.006 % (the largest gap
    # is 湿地: 62.71 × 884.9 = 55492.08 vs 55489.0, 3.08 元; the paper's values use unrounded cells)
    for g, per_hm2 in XIE03_PER_HM2.items():
        assert sums[g] * 884.9 == pytest.approx(per_hm2, abs=3.1, rel=0), g
    assert "standard_value" not in xie03.tables  # the paper's 884.9 has no stated price year
    assert all("18(2):189-196" in s for s in eq["source"].to_list())


def test_xie2008_is_the_2008_table(xie08: CoefficientSet) -> None:
    # 谢高地, 甄霖, 鲁春霞, 肖玉, 陈操 2008, 自然资源学报 23(5):911-919
    assert "23(5)" in xie08.manifest.citation and "甄霖" in xie08.manifest.citation
    assert xie08.manifest.price_year == 2007
    eq = xie08.table("equivalents")
    assert eq.height == 6 * 9
    assert set(eq["service"].to_list()) == {
        "food_production", "raw_materials", "gas_regulation", "climate_regulation", "hydrological_regulation",
        "waste_treatment", "soil_conservation", "biodiversity", "aesthetic_landscape"}
    sv = xie08.table("standard_value")
    assert sv["value"].to_list() == [449.1] and sv["price_year"].to_list() == [2007]
    sums = dict(eq.group_by("ecosystem_group").agg(pl.col("value").sum()).iter_rows())
    assert {g: round(v, 2) for g, v in sums.items()} == XIE08_SUMS
    # the paper's 2007 per-hectare totals, to the fen
    for g, per_hm2 in XIE08_PER_HM2.items():
        assert round(sums[g] * 449.1, 2) == pytest.approx(per_hm2, abs=0.005), g
    assert set(eq["verification"].unique().to_list()) == {"secondary"}


@pytest.mark.parametrize("set_id", ["xie2003", "xie2008"])
def test_group_sets_column_sums_and_type_map(set_id: str) -> None:
    cs = load_set(set_id)
    sums_ref = XIE03_SUMS if set_id == "xie2003" else XIE08_SUMS
    eq = cs.table("equivalents")
    assert cs.manifest.type_map == "type_map"
    tm = cs.table("type_map")
    # every one of the 14 Xie 2015 types maps onto Xie 2008 groups with weights summing to 1
    weights = dict(tm.group_by("ecosystem_type").agg(pl.col("value").sum()).iter_rows())
    assert sorted(weights) == sorted(ecosystem_types()["ecosystem_type"].to_list())
    assert all(w == pytest.approx(1.0) for w in weights.values())
    assert set(tm["ecosystem_group"].unique().to_list()) <= set(sums_ref)
    # one extent valued with either set: 1 hm² of 旱地 → 农田 column Σ
    farmland = tm.filter(pl.col("ecosystem_type") == "旱地").join(eq, on="ecosystem_group")
    assert farmland["value_right"].sum() == pytest.approx(sums_ref["农田"])


def test_fingerprint_is_stable_and_content_sensitive(xie15: CoefficientSet, tmp_path: Path) -> None:
    again = load_set("xie2015")
    assert again.fingerprint() == xie15.fingerprint()
    assert len(xie15.fingerprint()) == 64
    # same content in a copied folder → same fingerprint; one value changed → different
    dst = tmp_path / "复制 xie2015"
    dst.mkdir()
    src = Path(xie15.path or "")
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    assert load_set(dst).fingerprint() == xie15.fingerprint()
    text = (dst / "equivalents.csv").read_text(encoding="utf-8").replace("旱地,food_production,0.85", "旱地,food_production,0.86")
    (dst / "equivalents.csv").write_text(text, encoding="utf-8")
    assert load_set(dst).fingerprint() != xie15.fingerprint()


def test_record_for_manifest(xie15: CoefficientSet) -> None:
    rec = xie15.record()
    assert rec["id"] == "xie2015" and rec["version"] == "1.0.0" and rec["price_year"] == 2010
    assert rec["verification"] == "secondary" and rec["overrides"] == []


# ---------------------------------------------------------------------------
# user sets: folders and single tables

GOOD_TOML = """id = "my_county"
version = "0.1"
title = "测试 set"
method_family = "equivalent_factor"
price_year = 2020
currency = "CNY"
citation = "local study"
license = "CC0"
verification = "secondary"

[[tables]]
name = "equivalents"
file = "equivalents.csv"
keys = ["ecosystem_type", "service"]
"""


def _write_set(folder: Path, toml: str, csv: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "set.toml").write_text(toml, encoding="utf-8")
    (folder / "equivalents.csv").write_text(csv, encoding="utf-8")
    return folder


def test_user_folder_set_with_english_type_codes(tmp_path: Path) -> None:
    csv = (
        "ecosystem_type,service,value,unit,price_year,source,verification,low,high,distribution\n"
        "meadow,food_production,0.3,equivalent,,县 2020 study p.3,secondary,0.2,0.4,uniform\n"
        "旱地,food_production,0.9,equivalent,,县 2020 study p.3,🔶,,,\n"
    )
    cs = load_set(_write_set(tmp_path / "中文 系数集", GOOD_TOML, csv))
    eq = cs.table("equivalents")
    assert eq["ecosystem_type"].to_list() == ["草甸", "旱地"]
    assert eq["verification"].to_list() == ["secondary", "secondary"]
    assert eq["low"].to_list() == [0.2, None] and eq["distribution"].to_list() == ["uniform", None]
    assert cs.manifest.price_year == 2020 and not cs.manifest.user_supplied


def test_bad_table_reports_every_problem_with_row_and_column(tmp_path: Path) -> None:
    csv = (
        "ecosystem_type,service,value,unit,price_year,source,verification,low,high,distribution\n"
        "旱地,food_production,0.85,equivalent,,,secondary,,,\n"            # row 2: empty source
        "旱地,raw_materials,abc,equivalent,,s,secondary,,,\n"               # row 3: value not a number
        "旱地,water_supply,0.02,furlongs,,s,secondary,,,\n"                 # row 4: unknown unit
        "旱地,gas_regulation,0.67,equivalent,,s,maybe,,,\n"                 # row 5: verification
        "旱地,climate_regulation,0.36,equivalent,,s,secondary,0.5,0.9,\n"   # row 6: low > value
        "旱地,climate_regulation,0.36,equivalent,,s,secondary,,,\n"         # row 7: duplicate of row 6
        "forest,food_production,0.1,equivalent,,s,secondary,,,\n"           # row 8: unknown type
        "水田,food_production,1.36,equivalent,20x,s,secondary,,,\n"         # row 9: price_year
        "水田,raw_materials,0.09,equivalent,,s,secondary,,,gamma\n"         # row 10: distribution
    )
    folder = _write_set(tmp_path / "坏的", GOOD_TOML, csv)
    found = {(p.code, p.row, p.column) for p in validate_set(folder)}
    expected = {
        ("MISSING_VALUE", 2, "source"),
        ("WRONG_TYPE", 3, "value"),
        ("UNKNOWN_UNIT", 4, "unit"),
        ("INVALID_VALUE", 5, "verification"),
        ("INVALID_RANGE", 6, "low"),
        ("DUPLICATE_KEY", 7, "ecosystem_type"),
        ("UNKNOWN_ECOSYSTEM_TYPE", 8, "ecosystem_type"),
        ("WRONG_TYPE", 9, "price_year"),
        ("INVALID_VALUE", 10, "distribution"),
        ("MISSING_VALUE", 10, "low"),
    }
    assert expected <= found, expected - found
    assert all(p.file and p.file.endswith("equivalents.csv") for p in validate_set(folder))
    with pytest.raises(InputError) as exc:
        load_set(folder)
    assert len(exc.value.problems) == len(validate_set(folder))


def test_bad_manifest_names_the_toml_line(tmp_path: Path) -> None:
    toml = GOOD_TOML.replace('citation = "local study"\n', "").replace("price_year = 2020", 'price_year = "2020"')
    csv = "ecosystem_type,service,value,unit,source,verification\n旱地,food_production,1,equivalent,s,secondary\n"
    folder = _write_set(tmp_path / "清单", toml, csv)
    probs = validate_set(folder)
    by_col = {p.column: p for p in probs}
    assert by_col["citation"].code == "MISSING_VALUE"
    assert by_col["price_year"].code == "WRONG_TYPE" and by_col["price_year"].row == 5  # line 5 of set.toml
    assert all(p.file and p.file.endswith("set.toml") for p in probs)


def test_missing_table_file_and_missing_columns(tmp_path: Path) -> None:
    folder = _write_set(tmp_path / "缺表", GOOD_TOML.replace("equivalents.csv", "nope.csv"), "x\n1\n")
    assert [p.code for p in validate_set(folder)] == ["FILE_NOT_FOUND"]
    folder2 = _write_set(tmp_path / "缺列", GOOD_TOML, "ecosystem_type,service,value\n旱地,food_production,1\n")
    probs = validate_set(folder2)
    assert {(p.code, p.row, p.column) for p in probs} == {
        ("MISSING_COLUMN", 1, "unit"), ("MISSING_COLUMN", 1, "source"), ("MISSING_COLUMN", 1, "verification")}


def test_verified_set_with_unverified_rows_is_overstated(tmp_path: Path) -> None:
    csv = "ecosystem_type,service,value,unit,source,verification\n旱地,food_production,1,equivalent,s,unverified\n"
    folder = _write_set(tmp_path / "夸大", GOOD_TOML.replace('verification = "secondary"', 'verification = "verified"'), csv)
    assert [p.code for p in validate_set(folder)] == ["VERIFICATION_OVERSTATED"]


def test_unknown_set_id() -> None:
    with pytest.raises(InputError) as exc:
        load_set("no_such_set")
    assert exc.value.codes == ["UNKNOWN_COEFFICIENT_SET"]
    assert "xie2015" in (exc.value.problems[0].expected or "")


def test_single_csv_table_is_a_user_set(tmp_path: Path) -> None:
    d = tmp_path / "用户表"
    d.mkdir()
    f = d / "我的当量.csv"
    f.write_text(
        "生态系统类型,服务,数值,单位,价格年,来源,核实状态\n"
        "meadow,food_production,0.3,equivalent,,县志 p.12,secondary\n"
        "草原,food_production,0.1,equivalent,,县志 p.12,unverified\n",
        encoding="utf-8-sig",
    )
    cs = load_set(f)
    assert cs.manifest.user_supplied and cs.manifest.version == "user"
    assert list(cs.tables) == ["equivalents"] and cs.keys("equivalents") == ["ecosystem_type", "service"]
    assert cs.manifest.verification == "unverified"  # worst row
    assert cs.table("equivalents")["ecosystem_type"].to_list() == ["草甸", "草原"]


def test_single_xlsx_table_keys_left_of_value(tmp_path: Path) -> None:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region_id", "parameter", "value", "unit", "price_year", "source", "verification"])
    ws.append(["510104", "standard_equivalent_value", 2800.5, "元/hm2", 2020, "local grain statistics", "secondary"])
    ws.append(["510105", "standard_equivalent_value", 2790, "元/hm2", 2020, "local grain statistics", "secondary"])
    path = tmp_path / "标准当量.xlsx"
    wb.save(path)
    cs = load_set(path)
    t = cs.table(next(iter(cs.tables)))
    assert cs.keys(next(iter(cs.tables))) == ["region_id", "parameter"]
    assert t["value"].to_list() == [2800.5, 2790.0] and t["price_year"].to_list() == [2020, 2020]
    assert cs.manifest.price_year == 2020


def test_toml_syntax_error_and_incomplete_table_entry(tmp_path: Path) -> None:
    csv = "ecosystem_type,service,value,unit,source,verification\n旱地,food_production,1,equivalent,s,secondary\n"
    broken = _write_set(tmp_path / "语法", GOOD_TOML.replace('version = "0.1"', 'version = 0.1.2'), csv)
    (p,) = validate_set(broken)
    assert p.code == "BAD_CONFIG" and p.row == 2  # the bad line of set.toml
    no_keys = _write_set(tmp_path / "无键", GOOD_TOML.replace('keys = ["ecosystem_type", "service"]\n', ""), csv)
    (p,) = validate_set(no_keys)
    assert (p.code, p.column, p.row) == ("MISSING_VALUE", "keys", 11)  # line 11: its [[tables]]


def test_xie2003_valued_by_the_14_types(xie03: CoefficientSet, xie15: CoefficientSet) -> None:
    by_type = equivalents_by_type(xie03)
    assert by_type.height == 14 * 9
    assert by_type["category"].null_count() == 0  # the group rows' categories come along
    sums = dict(by_type.group_by("ecosystem_type").agg(pl.col("value").sum()).iter_rows())
    # 旱地 and 水田 → 农田 (Σ 6.91); 灌木 → 森林 (21.85); 冰川积雪 → 水域 (45.97)
    assert sums["旱地"] == pytest.approx(6.91) and sums["水田"] == pytest.approx(6.91)
    assert sums["灌木"] == pytest.approx(21.85) and sums["冰川积雪"] == pytest.approx(45.97)
    ver = dict(by_type.group_by("ecosystem_type").agg(pl.col("verification").first()).iter_rows())
    assert ver["冰川积雪"] == "unverified" and ver["灌木"] == "unverified" and ver["旱地"] == "secondary"
    # a set keyed by ecosystem_type is returned as is
    assert equivalents_by_type(xie15).equals(xie15.table("equivalents"))
