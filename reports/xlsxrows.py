"""A block of worksheet rows written column by column, for the big sheets of report.xlsx.

xlsxwriter spends about 10 µs on each cell (argument conversion, dimension checks, a cell
tuple, the row flush, attribute escaping); a national run's GEP-by-region, GEP-by-ecosystem
and growth sheets have about 700,000 cells. :class:`Rows` takes whole columns (Python lists,
one value per row), and on a ``constant_memory`` worksheet (the filing workbook streams its
rows) renders the ``<row>``/``<c>`` XML itself, with the same text xlsxwriter writes for the
same cells: numbers as ``%.16G``, text as inline strings (control characters, XML escapes and
the whitespace-preserve attribute as xlsxwriter does them), formulas with their cached values.
On other worksheets (report_detail.xlsx) it writes the same cells through xlsxwriter's API, row
by row. Either way the workbook is the one xlsxwriter would write cell by cell
(tests/test_reports_xlsx.py compares the two).

Cell formats get their style index in the order their first cell appears (row by row, then
column), as xlsxwriter assigns them, so styles.xml is unchanged too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.url import Url
from xlsxwriter.utility import (
    _preserve_whitespace,
    _utf16_len,
    _utf16_truncate,
    xl_col_to_name,
)
from xlsxwriter.worksheet import Worksheet, re_dynamic_function
from xlsxwriter.xmlwriter import XMLwriter

from .views import INJECTION_PREFIXES

_escape_data = XMLwriter._escape_data.__get__(XMLwriter())  # bound once; pure functions of the text
_escape_control = XMLwriter._escape_control_characters
_ERROR_CODES = frozenset(("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"))
_NUM, _TEXT, _FORMULA = 0, 1, 2
CHUNK_ROWS = 20_000  # rows rendered at a time: memory stays bounded on very large sheets


def _inline(text: str) -> str:
    """The rest of an inline-string cell after its r and s attributes (as xlsxwriter writes it)."""
    text = _escape_control(text)
    if text.startswith("<r>") and text.endswith("</r>"):  # a rich string: written as is
        return f' t="inlineStr"><is>{text}</is></c>'
    space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
    return f' t="inlineStr"><is><t{space}>{_escape_data(text)}</t></is></c>'


def _formula_rest(formula: str, value: Any) -> str:
    """The rest of a formula cell after its r and s attributes (as xlsxwriter writes it)."""
    if type(value) is float:  # the common case: a number, written as str() writes it
        return f"><f>{_escape_data(formula)}</f><v>{value}</v></c>"
    t = ""
    if isinstance(value, bool):
        t, value = ' t="b"', int(value)
    elif isinstance(value, str) and value != "":
        t = ' t="e"' if value in _ERROR_CODES else ' t="str"'
    return f'{t}><f>{_escape_data(formula)}</f><v>{_escape_data(value)}</v></c>'


def _render(kind: int, fmts: list[Format | None], vals: list[Any], ref: str,
            styled: dict[Format, str], cache: dict[str, str], numbers: list[str], a: int,
            b: int) -> list[str]:
    """The cells of rows a … b − 1 of one column ("" where it has none), as xlsxwriter writes them."""
    fmts, vals = fmts[a:b], vals[a:b]
    pad = [""] * (b - a - len(fmts))
    if kind == _NUM:
        return [("" if f is None else
                 f"{ref}{rn}{styled[f]}/>" if v is None else
                 f"{ref}{rn}{styled[f]}><v>{v:.16G}</v></c>")
                for rn, f, v in zip(numbers, fmts, vals)] + pad
    if kind == _FORMULA:
        return [("" if f is None else f"{ref}{rn}{styled[f]}{_formula_rest(*v)}")
                for rn, f, v in zip(numbers, fmts, vals)] + pad
    cells = []
    for rn, f, v in zip(numbers, fmts, vals):
        if f is None:
            cells.append("")
        elif v is None:
            cells.append(f"{ref}{rn}{styled[f]}/>")
        else:
            rest = cache.get(v)
            if rest is None:
                rest = cache[v] = _inline(v)
            cells.append(f"{ref}{rn}{styled[f]}{rest}")
    return cells + pad


class Rows:
    """Rows ``row0`` … ``row0 + n − 1`` (0-based) of ``ws``, filled a column at a time.

    A cell exists where its format is not None; its value None makes a blank (formatted) cell.
    Call :meth:`write` once, after every column: the rows are then written in order, so on a
    streaming worksheet nothing may be written above ``row0 + n`` afterwards.
    """

    def __init__(self, ws: Worksheet, row0: int, n: int) -> None:
        self.ws, self.row0, self.n = ws, row0, n
        self._cols: dict[int, tuple[int, list[Format | None], list[Any]]] = {}
        self._links: dict[int, list[str | None]] = {}

    def _add(self, col: int, kind: int, fmts: list[Format | None], values: list[Any]) -> None:
        if col in self._cols:
            raise ValueError(f"column {col} filled twice")
        if len(fmts) > self.n or len(values) != len(fmts):
            raise ValueError(f"column {col}: {len(values)} values for {self.n} rows")
        self._cols[col] = (kind, fmts, values)

    def number(self, col: int, values: Sequence[Any], fmt: Format, *, blank: bool = False) -> None:
        """Numbers; None and NaN/±inf are no cell (``blank``: a blank cell with ``fmt``)."""
        vals = [v if v is None or math.isfinite(v) else None for v in values]
        fmts = [fmt] * len(vals) if blank else [None if v is None else fmt for v in vals]
        self._add(col, _NUM, fmts, vals)

    def text(self, col: int, values: Sequence[Any], fmt: Format, quoted: Format, *,
             blank: bool = False, links: Sequence[str | None] | None = None) -> None:
        """Text (str() of each value); a leading = + - @ tab or CR gets the ``quoted`` format
        (Excel's quote prefix, never a formula). None is no cell (``blank``: a blank cell).
        ``links``: a hyperlink per row (None: none), as ``write_url(url, string=text)`` makes it."""
        vals = [None if v is None else str(v) for v in values]
        vals = [_utf16_truncate(v, 32767) if v is not None and len(v) > 16383
                and _utf16_len(v) > 32767 else v for v in vals]
        fmts = [(quoted if v.startswith(INJECTION_PREFIXES) else fmt) if v is not None
                else (fmt if blank else None) for v in vals]
        self._add(col, _TEXT, fmts, vals)
        if links is not None:
            if len(links) != len(vals) or any(u is not None and v is None
                                               for u, v in zip(links, vals, strict=True)):
                raise ValueError(f"column {col}: a link needs its text")
            if any(u is not None and len(u) > 2000 for u in links):
                raise ValueError(f"column {col}: a link longer than Excel's limit")
            self._links[col] = list(links)

    def formula(self, col: int, formulas: Sequence[str | None], values: Sequence[Any],
                fmt: Format) -> None:
        """Live formulas (without the leading =) with their cached values; None: no cell."""
        for f in formulas:
            if f is not None and (re_dynamic_function.search(f) or f.startswith(("{", "="))):
                raise ValueError(f"Rows writes plain formulas only; got {f!r}")
        self._add(col, _FORMULA, [None if f is None else fmt for f in formulas],
                  [None if f is None else (f, v) for f, v in zip(formulas, values, strict=True)])

    def write(self) -> None:
        """Write the rows (XML on a streaming worksheet, else through xlsxwriter's API)."""
        ws = self.ws
        cols = sorted(self._cols)
        if not cols or self.n == 0:
            return
        if not ws.constant_memory:
            self._write_api(cols)
            return
        if ws.previous_row > self.row0 or (ws.previous_row == self.row0 and ws.table):
            raise ValueError(f"rows from {self.row0} written out of order on {ws.name}")
        if (ws.excel_version != 2007 or ws.default_row_height != ws.original_row_height
                or any(self.row0 <= r < self.row0 + self.n for r in (*ws.row_info, *ws.comments))):
            self._write_api(cols)  # row heights or comments: xlsxwriter's own row writer
            return
        if ws.previous_row < self.row0:
            ws._write_single_row(self.row0)  # flush the last row written before the block
        xf = self._style_indices(cols)
        used: list[tuple[int, int, int]] = []  # (column, first row, last row) with cells
        specs = []  # what each column with cells needs to render its cells
        for c in cols:
            kind, fmts, vals = self._cols[c]
            distinct = [f for f in dict.fromkeys(fmts) if f is not None]
            if not distinct:
                continue
            used.append((c, min(fmts.index(f) for f in distinct),
                         len(fmts) - 1 - min(fmts[::-1].index(f) for f in distinct)))
            styled = {f: f'" s="{xf[id(f)]}"' for f in distinct}  # Format: hashed by identity
            specs.append((kind, fmts, vals, f'<c r="{xl_col_to_name(c)}', styled, {}))
        if not specs:
            return
        for a in range(0, self.n, CHUNK_ROWS):  # a bounded number of rows in memory at a time
            b = min(a + CHUNK_ROWS, self.n)
            numbers = [str(r + 1) for r in range(self.row0 + a, self.row0 + b)]
            rendered = [_render(*spec, numbers, a, b) for spec in specs]
            out = []
            for rn, cells in zip(numbers, zip(*rendered)):
                body = "".join(cells)
                if body:
                    out.append(f'<row r="{rn}">{body}</row>')
            ws.fh.write("".join(out))
        for c, links in self._links.items():  # as write_url() stores them
            for i, u in enumerate(links):
                if u is not None:
                    url = Url(u)
                    url._text = self._cols[c][2][i]
                    ws.hlink_count += 1
                    ws.hyperlinks[self.row0 + i][c] = url
        first = min(u[1] for u in used) + self.row0
        last = max(u[2] for u in used) + self.row0
        for r, c in ((first, used[0][0]), (last, used[-1][0])):
            if ws.dim_rowmin is None or r < ws.dim_rowmin:
                ws.dim_rowmin = r
            if ws.dim_rowmax is None or r > ws.dim_rowmax:
                ws.dim_rowmax = r
            if ws.dim_colmin is None or c < ws.dim_colmin:
                ws.dim_colmin = c
            if ws.dim_colmax is None or c > ws.dim_colmax:
                ws.dim_colmax = c
        ws.previous_row = self.row0 + self.n  # the next row starts empty

    def _style_indices(self, cols: list[int]) -> dict[int, int]:
        """Style index of every format used, assigned in the order of its first cell."""
        first: dict[int, tuple[int, int, Format]] = {}
        for c in cols:
            fmts = self._cols[c][1]
            for f in dict.fromkeys(fmts):
                if f is not None:
                    at = (fmts.index(f), c)
                    if id(f) not in first or at < first[id(f)][:2]:
                        first[id(f)] = (*at, f)
        return {k: f._get_xf_index() for k, (_, _, f) in sorted(first.items(), key=lambda kv: kv[1][:2])}

    def _write_api(self, cols: list[int]) -> None:
        """The same cells through xlsxwriter's API, row by row."""
        ws = self.ws
        for i in range(self.n):
            r = self.row0 + i
            for c in cols:
                kind, fmts, vals = self._cols[c]
                if i >= len(fmts) or fmts[i] is None:
                    continue
                f, v = fmts[i], vals[i]
                if v is None:
                    ws.write_blank(r, c, None, f)
                elif kind == _NUM:
                    ws.write_number(r, c, v, f)
                elif kind == _TEXT and c in self._links and self._links[c][i] is not None:
                    ws.write_url(r, c, self._links[c][i], f, v)
                elif kind == _TEXT:
                    ws.write_string(r, c, v, f)
                else:
                    ws.write_formula(r, c, "=" + v[0], f, v[1])
