"""gep.loaders: every format users send, aliases, units, and every error path."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from gep.errors import InputError
from gep.loaders import LANDCOVER_SPEC, load_landcover
from gep.tablespec import load_table

ROWS = [("510104", 2020, "旱地", 150.0), ("510104", 2020, "水田", 30.0), ("510105", 2020, "旱地", 12.5)]


@pytest.fixture()
def tmp(tmp_path: Path) -> Path:
    d = tmp_path / "输入数据"
    d.mkdir()
    return d


def _csv(path: Path, header: str, rows: list[str], encoding: str = "utf-8") -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding=encoding)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings_and_chinese_aliases(tmp: Path, encoding: str) -> None:
    p = _csv(tmp / f"lc_{encoding}.csv", "地区代码,年份,地类,面积(公顷)",
             [f"{r},{y},{c},{a}" for r, y, c, a in ROWS], encoding)
    df = load_landcover(p)
    assert df.columns == ["region_id", "year", "class", "area_ha"]
    assert df["class"].to_list() == ["旱地", "水田", "旱地"]
    assert df["area_ha"].to_list() == [150.0, 30.0, 12.5]
    assert df["region_id"].dtype == pl.Utf8


@pytest.mark.parametrize(
    ("header", "value", "expected_ha"),
    [
        ("area_ha", "15", 15.0),
        ("area_km2", "1.5", 150.0),
        ("area_mu", "15", 1.0),  # 15 亩 = 1 ha
        ("area_m2", "10000", 1.0),
        ("面积(亩)", "30", 2.0),
        ("面积（万亩）", "1.5", 1000.0),  # 1.5 万亩 = 15000 亩 = 1000 ha
        ("面积_万公顷", "0.5", 5000.0),
        ("面积(平方公里)", "2", 200.0),
    ],
)
def test_area_units_from_column_name(tmp: Path, header: str, value: str, expected_ha: float) -> None:
    p = _csv(tmp / "u.csv", f"region_id,year,class,{header}", [f"510104,2020,旱地,{value}"])
    assert math.isclose(load_landcover(p)["area_ha"][0], expected_ha, rel_tol=1e-12)


def test_area_unit_column(tmp: Path) -> None:
    p = _csv(tmp / "u.csv", "region_id,year,class,面积,单位",
             ["510104,2020,旱地,1.5,万亩", "510104,2020,水田,2,hm2", "510104,2020,林地,3,km2"])
    df = load_landcover(p).sort("class")
    assert df["area_ha"].to_list() == pytest.approx([1000.0, 300.0, 2.0])


def test_xlsx_first_and_named_sheet(tmp: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["this sheet is notes"])
    ws.append(["说明: 面积单位为亩"])
    ws2 = wb.create_sheet("土地利用")
    ws2.append(["行政区划代码", "年份", "地类", "面积(亩)"])
    for r, y, c, a in ROWS:
        ws2.append([int(r), y, c, a * 15])
    p = tmp / "lc.xlsx"
    wb.save(p)
    df = load_landcover(p, sheet="土地利用")
    assert df["region_id"].to_list() == ["510104", "510104", "510105"]
    assert df["area_ha"].to_list() == pytest.approx([150.0, 30.0, 12.5])
    with pytest.raises(InputError) as err:
        load_landcover(p, sheet="nope")
    assert err.value.codes == ["MISSING_SHEET"]
    # without a sheet name: the only visible sheet holding a table (the notes sheet holds none)
    assert load_landcover(p)["area_ha"].to_list() == pytest.approx([150.0, 30.0, 12.5])


def test_parquet(tmp: Path) -> None:
    p = tmp / "lc.parquet"
    pl.DataFrame({"region_id": [r for r, *_ in ROWS], "year": [y for _, y, *_ in ROWS],
                  "class": [c for *_, c, _ in ROWS], "area_ha": [a for *_, a in ROWS]}).write_parquet(p)
    df = load_landcover(p)
    assert df["area_ha"].sum() == pytest.approx(192.5)


def test_every_problem_collected_with_rows(tmp: Path) -> None:
    p = _csv(tmp / "bad.csv", "region_id,year,class,area_ha", [
        "510104,2020,旱地,10",      # row 2
        "510104,2020,旱地,11",      # row 3: duplicate of row 2
        "510105,20x0,水田,5",       # row 4: year not a number
        "510105,2020,水田,-3",      # row 5: negative
        "510106,2020,水田,abc",     # row 6: not a number
        "510107,2020,水田,inf",     # row 7: not finite
        ",2020,水田,1",             # row 8: empty region
    ])
    with pytest.raises(InputError) as err:
        load_landcover(p)
    found = {(x.code, x.row, x.column) for x in err.value.problems}
    assert ("DUPLICATE_KEY", 3, "region_id") in found
    assert ("WRONG_TYPE", 4, "year") in found
    assert ("NEGATIVE_VALUE", 5, "area_ha") in found
    assert ("WRONG_TYPE", 6, "area_ha") in found
    assert ("NON_FINITE", 7, "area_ha") in found
    assert ("MISSING_VALUE", 8, "region_id") in found
    text = str(err.value)
    assert "bad.csv" in text and "found '-3'" in text


def test_misspelled_column_suggests_near_match(tmp: Path) -> None:
    p = _csv(tmp / "typo.csv", "region_id,yaer,class,area_ha", ["510104,2020,旱地,1"])
    with pytest.raises(InputError) as err:
        load_landcover(p)
    (problem,) = err.value.problems
    assert problem.code == "MISSING_COLUMN" and problem.column == "year" and problem.row == 1
    assert "did you mean 'yaer'" in problem.message


def test_missing_unit_and_unknown_unit(tmp: Path) -> None:
    p = _csv(tmp / "nounit.csv", "region_id,year,class,area", ["510104,2020,旱地,1"])
    with pytest.raises(InputError) as err:
        load_landcover(p)
    assert err.value.codes == ["MISSING_UNIT"]
    p = _csv(tmp / "badunit.csv", "region_id,year,class,area,unit",
             ["510104,2020,旱地,1,ha", "510104,2020,水田,1,acre"])
    with pytest.raises(InputError) as err:
        load_landcover(p)
    (problem,) = err.value.problems
    assert (problem.code, problem.row, problem.column, problem.value) == ("UNKNOWN_UNIT", 3, "unit", "acre")


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"region_id,year,class,area_ha\n"])
def test_empty_files(tmp: Path, content: bytes) -> None:
    p = tmp / "empty.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as err:
        load_landcover(p)
    assert err.value.codes == ["EMPTY_FILE"]


def test_missing_file_and_binary(tmp: Path) -> None:
    with pytest.raises(InputError) as err:
        load_landcover(tmp / "nope.csv")
    assert err.value.codes == ["FILE_NOT_FOUND"]
    p = tmp / "x.xlsx"
    p.write_bytes(b"not a zip")
    with pytest.raises(InputError) as err:
        load_landcover(p)
    assert err.value.codes == ["UNREADABLE_FILE"]


def test_duplicates_across_files(tmp: Path) -> None:
    a = _csv(tmp / "a.csv", "region_id,year,class,area_ha", ["510104,2020,旱地,1"])
    b = _csv(tmp / "b.csv", "region_id,year,class,area_ha", ["510104,2020,旱地,2"])
    with pytest.raises(InputError) as err:
        load_landcover([a, b])
    assert err.value.codes == ["DUPLICATE_KEY"]


def test_thousands_separators_and_metadata_columns(tmp: Path) -> None:
    p = _csv(tmp / "sep.csv", "region_id,year,class,area_ha,data_status,备注",
             ['510104,2020,旱地,"1,234.5",synthetic,x'])
    df = load_table(p, LANDCOVER_SPEC)
    assert df["area_ha"][0] == 1234.5


def test_duplicate_with_empty_optional_key(tmp: Path) -> None:
    """Two rows whose optional key (component) is empty in both are the same key."""
    from gep.tablespec import ColumnSpec, TableSpec

    spec = TableSpec(name="q", columns=(ColumnSpec(name="service"), ColumnSpec(name="component", required=False,
                                                                                 allow_null=True),
                                         ColumnSpec(name="quantity", dtype="float")),
                     keys=("service", "component"))
    p = _csv(tmp / "q.csv", "service,component,quantity", ["water_supply,,1", "water_supply,,2", "water_supply,x,3"])
    with pytest.raises(InputError) as err:
        load_table(p, spec)
    assert [(x.code, x.row) for x in err.value.problems] == [("DUPLICATE_KEY", 3)]


def test_title_rows_and_empty_rows_are_skipped(tmp: Path) -> None:
    """A 统计表 title and unit note above the header, and ',,,' rows Excel leaves, do not break loading."""
    p = tmp / "统计表.csv"
    p.write_text("锦江区2020年土地利用现状表,,,\n单位：公顷,,,\nregion_id,year,class,area_ha\n"
                 "510104,2020,旱地,10\n,,,\n510104,2020,水田,5\n,,,\n", encoding="gbk")
    df = load_table(p, LANDCOVER_SPEC, keep_rows=True)
    assert df["class"].to_list() == ["旱地", "水田"]
    assert df["_row"].to_list() == [4, 6]  # spreadsheet rows: header is row 3
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["锦江区2020年土地利用现状表"])
    ws.append(["region_id", "year", "class", "area_ha"])
    ws.append(["510104", 2020, "旱地", 10])
    x = tmp / "统计表.xlsx"
    wb.save(x)
    assert load_table(x, LANDCOVER_SPEC, keep_rows=True)["_row"].to_list() == [3]
