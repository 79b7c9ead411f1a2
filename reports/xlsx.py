"""Excel workbook of a run (xlsxwriter), laid out as a Chinese county GEP account.

Numbers are written as numbers with number formats; totals are live formulas whose
cached values (the engine's numbers) are stored too, so readers without a calculation
engine see them (docs/reports.md). Text that starts with = + - @ is written as a
string with Excel's quote prefix, so it never becomes a formula (formula injection).
The workbook timestamp is fixed, so the same run gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from itertools import groupby
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
import xlsxwriter.workbook
from xlsxwriter.format import Format
from xlsxwriter.utility import (
    quote_sheetname,
    xl_col_to_name,
    xl_range_abs,
    xl_rowcol_to_cell,
)
from xlsxwriter.worksheet import Worksheet

from .data import RunData, coefficients_table
from .filing import COUNTY_SHEETS_MAX, filing_sheets, footer_text
from .labels import PROVINCES, label, sheet_label, with_province_names
from .views import (
    INJECTION_PREFIXES,
    WAN,
    ACCOUNT_COLUMNS,
    DECOMPOSITION_PARTS,
    PIVOT_COLUMNS,
    account_items,
    category_columns,
    change_matrix,
    decomposition_totals,
    ecosystem_pivot,
    growth_shown,
    growth_table,
    money_columns,
    net_year_matrix,
    payer_payee_matrix,
    primary,
    row_sums,
    tornado_outputs,
    level_totals,
    with_intervals,
)
from .xlsxrows import Rows

FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)
FONT = "微软雅黑"
MAX_DATA_ROWS = 1_048_576 - 20  # Excel's row limit, less room for headers and totals
# report.xlsx (the filing workbook) shows this many rows of each detail table; every row is in
# tables/*.csv and, with --detail full, in report_detail.xlsx
FILING_DETAIL_ROWS = 200
A4_PAPER = 9  # xlsxwriter paper code
PARTS = ("filing", "detail")
STREAM = True  # the filing workbook streams its rows (xlsxwriter constant_memory)
# zlib level of the workbooks' zip (xlsxwriter uses zlib's default, 6): level 1 deflates a national
# report.xlsx (30 MB of XML) in 0.2 s instead of 0.8 s, for a file about 20 % larger (docs/reports.md)
DEFLATE_LEVEL = 1
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")

KNOWN_SHEETS = [  # (table name, label key) rendered as plain tables, in this order
    ("extent", "extent"),
    ("extent_account", "extent_account"),
    ("extent_change_matrix", "extent_change_matrix"),
    ("supply_physical", "supply_physical"),
    ("supply_monetary", "supply_monetary"),
    ("seea_physical_supply", "seea_physical_supply"),
    ("seea_monetary_supply", "seea_monetary_supply"),
    ("gep_constant", "gep_constant"),
    ("change_decomposition", "change_decomposition"),
    ("services", "services"),
    ("carbon_stock", "carbon_stock"),
    ("carbon_flux", "carbon_flux"),
    ("compensation_ledger", "compensation_ledger"),
    ("compensation_net", "compensation_net"),
    ("uncertainty", "uncertainty"),
    ("sensitivity", "sensitivity"),
    ("uncertainty_carbon", "uncertainty_carbon"),
    ("sensitivity_carbon", "sensitivity_carbon"),
    ("uncertainty_carbon_flux", "uncertainty_carbon_flux"),
]
SPECIAL = {"gep", "coefficients_used", "gep_growth"}  # gep_growth: the growth sheet
TOTAL_COLUMNS = {  # tables that get a SUM row for these columns
    "compensation_ledger": ("amount_cny",),
    "compensation_net": ("paid_cny", "received_cny", "net_cny"),
}


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class _Book:
    """One workbook with cached formats and safe cell writers."""

    def __init__(self, path: Path, lang: str, footer: str = "", stream: bool = False) -> None:
        self.lang = lang
        self.footer = footer  # print footer of every sheet (filing sheets set their own)
        self.wb = xlsxwriter.Workbook(str(path), {
            "constant_memory": stream, "strings_to_formulas": False,
            "strings_to_urls": False, "strings_to_numbers": False})
        self.wb.set_properties({"title": label("report_title", "zh-en"), "author": "gep",
                                "created": FIXED_TIME})
        self._formats: dict[tuple[Any, ...], Format] = {}
        self._n = 0
        self.sheet_names: list[str] = []
        self.truncated: list[str] = []

    def fmt(self, kind: str = "text", *, bold: bool = False, warn: bool = False,
            quote: bool = False, header: bool = False, color: str | None = None,
            size: int | None = None) -> Format:
        key = (kind, bold, warn, quote, header, color, size)
        if key not in self._formats:
            props: dict[str, Any] = {"font_name": FONT, "font_charset": 134, "valign": "top"}
            if kind == "num":
                props["num_format"] = "#,##0.00"
            elif kind == "int":
                props["num_format"] = "0"
            elif kind == "pct":
                props["num_format"] = "0.0%"
            elif kind == "sci":
                props["num_format"] = "0.00E+00"
            if bold:
                props["bold"] = True
            if warn:
                props["bg_color"] = "#FCE4B6"
            if quote:
                props["quote_prefix"] = True
            if header:
                props.update({"bold": True, "bg_color": "#DDEBDA", "border": 1,
                              "text_wrap": True, "valign": "vcenter"})
            if color:
                props["font_color"] = color
            if size:
                props["font_size"] = size
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def sheet(self, key_or_name: str) -> Worksheet:
        self._n += 1
        text = sheet_label(key_or_name, self.lang)
        name = _BAD_SHEET_CHARS.sub(" ", f"{self._n:02d} {text}")[:31].strip()
        ws = self.wb.add_worksheet(name)
        ws.hide_gridlines(0)
        ws.set_paper(A4_PAPER)  # A4 landscape, one page wide, on every sheet; reports/filing.py adds repeats and footers
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        if self.footer:
            ws.set_footer(self.footer)
        self.sheet_names.append(name)
        return ws

    def text(self, ws: Worksheet, r: int, c: int, value: Any, **style: Any) -> None:
        """Write ``value`` as text; neutralise a leading = + - @ with the quote prefix."""
        if value is None:
            ws.write_blank(r, c, None, self.fmt("text", **style))
            return
        s = str(value)
        quote = s.startswith(INJECTION_PREFIXES)
        ws.write_string(r, c, s, self.fmt("text", quote=quote, **style))

    def number(self, ws: Worksheet, r: int, c: int, value: Any, kind: str = "num",
               **style: Any) -> None:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            ws.write_blank(r, c, None, self.fmt(kind, **style))
        else:
            ws.write_number(r, c, float(value), self.fmt(kind, **style))

    def put(self, ws: Worksheet, r: int, c: int, value: Any, kind: str, **style: Any) -> None:
        if kind == "text":
            self.text(ws, r, c, value, **style)
        else:
            self.number(ws, r, c, value, kind, **style)

    def formula(self, ws: Worksheet, r: int, c: int, formula: str, value: float | str,
                kind: str = "num", **style: Any) -> None:
        """A live formula with the engine's value stored as its cached result."""
        ws.write_formula(r, c, formula, self.fmt(kind, **style), value)

    def header(self, ws: Worksheet, r: int, headers: Sequence[str]) -> None:
        for c, h in enumerate(headers):
            self.text(ws, r, c, h, header=True)

    def close(self) -> None:
        with _deflate_level(DEFLATE_LEVEL):
            self.wb.close()


