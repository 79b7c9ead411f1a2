"""The filing sheets of report.xlsx: a summary sheet and one account sheet per county.

Layout of the county GEP account table (总表) of 欧阳志云 et al. 2013 and the
《生态产品总值核算规范（试行）》 (2022), docs/reports.md: for each year and method, the
indicators (核算科目) by category (一级类) with 功能量 and its unit, 定价方法, 价值量 in 万元
and 占比; a 小计 per category and the GEP合计 as live formulas whose cached values are the
engine's numbers (gep and gep_totals tables); shares are numbers. Cells with no physical quantity stay blank.
Every sheet is set up to print: A4 landscape, one page wide, header rows repeated, and a
footer naming region, years, methods, page and the synthetic-data label.
Rows are written strictly in order, so the sheets stream in xlsxwriter's constant_memory mode.
"""

from __future__ import annotations

import math
from itertools import groupby
from typing import Any

import polars as pl
from xlsxwriter.utility import xl_col_to_name

from .labels import LABELS, label

from .views import CATEGORY_ORDER, DEDUCTION, INJECTION_PREFIXES, WAN, account_items
from .xlsxrows import Rows
# county sheet columns: (label key, width)
COLUMNS = [("category", 12), ("service", 20), ("quantity", 16), ("unit", 15),
           ("pricing_method", 30), ("value_wan", 16), ("share", 9)]  # widths fit "equivalent·hm2", "市场价值法 market value"
Q, V, S = 2, 5, 6  # quantity, value, share columns
HEADER_ROWS = 3  # title, Chinese header, English header (repeated on every printed page)
COUNTY_SHEETS_MAX = 400
"""County account sheets are written when a run has at most this many counties (every province of China has
fewer; a national run's 2,800 sheets would take half a minute to write and are no way to file); above it the
summary sheet and the GEP-by-region sheet hold every county and the cover says how to get the sheets."""


def _zh(key: str) -> str:
    return LABELS[key][0] if key in LABELS else key


def _en(key: str) -> str:
    return LABELS[key][1] if key in LABELS else key


def _name(key: str, lang: str) -> str:
    """Cell text of an engine code on the filing sheets: Chinese (English with lang en)."""
    return _en(key) if lang == "en" else _zh(key)


def footer_text(region: str, years: list[Any], methods: list[Any], synthetic: str | None,
                lang: str = "zh") -> str:
    """Print footer: region, years and methods left, page n of N centre, data label right."""
    def esc(text: str) -> str:
        return text.replace("&", "&&")
    span = (f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])) if years else ""
    left = " · ".join(p for p in (esc(region), span, "、".join(_name(str(m), lang) for m in methods if m))
                      if p)
    right = f"&R&8{esc(synthetic)}" if synthetic else ""  # &8: the same small size as left and centre
    return f"&L&8{left[:120]}&C&8第 &P 页 / 共 &N 页 Page &P of &N{right}"


def print_setup(ws: Any, repeat_to: int, footer: str, last_row: int, last_col: int) -> None:
    """Rows 0..repeat_to repeated on every page, the footer, the print area (A4 landscape, one page wide:
    every sheet of the workbook wrapper, reports/xlsx.py)."""
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    if repeat_to >= 0:
        ws.repeat_rows(0, repeat_to)
    ws.set_footer(footer)
    ws.print_area(0, 0, max(last_row, 0), last_col)


class _Writer:
    """Formats and direct cell writers for the filing sheets (no per-cell dictionary lookups)."""

    def __init__(self, book: Any) -> None:
        self.book = book
        f = book.fmt
        self.text, self.num, self.pct = f("text"), f("num"), f("pct")
        self.b_text, self.b_num, self.b_pct = (f("text", bold=True), f("num", bold=True),
                                               f("pct", bold=True))
        self.head = f("text", header=True)
        self.title = f("text", bold=True, size=13)
        self.quoted, self.b_quoted = f("text", quote=True), f("text", bold=True, quote=True)

    def text_format(self, text: str, bold: bool = False) -> Any:
        """Text format; a leading = + - @ gets the quote prefix (never a formula: injection)."""
        if text.startswith(INJECTION_PREFIXES):
            return self.b_quoted if bold else self.quoted
        return self.b_text if bold else self.text


