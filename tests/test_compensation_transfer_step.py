"""[transfer] input tables: the socio table and custom river edges are read through gep.loaders.

Chinese headers (GBK or UTF-8), units in the header converted by gep.units, problems as InputError
with file, spreadsheet row (header = 1) and the column as the file spells it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gep.compensation.transfer_step import Config, read_edges, read_socio
from gep.errors import InputError


@pytest.fixture()
def d(tmp_path: Path) -> Path:
    p = tmp_path / "社会经济 数据"
    p.mkdir()
    return p


def test_gbk_chinese_headers_with_units_are_converted(d: Path) -> None:
    p = d / "社会经济.csv"
    p.write_text(
        "地区代码,年份,城镇人口(万人),农村人口,城镇居民人均可支配收入(元),农村居民人均可支配收入,"
        "地区生产总值(亿元),用水量(万m3),恩格尔系数(%),备注\n"
        "510104,2020,12.5,300,50000,20000,5,3,25,统计年鉴\n",
        encoding="gbk",
    )
    df = read_socio(p, Config(calculators=["spillover", "opportunity_cost", "priority"]))
    row = df.row(0, named=True)
    # 12.5 万人 = 125 000 people; 农村人口 without a unit = people; 5 亿元 = 5e8 CNY; 3 万m3 = 30 000 m3; 25 % = 0.25
    assert row == {"region_id": "510104", "year": 2020, "population_urban": 125_000.0, "population_rural": 300.0,
                   "income_urban_cny": 50_000.0, "income_rural_cny": 20_000.0, "gdp_cny": 5e8,
                   "water_use_m3": 30_000.0, "engel_coefficient": 0.25}
    assert str(df.schema["year"]) == "Int32"


def test_english_table_is_unchanged_and_factor_columns_are_kept(d: Path) -> None:
    p = d / "socio.csv"
    p.write_text("region_id,year,gdp_cny,agreed_fund_cny,my_factor\n510104,2020,1000000000,100,7\n", encoding="utf-8")
    cfg = Config(calculators=["priority", "incentive"], incentive_weights={"agreed_fund_cny": 0.5, "my_factor": 0.5})
    df = read_socio(p, cfg)
    assert df.rows() == [("510104", 2020, 1e9, 100.0, 7.0)]
    assert df.columns == ["region_id", "year", "gdp_cny", "agreed_fund_cny", "my_factor"]
    # 协议资金(万元) 1.5 → 15 000 CNY
    p.write_text("地区代码,年份,协议资金(万元)\n510104,2020,1.5\n", encoding="utf-8")
    assert read_socio(p, cfg)["agreed_fund_cny"].to_list() == [15_000.0]


def test_bad_cells_are_named_by_file_row_and_the_users_column(d: Path) -> None:
    p = d / "错误.csv"
    p.write_text(
        "地区代码,年份,城镇人口,农村人口,城镇居民人均可支配收入,农村居民人均可支配收入,地区生产总值\n"
        "510104,2020,1000,0,50000,20000,100000\n"
        "513223,二〇二〇,一千,2000,-40000,,50000\n",
        encoding="gbk",
    )
    with pytest.raises(InputError) as exc:
        read_socio(p, Config(calculators=["opportunity_cost", "priority"]))
    got = {(x.code, x.row, x.column) for x in exc.value.problems}
    assert got == {
        ("WRONG_TYPE", 3, "年份"),
        ("WRONG_TYPE", 3, "城镇人口"),  # the file's header, not the '城镇人口(人)' it is read as
        ("NEGATIVE_VALUE", 3, "城镇居民人均可支配收入"),
        ("MISSING_VALUE", 3, "农村居民人均可支配收入"),
        ("MISSING_UNIT", 1, "地区生产总值"),  # GDP without 元/万元/亿元 is ambiguous: never guessed
    }
    assert all(x.file == str(p) for x in exc.value.problems)


def test_columns_a_calculator_needs_are_required(d: Path) -> None:
    p = d / "只有GDP.csv"
    p.write_text("地区代码,年份,地区生产总值(万元)\n510104,2020,100000\n", encoding="utf-8")
    assert read_socio(p, Config(calculators=["priority"]))["gdp_cny"].to_list() == [1e9]  # 100 000 万元
    with pytest.raises(InputError) as exc:
        read_socio(p, Config(calculators=["opportunity_cost", "spillover"]))
    assert [(x.code, x.row, x.column) for x in exc.value.problems] == [
        ("MISSING_COLUMN", 1, c) for c in
        ("population_urban", "population_rural", "income_urban_cny", "income_rural_cny", "water_use_m3")]
    with pytest.raises(InputError) as exc:  # efa: weight factors, protected area and (reward rate > 0) the score
        read_socio(p, Config(calculators=["efa"], efa_base_weights={"fiscal_gap_cny": 1.0, "gep_total_cny": 1.0}))
    assert [x.column for x in exc.value.problems] == ["fiscal_gap_cny", "protected_area_km2", "assessment_score"]


def test_duplicate_region_year_and_xlsx(d: Path) -> None:
    import openpyxl

    p = d / "社会经济.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["地区代码", "年份", "地区生产总值（万元）"])
    ws.append(["510104", 2020, 100000])
    ws.append(["510104", 2020, 100001])
    wb.save(p)
    with pytest.raises(InputError) as exc:
        read_socio(p, Config(calculators=["priority"]))
    assert [(x.code, x.row) for x in exc.value.problems] == [("DUPLICATE_KEY", 3)]


def test_edges_table_with_chinese_headers(d: Path) -> None:
    p = d / "河网.csv"
    p.write_text("上游,下游,河流\n510121,510185,沱江干流\n510185,512002,沱江干流\n,512002,沱江干流\n", encoding="gbk")
    with pytest.raises(InputError) as exc:
        read_edges(p)
    assert [(x.code, x.row, x.column) for x in exc.value.problems] == [("MISSING_VALUE", 4, "上游")]
    p.write_text("上游,下游\n510121,510185\n", encoding="utf-8")
    assert read_edges(p).rows(named=True) == [{"upstream_id": "510121", "downstream_id": "510185"}]