@contextmanager
def _deflate_level(level: int) -> Iterator[None]:
    """xlsxwriter's zip written at zlib ``level`` (it takes no option for it) while in the block."""
    make = xlsxwriter.workbook.ZipFile
    xlsxwriter.workbook.ZipFile = partial(make, compresslevel=level)  # type: ignore[misc]
    try:
        yield
    finally:
        xlsxwriter.workbook.ZipFile = make  # type: ignore[misc]


def _kind(dtype: pl.DataType, name: str) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_numeric():
        return "pct" if name in ("share", "占比") else "num"
    return "text"


def _widths(ws: Worksheet, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    for c, h in enumerate(headers):
        w = max([_display_width(str(h)) * 0.9]
                + [_display_width(f"{v:,.2f}" if isinstance(v, float) else str(v))
                   for v in (row[c] for row in rows[:100]) if v is not None])
        ws.set_column(c, c, min(max(w + 2, 8), 60))


def _plain_table(book: _Book, ws: Worksheet, df: pl.DataFrame, *, row0: int = 0,
                 headers: Sequence[str] | None = None,
                 kinds: Sequence[str] | None = None,
                 warn_rows: Sequence[bool] | None = None,
                 max_rows: int = MAX_DATA_ROWS, name: str = "",
                 extra_headers: Sequence[str] = (),
                 row_hook: Callable[[int, int], None] | None = None,
                 extra: Callable[[Rows], None] | None = None,
                 total: int | None = None) -> tuple[int, int]:
    """Write ``df`` (at most ``max_rows`` rows) under a header row at ``row0``.

    ``extra_headers`` head columns right of the table that ``extra(rows)`` fills (whole
    columns of the :class:`Rows` block of the data rows) or ``row_hook(i, sheet_row)`` fills
    for data row i while that row is written (rows stream in order: constant_memory).
    Without warn rows or a row hook the rows are written a column at a time (reports.xlsxrows).
    Returns (first data row, last data row), 0-based. A shortened table gets a note
    below it and is listed on the cover sheet; ``total`` is the height of the whole table when
    ``df`` is already its first rows.
    """
    total = df.height if total is None else total
    headers = list(headers or df.columns)
    kinds = list(kinds or [_kind(df.schema[c], c) for c in df.columns])
    shown = df.head(max_rows)
    book.header(ws, row0, [*headers, *extra_headers])
    fmts = [book.fmt(k) for k in kinds]
    quoted = book.fmt("text", quote=True)
    if warn_rows is None and row_hook is None:
        block = Rows(ws, row0 + 1, shown.height)
        for c, col in enumerate(shown.columns):
            values = shown.get_column(col).to_list()
            if kinds[c] == "text":
                block.text(c, values, fmts[c], quoted)
            else:
                block.number(c, values, fmts[c])
        if extra is not None:
            extra(block)
        block.write()
    else:
        _table_rows(book, ws, shown, row0, kinds, fmts, quoted, warn_rows, row_hook)
    last = row0 + shown.height
    ws.repeat_rows(0, row0)
    ws.freeze_panes(row0 + 1, 0)
    ws.autofilter(row0, 0, max(last, row0), len(headers) + len(extra_headers) - 1)
    _widths(ws, headers, shown.head(100).rows())
    if total > max_rows:
        note = label("truncated", book.lang, shown=f"{max_rows:,}", total=f"{total:,}",
                     name=name or "…")
        book.text(ws, last + 2, 0, note, bold=True, warn=True)
        book.truncated.append(f"{ws.name}: {note}")
    return row0 + 1, last


def _table_rows(book: _Book, ws: Worksheet, shown: pl.DataFrame, row0: int, kinds: list[str],
                fmts: list[Format], quoted: Format, warn_rows: Sequence[bool] | None,
                row_hook: Callable[[int, int], None] | None) -> None:
    """The data rows cell by cell: tables with highlighted (warn) rows or a per-row hook."""
    is_text = [k == "text" for k in kinds]
    write_string, write_number = ws.write_string, ws.write_number
    for i, row in enumerate(shown.iter_rows()):
        r = row0 + 1 + i
        if warn_rows is not None and warn_rows[i]:
            for c, v in enumerate(row):
                book.put(ws, r, c, v, kinds[c], warn=True)
            if row_hook is not None:
                row_hook(i, r)
            continue
        for c, v in enumerate(row):
            if v is None:
                continue
            if is_text[c]:
                text = str(v)
                write_string(r, c, text, quoted if text.startswith(INJECTION_PREFIXES)
                             else fmts[c])
            elif not (isinstance(v, float) and not math.isfinite(v)):
                write_number(r, c, v, fmts[c])
        if row_hook is not None:
            row_hook(i, r)


def _sum_row(book: _Book, ws: Worksheet, df: pl.DataFrame, first: int, last: int,
             columns: Sequence[str], row: int, scale: float = 1.0) -> None:
    """A 合计 row of live SUM formulas (cached values = Σ of the written numbers)."""
    book.text(ws, row, 0, label("total", book.lang), bold=True)
    for name in columns:
        if name not in df.columns:
            continue
        c = df.columns.index(name)
        cached = float(df.get_column(name).head(last - first + 1).fill_nan(None).sum() or 0.0)
        ref = f"{xl_rowcol_to_cell(first, c)}:{xl_rowcol_to_cell(last, c)}"
        book.formula(ws, row, c, f"=SUM({ref})", cached * scale, bold=True)


def _sumifs_rows(book: _Book, ws: Worksheet, df: pl.DataFrame, first: int, last: int,
                 sum_cols: Sequence[str], row: int) -> int:
    """Per (year, method) total rows of SUMIFS formulas below a region table; returns next row."""
    keys = [k for k in ("year", "method") if k in df.columns]
    if not keys or last < first:
        return row
    combos = df.select(keys).unique(maintain_order=True).sort(keys, nulls_last=True).rows()
    for combo in combos:
        book.text(ws, row, 0, label("total", book.lang), bold=True)
        mask = pl.lit(True)
        crit: list[str] = []
        for k, v in zip(keys, combo, strict=True):
            c = df.columns.index(k)
            book.put(ws, row, c, v, "int" if k == "year" else "text", bold=True)
            if v is None:
                mask = mask & pl.col(k).is_null()
                continue
            mask = mask & (pl.col(k) == v)
            rng = f"${xl_col_to_name(c)}${first + 1}:${xl_col_to_name(c)}${last + 1}"
            crit.append(f"{rng},{v if k == 'year' else _quote(str(v))}")
        part = df.filter(mask)
        for name in sum_cols:
            c = df.columns.index(name)
            rng = f"${xl_col_to_name(c)}${first + 1}:${xl_col_to_name(c)}${last + 1}"
            cached = float(part.get_column(name).fill_nan(None).sum() or 0.0)
            f = f"=SUMIFS({rng},{','.join(crit)})" if crit else f"=SUM({rng})"
            book.formula(ws, row, c, f, cached, bold=True)
        row += 1
    return row


def _with_names(df: pl.DataFrame, run: RunData, lang: str) -> pl.DataFrame:
    """Insert a region_name column after region_id (from the registry; blank if unknown)."""
    if "region_id" not in df.columns:
        return df
    names = run.region_names
    col = "name_en" if lang == "en" else "name_zh"
    if names is None or col not in names.columns:
        named = df.with_columns(pl.lit(None, dtype=pl.Utf8).alias("region_name"))
    else:
        lookup = names.select("region_id", pl.col(col).alias("region_name"))
        named = df.join(lookup, on="region_id", how="left", maintain_order="left")
    cols = list(df.columns)
    i = cols.index("region_id") + 1
    return named.select([*cols[:i], "region_name", *cols[i:]])


def _cover(book: _Book, run: RunData, coeffs: pl.DataFrame | None) -> tuple[Worksheet, int]:
    """Cover sheet; returns it and its next free row (for notes added after the other sheets)."""
    lang, m = book.lang, run.manifest
    ws = book.sheet("cover")
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 90)
    r = 0
    book.text(ws, r, 0, label("report_title", lang), bold=True, size=16)
    r += 1
    if m.get("synthetic"):
        book.text(ws, r, 0, label("data_label", lang), bold=True, color="#C00000", size=13)
        book.text(ws, r, 1, m.get("data_label") or "SYNTHETIC", bold=True, color="#C00000",
                  size=13)
        r += 1
    r += 1
    n_unverified = 0
    if coeffs is not None and "verification" in coeffs.columns:
        n_unverified = coeffs.filter(pl.col("verification") == "unverified").height
    fields: list[tuple[str, Any]] = [
        ("title", m.get("title")), ("gep_version", m.get("gep_version")),
        ("command", m.get("command")), ("regions", m.get("regions")),
        ("price_base_year", m.get("price_base_year")),
        ("synthetic", label("yes" if m.get("synthetic") else "no", lang)),
        ("data_label", m.get("data_label")),
        ("steps", ", ".join(str(s) for s in m.get("steps") or [])),
        ("unverified_count", n_unverified),
    ]
    book.header(ws, r, [label("field", lang), label("value", lang)])
    for key, value in fields:
        r += 1
        book.text(ws, r, 0, label(key, lang))
        warn = key == "unverified_count" and n_unverified > 0
        if isinstance(value, int | float) and not isinstance(value, bool):
            book.number(ws, r, 1, value, "int", warn=warn)
        else:
            book.text(ws, r, 1, value, warn=warn)
    if n_unverified:
        r += 1
        book.text(ws, r, 1, label("unverified_note", lang), warn=True, bold=True)
    r += 2

    def block(title_key: str, records: list[dict[str, Any]], cols: list[str]) -> None:
        nonlocal r
        book.text(ws, r, 0, label(title_key, lang), bold=True, size=12)
        r += 1
        for c, col in enumerate(cols):
            book.text(ws, r, c, label(col, lang), header=True)
        for rec in records:
            r += 1
            for c, col in enumerate(cols):
                v = rec.get(col)
                if isinstance(v, list):
                    v = "; ".join(str(x) for x in v)
                warn = col == "verification" and v == "unverified"
                if isinstance(v, int | float) and not isinstance(v, bool):
                    book.number(ws, r, c, v, "int", warn=warn)
                else:
                    book.text(ws, r, c, v, warn=warn)
        r += 2

    block("coefficient_sets", list(m.get("coefficient_sets") or []),
          ["id", "version", "title", "price_year", "verification", "citation", "overrides"])
    block("inputs", list(m.get("inputs") or []), ["role", "path", "sha256", "bytes"])
    block("tables", list(m.get("tables") or []), ["name", "rows", "sha256"])
    if run.notes:
        for note in run.notes:
            book.text(ws, r, 0, note)
            r += 1
    return ws, r