def _engine_totals(gep: pl.DataFrame | None) -> dict[tuple[Any, ...], dict[str, float]]:
    """(region_id, year, method) → the engine's category columns and total (CNY)."""
    if gep is None or "total_cny" not in gep.columns:
        return {}
    cols = [c for c in gep.columns if c.endswith("_cny") and c[:-4] in CATEGORY_ORDER
            or c == "total_cny"]
    method = pl.col("method") if "method" in gep.columns else pl.lit(None, pl.Utf8)
    return {(r[0], r[1], r[2]): dict(zip(cols, r[3:], strict=True))
            for r in gep.select("region_id", "year", method, *cols).rows()}


def _county_sheet(w: _Writer, ws: Any, rid: str, name: str | None, rows: list[dict[str, Any]],
                  engine: dict[tuple[Any, ...], dict[str, float]], lang: str,
                  synthetic: str | None) -> None:
    """One county: a block per (year, method) with category subtotals and the GEP total."""
    wr_s, wr_n, wr_f = ws.write_string, ws.write_number, ws.write_formula
    vcol = xl_col_to_name(V)
    title = f"{name or rid}（{rid}） 生态产品总值（GEP）核算表" if lang != "en" else \
        f"{name or rid} ({rid}) GEP account"
    wr_s(0, 0, title + f" · {label('value_wan', lang)}",
         w.b_quoted if title.startswith(INJECTION_PREFIXES) else w.title)
    for c, (key, _) in enumerate(COLUMNS):  # row by row: constant_memory flushes a left row
        wr_s(1, c, _zh(key), w.head)
    for c, (key, _) in enumerate(COLUMNS):
        wr_s(2, c, _en(key), w.head)
    r = HEADER_ROWS
    years: list[Any] = []
    methods: list[Any] = []
    for (year, method), block_iter in groupby(rows, key=lambda d: (d["year"], d["method"])):
        block = list(block_iter)
        if year not in years:
            years.append(year)
        if method not in methods:
            methods.append(method)
        eng = engine.get((rid, year, method), {})
        total_cny = eng.get("total_cny")
        if total_cny is None:
            total_cny = math.fsum(d["value_cny"] or 0.0 for d in block)
        total = total_cny * WAN
        head = (f"{year} · {_en(str(method))}" if lang == "en" else
                f"{year}年 · {_zh(str(method))}" + (f" / {_en(str(method))}" if method else ""))
        wr_s(r, 0, head, w.b_text)
        r += 1
        cats = [(c, list(g)) for c, g in groupby(block, key=lambda d: d["category"])]
        sub_rows: list[int] = []
        for cat, lines in cats:
            first = r
            for i, d in enumerate(lines):
                if i == 0:
                    wr_s(r, 0, _name(cat, lang), w.text)
                svc = _name(str(d["service"]), lang)
                wr_s(r, 1, svc, w.text_format(svc))
                q = d["quantity"]
                if q is not None and math.isfinite(q):  # blank, never 0.00, without a quantity
                    wr_n(r, Q, q, w.num)
                    if d["quantity_unit"]:
                        unit = str(d["quantity_unit"])
                        wr_s(r, 3, unit, w.text_format(unit))
                if d["pricing_method"]:
                    pm = str(d["pricing_method"])
                    wr_s(r, 4, pm, w.text_format(pm))
                value = (d["value_cny"] or 0.0) * WAN
                wr_n(r, V, value, w.num)
                wr_n(r, S, value / total if total else 0.0, w.pct)  # line share: a number
                r += 1
            key = f"{DEDUCTION}_cny" if cat == DEDUCTION else f"{cat}_cny"
            sub_cny = eng.get(key)
            if sub_cny is None:
                sub = math.fsum((d["value_cny"] or 0.0) for d in lines) * WAN
            else:
                sub = (-sub_cny if cat == DEDUCTION else sub_cny) * WAN
            wr_s(r, 0, _name(cat, lang), w.b_text)
            wr_s(r, 1, f"{_zh('subtotal')} / {_en('subtotal')}", w.b_text)
            wr_f(r, V, f"=SUM({vcol}{first + 1}:{vcol}{r})", w.b_num, sub)
            wr_n(r, S, sub / total if total else 0.0, w.b_pct)  # shares: numbers
            sub_rows.append(r)
            r += 1
        wr_s(r, 0, f"{_zh('gep_total')} / {_en('gep_total')}", w.b_text)
        wr_f(r, V, "=" + "+".join(f"{vcol}{x + 1}" for x in sub_rows), w.b_num, total)
        wr_n(r, S, 1.0 if total else 0.0, w.b_pct)
        r += 2
    for c, (_, width) in enumerate(COLUMNS):
        ws.set_column(c, c, width)
    ws.freeze_panes(HEADER_ROWS, 2)
    print_setup(ws, HEADER_ROWS - 1, footer_text(f"{name or ''} {rid}".strip(), years, methods,
                                                  synthetic, lang), r - 2, len(COLUMNS) - 1)


