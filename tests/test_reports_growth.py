"""Growth (增长率), change decomposition, intervals and tornado in both reports (hand-computed).

Fixture: the hand run (make_hand_run) with gep.csv and gep_constant.csv for 2015, 2020, 2025:
  gep_constant (2020 prices), CNY      2015        2020        2025
    510104                        6,000,000   6,300,000   6,930,000
    510105                        1,000,000   1,200,000   1,500,000
    province 510000               7,000,000   7,500,000   8,430,000
  change 510104: +300,000 (+5 %), +630,000 (+10 %); 510105: +200,000 (+20 %), +300,000 (+25 %)
  province: +500,000 (= 300,000 + 200,000; +7.142857 %), +930,000 (= 630,000 + 300,000; +12.4 %)
  average annual over 5 years: (1.05)^(1/5) − 1 = 0.98057 %, (1.25)^(1/5) − 1 = 4.56396 %
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from gep.reports import write_reports
from gep.reports.sample import make_hand_run
from gep.account.totals import gep_growth
from gep.reports.views import decomposition_totals, with_intervals

CONSTANT = {"510104": (6_000_000.0, 6_300_000.0, 6_930_000.0),
            "510105": (1_000_000.0, 1_200_000.0, 1_500_000.0)}
CURRENT = {"510104": (5_000_000.0, 6_300_000.0, 7_000_000.0),
           "510105": (1_000_000.0, 1_200_000.0, 1_200_000.0)}
YEARS = (2015, 2020, 2025)


def _gep(values: dict[str, tuple[float, ...]], constant: bool) -> pl.DataFrame:
    rows = [(rid, y, "function_value", v) for rid, vs in values.items()
            for y, v in zip(YEARS, vs, strict=True)]
    df = pl.DataFrame(rows, orient="row", schema=["region_id", "year", "method", "total_cny"])
    df = df.with_columns(pl.col("total_cny").alias("regulating_cny"),
                         (pl.col("total_cny") / 100).alias("gep_per_km2_cny"))
    return df.with_columns(pl.lit(2020).alias("price_base_year")) if constant else df


def _run(root: Path) -> tuple[Path, dict, pl.DataFrame]:
    run, bounds, names = make_hand_run(root)
    t = run / "tables"
    _gep(CURRENT, False).write_csv(t / "gep.csv")
    _gep(CONSTANT, True).write_csv(t / "gep_constant.csv")
    # 510104: 300,000 = area 200,000 + unit value 100,000; 510105: 200,000 = 50,000 + 150,000
    (t / "change_decomposition.csv").write_text(
        "region_id,method,year_from,year_to,value_from_cny,value_to_cny,total_change_cny,"
        "area_effect_cny,unit_value_effect_cny,unattributed_change_cny\n"
        "510104,function_value,2015,2020,6000000,6300000,300000,200000,100000,0\n"
        "510105,function_value,2015,2020,1000000,1200000,200000,50000,150000,0\n",
        encoding="utf-8")
    (t / "uncertainty.csv").write_text(
        "region_id,year,method,service,point_cny,p5_cny,p50_cny,p95_cny\n"
        "510104,2025,function_value,total,7000000,5000000,6300000,8000000\n"
        "510105,2025,function_value,total,1200000,1000000,1200000,1500000\n"
        "all,2025,function_value,total,8200000,6000000,7500000,9500000\n", encoding="utf-8")
    (t / "sensitivity.csv").write_text(
        "output,analysis,coefficient,low,high,output_point_cny,output_at_low_cny,"
        "output_at_high_cny\n"
        "function_value/all/2025/total,oat,hand:prices:small,1,2,8200000,8000000,8300000\n"
        "function_value/all/2025/total,oat,hand:prices:big,1,9,8200000,6000000,9000000\n",
        encoding="utf-8")
    return run, bounds, names


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run, bounds, names = _run(tmp_path_factory.mktemp("增长率") / "运行")
    write_reports(run, boundaries=bounds, region_names=names)
    return run, (run / "report.html").read_text(encoding="utf-8")


def test_growth_view_hand_computed() -> None:
    g = gep_growth(_gep(CONSTANT, True))
    prov = g.filter(pl.col("level") == "province")
    assert prov.get_column("region_id").to_list() == ["510000", "510000"]
    assert prov.get_column("change_cny").to_list() == pytest.approx([500_000.0, 930_000.0])
    assert prov.get_column("change_pct").to_list() == pytest.approx([500 / 70, 12.4])
    r = g.filter(pl.col("region_id") == "510105")
    assert r.get_column("change_pct").to_list() == pytest.approx([20.0, 25.0])
    assert r.get_column("annual_pct").to_list() == pytest.approx(
        [(1.2 ** 0.2 - 1) * 100, (1.25 ** 0.2 - 1) * 100])  # 3.71372 %, 4.56396 %
    # conservation: province change = Σ region changes, period by period
    regions = g.filter(pl.col("level") == "region").group_by("year_from").agg(
        pl.col("change_cny").sum()).sort("year_from")
    assert regions.get_column("change_cny").to_list() == pytest.approx(
        prov.get_column("change_cny").to_list())
    # all regions first, then provinces, then regions by id; only consecutive years
    assert g.get_column("level").to_list()[:4] == ["all", "all", "province", "province"]
    every = g.filter(pl.col("level") == "all")
    assert every.get_column("change_cny").to_list() == prov.get_column("change_cny").to_list()
    assert set(zip(g["year_from"], g["year_to"], strict=True)) == {(2015, 2020), (2020, 2025)}


def test_growth_from_zero_and_to_negative_has_no_rate() -> None:
    df = pl.DataFrame({"region_id": ["x", "x", "x"], "year": [2015, 2020, 2025],
                       "total_cny": [0.0, 100.0, -50.0]})
    g = gep_growth(df.with_columns(pl.lit("m").alias("method"))).filter(
        pl.col("level") == "region")
    assert g.get_column("change_cny").to_list() == [100.0, -150.0]
    assert g.get_column("change_pct").to_list() == [None, pytest.approx(-150.0)]
    assert g.get_column("annual_pct").to_list() == [None, None]
    # ids that are not GB/T 2260 codes have no province; they are in the all-regions total
    both = gep_growth(df.with_columns(pl.lit("m").alias("method")))
    assert both.filter(pl.col("level") == "province").height == 0
    assert both.filter(pl.col("level") == "all")["change_cny"].to_list() == [100.0, -150.0]


def test_decomposition_totals_and_intervals_join() -> None:
    dec = pl.DataFrame({"region_id": ["a", "b"], "method": ["m", "m"],
                        "year_from": [2015, 2015], "year_to": [2020, 2020],
                        "total_change_cny": [300.0, 200.0], "area_effect_cny": [200.0, 50.0],
                        "unit_value_effect_cny": [100.0, 150.0]})
    tot = decomposition_totals(dec)
    assert tot.row(0, named=True) == {"method": "m", "year_from": 2015, "year_to": 2020,
                                      "total_change_cny": 500.0, "area_effect_cny": 250.0,
                                      "unit_value_effect_cny": 250.0}
    gep = _gep(CURRENT, False)
    unc = pl.DataFrame({"region_id": ["510104", "510104"], "year": [2025, 2025],
                        "method": ["function_value"] * 2, "service": ["total", "water"],
                        "p5_cny": [1.0, 9.0], "p95_cny": [3.0, 9.0]})
    out = with_intervals(gep, unc)
    assert out.height == gep.height  # a left join: no row lost or doubled
    hit = out.filter((pl.col("region_id") == "510104") & (pl.col("year") == 2025))
    assert hit.select("total_p5_cny", "total_p95_cny").row(0) == (1.0, 3.0)
    assert out.get_column("total_p5_cny").null_count() == gep.height - 1
    assert with_intervals(gep, None) is gep


def test_excel_growth_sheet(written) -> None:  # type: ignore[no-untyped-def]
    run, _ = written
    values = openpyxl.load_workbook(run / "report.xlsx", data_only=True)
    formulas = openpyxl.load_workbook(run / "report.xlsx")
    (name,) = [n for n in values.sheetnames if "增长率" in n]
    rows = list(values[name].iter_rows(values_only=True))
    assert "不变价，2020年价格" in rows[0][0]  # constant prices, and which
    assert rows[3][0] == "层级 / Level" and "不变价" in rows[3][6]
    body = [r for r in rows[4:] if r[0]]
    prov = [r for r in body if r[1] == "510000"]
    # 万元: 700 → 750 (+50, +7.14 %), 750 → 843 (+93, +12.4 %)
    assert [(r[4], r[5], r[6], r[7]) for r in prov] == [(2015, 2020, 700.0, 750.0),
                                                        (2020, 2025, 750.0, 843.0)]
    assert [r[8] for r in prov] == pytest.approx([50.0, 93.0])  # cached formula values
    assert [r[9] for r in prov] == pytest.approx([50 / 700, 0.124])
    jin = [r for r in body if r[1] == "510104"]
    assert jin[0][2] == "锦江区" and jin[0][10] == pytest.approx(1.05 ** 0.2 - 1)
    # decomposition block right of the table: Σ regions 2015–2020 = 50 万元 = 25 + 25 + 0
    assert rows[3][12] == "时段 / Period"
    assert rows[4][12:17] == ("2015–2020 功能价值法 / Function-value method", 50.0, 25.0, 25.0,
                              0.0)
    wf = formulas[name]
    r = 4 + body.index(prov[0]) + 1  # 1-based sheet row of the first province row
    assert wf.cell(r, 9).value == f"=H{r}-G{r}"
    assert wf.cell(r, 10).value == f'=IF(G{r}=0,"",I{r}/ABS(G{r}))'
    assert wf.cell(r, 10).number_format == "0.0%"


def test_excel_intervals_tornado_and_gep_interval_columns(written) -> None:  # type: ignore[no-untyped-def]
    run, _ = written
    values = openpyxl.load_workbook(run / "report.xlsx", data_only=True)
    formulas = openpyxl.load_workbook(run / "report.xlsx")
    (iv,) = [n for n in values.sheetnames if "不确定性区间" in n]
    rows = list(values[iv].iter_rows(values_only=True))
    # largest P50 first; 万元; P95−P50 and P50−P5 are formulas (error-bar values)
    assert rows[1][:8] == ("510104", "锦江区", 2025, "function_value", 700.0, 500.0, 630.0,
                           800.0)
    assert rows[1][8:11] == pytest.approx((170.0, 130.0, 300 / 630))
    assert formulas[iv]["I2"].value == "=H2-G2" and formulas[iv]["J2"].value == "=G2-F2"
    # native charts (openpyxl does not read charts back: look into the package)
    with zipfile.ZipFile(run / "report.xlsx") as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    err = [c for c in charts if "<c:errBars>" in c]
    assert len(err) == 1 and "<c:plus>" in err[0] and "$I$2:$I$3" in err[0]
    assert any('<c:barDir val="bar"/>' in c and "$H$5:$H$6" in c for c in charts)  # tornado
    (tn,) = [n for n in values.sheetnames if n.endswith("龙卷风图 Tornado")]
    trows = list(values[tn].iter_rows(values_only=True))
    head = trows[3]
    body = [r for r in trows[4:] if r[0]]
    # widest swing first: big (600 … 900 万元) before small (800 … 830 万元); point 820 万元
    assert [r[0] for r in body] == ["hand:prices:big", "hand:prices:small"]
    i_lo, i_hi = len(head) - 2, len(head) - 1
    assert (body[0][i_lo], body[0][i_hi]) == pytest.approx((-220.0, 80.0))
    assert (body[1][i_lo], body[1][i_hi]) == pytest.approx((-20.0, 10.0))
    assert str(formulas[tn].cell(5, i_lo + 1).value).startswith("=")
    (gr,) = [n for n in values.sheetnames if "分区域GEP" in n]
    grows = list(values[gr].iter_rows(values_only=True))
    h = grows[0]
    p5 = next(i for i, x in enumerate(h) if str(x).startswith("合计P5"))
    jin25 = next(r for r in grows[1:] if r[0] == "510104" and r[2] == 2025)
    assert (jin25[p5], jin25[p5 + 1]) == (500.0, 800.0)
    # the SUMIFS total rows never add up percentiles
    total_rows = [r for r in grows[1:] if r[0] == "合计 / Total"]
    assert total_rows and all(r[p5] is None and r[p5 + 1] is None for r in total_rows)


def test_html_growth_section_and_decomposition(written) -> None:  # type: ignore[no-untyped-def]
    _, page = written
    sec = page[page.index('<section id="growth">'):]
    sec = sec[:sec.index("</section>")]
    assert "不变价，2020年价格 / constant 2020 prices" in sec
    table = sec[sec.index('id="t-growth"'):]
    first = re.search(r"<tbody>\s*<tr>(.*?)</tr>", table, re.DOTALL).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", first)
    assert cells[1] == "510000" and cells[6:] == ["700.00", "750.00", "50.00", "7.14", "1.39"]
    # (1 + 500/7000)^(1/5) − 1 = 1.3894 % average annual
    titles = re.findall(r"<title>(.*?)</title>", sec)
    assert "2015–2020 (+7.14 %): 50.00 万元 / 10k CNY" in titles
    # decomposition chart: Σ regions 2015–2020 = 50 万元 = area 25 + unit value 25 + 0
    assert "2015–2020 · 面积效应 / Area effect: 25.00 万元 / 10k CNY" in titles
    assert any(t.startswith("2015–2020 · 单价/系数效应") and t.endswith(": 25.00 万元 / 10k CNY")
               for t in titles)
    assert "2015–2020 · 总变化 / Total change: 50.00 万元 / 10k CNY" in titles


def test_html_tornado_two_sides_and_interval_card(written) -> None:  # type: ignore[no-untyped-def]
    _, page = written
    torn = page[page.index('<svg id="tornado"'):]
    torn = torn[:torn.index("</svg>")]
    # labels drop the set id; the full id is in the hover title; 万元 with a point of 820
    assert re.findall(r'<g><title>[^<]*</title><text[^>]*>(.*?)</text>', torn) == [
        "big [prices]", "small [prices]"]
    # axis ticks: lowest output, the point estimate, highest output (万元)
    assert re.findall(r'text-anchor="(?:start|middle|end)">([\d,.]+)</text>', torn) == [
        "600.00", "820.00", "900.00"]
    assert "<title>hand:prices:big: 600.00 … 900.00</title>" in torn
    rects = re.findall(r'<rect x="([\d.]+)" y="4" width="([\d.]+)" height="18" fill="(#\w+)"',
                       torn)
    (lo_x, lo_w, lo_c), (hi_x, hi_w, hi_c) = rects
    assert (lo_c, hi_c) == ("#fdae6b", "#74c476")
    assert float(lo_x) + float(lo_w) == pytest.approx(float(hi_x), abs=0.2)  # meet at the base
    assert float(lo_w) / float(hi_w) == pytest.approx(220 / 80, rel=0.01)
    assert "参数取低值时 / coefficient at its low value" in page
    # card: all-region P5–P95 of total GEP, latest year, in 亿元 like the GEP cards
    # (6,000,000 CNY = 0.06 亿元; 9,500,000 CNY = 0.095 亿元)
    card = re.search(r'<div class="k">GEP 90%区间 P5–P95 / GEP 90% interval P5–P95 2025 · '
                     r'功能价值法 / Function-value method</div><div class="v">(.*?)</div>', page)
    assert card is not None and card.group(1).startswith("0.06 – 0.")


def test_imported_deduction_and_change_matrix_rendered(tmp_path: Path) -> None:
    """imported_deduction_cny (GB/T 46869-2025) and extent_change_matrix.csv, when a run has them.

    510104 deducts 1,000,000 CNY of products from outside: GEP = 630 − 100 = 530 万元.
    Change matrix Σ regions 2015–2020 (ha): 水田→水田 100 + 30 = 130, 水田→阔叶 20,
    阔叶→水田 5, 阔叶→阔叶 50; rows (opening) 150, 55; columns (closing) 135, 70; all 205.
    """
    run, bounds, names = make_hand_run(tmp_path / "扣减与矩阵")
    t = run / "tables"
    gep = pl.read_csv(t / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    gep = gep.with_columns(
        pl.when(pl.col("region_id") == "510104").then(1_000_000.0).otherwise(0.0)
        .alias("imported_deduction_cny")).with_columns(
        (pl.col("total_cny") - pl.col("imported_deduction_cny")).alias("total_cny"))
    gep.write_csv(t / "gep.csv")
    services = pl.read_csv(t / "services.csv", schema_overrides={"region_id": pl.Utf8})
    extra = services.head(1).with_columns(
        pl.lit("imported_deduction").alias("category"), pl.lit("water_supply").alias("service"),
        pl.lit(-1_000_000.0).alias("value_cny"), pl.lit(None, pl.Utf8).alias("ecosystem_type"))
    pl.concat([services, extra]).write_csv(t / "services.csv")
    (t / "extent_change_matrix.csv").write_text(
        "region_id,year_from,year_to,ecosystem_type_from,ecosystem_type_to,area_ha\n"
        "510104,2015,2020,水田,水田,100\n510104,2015,2020,水田,阔叶,20\n"
        "510104,2015,2020,阔叶,阔叶,50\n510105,2015,2020,水田,水田,30\n"
        "510105,2015,2020,阔叶,水田,5\n", encoding="utf-8")
    write_reports(run, boundaries=bounds, region_names=names, lang="zh")
    page = (run / "report.html").read_text(encoding="utf-8")
    # a negative bar in the category chart: −1,000,000 CNY = −0.01 亿元
    assert "<title>扣减：区外调入生态产品: -0.01 亿元</title>" in page
    sec = page[page.index('id="t-ecm0"'):]
    body = re.findall(r"<tr>(.*?)</tr>", sec[:sec.index("</table>")], re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", b) for b in body[1:]]
    assert cells == [["水田", "130.00", "20.00", "150.00"], ["阔叶", "5.00", "50.00", "55.00"],
                     ["合计", "135.00", "70.00", "205.00"]]
    values = openpyxl.load_workbook(run / "report.xlsx", data_only=True)
    formulas = openpyxl.load_workbook(run / "report.xlsx")
    # the county's filing sheet: the deduction is its own category, subtracted in the total
    jin = list(values[next(n for n in values.sheetnames if " 510104 " in n)].iter_rows(
        values_only=True))
    subs = [r for r in jin if r[1] == "小计 / Subtotal"]
    assert subs[-1][0] == "扣减：区外调入生态产品" and subs[-1][5] == pytest.approx(-100.0)
    total = next(r for r in jin if r[0] == "GEP合计 / GEP total")
    assert total[5] == pytest.approx(530.0)  # gep.csv total_cny, = Σ subtotals
    (mname,) = [n for n in values.sheetnames if n.endswith(" 类型变化矩阵")]
    m = list(values[mname].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(m) if r[0] == "期初 \\ 期末")
    assert m[head][1:4] == ("水田", "阔叶", "合计")
    assert m[head + 1][:4] == ("水田", 130.0, 20.0, 150.0)
    assert m[head + 3][:4] == ("合计", 135.0, 70.0, 205.0)
    assert formulas[mname].cell(head + 4, 4).value == f"=SUM(D{head + 2}:D{head + 3})"


def test_province_ids_outside_the_registry_get_gb2260_names(tmp_path: Path) -> None:
    """A cross-provincial ledger: 520000 is not in the run's registry but is 贵州省 (GB/T 2260)."""
    run, bounds, names = make_hand_run(tmp_path / "跨省")
    (run / "tables" / "compensation_ledger.csv").write_text(
        "agreement_id,period,payer,payee,amount_cny\nX,2020,520000,510104,1000000\n",
        encoding="utf-8")
    write_reports(run, boundaries=bounds, region_names=names, lang="zh")
    page = (run / "report.html").read_text(encoding="utf-8")
    flow = page[page.index('<svg id="flow"'):]
    assert "<title>贵州省 → 锦江区: 1,000,000.00 元</title>" in flow[:flow.index("</svg>")]
    values = openpyxl.load_workbook(run / "report.xlsx", data_only=True)
    (mname,) = [n for n in values.sheetnames if "支付方x受偿方" in n]
    rows = list(values[mname].iter_rows(values_only=True))
    assert rows[1][0] == "贵州省 (520000)" and rows[0][1] == "锦江区 (510104)"


def test_old_run_folder_growth_and_totals_computed_once(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A run folder without gep_growth / gep_totals: both reports of one call compute each once."""
    from gep.reports import views

    run, bounds, names = _run(tmp_path / "运行")
    calls = {"growth": 0, "totals": 0}

    def counted(key: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            calls[key] += 1
            return fn(*a, **k)
        return wrapper

    monkeypatch.setattr(views, "gep_growth", counted("growth", views.gep_growth))
    monkeypatch.setattr(views, "gep_level_totals", counted("totals", views.gep_level_totals))
    assert not (run / "tables" / "gep_growth.csv").exists()
    write_reports(run, boundaries=bounds, region_names=names)
    assert calls == {"growth": 1, "totals": 1}
    assert "增长率" in (run / "report.html").read_text(encoding="utf-8")