def _account(book: _Book, run: RunData, coeffs: pl.DataFrame | None) -> None:
    services = run.table("services")
    if services is None or not ACCOUNT_COLUMNS <= set(services.columns):
        return
    lang = book.lang
    items = account_items(services, coeffs)
    names: dict[str, str] = {}
    if run.region_names is not None:
        col = "name_en" if lang == "en" else "name_zh"
        if col in run.region_names.columns:
            names = dict(run.region_names.select("region_id", col).rows())
    gep_totals: dict[tuple[Any, ...], float] = {}
    gep = run.table("gep")
    if gep is not None and "total_cny" in gep.columns:
        method = pl.col("method") if "method" in gep.columns else pl.lit(None, pl.Utf8)
        for row in gep.select("region_id", "year", method, "total_cny").rows():
            gep_totals[tuple(row[:-1])] = row[-1]
    ws = book.sheet("account")
    headers = ["region_id", "region_name", "year", "method", "category", "service", "quantity",
               "unit", "pricing_method", "price", "price_unit", "value_wan", "share", "source",
               "verification"]
    heads = [label(h, lang) for h in headers]
    book.header(ws, 0, heads)
    V, S = headers.index("value_wan"), headers.index("share")
    vcol = xl_col_to_name(V)
    write_string, write_number = ws.write_string, ws.write_number
    f_text, f_q = book.fmt("text"), book.fmt("text", quote=True)
    f_num, f_pct = book.fmt("num"), book.fmt("pct")
    fb_text, fb_q = book.fmt("text", bold=True), book.fmt("text", bold=True, quote=True)
    f_int, fb_int = book.fmt("int"), book.fmt("int", bold=True)
    unverified = label("unverified_flag", lang)
    r = 1
    for key, group_iter in groupby(items.rows(named=True), key=lambda d: (
            d["region_id"], d["year"], d["method"])):
        group = list(group_iter)
        cats = [(c, list(g)) for c, g in groupby(group, key=lambda d: d["category"])]
        n_rows = len(group) + len(cats)
        total_row = r + n_rows
        total_wan = sum(d["value_cny"] or 0.0 for d in group) * WAN
        region_name = names.get(key[0])
        subtotal_rows: list[int] = []

        id_cells = [(c, str(v)) for c, v in ((0, key[0]), (1, region_name), (3, key[2]))
                    if v is not None]

        def ident(row: int, bold: bool = False, id_cells: list[tuple[int, str]] = id_cells,
                  year: Any = key[1]) -> None:
            for c, t in id_cells:  # region code, name, method: direct writes (hot loop)
                write_string(row, c, t, (fb_q if bold else f_q)
                             if t.startswith(INJECTION_PREFIXES) else (fb_text if bold else f_text))
            if year is not None:
                write_number(row, 2, year, fb_int if bold else f_int)

        for cat, rows in cats:
            first = r
            for d in rows:
                ident(r)
                value = (d["value_cny"] or 0.0) * WAN
                cells = ((4, label(d["category"], lang)), (5, label(d["service"], lang)),
                         (7, d["quantity_unit"]), (8, d["pricing_method"] or None),
                         (10, d["price_unit"]), (13, d["source"] or None))
                for c, v in cells:  # plain text cells: direct writes (hot loop at scale)
                    if v is not None:
                        t = str(v)
                        write_string(r, c, t, f_q if t.startswith(INJECTION_PREFIXES)
                                     else f_text)
                for c, v in ((6, d["quantity"]), (9, d["price"]), (V, value)):
                    if v is not None and math.isfinite(v):
                        write_number(r, c, v, f_num)
                write_number(r, S, value / total_wan if total_wan else 0.0, f_pct)
                if d["unverified"]:
                    book.text(ws, r, 14, unverified, warn=True)
                r += 1
            sub = sum((d["value_cny"] or 0.0) for d in rows) * WAN
            ident(r, True)
            book.text(ws, r, 4, label(cat, lang), bold=True)
            book.text(ws, r, 5, label("subtotal", lang), bold=True)
            book.formula(ws, r, V, f"=SUM({vcol}{first + 1}:{vcol}{r})", sub, bold=True)
            book.formula(ws, r, S, f"=IF(${vcol}${total_row + 1}=0,0,"
                         f"{vcol}{r + 1}/${vcol}${total_row + 1})",
                         sub / total_wan if total_wan else 0.0, "pct", bold=True)
            subtotal_rows.append(r)
            r += 1
        assert r == total_row
        ident(r, True)
        book.text(ws, r, 4, label("gep_total", lang), bold=True)
        formula = "=" + "+".join(f"{vcol}{x + 1}" for x in subtotal_rows)
        book.formula(ws, r, V, formula, total_wan, bold=True)
        book.number(ws, r, S, 1.0 if total_wan else 0.0, "pct", bold=True)
        engine = gep_totals.get(key)
        if engine is not None and not math.isclose(engine * WAN, total_wan, rel_tol=1e-9,
                                                   abs_tol=1e-6):
            book.text(ws, r, 13, f"gep.csv total_cny = {engine:,.2f}", warn=True, bold=True)
        r += 1
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, max(r - 1, 0), len(headers) - 1)
    widths = [10, 14, 7, 16, 12, 18, 14, 8, 14, 12, 10, 16, 8, 40, 12]
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)