def _summary_sheet(w: _Writer, ws: Any, totals: pl.DataFrame, gep: pl.DataFrame,
                   names: dict[str, str], sheet_of: dict[str, str], lang: str,
                   synthetic: str | None) -> None:
    """汇总: GEP by category for all regions, then GEP by region, per method × year (万元).

    Category rows and region rows are numbers; the GEP合计 rows are formulas whose cached
    values are the engine's gep_totals (level "all").
    """
    every = totals.filter(pl.col("level") == "all")
    years = sorted(every.get_column("year").unique().to_list())
    methods = every.get_column("method").unique(maintain_order=True).to_list()
    cats = [c for c in every.columns if c.endswith("_cny") and c[:-4] in CATEGORY_ORDER
            and c[:-4] != DEDUCTION]
    cats = sorted(cats, key=lambda c: CATEGORY_ORDER[c[:-4]])
    has_ded = f"{DEDUCTION}_cny" in every.columns and every.get_column(
        f"{DEDUCTION}_cny").fill_null(0).abs().sum() > 0
    wr_s, wr_n, wr_f = ws.write_string, ws.write_number, ws.write_formula
    scope = label("all_regions", lang)
    prov = totals.filter(pl.col("level") == "province")
    if prov.get_column("region_id").n_unique() == 1 and prov.height == every.height and (
            prov.get_column("n_regions").to_list() == every.get_column("n_regions").to_list()):
        pid = str(prov.get_column("region_id")[0])  # every region lies in one province
        scope = f"{names.get(pid, pid)}（{pid}）"
    ws.write_string(0, 0, f"生态产品总值（GEP）汇总表 GEP summary · {scope} · "
                          f"{label('value_wan', lang)}", w.title)
    heads = [(_zh("region_id"), _en("region_id")), (_zh("region_name"), _en("region_name"))]
    heads += [(f"{y}年", str(y)) for y in years]
    for c, (zh, _) in enumerate(heads):  # row by row (constant_memory)
        wr_s(1, c, zh, w.head)
    for c, (_, en) in enumerate(heads):
        wr_s(2, c, en, w.head)
    r = HEADER_ROWS
    lookup = {(row["year"], row["method"]): row for row in every.iter_rows(named=True)}
    ncol = len(heads)
    for method in methods:
        wr_s(r, 0, f"{_zh(str(method))} / {_en(str(method))}" if method else scope, w.b_text)
        r += 1
        first = r
        for cat in cats:  # by category, all regions
            key = cat[:-4]
            wr_s(r, 1, _name(key, lang), w.text)
            for j, y in enumerate(years):
                v = lookup.get((y, method), {}).get(cat)
                if v is not None:
                    wr_n(r, 2 + j, v * WAN, w.num)
            r += 1
        if has_ded:
            wr_s(r, 1, _name(DEDUCTION, lang), w.text)
            for j, y in enumerate(years):
                v = lookup.get((y, method), {}).get(f"{DEDUCTION}_cny")
                if v is not None:
                    wr_n(r, 2 + j, -v * WAN, w.num)
            r += 1
        wr_s(r, 1, f"{_zh('gep_total')} / {_en('gep_total')}", w.b_text)
        for j, y in enumerate(years):
            col = xl_col_to_name(2 + j)
            v = lookup.get((y, method), {}).get("total_cny")
            wr_f(r, 2 + j, f"=SUM({col}{first + 1}:{col}{r})", w.b_num,
                 (v or 0.0) * WAN)
        r += 2
        # by region
        part = gep.filter(pl.col("method").eq_missing(method)) if "method" in gep.columns else gep
        wide = (part.select("region_id", "year", "total_cny")
                .pivot(on="year", index="region_id", values="total_cny", sort_columns=True)
                .sort("region_id"))
        first = r
        rids = [str(x) for x in wide.get_column("region_id").to_list()]
        nms = [names.get(rid) or None for rid in rids]
        rows = Rows(ws, r, len(rids))  # written a column at a time (reports/xlsxrows.py)
        rows.text(0, rids, w.text, w.quoted)
        rows.text(1, nms, w.text, w.quoted, links=[  # a link to the county's own sheet
            f"internal:'{sheet_of[rid].replace(chr(39), chr(39) * 2)}'!A1" if nm and rid in sheet_of
            else None for rid, nm in zip(rids, nms, strict=True)])
        for j, y in enumerate(str(y) for y in years):
            if y in wide.columns:
                rows.number(2 + j, [None if v is None else v * WAN for v in wide.get_column(y).to_list()],
                            w.num)
        rows.write()
        r += len(rids)
        wr_s(r, 0, label("total", lang), w.b_text)
        wr_s(r, 1, f"{_zh('gep_total')} / {_en('gep_total')}", w.b_text)
        for j, y in enumerate(years):
            col = xl_col_to_name(2 + j)
            v = lookup.get((y, method), {}).get("total_cny")
            wr_f(r, 2 + j, f"=SUM({col}{first + 1}:{col}{r})", w.b_num, (v or 0.0) * WAN)
        r += 2
    ws.set_column(0, 0, 12)
    ws.set_column(1, 1, 30)
    ws.set_column(2, ncol - 1, 16)
    ws.freeze_panes(HEADER_ROWS, 2)
    print_setup(ws, HEADER_ROWS - 1, footer_text(scope, years, methods, synthetic, lang), r - 2,
                ncol - 1)


