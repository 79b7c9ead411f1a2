"""Excel report: read back with openpyxl; hand-computed totals, formulas with cached values,
number cells, injection neutralised, byte-identical output."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from gep.reports import write_reports
from gep.reports.sample import HAND_NAMES, SCRIPT_CLASS, make_hand_run
from openpyxl.worksheet.worksheet import Worksheet


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, object]:
    run, bounds, names = make_hand_run(tmp_path_factory.mktemp("报告") / "运行 一")
    return run, bounds, names


@pytest.fixture(scope="module")
def written(hand) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    run, bounds, names = hand
    path, detail = write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names,
                                 detail="full")
    assert path == run / "report.xlsx" and detail == run / "report_detail.xlsx"
    return path, detail


@pytest.fixture(scope="module")
def book(written) -> tuple[openpyxl.Workbook, openpyxl.Workbook]:  # type: ignore[no-untyped-def]
    path = written[0]
    return (openpyxl.load_workbook(path, data_only=True), openpyxl.load_workbook(path))


@pytest.fixture(scope="module")
def detail_book(written) -> tuple[openpyxl.Workbook, openpyxl.Workbook]:  # type: ignore[no-untyped-def]
    """report_detail.xlsx (--detail full): the all-region account sheet and every table."""
    path = written[1]
    return (openpyxl.load_workbook(path, data_only=True), openpyxl.load_workbook(path))


def _sheet(wb: openpyxl.Workbook, word: str) -> Worksheet:
    (name,) = [n for n in wb.sheetnames if word in n]
    return wb[name]


def _rows(ws: Worksheet) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def test_sheets_in_county_order(book) -> None:  # type: ignore[no-untyped-def]
    values, _ = book
    names = values.sheetnames
    assert names[0] == "01 封面 Cover"
    assert names[1] == "02 汇总 Summary"
    assert names[2] == "03 510104 锦江区"  # one sheet per county, in code order
    assert names[3].startswith("04 510105 ")
    assert not [n for n in names if "核算总表" in n]  # the all-region sheet: report_detail.xlsx
    for word in ("分区域GEP", "分生态系统GEP", "生态系统面积", "服务明细", "补偿台账", "补偿净额",
                 "支付方x受偿方", "参数与来源", "输入警告"):
        assert sum(word in n for n in names) == 1, word
    assert all(len(n) <= 31 for n in names)


def test_account_layout_totals_and_cached_formulas(detail_book) -> None:  # type: ignore[no-untyped-def]
    values, formulas = detail_book
    ws, wf = _sheet(values, "核算总表"), _sheet(formulas, "核算总表")
    header = _rows(ws)[0]
    assert header[4:13] == ("一级类 / Category", "核算科目 / Service", "功能量 / Quantity",
                            "单位 / Unit", "定价方法 / Pricing method", "单价 / Unit price",
                            "单价单位 / Price unit", "价值量(万元) / Value (10k CNY)",
                            "占比 / Share")
    rows = _rows(ws)
    totals = {r[0]: (i, r[11]) for i, r in enumerate(rows) if r[4] == "GEP合计 / GEP total"}
    # 510104: 200 + (250 + 150) + 30 = 630 万元; 510105: 20 + 100 = 120 万元 (sample.py docstring)
    assert totals["510104"][1] == pytest.approx(630.0)
    assert totals["510105"][1] == pytest.approx(120.0)
    i = totals["510104"][0]
    cell = wf.cell(row=i + 1, column=12)
    assert isinstance(cell.value, str) and cell.value.startswith("=")  # a live formula ...
    assert ws.cell(row=i + 1, column=12).value == pytest.approx(630.0)  # ... with a cached value
    # water_conservation summed over two ecosystem types: 50 + 30 = 80 万m3 at 5 元/m3 = 400 万元,
    # share 400 / 630; flagged unverified (coefficient fv.water_conservation).
    (wc,) = [r for r in rows if r[0] == "510104" and r[5] == "水源涵养 / Water conservation"]
    assert wc[6] == 80 and wc[7] == "万m3" and wc[9] == 5 and wc[11] == pytest.approx(400)
    assert wc[12] == pytest.approx(400 / 630)
    assert "未核实" in wc[14]
    assert wc[13] == "影子工程 库容造价 (placeholder)"  # one source for both rows: shown as is
    subtotals = [r[11] for r in rows if r[0] == "510104" and r[5] == "小计 / Subtotal"]
    assert subtotals == pytest.approx([200.0, 400.0, 30.0])
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith("A1:")


def test_gep_by_region_sumifs_equals_engine_total(book) -> None:  # type: ignore[no-untyped-def]
    values, formulas = book
    ws, wf = _sheet(values, "分区域GEP"), _sheet(formulas, "分区域GEP")
    rows = _rows(ws)
    header = rows[0]
    col = header.index("合计 / Total (万元 / 10k CNY)")
    (i,) = [i for i, r in enumerate(rows) if r[0] == "合计 / Total"]
    # Σ total_cny = 6,300,000 + 1,200,000 = 7,500,000 CNY = 750 万元
    assert rows[i][col] == pytest.approx(750.0)
    assert wf.cell(row=i + 1, column=col + 1).value.startswith("=SUMIFS(")
    # numbers are numbers, not text; names next to ids; engine's extra columns kept
    c = ws.cell(row=2, column=col + 1)
    assert c.data_type == "n" and c.number_format == "#,##0.00"
    assert rows[1][:2] == ("510104", "锦江区")
    assert "GEP/GDP" in header  # the engine's extra indicator column, labelled


def test_category_chart_reads_the_total_row(hand, book) -> None:  # type: ignore[no-untyped-def]
    run = hand[0]
    with zipfile.ZipFile(run / "report.xlsx") as z:
        chart = z.read("xl/charts/chart1.xml").decode()
    # header row 1, data rows 2-3, blank row 4, the SUMIFS total row 5; category columns E:H
    # (sheets: cover, summary, two counties, then GEP by region)
    assert "'05 分区域GEP GEP by region'!$E$5:$H$5" in chart
    assert "2020 功能价值法 / Function-value method" in chart


def test_ecosystem_pivot_rows_sum_to_gep(book) -> None:  # type: ignore[no-untyped-def]
    values, _ = book
    rows = _rows(_sheet(values, "分生态系统GEP"))
    header = rows[0]
    (r1,) = [r for r in rows if r[0] == "510104"]
    # (unattributed) 30 + 水田 200 + 针叶 250 + 阔叶 150 = 630 万元
    (col,) = [i for i, h in enumerate(header) if h.startswith("针叶")]
    assert r1[col] == pytest.approx(250.0)
    assert r1[-1] == pytest.approx(630.0)


def test_compensation_matrix_and_net_conservation(book) -> None:  # type: ignore[no-untyped-def]
    values, _ = book
    rows = _rows(_sheet(values, "支付方x受偿方"))
    header = rows[0]
    by_payer = {r[0]: r for r in rows[1:] if r[0]}
    jinjiang, probe = "锦江区 (510104)", f'{HAND_NAMES["510105"]} (510105)'  # name (code)
    assert by_payer[jinjiang][header.index(probe)] == 1_000_000
    assert by_payer[probe][header.index(jinjiang)] == 250_000
    assert by_payer["合计 / Total"][-1] == pytest.approx(1_250_000)
    net = _rows(_sheet(values, "补偿净额"))
    (total,) = [r for r in net if r[0] == "合计 / Total"]
    # paid 1,250,000 = received 1,250,000; Σ net = -750,000 + 750,000 = 0
    assert total[2] == total[3] == pytest.approx(1_250_000)
    assert total[4] == pytest.approx(0.0)


def test_cover_has_synthetic_label_and_unverified_count(book) -> None:  # type: ignore[no-untyped-def]
    values, _ = book
    rows = _rows(values["01 封面 Cover"])
    assert rows[1][1].startswith("SYNTHETIC")
    fields = {r[0]: r[1] for r in rows if r[0]}
    (set_row,) = [r for r in rows if r[0] == "hand"]
    assert "手算样例 (hand-computed), this docstring" in set_row
    assert fields["未核实参数个数 / Unverified coefficients"] == 1
    assert fields["价格基准年 / Price base year"] == 2020
    coef = _rows(_sheet(values, "参数与来源"))
    flagged = [r for r in coef if r[0] == "fv.water_conservation"]
    assert "unverified" in flagged[0][-1]


def test_formula_injection_is_neutralised(book) -> None:  # type: ignore[no-untyped-def]
    _, formulas = book
    hits = 0
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for c in row:
                v = c.value
                if isinstance(v, str) and ("HYPERLINK" in v or "calc" in v or v in ("+bonus",
                                                                                    "@audit")):
                    hits += 1
                    assert c.data_type == "s", (ws.title, c.coordinate)
                    assert c.quotePrefix, (ws.title, c.coordinate)
    # region name in 5 sheets with names + account rows; warning message; ledger rule/basis
    assert hits >= 6
    ext = _rows(_sheet(formulas, "生态系统面积"))
    assert any(SCRIPT_CLASS in r for r in ext)  # text is kept, as text
    assert HAND_NAMES["510105"].startswith("=")


def test_font_renders_chinese(book) -> None:  # type: ignore[no-untyped-def]
    values, _ = book
    ws = values["03 510104 锦江区"]
    assert ws.cell(row=2, column=2).font.name == "微软雅黑"
    assert ws.cell(row=5, column=2).font.name == "微软雅黑"


def test_byte_identical_and_path_independent(hand, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, bounds, names = hand
    other = tmp_path / "另一个 目录"
    shutil.copytree(run, other)
    (a,) = write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names)
    first = a.read_bytes()
    (a2,) = write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names)
    (b,) = write_reports(other, formats=["xlsx"], boundaries=bounds, region_names=names)
    assert a2.read_bytes() == first
    assert b.read_bytes() == first
    # the workbook timestamp is fixed, not the time of writing (else same-second luck)
    with zipfile.ZipFile(a) as z:
        core = z.read("docProps/core.xml").decode()
        assert "2000-01-01T00:00:00Z" in core
        assert len({i.date_time for i in z.infolist()}) == 1  # xlsxwriter: one fixed 1980 date



def test_workbook_deflated_at_level_1(written) -> None:  # type: ignore[no-untyped-def]
    """report.xlsx is deflated at zlib level 1 (DEFLATE_LEVEL: fast; docs/reports.md), and
    xlsxwriter's own zip maker is restored after writing."""
    import zlib

    import xlsxwriter.workbook
    from gep.reports.xlsx import DEFLATE_LEVEL

    assert DEFLATE_LEVEL == 1 and xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    for path in written:
        with zipfile.ZipFile(path) as z:
            info = max(z.infolist(), key=lambda i: i.file_size)
            data = z.read(info)
        assert info.compress_type == zipfile.ZIP_DEFLATED
        c = zlib.compressobj(1, zlib.DEFLATED, -15)
        assert info.compress_size == len(c.compress(data) + c.flush())