def _gep_by_region(book: _Book, run: RunData) -> None:
    gep = run.table("gep")
    if gep is None:
        return
    lang = book.lang
    gep = with_intervals(gep, run.table("uncertainty"))
    money = money_columns(gep)
    df = _with_names(gep.with_columns([pl.col(c) * WAN for c in money]), run, lang)
    headers = []
    for c in df.columns:
        if c in money:
            base = c[: -len("_cny")]
            headers.append(f"{label(base, lang)} ({label('wan_yuan', lang)})")
        else:
            headers.append(label(c, lang))
    ws = book.sheet("gep_by_region")
    first, last = _plain_table(book, ws, df, headers=headers)
    ws.freeze_panes(1, 2)
    additive = [c for c in money if not c.endswith(("_p5_cny", "_p95_cny"))]  # Σ P5 ≠ P5 of Σ
    end = _sumifs_rows(book, ws, df, first, last, additive, last + 2)
    cats = sorted(df.columns.index(c) for c in category_columns(df))
    if cats and cats == list(range(cats[0], cats[0] + len(cats))) and end > last + 2:
        keys = [k for k in ("year", "method") if k in df.columns]
        combos = df.select(keys).unique(maintain_order=True).sort(keys, nulls_last=True).rows()
        names = [" ".join(label(str(v), lang) for v in combo if v is not None)
                 for combo in combos]  # the same order as the SUMIFS rows
        _category_chart(book, ws, (cats[0], cats[-1]),
                        list(zip(range(last + 2, end), names, strict=True)), end + 1)


def _category_chart(book: _Book, ws: Worksheet, cols: tuple[int, int],
                    rows: list[tuple[int, str]], at_row: int) -> None:
    """Column chart of the per-(year, method) category totals; its data are the SUMIFS cells."""
    chart = book.wb.add_chart({"type": "column"})
    for r, name in rows:
        chart.add_series({
            "name": name,
            "categories": [ws.name, 0, cols[0], 0, cols[1]],
            "values": [ws.name, r, cols[0], r, cols[1]],
        })
    chart.set_title({"name": label("by_category", book.lang),
                     "name_font": {"name": FONT, "size": 12}})
    chart.set_y_axis({"name": label("wan_yuan", book.lang), "num_format": "#,##0",
                      "num_font": {"name": FONT}, "name_font": {"name": FONT}})
    chart.set_x_axis({"num_font": {"name": FONT}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT}})
    chart.set_size({"width": 720, "height": 360})
    ws.insert_chart(at_row, 4, chart)


def _gep_by_ecosystem(book: _Book, run: RunData) -> None:
    services = run.table("services")
    if services is None or not PIVOT_COLUMNS <= set(services.columns):
        return
    lang = book.lang
    wide, types = ecosystem_pivot(services)
    wide = _with_names(wide.with_columns([pl.col(t) * WAN for t in types]), run, lang)
    ws = book.sheet("gep_by_ecosystem")
    headers = [label(c, lang) for c in ("region_id", "region_name", "year", "method")]
    headers += [f"{label(t, lang)} ({label('wan_yuan', lang)})" for t in types]
    headers.append(f"{label('total', lang)} ({label('wan_yuan', lang)})")
    tc = len(wide.columns)
    c0, c1 = xl_col_to_name(4), xl_col_to_name(tc - 1)
    totals = row_sums(wide, types)

    def row_totals(rows: Rows) -> None:
        rows.formula(tc, [f"SUM({c0}{r}:{c1}{r})" for r in range(rows.row0 + 1, rows.row0 + 1 + len(totals))],
                     [float(t or 0.0) for t in totals], book.fmt("num"))

    first, last = _plain_table(book, ws, wide, headers=headers[:-1], extra_headers=headers[-1:],
                               extra=row_totals)
    ws.freeze_panes(1, 2)
    ws.set_column(tc, tc, 16)
    wide_t = wide.with_columns(pl.Series("_total", totals, dtype=pl.Float64))
    _sumifs_rows(book, ws, wide_t, first, last, [*types, "_total"], last + 2)


def _change_matrix_sheet(book: _Book, run: RunData) -> None:
    """Ecosystem type change matrices (SEEA EA), Σ regions, one block per period [ha].

    Rows = opening type, columns = closing type; row totals (= opening extent) and column
    totals (= closing extent) are SUM formulas with cached values.
    """
    flows = run.table("extent_change_matrix")
    blocks = change_matrix(flows) if flows is not None else []
    if not blocks:
        return
    lang = book.lang
    ws = book.sheet("change_matrix")
    book.text(ws, 0, 0, label("change_matrix_title", lang), bold=True, size=12)
    r = 2
    f_num = book.fmt("num")
    width = 0
    for (y0, y1), wide in blocks:
        types = [c for c in wide.columns if c != "ecosystem_type_from"]
        n = len(types)
        width = max(width, n)
        book.text(ws, r, 0, f"{y0}–{y1}", bold=True)
        r += 1
        book.header(ws, r, [label("opening_closing", lang), *(label(t, lang) for t in types),
                            label("total", lang)])
        first = r + 1
        for i, row in enumerate(wide.rows()):
            rr = first + i
            book.text(ws, rr, 0, label(str(row[0]), lang))
            for c, v in enumerate(row[1:], start=1):
                ws.write_number(rr, c, float(v or 0.0), f_num)
            book.formula(ws, rr, n + 1, f"=SUM({xl_rowcol_to_cell(rr, 1)}:"
                         f"{xl_rowcol_to_cell(rr, n)})", float(sum(x or 0.0 for x in row[1:])))
        last = first + wide.height - 1
        tr = last + 1
        book.text(ws, tr, 0, label("total", lang), bold=True)
        for c in range(1, n + 2):
            col = wide.get_column(types[c - 1]) if c <= n else None
            cached = float(col.sum()) if col is not None else math.fsum(row_sums(wide, types))
            book.formula(ws, tr, c, f"=SUM({xl_rowcol_to_cell(first, c)}:"
                         f"{xl_rowcol_to_cell(last, c)})", cached, bold=True)
        r = tr + 3
    ws.set_column(0, 0, 22)
    ws.set_column(1, width + 1, 12)
    ws.freeze_panes(2, 1)


