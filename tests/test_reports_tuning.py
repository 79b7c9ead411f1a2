"""Reports of synthetic labels and tuning tables: the per-row data_status column, carbon flux
intervals (uncertainty_carbon_flux.csv) and compensation tornados (sensitivity.csv), hand-made."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from gep.reports import write_reports
from gep.reports.sample import make_hand_run
from openpyxl.worksheet.worksheet import Worksheet

# uncertainty_carbon_flux.csv, hand-made: value = flux × 44 CNY/t C (12 CNY/t CO2 × 44/12)
FLUX = """region_id,year_from,year,method,group,point_c_t,mean_c_t,sd_c_t,p5_c_t,p50_c_t,p95_c_t,point_cny,mean_cny,sd_cny,p5_cny,p50_cny,p95_cny,draws,seed,data_status
510104,2024,2025,gain_loss,all,250,250,60,140,249,360,11000,11000,2640,6160,10956,15840,2000,7,synthetic
all,2024,2025,gain_loss,forest,240,240,60,133,239,347,10560,10560,2640,5852,10516,15268,2000,7,synthetic
all,2024,2025,gain_loss,wetland,10,10,9,-5,10,25,440,440,396,-220,440,1100,2000,7,synthetic
all,2024,2025,gain_loss,all,250,250,60,140,249,360,11000,11000,2640,6160,10956,15840,2000,7,synthetic
all,2019,2020,gain_loss,forest,220,220,60,120,219,318,9680,9680,2640,5280,9636,13992,2000,7,synthetic
all,2019,2020,gain_loss,all,240,240,60,140,239,338,10560,10560,2640,6160,10516,14872,2000,7,synthetic
"""

STEP_NOTE = "rule regime changes within the range (a threshold or direction flips): step/kinked output"
HEAD = ("output,analysis,rank,coefficient,coefficient_unit,verification,distribution,range_source,"
        "value,low,high,output_point_cny,output_at_low_cny,output_at_high_cny,swing_cny,"
        "elasticity,note,data_status\n")
# one GEP output and one compensation output (CNY) with a step coefficient (elasticity empty)
SENS = HEAD + (
    "function_value/all/2020/total,oat,1,hand:fv:water_supply,元/m3,verified,uniform,±20 %,"
    "2.0,1.6,2.4,7500000,7100000,7900000,800000,0.27,,synthetic\n"
    "compensation/AG1/all/510104/net,oat,1,AG1:pool.fund_cny,CNY,verified,,compensation ±20 %,"
    "1000000,800000,1200000,-750000,-600000,-900000,300000,1.0,,synthetic\n"
    "compensation/AG1/all/510104/net,oat,2,AG1:sections.S1.target,mg/L,unverified,,"
    f"compensation ±20 %,1.0,0.8,1.2,-750000,-750000,250000,1000000,,\"{STEP_NOTE}\",synthetic\n")


def _hand(root: Path, *, status: bool, extra: bool = False, synthetic: bool = True
          ) -> tuple[Path, dict, pl.DataFrame]:
    run, bounds, names = make_hand_run(root)
    if status:  # as gep.pipeline.write_run labels a synthetic run: every row of every table
        for path in sorted((run / "tables").glob("*.csv")):
            df = pl.read_csv(path, infer_schema_length=0)
            df.with_columns(pl.lit("synthetic").alias("data_status")).write_csv(path)
    if extra:
        (run / "tables" / "uncertainty_carbon_flux.csv").write_text(FLUX, encoding="utf-8")
        (run / "tables" / "sensitivity.csv").write_text(SENS, encoding="utf-8")
    if not synthetic:
        m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        m["synthetic"] = False
        (run / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    return run, bounds, names


def _reports(run: Path, bounds: dict, names: pl.DataFrame) -> tuple[bytes, str]:
    x, h = write_reports(run, formats=["xlsx", "html"], boundaries=bounds, region_names=names)
    return x.read_bytes(), h.read_text(encoding="utf-8")


def _sheet(wb: openpyxl.Workbook, word: str) -> Worksheet:
    (name,) = [n for n in wb.sheetnames if word in n]
    return wb[name]


def _header_cells(wb: openpyxl.Workbook) -> list[str]:
    """Every text cell of the first 6 rows of every sheet but the cover (headers sit there)."""
    return [str(c) for ws in wb.worksheets[1:] for row in ws.iter_rows(max_row=6, values_only=True)
            for c in row if isinstance(c, str)]


def test_synthetic_status_column_is_not_repeated(tmp_path: Path) -> None:
    plain, bounds, names = _hand(tmp_path / "无标签", status=False)
    labelled, _, _ = _hand(tmp_path / "合成 标签", status=True)
    assert "data_status" in (labelled / "tables" / "compensation_ledger.csv").read_text()
    x0, h0 = _reports(plain, bounds, names)
    x1, h1 = _reports(labelled, bounds, names)
    # dropping the column gives exactly the report of the same run without it:
    # same totals, SUM formulas, sort orders, sheets (the cover label comes from the manifest)
    assert x1 == x0
    assert h1 == h0
    assert "data_status" not in h1
    assert 'id="synthetic-banner"' in h1
    values = openpyxl.load_workbook(labelled / "report.xlsx", data_only=True)
    assert not any("data_status" in c for c in _header_cells(values))
    cover = values.worksheets[0]
    assert cover.cell(row=2, column=2).value == json.loads(
        (labelled / "manifest.json").read_text(encoding="utf-8"))["data_label"]
    # ledger SUM row still there: 1 000 000 + 250 000 = 1 250 000 CNY
    ledger = _sheet(values, "补偿台账")
    assert any(1_250_000.0 in r for r in ledger.iter_rows(values_only=True))
    formulas = openpyxl.load_workbook(labelled / "report.xlsx")
    assert any(isinstance(c, str) and c.startswith("=SUM(")
               for r in _sheet(formulas, "补偿台账").iter_rows(values_only=True) for c in r)


def test_status_column_kept_when_it_says_more_than_the_banner(tmp_path: Path) -> None:
    # a run not flagged synthetic keeps the column (the banner would not say it) ...
    run, bounds, names = _hand(tmp_path / "非合成", status=True, synthetic=False)
    _, h = _reports(run, bounds, names)
    assert 'id="synthetic-banner"' not in h
    assert ">data_status</th>" in h
    # ... and so does a column with other values (compensation_agreements in the demo)
    run2, _, _ = _hand(tmp_path / "混合", status=True)
    path = run2 / "tables" / "compensation_net.csv"
    df = pl.read_csv(path, infer_schema_length=0)
    df.with_columns(pl.lit("published amounts; synthetic monitoring data").alias(
        "data_status")).write_csv(path)
    _, h2 = _reports(run2, bounds, names)
    assert h2.count(">data_status</th>") == 1
    assert "published amounts; synthetic monitoring data" in h2


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, str]:
    run, bounds, names = _hand(tmp_path_factory.mktemp("调参") / "运行", status=True, extra=True)
    x, h = _reports(run, bounds, names)
    return run, x, h


def _svg(html: str, sid: str) -> str:
    m = re.search(rf'<svg id="{sid}".*?</svg>', html, re.DOTALL)
    assert m, sid
    return m.group(0)


def test_flux_interval_charts(tuned) -> None:  # type: ignore[no-untyped-def]
    _, _, html = tuned
    flux = _svg(html, "intervals-carbon-flux")
    # latest period 2024–2025, region "all": forest, wetland, then all (t C/yr, no decimals)
    texts = re.findall(r"<title>([^<]*)</title>", flux)
    assert texts == ["森林 / forest: P5 133 · P50 239 · P95 347",
                     "湿地 / wetland: P5 -5 · P50 10 · P95 25",
                     "合计 / all groups: P5 140 · P50 249 · P95 360"]
    assert "2024–2025" in html and "(t C/yr)" in html
    value = _svg(html, "intervals-carbon-flux-value")
    # 5 852 CNY = 0.59 万元; 10 516 → 1.05; 15 268 → 1.53 (peak 15 840 < 1 亿元: 万元)
    assert "森林 / forest: P5 0.59 · P50 1.05 · P95 1.53" in value
    assert "合计 / all groups: P5 0.62 · P50 1.10 · P95 1.58" in value
    assert "data_status" not in html


def test_flux_interval_sheet(tuned) -> None:  # type: ignore[no-untyped-def]
    run, _, _ = tuned
    values = openpyxl.load_workbook(run / "report.xlsx", data_only=True)
    formulas = openpyxl.load_workbook(run / "report.xlsx")
    ws, wf = _sheet(values, "碳汇通量区间"), _sheet(formulas, "碳汇通量区间")
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    assert "P5 (t C/yr)" in head and "P95 (万元 / 10k CNY)" in head
    assert "data_status" not in " ".join(str(h) for h in head)
    body = [r for r in rows[1:] if r[0] is not None]
    # all first (periods in order, group "all" last in each), then the region
    keys = [(r[0], r[2], r[3], r[5]) for r in body]
    assert keys == [("all", 2019, 2020, "forest"), ("all", 2019, 2020, "all"),
                    ("all", 2024, 2025, "forest"), ("all", 2024, 2025, "wetland"),
                    ("all", 2024, 2025, "all"), ("510104", 2024, 2025, "all")]
    forest = body[2]
    i5, i50, i95 = (head.index(f"{p} (t C/yr)") for p in ("P5", "P50", "P95"))
    assert (forest[i5], forest[i50], forest[i95]) == (133, 239, 347)
    assert forest[head.index("P95 (万元 / 10k CNY)")] == pytest.approx(1.5268)  # 15 268 CNY
    # error-bar columns are formulas with cached values: 347 − 239 = 108, 239 − 133 = 106
    c_plus = head.index("P95 − P50 (t C/yr)")
    assert forest[c_plus] == 108 and forest[c_plus + 1] == 106
    formula = next(wf.iter_rows(min_row=4, max_row=4, values_only=True))[c_plus]
    assert isinstance(formula, str) and formula.startswith("=")
    assert len(wf._charts) == 1


def test_compensation_tornado_html(tuned) -> None:  # type: ignore[no-untyped-def]
    _, _, html = tuned
    assert html.count('class="tornado"') == 2  # the GEP output, then the compensation one
    gep_t = _svg(html, "tornado")
    assert "hand:fv:water_supply" in gep_t and "AG1:" not in gep_t
    comp = _svg(html, "tornado-2")
    heads = re.findall(r"<h3>([^<]*)</h3>", html)
    assert any("生态补偿" in h and "AG1" in h and "510104" in h and "(万元" in h for h in heads)
    # CNY → 万元: the step coefficient −750 000 … +250 000 CNY = −75 … 25 万元, widest first
    bars = re.findall(r"<title>([^<]*)</title>", comp)
    assert bars[0] == f"AG1:sections.S1.target — {STEP_NOTE}: -75.00 … 25.00"
    assert bars[1] == "AG1:pool.fund_cny: -60.00 … -90.00"
    # bar labels drop the agreement id (it is in the heading); hover titles keep it
    assert ">sections.S1.target †</text>" in comp
    assert ">pool.fund_cny</text>" in comp  # it has an elasticity: no †
    assert f"elasticity empty (step/kinked output): {STEP_NOTE}</p>" in html


def test_compensation_tornado_sheet(tuned) -> None:  # type: ignore[no-untyped-def]
    run, _, _ = tuned
    values = openpyxl.load_workbook(run / "report.xlsx", data_only=True)
    gep_ws = _sheet(values, "龙卷风图 Tornado")
    assert "function_value/all/2020/total" in str(gep_ws.cell(row=1, column=1).value)
    ws = _sheet(values, "补偿龙卷风图1")
    assert not [n for n in values.sheetnames if "补偿龙卷风图2" in n]
    title = str(ws.cell(row=1, column=1).value)
    assert "compensation/AG1/all/510104/net" in title and "万元" in title
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    head = rows[0]
    step = rows[1]  # widest swing first: 1 000 000 CNY
    assert step[0] == "AG1:sections.S1.target"
    assert step[head.index("注释 / Note") if "注释 / Note" in head else head.index("note")] \
        == STEP_NOTE
    ie = head.index(next(h for h in head if h and "lasticity" in str(h)))
    assert step[ie] is None and rows[2][ie] == 1.0
    # high − point = 25 − (−75) = 100 万元 (formula with cached value)
    assert step[-1] == pytest.approx(100.0) and step[-2] == pytest.approx(0.0)


def test_tuned_report_is_byte_identical(tuned, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, x, h = tuned
    other = tmp_path / "副本"
    shutil.copytree(run, other)
    _, bounds, names = _hand(tmp_path / "边界", status=False)
    x2, h2 = _reports(other, bounds, names)
    assert x2 == x and h2 == h