def test_empty_run_still_reports(tmp_path: Path) -> None:
    run = tmp_path / "空"
    run.mkdir()
    (run / "manifest.json").write_text('{"title": "empty", "synthetic": false}', encoding="utf-8")
    (path,) = write_reports(run, formats=["xlsx"])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["01 封面 Cover"]


def test_detail_sheets_shortened_with_notes(hand, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import gep.reports.xlsx as xlsx_mod

    run, bounds, names = hand
    other = tmp_path / "截断"
    shutil.copytree(run, other)
    monkeypatch.setattr(xlsx_mod, "FILING_DETAIL_ROWS", 1)
    (path,) = write_reports(other, formats=["xlsx"], boundaries=bounds, region_names=names)
    wb = openpyxl.load_workbook(path, data_only=True)
    cover = [r[0] for r in _rows(wb["01 封面 Cover"]) if r[0]]
    notes = [c for c in cover if "tables/services.csv" in c]
    assert len(notes) == 1 and "共 6 行" in notes[0]  # services has 6 rows, 1 shown
    ledger = _rows(_sheet(wb, "补偿台账"))
    assert not [r for r in ledger if r[0] == "合计 / Total"]  # no total of a partial table
    # the county account sheets are never shortened: each has its GEP total
    for name in ("03 510104 锦江区", wb.sheetnames[3]):
        acc = _rows(wb[name])
        assert sum(r[0] == "GEP合计 / GEP total" for r in acc) == 1


def test_coefficient_flags_from_engine_coefficients_used() -> None:
    import polars as pl
    from gep.reports.views import coefficient_flags

    # coefficients_used as the engine writes it: key values " | "-joined over key_columns;
    # services cite "set:table:v1/v2" (a prefix of the key) and may cite several with "|".
    coef = pl.DataFrame({
        "set_id": ["xie2015", "xie2015", "fv"], "table": ["equivalents"] * 2 + ["prices"],
        "key": ["旱地 | food_production | 食物生产", "水田 | food_production | 食物生产",
                "soil_retention | nitrogen"],
        "source": ["Xie 2015 表2", "Xie 2015 表2", "price list"],
        "verification": ["secondary", "unverified", "verified"]})
    ids = pl.Series(["xie2015:equivalents:旱地/food_production",
                     "xie2015:equivalents:水田/food_production|fv:prices:soil_retention/nitrogen",
                     "quantities|fv:prices:soil_retention/nitrogen", None, "unknown:t:x"])
    flags = coefficient_flags(coef, ids)
    assert flags is not None
    got = dict(flags.select("coefficient_id", "verification").rows())
    assert got == {
        "xie2015:equivalents:旱地/food_production": "secondary",
        # worst of the two cited rows
        "xie2015:equivalents:水田/food_production|fv:prices:soil_retention/nitrogen":
            "unverified",
        "quantities|fv:prices:soil_retention/nitrogen": "verified",
    }


def test_account_source_names_tables_when_rows_cite_several() -> None:
    import polars as pl
    from gep.reports.views import account_items

    services = pl.DataFrame({
        "region_id": ["1", "1"], "year": [2020, 2020], "method": ["equivalent_factor"] * 2,
        "ecosystem_type": ["旱地", "水田"], "category": ["provisioning"] * 2,
        "service": ["food_production"] * 2, "quantity": [1.0, 2.0],
        "quantity_unit": ["hm2", "hm2"], "price": [10.0, 10.0], "price_unit": ["元/hm2"] * 2,
        "value_cny": [10.0, 20.0],
        "coefficient_id": ["xie2015:equivalents:旱地/food_production",
                           "xie2015:equivalents:水田/food_production"]})
    coef = pl.DataFrame({"set_id": ["xie2015"] * 2, "table": ["equivalents"] * 2,
                         "key": ["旱地 | food_production", "水田 | food_production"],
                         "source": ["Xie 2015, row 旱地", "Xie 2015, row 水田"],
                         "verification": ["secondary", "secondary"]})
    (row,) = account_items(services, coef).rows(named=True)
    # 10 + 20 = 30 CNY; quantities 1 + 2 = 3 hm2 (one unit); one price 10 元/hm2
    assert (row["value_cny"], row["quantity"], row["price"]) == (30.0, 3.0, 10.0)
    assert row["source"] == "xie2015:equivalents" and row["unverified"] is False