def _growth_sheet(book: _Book, run: RunData) -> None:
    """增长率: GEP change between consecutive years per region and province total.

    From gep_constant.csv (constant prices) when the run wrote it, else gep.csv (current
    prices); the header says which. Change and change % are live formulas (to − from,
    change ÷ from) with cached values; the average annual rate is a number.
    """
    found = growth_table(run)
    if found is None:
        return
    full, constant = found
    lang = book.lang
    if constant:
        pby = primary(full, "price_base_year") or run.manifest.get("price_base_year")
        basis = label("constant_prices", lang, year=pby)
    else:
        basis = label("current_prices", lang)
    g = growth_shown(full)
    names = _region_names(run, lang)
    names.setdefault("all", label("all_regions", lang))
    province = label("province_total", lang)
    ws = book.sheet("growth")
    book.text(ws, 0, 0, f"{label('growth', lang)} — {basis}", bold=True, size=12)
    book.text(ws, 1, 0, label("growth_note", lang))
    dec = _decomposition(book, ws, run, 3, 12)  # beside the table, in the same rows
    wan = label("wan_yuan", lang)
    headers = [label(k, lang) for k in ("level", "region_id", "region_name", "method",
                                        "year_from", "year_to")]
    headers += [f"{label(k, lang)} ({wan}, {basis})" for k in ("value_from", "value_to",
                                                                "change")]
    headers += [label("change_pct", lang), label("annual_pct", lang)]
    h = 3
    book.header(ws, h, headers)
    level = {"all": label("all_regions", lang), "province": province, "region": label("region", lang)}
    n = g.height
    rows = Rows(ws, h + 1, max(n, dec.n))
    text, quoted = book.fmt("text"), book.fmt("text", quote=True)
    f_int, f_num, f_pct = book.fmt("int"), book.fmt("num"), book.fmt("pct")
    levels = g.get_column("level").to_list()
    rids = g.get_column("region_id").to_list()
    rows.text(0, [level[x] for x in levels], text, quoted, blank=True)
    rows.text(1, rids, text, quoted, blank=True)
    rows.text(2, [names.get(rid) or (province if lv == "province" else None)
                  for rid, lv in zip(rids, levels, strict=True)], text, quoted, blank=True)
    rows.text(3, [label(str(m), lang) if m else None for m in g.get_column("method").to_list()],
              text, quoted, blank=True)
    rows.number(4, g.get_column("year_from").to_list(), f_int)
    rows.number(5, g.get_column("year_to").to_list(), f_int)
    a = [v * WAN for v in g.get_column("value_from_cny").to_list()]
    b = [v * WAN for v in g.get_column("value_to_cny").to_list()]
    rows.number(6, a, f_num)
    rows.number(7, b, f_num)
    sheet_rows = range(h + 2, h + 2 + n)  # 1-based
    rows.formula(8, [f"H{r}-G{r}" for r in sheet_rows], [y - x for x, y in zip(a, b, strict=True)], f_num)
    rows.formula(9, [f'IF(G{r}=0,"",I{r}/ABS(G{r}))' for r in sheet_rows],
                 [p / 100 if p is not None else "" for p in g.get_column("change_pct").to_list()], f_pct)
    rows.number(10, [None if p is None else p / 100 for p in g.get_column("annual_pct").to_list()], f_pct)
    dec.columns(rows)
    rows.write()
    r = h + n
    ws.freeze_panes(h + 1, 3)
    ws.autofilter(h, 0, max(r, h), len(headers) - 1)
    for c, w in enumerate([10, 10, 14, 16, 8, 8, 18, 18, 16, 10, 12]):
        ws.set_column(c, c, w)


class _SideBlock:
    """Data rows of a side block (``n`` rows) that :meth:`columns` adds to the sheet's row block."""

    def __init__(self, n: int = 0, columns: Callable[[Rows], None] | None = None) -> None:
        self.n, self._columns = n, columns

    def columns(self, rows: Rows) -> None:
        if self._columns is not None:
            self._columns(rows)


