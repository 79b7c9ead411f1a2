"""`gep validate` on every input kind: real files (GBK CSV with Chinese headers, XLSX, Parquet, TOML),
one good and one bad file per kind, auto-detection, and the cross-file checks.

Every bad file has one known defect; the tests assert the reason code, the spreadsheet row
(header = row 1; TOML: line number) and the column, and that the command exits 2.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.errors import Problem
from gep.inputs_catalog import KIND_NAMES, Options, detect, kinds, validate_files
from gep.pipeline import demo_data_dir

# ---------------------------------------------------------------------------
# writers


def gbk(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("gbk"))
    return path


def utf8(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def parquet(path: Path, data: dict[str, list[object]]) -> Path:
    pl.DataFrame(data).write_parquet(path)
    return path


def cli(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["validate", *args])
    return res.exit_code, res.output


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [p.render() for p in problems]
    return problems[0]


@pytest.fixture()
def d(tmp_path: Path) -> Path:
    out = tmp_path / "输入 数据"  # non-ASCII folder name with a space
    out.mkdir()
    return out


# ---------------------------------------------------------------------------
# land cover (existing behaviour, now through the catalogue)


def test_landcover_gbk_chinese_headers_mu(d: Path) -> None:
    f = gbk(d / "土地.csv", "地区代码,年份,地类,面积(亩)\n510104,2020,水田,150\n510104,2020,旱地,75\n")
    code, out = cli(str(f))
    # 150 亩 + 75 亩 = 225 亩 = 225 / 15 ha = 15 ha
    assert code == 0, out
    assert "detected: landcover from columns 地区代码, 年份, 地类, 面积(亩)" in out
    assert "2 rows" in out and "15.00 ha" in out


def test_landcover_bad_collects_type_and_region_problems(d: Path) -> None:
    f = gbk(d / "土地.csv", "地区代码,年份,地类,面积(亩)\n510104,2020,水田,150\n519999,二〇二〇,旱地,75\n")
    code, out = cli(str(f), "--regions", "sichuan")
    assert code == 2
    rep = validate_files([f], opts=Options(registry=_sichuan()))
    codes = {(p.code, p.row, p.column) for p in rep.problems}
    # the year stops the loader; the unknown region is still found in the same run (raw cells)
    assert ("WRONG_TYPE", 3, "年份") in codes
    assert ("UNKNOWN_REGION", 3, "地区代码") in codes
    assert "row 3" in out and "WRONG_TYPE" in out and "UNKNOWN_REGION" in out


def test_landcover_duplicate_across_files(d: Path) -> None:
    a = utf8(d / "a.csv", "region_id,year,class,area_ha\n510104,2020,水田,1\n")
    b = utf8(d / "b.csv", "region_id,year,class,area_ha\n510104,2020,水田,2\n")
    rep = validate_files([a, b])
    p = only(rep.problems)
    assert p.code == "DUPLICATE_KEY" and str(a) in (p.file or "") and str(b) in (p.file or "")
    assert cli(str(a), str(b))[0] == 2


# ---------------------------------------------------------------------------
# transitions, with reconciliation against --landcover

LC = ("region_id,year,class,area_ha\n"
      "510104,2015,水田,10\n510104,2015,旱地,5\n"
      "510104,2020,水田,8\n510104,2020,旱地,7\n")


def _transitions(path: Path, moved: float) -> Path:
    return xlsx(path, [["地区代码", "起始年", "终止年", "原地类", "现地类", "面积(公顷)"],
                       ["510104", 2015, 2020, "水田", "水田", 8],
                       ["510104", 2015, 2020, "水田", "旱地", moved],
                       ["510104", 2015, 2020, "旱地", "旱地", 5]])


def test_transitions_reconcile_with_landcover(d: Path) -> None:
    lc = utf8(d / "lc.csv", LC)
    # opening 水田 10 = 8 + 2, 旱地 5 = 5; closing 水田 8 = 8, 旱地 7 = 2 + 5
    f = _transitions(d / "转移.xlsx", 2)
    code, out = cli(str(f), "--landcover", str(lc))
    assert code == 0, out
    assert "detected: transitions" in out and "reconcile with the land cover" in out
    code, out = cli(str(f))
    assert code == 0 and "not reconciled" in out


def test_transitions_not_reconciled(d: Path) -> None:
    lc = utf8(d / "lc.csv", LC)
    f = _transitions(d / "转移.xlsx", 3)
    # opening 水田: land cover 10 ha, transitions move 8 + 3 = 11 ha out; closing 旱地: 7 ha vs 3 + 5 = 8 ha in
    code, out = cli(str(f), "--landcover", str(lc))
    assert code == 2 and out.count("NOT_RECONCILED") == 2
    from gep.loaders import load_landcover

    rep = validate_files([f], opts=Options(landcover=load_landcover(lc), landcover_files=(str(lc),)))
    found = sorted((p.code, p.row, p.column, p.value) for p in rep.problems)
    assert found == [("NOT_RECONCILED", 2, "class_from", "水田"), ("NOT_RECONCILED", 3, "class_to", "旱地")]


def test_transitions_end_year_before_start(d: Path) -> None:
    f = utf8(d / "t.csv", "region_id,year_from,year_to,class_from,class_to,area_ha\n"
                          "510104,2015,2020,水田,水田,1\n510104,2020,2015,水田,旱地,1\n")
    p = only(validate_files([f]).problems)
    assert (p.code, p.row, p.column) == ("INVALID_VALUE", 3, "year_to")


# ---------------------------------------------------------------------------
# GEP-account tables


def test_quantities_parquet(d: Path) -> None:
    good = parquet(d / "q.parquet", {"region_id": ["510104"], "year": [2020], "service": ["水资源供给"],
                                     "quantity": [1.5], "unit": ["万m3"]})
    code, out = cli(str(good))
    assert code == 0, out
    assert "detected: quantities from columns region_id, year, service, quantity, unit" in out
    bad = parquet(d / "qb.parquet", {"region_id": ["510104", "510104"], "year": [2020, 2020],
                                     "service": ["water_supply", "水资源供应"], "quantity": [1.5, 2.0],
                                     "unit": ["万m3", "万m3"]})
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column, p.value) == ("UNKNOWN_SERVICE", 3, "service", "水资源供应")
    assert cli(str(bad))[0] == 2


def test_quantities_empty_component_duplicates_and_regions_together(d: Path) -> None:
    f = gbk(d / "功能量.csv", "地区代码,年份,服务,功能量,单位\n510104,2020,水资源供给,1,万m3\n"
                             "510104,2020,水资源供给,2,万m3\n519999,2020,水资源供给,1,万m3\n")
    rep = validate_files([f], opts=Options(registry=_sichuan()))
    # rows 2 and 3 have the same region, year, service and an empty component: one is a double count
    assert sorted((p.code, p.row) for p in rep.problems) == [("DUPLICATE_KEY", 3), ("UNKNOWN_REGION", 4)]


def test_statistics_gbk(d: Path) -> None:
    good = gbk(d / "统计.csv", "地区代码,年份,服务,价值,单位\n510104,2020,食物生产,336.7,万元\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: statistics" in out, out
    bad = gbk(d / "统计b.csv", "地区代码,年份,服务,价值,单位\n510104,2020,食物生产,336.7,万元\n"
                               "510105,2020,食物生产,三百,万元\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column, p.value) == ("WRONG_TYPE", 3, "价值", "三百")


def test_prices(d: Path) -> None:
    good = utf8(d / "p.csv", "service,price,unit\nwater_supply,2.5,元/m3\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: prices" in out, out
    bad = utf8(d / "pb.csv", "service,price,unit\nwater_supply,2.5,元/m3\nfood_production,-1,元/t\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column) == ("NEGATIVE_VALUE", 3, "price")


def test_rates_needs_kind_when_column_missing(d: Path) -> None:
    good = utf8(d / "r.csv", "生态系统类型,服务,速率,单位\n阔叶,water_supply,100,m3/hm2\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: rates" in out, out
    bad = utf8(d / "rb.csv", "生态系统类型,服务,单位\n阔叶,water_supply,m3/hm2\n")
    assert only(validate_files([bad]).problems).code == "UNKNOWN_KIND"
    p = only(validate_files([bad], kind="rates").problems)
    assert (p.code, p.row, p.column) == ("MISSING_COLUMN", 1, "rate")
    code, out = cli(str(bad), "--kind", "rates")
    assert code == 2 and "kind: rates, as given by --kind" in out


def test_grain(d: Path) -> None:
    good = utf8(d / "g.csv", "作物,播种面积(万亩),单产(kg/hm2),价格(元/kg)\n稻谷,3,7500,2.6\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: grain" in out, out
    bad = utf8(d / "gb.csv", "作物,播种面积(万亩),单产(kg/hm2),价格(元/kg)\n稻谷,3,7500,2.6\n小麦,-2,5000,2.4\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column) == ("NEGATIVE_VALUE", 3, "播种面积(万亩)")


def test_adjustments(d: Path) -> None:
    good = utf8(d / "a.csv", "地区代码,因子,比值\n510104,npp,1.1\n510104,降水,0.9\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: adjustments" in out and "npp, precipitation" in out, out
    bad = utf8(d / "ab.csv", "地区代码,因子,比值\n510104,npp,1.1\n510104,风速,0.9\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column, p.value) == ("INVALID_VALUE", 3, "因子", "风速")  # the header as written


def test_price_index(d: Path) -> None:
    good = utf8(d / "i.csv", "年份,价格指数\n2010,100\n2020,130.5\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: price-index" in out, out
    bad = utf8(d / "ib.csv", "年份,价格指数\n2010,100\n2010,130.5\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row) == ("DUPLICATE_KEY", 3)


def test_socio_xlsx_with_registry(d: Path) -> None:
    good = xlsx(d / "人口.xlsx", [["地区代码", "年份", "常住人口", "GDP(万元)"], ["510104", 2020, 480000, 3571908]])
    code, out = cli(str(good), "--regions", "sichuan")
    assert code == 0 and "detected: socio" in out, out
    bad = xlsx(d / "人口b.xlsx", [["地区代码", "年份", "常住人口", "GDP(万元)"], ["510104", 2020, 480000, 3571908],
                                 ["510199", 2020, 1000, 5]])
    p = only(validate_files([bad], opts=Options(registry=_sichuan())).problems)
    assert (p.code, p.row, p.column, p.value) == ("UNKNOWN_REGION", 3, "地区代码", "510199")  # the header as written
    assert cli(str(bad))[0] == 0  # without --regions any id is accepted


# ---------------------------------------------------------------------------
# carbon tables

POOLS = "lucode,lulc_name,c_above,c_below,c_soil,c_dead\n1,水田,5,1,60,0\n2,旱地,4,1,50,0\n"


def test_invest_pools_and_landcover_coverage(d: Path) -> None:
    good = utf8(d / "pools.csv", POOLS)
    lc = utf8(d / "lc.csv", LC)
    code, out = cli(str(good), "--landcover", str(lc))
    assert code == 0 and "detected: carbon-pools" in out and "every class of the land cover" in out, out
    bad = utf8(d / "poolsb.csv", POOLS + "3,林地,40,10,n/a,2\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column, p.value) == ("WRONG_TYPE", 4, "c_soil", "n/a")
    lc2 = utf8(d / "lc2.csv", LC + "510104,2020,有林地,3\n")
    code, out = cli(str(good), "--landcover", str(lc2))
    assert code == 2 and "MISSING_COEFFICIENT" in out and "有林地" in out


def test_carbon_rates_forest_and_grassland(d: Path) -> None:
    rates = utf8(d / "rates.csv", "class,固碳速率\n有林地,1.2\n")
    forest = utf8(d / "forest.csv", "region_id,year,class,area_ha,gw,r,cf\n510104,2020,有林地,100,3.1,0.2,0.47\n")
    grass = utf8(d / "grass.csv", "region_id,year,class,area_ha,climate_zone,soil_type,mg_from,mg_to\n"
                                  "510104,2020,天然牧草地,100,cool_temperate_moist,HAC,severely_degraded,nominal\n")
    rep = validate_files([rates, forest, grass])
    assert not rep.problems, [p.render() for p in rep.problems]
    assert [c.kind for c in rep.checked] == ["carbon-rates", "forest-inventory", "grassland-management"]
    bad = utf8(d / "forestb.csv", "region_id,year,class,area_ha,gw\n510104,2020,有林地,100,-3\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column) == ("NEGATIVE_VALUE", 2, "gw")


# ---------------------------------------------------------------------------
# compensation: monitoring data and agreements


def test_monitoring_gbk(d: Path) -> None:
    good = gbk(d / "监测.csv", "断面,日期,指标,浓度(mg/L),流量(m3/s)\nJK,2024-01-05,高锰酸盐指数,2.1,30\n"
                              "JK,2024-02-05,氨氮,0.3,\n")
    code, out = cli(str(good))
    assert code == 0, out
    assert "detected: monitoring from columns 断面, 日期, 指标, 浓度(mg/L), 流量(m3/s)" in out
    assert "2 samples" in out and "CODMn, NH3-N" in out and "1 with flow" in out
    bad = gbk(d / "监测b.csv", "断面,日期,指标,浓度(mg/L)\nJK,2024-01-05,氨氮,0.3\nJK,2024-13-05,氨氮,0.3\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column) == ("WRONG_TYPE", 3, "date")


def _agreement_text() -> str:
    return (demo_data_dir() / "compensation" / "xinan_index_bet_2012.toml").read_text(encoding="utf-8")


def test_agreement_good_and_bad_line_number(d: Path) -> None:
    text = _agreement_text()
    good = utf8(d / "新安江.toml", text)
    code, out = cli(str(good))
    assert code == 0, out
    assert "detected: agreement" in out and "agreement 'xinan-m1-2012', method index_bet" in out
    bad_text = text.replace('method = "index_bet"', 'method = "index-bet"')
    line = bad_text.splitlines().index('method = "index-bet"') + 1
    bad = utf8(d / "新安江b.toml", bad_text)
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.value) == ("INVALID_VALUE", line, "index-bet")
    code, out = cli(str(bad))
    assert code == 2 and f"row {line}" in out


def test_agreement_unknown_party_region_and_duplicate_id(d: Path) -> None:
    text = _agreement_text().replace('kind = "province"', 'kind = "county"', 1)
    f = utf8(d / "a.toml", text)
    # the first party (340000 安徽省) is now a county, which must be in the registry
    p = only(validate_files([f], opts=Options(registry=_sichuan())).problems)
    assert p.code == "UNKNOWN_REGION" and p.value == "340000"
    a = utf8(d / "a1.toml", _agreement_text())
    b = utf8(d / "a2.toml", _agreement_text())
    p = only(validate_files([a, b]).problems)
    assert (p.code, p.file, p.value) == ("DUPLICATE_KEY", str(b), "xinan-m1-2012")


def test_agreement_without_method_is_still_an_agreement(d: Path) -> None:
    text = "\n".join(line for line in _agreement_text().splitlines() if not line.startswith("method ="))
    f = utf8(d / "无方法.toml", text)
    rep = validate_files([f])
    assert rep.failed[0][1].startswith("detected: agreement")
    assert [(p.code, "'method'" in p.message) for p in rep.problems] == [("MISSING_VALUE", True)]


def test_agreement_syntax_error_line(d: Path) -> None:
    text = _agreement_text().replace('period = "year"', 'period = year')
    line = text.splitlines().index("period = year") + 1
    f = utf8(d / "syntax.toml", text)
    p = only(validate_files([f]).problems)  # detected from [[parties]] even though TOML parsing fails
    assert (p.code, p.row) == ("UNREADABLE_FILE", line)


# ---------------------------------------------------------------------------
# run configs, coefficient sets, crosswalks, regions, rivers


def test_config(d: Path) -> None:
    lc = utf8(d / "lc.csv", LC)
    good = utf8(d / "run.toml", f'[run]\ntitle = "测试"\nregions = "sichuan"\n\n[inputs]\nlandcover = ["{lc.name}"]\n')
    code, out = cli(str(good))
    assert code == 0 and "detected: config from .toml keys sections [inputs], [run]" in out, out
    assert "1 input file(s) valid (landcover)" in out
    code, out = cli(str(good), "--config-only")
    assert code == 0 and "1 input file(s) named, all present (contents not checked)" in out
    bad = utf8(d / "runb.toml", '[run]\ntitle = "测试"\nregion = "sichuan"\n')
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column) == ("BAD_CONFIG", 3, "run.region")
    # a named input that does not exist: reported with the line of its key (line 5)
    gone = utf8(d / "runc.toml", '[run]\ntitle = "测试"\n\n[inputs]\nlandcover = ["缺失.csv"]\n'
                                 'crosswalk = "tnls"\n')
    p = only(validate_files([gone]).problems)
    assert (p.code, p.row, p.column, p.value) == ("FILE_NOT_FOUND", 5, "inputs.landcover", "缺失.csv")


def test_config_checks_every_named_input(d: Path) -> None:
    utf8(d / "lc.csv", LC)
    _transitions(d / "转移.xlsx", 2)
    utf8(d / "q.csv", "region_id,year,service,quantity,unit\n510104,2020,water_supply,1.5,万m3\n")
    cfg = ('[run]\ntitle = "测试"\nregions = "sichuan"\n\n[inputs]\nlandcover = ["lc.csv"]\n\n'
           '[carbon]\ntransitions = "转移.xlsx"\n\n[account]\nquantities = ["q.csv"]\n')
    good = utf8(d / "run.toml", cfg)
    code, out = cli(str(good))
    assert code == 0, out
    assert "3 input file(s) valid (landcover, quantities, transitions)" in out
    # the quantities name a region outside the config's registry (sichuan), and the transitions
    # move 3 ha instead of 2 out of 水田: both found through the config alone
    utf8(d / "q.csv", "region_id,year,service,quantity,unit\n510104,2020,water_supply,1.5,万m3\n"
                      "110101,2020,water_supply,1,万m3\n")
    _transitions(d / "转移.xlsx", 3)
    rep = validate_files([good])
    found = sorted((Path(p.file or "").name, p.code, p.row) for p in rep.problems)
    assert found == [("q.csv", "UNKNOWN_REGION", 3), ("转移.xlsx", "NOT_RECONCILED", 2),
                     ("转移.xlsx", "NOT_RECONCILED", 3)]
    assert rep.failed[0][0] == str(good)
    shallow = validate_files([good], opts=Options(deep_config=False))
    assert not shallow.problems and "contents not checked" in shallow.checked[0].summary


def test_config_agreement_parties_follow_check_regions(d: Path) -> None:
    utf8(d / "a.toml", _agreement_text().replace('kind = "province"', 'kind = "county"', 1))
    utf8(d / "m.csv", "断面,日期,指标,浓度\nJIEKOU,2012-01-05,TP,0.1\n")
    base = '[run]\ntitle = "t"\nregions = "sichuan"\n\n[compensation]\nagreements = ["a.toml"]\nmonitoring = ["m.csv"]\n'
    strict = utf8(d / "strict.toml", base)
    p = only(validate_files([strict]).problems)  # party 340000 (a county now) is not a Sichuan region
    assert (Path(p.file or "").name, p.code, p.value) == ("a.toml", "UNKNOWN_REGION", "340000")
    free = utf8(d / "free.toml", base + "check_regions = false\n")
    rep = validate_files([free])
    # the parties pass now; what is left is what the run refuses too: one sample cannot settle the agreement's
    # months (validate RUN.toml settles the agreements as the run does)
    assert rep.problems and {x.code for x in rep.problems} == {"MISSING_MONITORING"}, [x.render() for x in rep.problems]
    res = CliRunner().invoke(main, ["run", str(free), "--out", str(d / "out")])
    assert res.exit_code == 2 and "MISSING_MONITORING" in res.output and "UNKNOWN_REGION" not in res.output


def test_ambiguous_toml(d: Path) -> None:
    f = utf8(d / "both.toml", 'method = "pool"\n[[parties]]\nid = "a"\n[run]\ntitle = "x"\n')
    p = only(validate_files([f]).problems)
    assert p.code == "AMBIGUOUS_KIND" and p.value == "agreement, config"
    code, out = cli(str(f), "--kind", "agreement")
    assert code == 2 and "AMBIGUOUS_KIND" not in out


COEF = ("ecosystem_type,service,value,unit,price_year,source,verification\n"
        "阔叶,water_supply,1.5,equivalent,2010,谢高地 2015 表2,secondary\n")


def test_coefficient_table_and_folder(d: Path) -> None:
    good = utf8(d / "coef.csv", COEF)
    code, out = cli(str(good))
    assert code == 0 and "detected: coefficients" in out, out
    bad = utf8(d / "coefb.csv", COEF + "针叶,water_supply,abc,equivalent,2010,谢高地 2015 表2,secondary\n")
    rep = validate_files([bad])
    assert rep.problems and all(p.file and p.file.endswith("coefb.csv") for p in rep.problems)
    assert ("WRONG_TYPE", 3, "value") in {(p.code, p.row, p.column) for p in rep.problems}
    folder = d / "xie2015_copy"
    import gep.coefficients as gc

    shutil.copytree(Path(gc.__file__).parent / "sets" / "xie2015", folder)
    code, out = cli(str(folder))
    assert code == 0 and "detected: coefficients from a folder with set.toml" in out
    assert "coefficient set 'xie2015'" in out


def test_crosswalk(d: Path) -> None:
    good = gbk(d / "对照.csv", "地类,生态系统类型\n水田,水田\n有林地,阔叶\n城镇,\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: crosswalk" in out and "1 without service value" in out, out
    bad = gbk(d / "对照b.csv", "地类,生态系统类型\n水田,水田\n有林地,森林\n")
    rep = validate_files([bad])
    assert [(p.row, p.value) for p in rep.problems] == [(3, "森林")]


def test_regions_and_rivers(d: Path) -> None:
    good = utf8(d / "regions.csv", "地区代码,名称,面积(km2)\nA1,甲县,100\nA2,乙县,200\n")
    code, out = cli(str(good))
    assert code == 0 and "detected: regions" in out and "2 regions" in out and "300.0 km2" in out, out
    bad = utf8(d / "regionsb.csv", "地区代码,名称,面积(km2)\nA1,甲县,100\nA1,乙县,200\n")
    p = only(validate_files([bad]).problems)
    assert (p.code, p.row, p.column) == ("DUPLICATE_KEY", 3, "region_id")
    rivers = utf8(d / "edges.csv", "河流,上游代码,下游代码\n岷江,510000,510100\n")
    code, out = cli(str(rivers))
    assert code == 0 and "detected: rivers" in out, out
    loop = utf8(d / "loop.csv", "河流,上游代码,下游代码\n岷江,A,B\n岷江,B,A\n")
    rep = validate_files([loop])
    assert rep.problems and rep.failed[0][1].startswith("detected: rivers")


# ---------------------------------------------------------------------------
# detection


def test_every_demo_input_is_detected_and_valid() -> None:
    demo = demo_data_dir()
    files = sorted((demo / "account").glob("*.csv")) + [
        demo / "sichuan_landcover_synthetic.csv", demo / "sichuan_transitions_synthetic.csv",
        demo / "compensation" / "sichuan_monitoring_synthetic.csv",
        *sorted((demo / "compensation").glob("*.toml")), demo / "config" / "00_run.toml",
    ]
    rep = validate_files(files, opts=Options(registry=_sichuan()))
    assert not rep.problems, [p.render() for p in rep.problems[:5]]
    kinds_found = [c.kind for c in rep.checked]
    assert kinds_found == ["price-index", "quantities", "statistics", "emissions", "socio", "landcover", "transitions",
                           "monitoring", "agreement", "agreement", "agreement", "agreement", "config"]


def test_builtins_by_name_and_demo_files() -> None:
    code, out = cli("xie2015", "tnls", "sichuan", "demo:sichuan_landcover_synthetic.csv")
    assert code == 0, out
    assert "OK xie2015 (detected: coefficients, the name of a built-in coefficient set)" in out
    assert "OK tnls (detected: crosswalk, the name of a built-in crosswalk)" in out
    assert "OK sichuan (detected: regions, the name of a built-in region registry): 183 regions, 21 prefectures" in out
    assert "OK demo:sichuan_landcover_synthetic.csv (detected: landcover" in out
    assert cli("no_such_set", "--kind", "coefficients")[0] == 2


def test_ambiguous_header_names_both_kinds(d: Path) -> None:
    # monitoring (5 columns) and InVEST pools (5 columns) explain the same number of columns
    f = utf8(d / "odd.csv", "lucode,c_above,c_below,c_soil,c_dead,section_id,date,indicator,concentration_mg_l,"
                            "flow_m3s\n1,1,1,1,1,S,2024-01-01,TP,0.1,3\n")
    p = only(validate_files([f]).problems)
    assert (p.code, p.row) == ("AMBIGUOUS_KIND", 1)
    assert p.value == "carbon-pools, monitoring"
    code, out = cli(str(f), "--kind", "monitoring")
    assert code == 0 and "kind: monitoring, as given by --kind" in out


def test_unknown_header_names_closest_kind(d: Path) -> None:
    f = utf8(d / "x.csv", "region_id,year,service,amount\n510104,2020,water_supply,1\n")
    p = only(validate_files([f]).problems)
    assert p.code == "UNKNOWN_KIND" and p.row == 1
    assert "closest: quantities lacks quantity, unit; statistics lacks value, unit" in p.message


def test_missing_file_and_kind_list(d: Path) -> None:
    p = only(validate_files([d / "nope.csv"]).problems)
    assert p.code == "FILE_NOT_FOUND"
    code, out = cli("--list-kinds")
    assert code == 0 and all(k in out for k in KIND_NAMES)
    assert tuple(kinds()) == KIND_NAMES
    assert cli()[0] == 2  # no file: usage error


def test_detect_is_explainable(d: Path) -> None:
    f = gbk(d / "q.csv", "地区代码,年份,服务,功能量,单位,备注\n510104,2020,水资源供给,1,万m3,合成\n")
    det = detect(f, str(f))
    assert det.kind == "quantities"
    assert det.how == "detected: quantities from columns 地区代码, 年份, 服务, 功能量, 单位"


def _sichuan() -> object:
    from gep.regions import load_registry

    return load_registry("sichuan")


def test_docs_and_help_list_every_kind() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "input_tables.md").read_text(encoding="utf-8")
    section = docs[docs.index("## Checking inputs: `gep validate`"):]
    listed = [line.split("|")[1].strip().strip("`") for line in section.splitlines()
              if line.startswith("| `") and "`gep." in line]
    assert listed == list(KIND_NAMES)
    res = CliRunner().invoke(main, ["validate", "--help"])
    assert res.exit_code == 0 and all(k in res.output for k in KIND_NAMES)