def filing_sheets(book: Any, services: pl.DataFrame | None, gep: pl.DataFrame | None,
                  totals: pl.DataFrame | None, names: dict[str, str],
                  coeffs: pl.DataFrame | None, synthetic: str | None,
                  county_sheets: int | None = COUNTY_SHEETS_MAX) -> int:
    """Write the summary sheet and one sheet per county into ``book``; returns the sheets written.

    ``book`` is the workbook wrapper of reports/xlsx.py (``sheet``, ``fmt``, ``lang``, ``truncated``).
    ``services``: the engine's services table; ``gep``/``totals``: gep and gep_totals. County sheets are
    written when there are at most ``county_sheets`` regions (None: always); otherwise a cover note says so.
    """
    if services is None or not {"region_id", "year", "category", "service",
                                "value_cny"} <= set(services.columns):
        return 0
    lang = book.lang
    w = _Writer(book)
    regions = services.get_column("region_id").unique().sort(nulls_last=True).to_list()
    n = 0
    summary_ws = None
    if totals is not None and gep is not None and "total_cny" in gep.columns:
        summary_ws = book.sheet("summary_sheet")
        n += 1
    sheet_of: dict[str, str] = {}
    county_ws = []
    if county_sheets is not None and len(regions) > county_sheets:  # the account items are not even built
        book.truncated.append(label("county_sheets_note", lang, n=f"{len(regions):,}", limit=f"{county_sheets:,}"))
        regions = []
    for rid in regions:
        nm = names.get(rid)
        ws = book.sheet(f"{rid} {nm}" if nm else str(rid))
        sheet_of[str(rid)] = ws.name
        county_ws.append((rid, nm, ws))
    if summary_ws is not None:
        _summary_sheet(w, summary_ws, totals, gep, names, sheet_of, lang, synthetic)
    if not county_ws:
        return n
    cols = ["year", "method", "category", "service", "quantity", "quantity_unit",
            "pricing_method", "value_cny"]
    items = account_items(services, coeffs)  # sorted by region, year, method, category rank, category, service
    by_region = items.select("region_id", *cols).partition_by("region_id", as_dict=True, include_key=False)
    engine = _engine_totals(gep)
    for rid, nm, ws in county_ws:
        _county_sheet(w, ws, str(rid), nm, by_region[(rid,)].to_dicts(), engine, lang, synthetic)
        n += 1
    return n