def _decomposition(book: _Book, ws: Worksheet, run: RunData, row0: int,
                   col0: int) -> _SideBlock:
    """Σ regions of change_decomposition.csv per method and period (万元) and a bar chart.

    Writes the title (row0 − 1) and header (row0) now and returns the data rows (row0 + 1 + i)
    as columns that the caller adds to the :class:`Rows` block of those sheet rows.
    """
    dec = run.table("change_decomposition")
    if dec is None or not {"year_from", "year_to"} <= set(dec.columns):
        return _SideBlock()
    tot = decomposition_totals(dec)
    parts = [c for c in ("total_change_cny", *DECOMPOSITION_PARTS) if c in tot.columns]
    if not parts or tot.height == 0:
        return _SideBlock()
    lang = book.lang
    wan = label("wan_yuan", lang)
    book.text(ws, row0 - 1, col0, label("decomposition_chart", lang), bold=True)
    for j, head in enumerate([label("period", lang),
                              *(f"{label(c[:-4], lang)} ({wan})" for c in parts)]):
        book.text(ws, row0, col0 + j, head, header=True)
    method = pl.col("method") if "method" in tot.columns else pl.lit(None, pl.Utf8)
    rows = tot.select(method.alias("m"), "year_from", "year_to", *parts).rows()

    def columns(block: Rows) -> None:
        if block.row0 != row0 + 1:
            raise ValueError("the decomposition rows start below its header")
        block.text(col0, [f"{y0!s}–{y1!s}" + (f" {label(str(m), lang)}" if m else "")
                          for m, y0, y1, *_ in rows], book.fmt("text"), book.fmt("text", quote=True))
        for j in range(len(parts)):
            block.number(col0 + 1 + j, [(row[3 + j] or 0.0) * WAN for row in rows], book.fmt("num"),
                         blank=True)

    ws.set_column(col0, col0, 30)
    ws.set_column(col0 + 1, col0 + len(parts), 16)
    last = row0 + len(rows)
    chart = book.wb.add_chart({"type": "bar"})
    for j, c in enumerate(parts):
        chart.add_series({"name": [ws.name, row0, col0 + 1 + j],
                          "categories": [ws.name, row0 + 1, col0, last, col0],
                          "values": [ws.name, row0 + 1, col0 + 1 + j, last, col0 + 1 + j]})
    chart.set_title({"name": label("decomposition_chart", lang),
                     "name_font": {"name": FONT, "size": 12}})
    chart.set_x_axis({"name": wan, "num_format": "#,##0", "num_font": {"name": FONT},
                      "name_font": {"name": FONT}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": FONT, "size": 8}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT}})
    chart.set_size({"width": 760, "height": 60 * len(rows) + 160})
    ws.insert_chart(last + 2, col0, chart)
    return _SideBlock(len(rows), columns)


def _interval_sheet(book: _Book, run: RunData) -> None:
    """P5–P50–P95 of each region's total GEP (uncertainty.csv, service "total") with error bars.

    One row per region, year and method (万元); the chart shows P50 of the 20 regions with
    the largest P50 in the latest year (first method) with P5–P95 error bars whose plus/minus
    values are formula cells (P95 − P50, P50 − P5).
    """
    unc = run.table("uncertainty")
    need = {"region_id", "year", "service", "p5_cny", "p50_cny", "p95_cny"}
    if unc is None or not need <= set(unc.columns):
        return
    lang = book.lang
    method = pl.col("method") if "method" in unc.columns else pl.lit(None, pl.Utf8)
    point = pl.col("point_cny") if "point_cny" in unc.columns else pl.lit(None, pl.Float64)
    tot = (unc.filter((pl.col("service") == "total") & (pl.col("region_id") != "all"))
           .select("region_id", "year", method.alias("method"), (point * WAN).alias("point"),
                   *(pl.col(c) * WAN for c in ("p5_cny", "p50_cny", "p95_cny"))))
    if tot.height == 0:
        return
    y, m = tot.get_column("year").max(), tot.get_column("method").drop_nulls().first()
    rank = (pl.col("year") == y) & (pl.col("method").eq_missing(m))
    tot = tot.sort([rank.not_(), pl.col("p50_cny"), "region_id", "year", "method"],
                   descending=[False, True, False, False, False], nulls_last=True)
    names = _region_names(run, lang)
    tot = tot.with_columns(pl.col("region_id").replace_strict(names, default=None,
                                                              return_dtype=pl.Utf8)
                           .alias("region_name")).select(
        "region_id", "region_name", "year", "method", "point", "p5_cny", "p50_cny", "p95_cny")
    ws = book.sheet("intervals")
    wan = label("wan_yuan", lang)
    headers = [label(k, lang) for k in ("region_id", "region_name", "year", "method")]
    headers += [f"{label('point_estimate', lang)} ({wan})", f"P5 ({wan})", f"P50 ({wan})",
                f"P95 ({wan})", f"P95 − P50 ({wan})", f"P50 − P5 ({wan})",
                label("relative_width", lang)]
    pcts = tot.select("p5_cny", "p50_cny", "p95_cny").rows()

    def widths(i: int, r: int) -> None:
        p5, p50, p95 = pcts[i]
        book.formula(ws, r, 8, f"=H{r + 1}-G{r + 1}", p95 - p50)
        book.formula(ws, r, 9, f"=G{r + 1}-F{r + 1}", p50 - p5)
        book.formula(ws, r, 10, f'=IF(G{r + 1}=0,"",(H{r + 1}-F{r + 1})/G{r + 1})',
                     (p95 - p5) / p50 if p50 else "", "pct")

    first, last = _plain_table(book, ws, tot, headers=headers[:8], extra_headers=headers[8:11],
                               row_hook=widths)
    ws.autofilter(0, 0, last, 10)
    ws.freeze_panes(1, 2)
    ws.set_column(8, 10, 16)
    n = min(20, tot.filter(rank).height)
    if n == 0:
        return
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series({
        "name": f"P50 {y!s}" + (f" {label(str(m), lang)}" if m else ""),
        "categories": [ws.name, first, 1, first + n - 1, 1],
        "values": [ws.name, first, 6, first + n - 1, 6],
        "fill": {"color": "#74C476"},
        "y_error_bars": {"type": "custom",  # formula references (a list would be literals)
                         "plus_values": f"={quote_sheetname(ws.name)}!"
                                        f"{xl_range_abs(first, 8, first + n - 1, 8)}",
                         "minus_values": f"={quote_sheetname(ws.name)}!"
                                         f"{xl_range_abs(first, 9, first + n - 1, 9)}",
                         "end_style": 1},
    })
    chart.set_title({"name": label("interval_regions", lang),
                     "name_font": {"name": FONT, "size": 12}})
    chart.set_y_axis({"name": wan, "num_format": "#,##0", "num_font": {"name": FONT},
                      "name_font": {"name": FONT}})
    chart.set_x_axis({"num_font": {"name": FONT, "rotation": -45}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT}})
    chart.set_size({"width": 900, "height": 420})
    ws.insert_chart(1, 12, chart)


FLUX_KEYS = ("region_id", "year_from", "year", "method", "group")


def _flux_interval_sheet(book: _Book, run: RunData) -> None:
    """P5–P50–P95 of the carbon sink (uncertainty_carbon_flux.csv): flux [t C/yr] and value [万元].

    One row per region ("all" first), period, method and group ("all" last in each period);
    P95 − P50 and P50 − P5 of the flux are formula cells that feed the chart's error bars
    (P50 per group, all regions, latest period, first method).
    """
    unc = run.table("uncertainty_carbon_flux")
    pcols = [f"{p}_{u}" for u in ("c_t", "cny") for p in ("point", "p5", "p50", "p95")]
    if unc is None or not {"region_id", "year", "group", *pcols} <= set(unc.columns):
        return
    lang = book.lang
    keys = [k for k in FLUX_KEYS if k in unc.columns]
    names = _region_names(run, lang)
    df = (unc.select(*keys, *(pl.col(c) for c in pcols[:4]),
                     *(pl.col(c) * WAN for c in pcols[4:]))
          .sort([pl.col("region_id") != "all", "region_id",
                 *(k for k in keys if k not in ("region_id", "group")),
                 pl.col("group") == "all", "group"], nulls_last=True)
          .with_columns(pl.col("region_id").replace_strict(names, default=None,
                                                           return_dtype=pl.Utf8)
                        .alias("region_name")))
    df = df.select("region_id", "region_name", *keys[1:], *pcols)
    wan, tc = label("wan_yuan", lang), "t C/yr"
    heads = [label(k, lang) for k in ("region_id", "region_name")]
    heads += [label("flux_group" if k == "group" else k, lang) for k in keys[1:]]
    for unit in (tc, wan):
        heads += [f"{label('point_estimate', lang)} ({unit})", f"P5 ({unit})", f"P50 ({unit})",
                  f"P95 ({unit})"]
    ws = book.sheet("intervals_carbon_flux")
    c0 = len(df.columns)
    c5, c50, c95 = (df.columns.index(c) for c in ("p5_c_t", "p50_c_t", "p95_c_t"))
    pcts = df.select("p5_c_t", "p50_c_t", "p95_c_t").rows()

    def widths(i: int, r: int) -> None:
        p5, p50, p95 = pcts[i]
        book.formula(ws, r, c0, f"={xl_rowcol_to_cell(r, c95)}-{xl_rowcol_to_cell(r, c50)}",
                     p95 - p50)
        book.formula(ws, r, c0 + 1, f"={xl_rowcol_to_cell(r, c50)}-{xl_rowcol_to_cell(r, c5)}",
                     p50 - p5)

    first, last = _plain_table(book, ws, df, headers=heads, row_hook=widths,
                               extra_headers=[f"P95 − P50 ({tc})", f"P50 − P5 ({tc})"])
    ws.autofilter(0, 0, last, c0 + 1)
    ws.freeze_panes(1, 2)
    ws.set_column(c0, c0 + 1, 16)
    y = df.get_column("year").max()
    m = df.get_column("method").drop_nulls().first() if "method" in df.columns else None
    sel = (pl.col("region_id") == "all") & (pl.col("year") == y)
    if m is not None:
        sel = sel & (pl.col("method") == m)
    idx = df.with_row_index("_i").filter(sel).get_column("_i").to_list()
    if not idx or idx != list(range(idx[0], idx[-1] + 1)):
        return
    a, b = first + idx[0], first + idx[-1]
    gcol = df.columns.index("group")
    chart = book.wb.add_chart({"type": "column"})
    chart.add_series({
        "name": f"P50 {y!s}" + (f" {label(str(m), lang)}" if m else ""),
        "categories": [ws.name, a, gcol, b, gcol],
        "values": [ws.name, a, c50, b, c50],
        "fill": {"color": "#74C476"},
        "y_error_bars": {"type": "custom",
                         "plus_values": f"={quote_sheetname(ws.name)}!"
                                        f"{xl_range_abs(a, c0, b, c0)}",
                         "minus_values": f"={quote_sheetname(ws.name)}!"
                                         f"{xl_range_abs(a, c0 + 1, b, c0 + 1)}",
                         "end_style": 1},
    })
    chart.set_title({"name": label("interval_carbon_flux", lang),
                     "name_font": {"name": FONT, "size": 12}})
    chart.set_y_axis({"name": tc, "num_format": "#,##0", "num_font": {"name": FONT},
                      "name_font": {"name": FONT}})
    chart.set_x_axis({"num_font": {"name": FONT}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT}})
    chart.set_size({"width": 720, "height": 380})
    ws.insert_chart(last + 3, 0, chart)


