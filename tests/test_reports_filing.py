"""The filing workbook (report.xlsx): summary + one account sheet per county, read back with openpyxl.

Fixture: the hand run (gep.reports.sample.make_hand_run) plus one statistics row without a
physical quantity: 510105 2020 provisioning "agricultural_products", 500,000 CNY = 50 万元.
  510104: provisioning 200, regulating 250 + 150 = 400, cultural 30 → GEP 630 万元
  510105: provisioning 20 + 50 = 70, regulating 100           → GEP 170 万元
  all regions: provisioning 270, regulating 500, cultural 30 → 800 万元
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest
from gep.reports import write_reports
from gep.reports.sample import SAMPLE_LABEL, make_hand_run

import gep.reports.xlsx as xlsx_mod

STAT = "agricultural_products"


def _hand(root: Path) -> tuple[Path, dict, pl.DataFrame]:
    run, bounds, names = make_hand_run(root)
    t = run / "tables"
    svc = pl.read_csv(t / "services.csv", infer_schema_length=0)
    extra = {c: None for c in svc.columns} | {
        "region_id": "510105", "year": "2020", "category": "provisioning", "service": STAT,
        "value_cny": "500000.0", "component": "total", "method": "function_value",
        "coefficient_id": "statistics"}
    pl.concat([svc, pl.DataFrame([extra], schema=svc.schema)]).write_csv(t / "services.csv")
    gep = pl.read_csv(t / "gep.csv").with_columns(
        pl.when(pl.col("region_id") == 510105).then(pl.col("provisioning_cny") + 500_000)
        .otherwise(pl.col("provisioning_cny")).alias("provisioning_cny"),
        pl.when(pl.col("region_id") == 510105).then(pl.col("total_cny") + 500_000)
        .otherwise(pl.col("total_cny")).alias("total_cny"),
        pl.col("region_id").cast(pl.Utf8))
    gep.write_csv(t / "gep.csv")
    return run, bounds, names


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, pl.DataFrame]:
    return _hand(tmp_path_factory.mktemp("填报") / "运行")


@pytest.fixture(scope="module")
def book(hand) -> tuple[openpyxl.Workbook, openpyxl.Workbook]:  # type: ignore[no-untyped-def]
    run, bounds, names = hand
    (path,) = write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names)
    return openpyxl.load_workbook(path, data_only=True), openpyxl.load_workbook(path)


def _rows(ws) -> list[tuple]:  # type: ignore[no-untyped-def]
    return list(ws.iter_rows(values_only=True))


def _county(wb: openpyxl.Workbook, rid: str):  # type: ignore[no-untyped-def]
    (name,) = [n for n in wb.sheetnames if n.split(" ")[1:2] == [rid]]
    return wb[name]


def test_summary_then_one_sheet_per_county(book) -> None:  # type: ignore[no-untyped-def]
    values, _ = book
    names = values.sheetnames
    assert names[:3] == ["01 封面 Cover", "02 汇总 Summary", "03 510104 锦江区"]
    assert names[3].startswith("04 510105 ")
    assert sum(n.split(" ")[1] in ("510104", "510105") for n in names) == 2


def test_county_sheet_layout_chinese_with_english_header_row(book) -> None:  # type: ignore[no-untyped-def]
    values, _ = book
    rows = _rows(_county(values, "510104"))
    assert rows[0][0].startswith("锦江区（510104） 生态产品总值（GEP）核算表")
    assert rows[1] == ("一级类", "核算科目", "功能量", "单位", "定价方法", "价值量(万元)", "占比")
    assert rows[2] == ("Category", "Service", "Quantity", "Unit", "Pricing method",
                       "Value (10k CNY)", "Share")
    assert rows[3][0] == "2020年 · 功能价值法 / Function-value method"
    # Chinese service names; water conservation summed over two ecosystem types: 80 万m3, 400 万元
    (wc,) = [r for r in rows if r[1] == "水源涵养"]
    assert wc[2:4] == (80, "万m3") and wc[5] == pytest.approx(400.0)
    assert wc[6] == pytest.approx(400 / 630)


def test_subtotals_and_total_are_formulas_equal_to_sums(book) -> None:  # type: ignore[no-untyped-def]
    values, formulas = book
    for rid, subtotals, total in (("510104", [200.0, 400.0, 30.0], 630.0),
                                  ("510105", [70.0, 100.0], 170.0)):
        ws, wf = _county(values, rid), _county(formulas, rid)
        rows = _rows(ws)
        subs = [i for i, r in enumerate(rows) if r[1] == "小计 / Subtotal"]
        assert [rows[i][5] for i in subs] == pytest.approx(subtotals)
        start = 4  # first line row (0-based) of the block
        for i in subs:  # each subtotal = Σ of the lines above it, back to the previous subtotal
            lines = [r[5] for r in rows[start:i]]
            assert rows[i][5] == pytest.approx(sum(lines))
            assert wf.cell(i + 1, 6).value == f"=SUM(F{start + 1}:F{i})"
            start = i + 1
        (t,) = [i for i, r in enumerate(rows) if r[0] == "GEP合计 / GEP total"]
        assert rows[t][5] == pytest.approx(total)  # cached value = engine gep.total_cny
        assert wf.cell(t + 1, 6).value == "=" + "+".join(f"F{i + 1}" for i in subs)
        assert rows[t][6] == 1.0


def test_blank_where_no_physical_quantity(book) -> None:  # type: ignore[no-untyped-def]
    values, formulas = book
    ws = _county(values, "510105")
    (row,) = [r for r in _rows(ws) if r[1] == "农业产品"]
    assert row[5] == pytest.approx(50.0)
    assert row[2] is None and row[3] is None  # blank, not 0.00
    for name in values.sheetnames[2:4]:  # no 0 quantity anywhere on the county sheets
        assert all(r[2] != 0 for r in _rows(values[name])[3:])


def test_print_setup_on_every_filing_sheet(book) -> None:  # type: ignore[no-untyped-def]
    _, formulas = book
    for name in formulas.sheetnames[1:4]:
        ws = formulas[name]
        assert ws.page_setup.orientation == "landscape", name
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        # fitToWidth is omitted when 1 (the OOXML default); 0 pages tall = as many as needed
        assert int(ws.page_setup.fitToWidth or 1) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert ws.print_title_rows == "$1:$3", name  # title and both header rows repeat
        assert ws.print_area, name
        footer = ws.oddFooter
        assert "&P" in footer.center.text and "&N" in footer.center.text
        assert footer.right.text == SAMPLE_LABEL  # the synthetic label on every page
    left = formulas["03 510104 锦江区"].oddFooter.left.text
    assert "锦江区 510104" in left and "2020" in left and "功能价值法" in left
    # the other sheets print on A4 landscape too
    for ws in formulas.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title


def test_summary_totals_from_engine_tables(book) -> None:  # type: ignore[no-untyped-def]
    values, formulas = book
    ws, wf = values["02 汇总 Summary"], formulas["02 汇总 Summary"]
    rows = _rows(ws)
    assert "四川省（510000）" in rows[0][0]  # both counties lie in one province: its name
    assert rows[2][:3] == ("Region code", "Region", "2020")
    cats = {r[1]: r[2] for r in rows[4:8] if r[1]}
    assert cats["物质产品"] == pytest.approx(270.0) and cats["调节服务"] == pytest.approx(500.0)
    totals = [(i, r) for i, r in enumerate(rows) if r[1] == "GEP合计 / GEP total"]
    assert [r[2] for _, r in totals] == pytest.approx([800.0, 800.0])
    for i, _ in totals:
        assert wf.cell(i + 1, 3).value.startswith("=SUM(C")
    by_region = {r[0]: r[2] for r in rows if r[0] in ("510104", "510105")}
    assert by_region == pytest.approx({"510104": 630.0, "510105": 170.0})
    # the name links to the county's sheet
    (link,) = [c for c in wf["B"] if c.value == "锦江区"]
    assert link.hyperlink is not None and "510104" in link.hyperlink.location


def test_streaming_writer_keeps_every_cell(hand, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """constant_memory drops a write to a row above the current one: compare with the in-memory writer."""
    run, bounds, names = hand
    (path,) = write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names,
                            out_dir=tmp_path / "stream")
    monkeypatch.setattr(xlsx_mod, "STREAM", False)
    (ref,) = write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names,
                           out_dir=tmp_path / "memory")
    a, b = openpyxl.load_workbook(path), openpyxl.load_workbook(ref)
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        assert _rows(a[name]) == _rows(b[name]), name


def test_detail_full_writes_the_detail_workbook(hand, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, bounds, names = hand
    paths = write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names,
                          out_dir=tmp_path, detail="full")
    assert [p.name for p in paths] == ["report.xlsx", "report_detail.xlsx"]
    wb = openpyxl.load_workbook(paths[1], read_only=True)
    assert any("核算总表" in n for n in wb.sheetnames)
    assert any("服务明细" in n or "services" in n for n in wb.sheetnames)
    with pytest.raises(ValueError, match="detail"):
        write_reports(run, formats=["xlsx"], out_dir=tmp_path, detail="everything")


def test_county_sheets_only_up_to_the_limit_and_the_cover_says_so(hand, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Above county_sheets counties (a national run) no account sheet per county: the summary still lists every
    county and the cover names the option that writes them; None (--county-sheets all) writes them all."""
    run, bounds, names = hand
    (path,) = write_reports(run, formats=["xlsx"], out_dir=tmp_path / "capped", boundaries=bounds,
                            region_names=names, county_sheets=1)
    wb = openpyxl.load_workbook(path, data_only=True)
    assert not [n for n in wb.sheetnames if n.split(" ")[1] in ("510104", "510105")]
    cover = "\n".join(str(v) for r in _rows(wb[wb.sheetnames[0]]) for v in r if v is not None)
    assert "2 counties, more than 1" in cover or "含 2 个县级单位，多于 1 个" in cover
    assert "--county-sheets all" in cover
    summary = "\n".join(str(v) for r in _rows(wb[wb.sheetnames[1]]) for v in r if v is not None)
    assert "510104" in summary and "510105" in summary  # every county still in the summary
    (path,) = write_reports(run, formats=["xlsx"], out_dir=tmp_path / "all", boundaries=bounds,
                            region_names=names, county_sheets=None)
    wb = openpyxl.load_workbook(path, read_only=True)
    assert len([n for n in wb.sheetnames if n.split(" ")[1] in ("510104", "510105")]) == 2