def _tornado_sheet(book: _Book, run: RunData, name: str, output_id: str | None = None,
                   sheet: str | None = None) -> None:
    """One-at-a-time sensitivity (analysis "oat") of one output (default: the first) as a tornado.

    Columns: coefficient, its low/high, the output at the point, at low and at high, and the
    two swings (at low − point, at high − point) as formulas; a native bar chart of the swings,
    widest first. Compensation outputs (CNY) add the elasticity and the engine's note (why
    the elasticity is empty for a step/kinked output).
    """
    sens = run.table(name)
    if sens is None:
        return
    if output_id is not None:
        sens = sens.filter(pl.col("output") == output_id)
    low = next((c for c in sens.columns if c.startswith("output_at_low")), None)
    high = next((c for c in sens.columns if c.startswith("output_at_high")), None)
    base = next((c for c in sens.columns if c.startswith("output_point")), None)
    if not (low and high and base and "coefficient" in sens.columns):
        return
    df = sens.filter(pl.col("analysis") == "oat") if "analysis" in sens.columns else sens
    output = None
    if "output" in df.columns and df.height:
        output = str(df.get_column("output").first())
        df = df.filter(pl.col("output") == output)
    df = df.filter(pl.col(low).is_not_null() & pl.col(high).is_not_null())
    if df.height == 0:
        return
    lang = book.lang
    code = low[len("output_at_low_"):]
    scale, unit = {"cny": (WAN, label("wan_yuan", lang)), "c_t": (1.0, "t C"),
                   "co2e_t": (1.0, "t CO₂e")}.get(code, (1.0, code))
    extra = ("elasticity", "note") if output and output.startswith("compensation/") else ()
    cols = ["coefficient", *(c for c in ("coefficient_unit", "verification", "low", "high",
                                         *extra) if c in df.columns)]
    df = (df.with_columns((pl.col(high) - pl.col(low)).abs().alias("_swing"))
          .sort(["_swing", "coefficient"], descending=[True, False]).head(30)
          .select(*cols, *(pl.col(c) * scale for c in (base, low, high))))
    heads = [label(c, lang) for c in cols] + [
        f"{label(k, lang)} ({unit})" for k in ("point_estimate", "output_at_low",
                                               "output_at_high")]
    ws = book.sheet(sheet or f"tornado_{name}")
    book.text(ws, 0, 0, f"{label('tornado', lang)} — {output or ''} ({unit})", bold=True,
              size=12)
    book.text(ws, 1, 0, label("tornado_note", lang))
    h = 3
    c0 = len(df.columns)
    cb, cl, ch = (df.columns.index(c) for c in (base, low, high))
    swing_heads = [f"{label('tornado_low', lang)} − {label('point_estimate', lang)} ({unit})",
                   f"{label('tornado_high', lang)} − {label('point_estimate', lang)} ({unit})"]
    points = df.select(base, low, high).rows()

    def swings(i: int, r: int) -> None:
        b, lo, hi = points[i]
        for c, src, v in ((c0, cl, lo - b), (c0 + 1, ch, hi - b)):
            book.formula(ws, r, c, f"={xl_rowcol_to_cell(r, src)}-{xl_rowcol_to_cell(r, cb)}",
                         v)

    first, last = _plain_table(book, ws, df, row0=h, headers=heads, extra_headers=swing_heads,
                               row_hook=swings)
    ws.set_column(0, 0, 48)
    ws.set_column(c0 - 3, c0 + 1, 22)
    ws.freeze_panes(h + 1, 1)
    chart = book.wb.add_chart({"type": "bar"})
    for c, name_, color in ((c0, label("tornado_low", lang), "#FDAE6B"),
                            (c0 + 1, label("tornado_high", lang), "#74C476")):
        chart.add_series({"name": name_, "categories": [ws.name, first, 0, last, 0],
                          "values": [ws.name, first, c, last, c], "fill": {"color": color},
                          "overlap": 100, "gap": 40})
    chart.set_title({"name": f"{label('tornado', lang)} ({unit})",
                     "name_font": {"name": FONT, "size": 12}})
    chart.set_x_axis({"num_format": "#,##0", "num_font": {"name": FONT}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": FONT, "size": 8}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT}})
    chart.set_size({"width": 900, "height": 28 * (last - first + 1) + 120})
    ws.insert_chart(last + 3, 0, chart)


def _region_names(run: RunData, lang: str) -> dict[str, str]:
    """Registry names by region id, plus GB/T 2260 names of province ids ("520000")."""
    col = "name_en" if lang == "en" else "name_zh"
    names: dict[str, str] = {}
    if run.region_names is not None and col in run.region_names.columns:
        names = {k: v for k, v in run.region_names.select("region_id", col).rows() if v}
    return with_province_names(names, [f"{k}0000" for k in PROVINCES], lang)


def _matrix(book: _Book, run: RunData) -> None:
    ledger = run.table("compensation_ledger")
    if ledger is None or not {"payer", "payee", "amount_cny"} <= set(ledger.columns):
        return
    lang = book.lang
    wide, payees = payer_payee_matrix(ledger)
    ws = book.sheet("compensation_matrix")
    names = _region_names(run, lang)
    for code_col, name_col in (("payer", "payer_name"), ("payee", "payee_name")):
        if name_col in ledger.columns:  # funds, ministries: the names the agreements give
            for code, nm in ledger.select(code_col, name_col).unique().rows():
                if nm and code not in names:
                    names[code] = nm

    def party(x: str) -> str:
        return f"{names[x]} ({x})" if x in names else x

    headers = [f"{label('payer', lang)} \\ {label('payee', lang)}",
               *[party(p) for p in payees], f"{label('total', lang)} ({label('yuan', lang)})"]
    shown = wide.with_columns(pl.col("payer").map_elements(party, return_dtype=pl.Utf8))
    c0, c1 = xl_col_to_name(1), xl_col_to_name(len(payees))
    row_totals = row_sums(wide, payees)

    def row_total(i: int, r: int) -> None:
        book.formula(ws, r, len(payees) + 1, f"=SUM({c0}{r + 1}:{c1}{r + 1})",
                     float(row_totals[i] or 0.0))

    first, last = _plain_table(book, ws, shown, headers=headers[:-1], extra_headers=headers[-1:],
                               row_hook=row_total)
    wide_t = wide.with_columns(pl.Series("_t", row_totals, dtype=pl.Float64))
    _sum_row(book, ws, wide_t, first, last, [*payees, "_t"], last + 1)
    ws.set_column(len(payees) + 1, len(payees) + 1, 18)


def _settlement_sheets(book: _Book, run: RunData) -> None:
    """One printable 清算单 sheet per agreement and year (text lines of compensation_settlement_sheet)."""
    sheets = run.table("compensation_settlement_sheet")
    if sheets is None or not {"agreement_id", "year", "text"} <= set(sheets.columns):
        return
    for (aid, year), part in sheets.group_by(["agreement_id", "year"], maintain_order=True):
        ws = book.sheet(f"{label('settlement_sheet', 'zh')} {aid} {year}")
        for r, text in enumerate(part.get_column("text").to_list()):
            book.text(ws, r, 0, text or "", bold=r == 0)
        ws.set_column(0, 0, 140)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)


def _coefficients(book: _Book, coeffs: pl.DataFrame | None) -> None:
    if coeffs is None or coeffs.height == 0:
        return
    ws = book.sheet("coefficients")
    warn = (coeffs.get_column("verification").fill_null("") == "unverified").to_list() \
        if "verification" in coeffs.columns else None
    shown = coeffs
    if "verification" in coeffs.columns:
        flag = label("unverified_flag", book.lang)
        shown = coeffs.with_columns(
            pl.when(pl.col("verification") == "unverified")
            .then(pl.lit(flag)).otherwise(pl.col("verification")).alias("verification"))
    _plain_table(book, ws, shown, warn_rows=warn)


def _warnings(book: _Book, run: RunData) -> None:
    warnings = run.manifest.get("warnings") or []
    if not warnings:
        return
    cols = ["code", "message", "file", "row", "column"]
    df = pl.DataFrame([{c: (None if w.get(c) is None else str(w.get(c))) for c in cols}
                       for w in warnings if isinstance(w, dict)],
                      schema={c: pl.Utf8 for c in cols})
    df = df.with_columns(pl.col("row").cast(pl.Int64, strict=False))
    ws = book.sheet("warnings")
    _plain_table(book, ws, df, headers=[label(c, book.lang) for c in cols])


def _table_sheet(book: _Book, run: RunData, name: str, key: str, max_rows: int) -> None:
    df = run.table(name)
    if df is None:
        return
    total = df.height
    df = _with_names(df.head(max_rows), run, book.lang)  # names of the rows shown only
    ws = book.sheet(key)
    first, last = _plain_table(book, ws, df, max_rows=max_rows, name=name, total=total)
    cols = [c for c in TOTAL_COLUMNS.get(name, ()) if c in df.columns
            and df.schema[c].is_numeric()]
    if cols and total <= max_rows:  # no misleading total of a shortened table
        _sum_row(book, ws, df, first, last, cols, last + 1)


def write_xlsx(run: RunData, path: Path, lang: str, detail_rows: int | None = None,
               part: str = "filing", county_sheets: int | None = COUNTY_SHEETS_MAX) -> Path:
    """Write a workbook for ``run`` to ``path``; returns ``path``.

    ``part`` "filing" (report.xlsx): cover, the summary sheet and one account sheet per county
    (reports/filing.py), the GEP, growth, compensation, uncertainty and coefficient sheets, and
    the first FILING_DETAIL_ROWS rows (or ``detail_rows``, if fewer) of each detail table.
    ``part`` "detail" (report_detail.xlsx): cover, the all-region account sheet and every
    table, ``detail_rows`` rows each (None or 0: all, up to Excel's limit of 1,048,576 rows).
    County sheets: when the run has at most ``county_sheets`` counties (None: always; reports/filing.py).
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}; got {part!r}")
    coeffs = coefficients_table(run)
    m = run.manifest
    book = _Book(path, lang, footer_text(str(m.get("title") or label("report_title", "zh")), [],
                                         [], synthetic_label(run)),
                 stream=part == "filing" and STREAM)  # every filing sheet writes its rows in order
    cover, cover_row = _cover(book, run, coeffs)
    if part == "detail":
        limit = min(detail_rows or MAX_DATA_ROWS, MAX_DATA_ROWS)
        _account(book, run, coeffs)
        for name in sorted(run.tables):
            if name not in ("coefficients_used",):
                _table_sheet(book, run, name, name, limit)
        _coefficients(book, coeffs)
    else:
        limit = min(detail_rows or FILING_DETAIL_ROWS, FILING_DETAIL_ROWS)
        _filing(book, run, coeffs, county_sheets)
        _rest(book, run, coeffs, limit)
        book.text(cover, cover_row, 0, label("detail_workbook_note", lang, shown=f"{limit:,}"),
                  bold=True)
        cover_row += 1
    for note in book.truncated:
        book.text(cover, cover_row, 0, note, warn=True)
        cover_row += 1
    book.close()
    return path


def synthetic_label(run: RunData) -> str | None:
    """The label printed on every page of a run with synthetic data (its data_label, else SYNTHETIC); None otherwise."""
    m = run.manifest
    return (m.get("data_label") or "SYNTHETIC") if m.get("synthetic") else None


def _filing(book: _Book, run: RunData, coeffs: pl.DataFrame | None,
            county_sheets: int | None = COUNTY_SHEETS_MAX) -> None:
    """The summary sheet and the county account sheets (reports/filing.py)."""
    filing_sheets(book, run.table("services"), run.table("gep"), level_totals(run),
                  _region_names(run, book.lang), coeffs, synthetic_label(run), county_sheets)


def _rest(book: _Book, run: RunData, coeffs: pl.DataFrame | None, limit: int) -> None:
    """Every sheet of the filing workbook after the county sheets."""
    _gep_by_region(book, run)
    _gep_by_ecosystem(book, run)
    _growth_sheet(book, run)
    done = set(SPECIAL)
    for name, key in KNOWN_SHEETS:
        _table_sheet(book, run, name, key, limit)
        done.add(name)
        if name == "compensation_net":
            _matrix(book, run)
            by_year = run.table("compensation_net_by_year")
            wide_years = net_year_matrix(by_year) if by_year is not None else pl.DataFrame()
            if wide_years.height:
                ws = book.sheet("compensation_net_years")
                first, last = _plain_table(book, ws, wide_years)
                money = [c for c in wide_years.columns if c not in ("agreement_id", "party", "party_name")]
                _sum_row(book, ws, wide_years, first, last, money, last + 1)
            _settlement_sheets(book, run)
            done.add("compensation_settlement_sheet")
        elif name == "uncertainty":
            _interval_sheet(book, run)
        elif name == "extent_change_matrix":
            _change_matrix_sheet(book, run)
        elif name in ("sensitivity", "sensitivity_carbon"):
            sens = run.table(name)
            outs = tornado_outputs(sens) if sens is not None else []
            comp = [o for o in outs if o.startswith("compensation/")]
            if not outs or len(outs) > len(comp):  # the GEP / carbon output first
                _tornado_sheet(book, run, name, outs[0] if outs else None)
            for i, output in enumerate(comp):
                _tornado_sheet(book, run, name, output, f"tornado_compensation_{i + 1}")
        elif name == "uncertainty_carbon_flux":
            _flux_interval_sheet(book, run)
    _coefficients(book, coeffs)
    _warnings(book, run)
    for name in sorted(run.tables):
        if name not in done:
            _table_sheet(book, run, name, name, limit)
