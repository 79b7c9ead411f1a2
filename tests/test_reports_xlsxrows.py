"""reports.xlsxrows.Rows: a block of rows written a column at a time gives the same workbook,
byte for byte, as xlsxwriter writing the same cells one by one (streaming and not)."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from gep.reports import xlsxrows
from gep.reports.views import INJECTION_PREFIXES
from gep.reports.xlsxrows import Rows

N = 40
NUMS: list[Any] = [1.5, 2, None, math.nan, math.inf, 1e20, -0.1, 12345678901234567, 1 / 3, 0]
TEXTS: list[Any] = ["县", None, "=1+1", " lead", "trail ", "a&b<c>\"d\"", "\x01ctl", "_x0041_",
                    "<r>rich</r>", "-5", "中文 text", 2020]


def _column(values: list[Any], i: int) -> Any:
    return values[i % len(values)]


def _formats(wb: xlsxwriter.Workbook) -> dict[str, Any]:
    return {"num": wb.add_format({"num_format": "#,##0.00"}),
            "text": wb.add_format({"font_name": "微软雅黑"}),
            "quoted": wb.add_format({"font_name": "微软雅黑", "quote_prefix": True}),
            "pct": wb.add_format({"num_format": "0.0%"}),
            "head": wb.add_format({"bold": True})}


def _write(path: Path, fast: bool, stream: bool) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": stream, "strings_to_formulas": False,
                                         "strings_to_urls": False, "strings_to_numbers": False})
    f = _formats(wb)
    ws = wb.add_worksheet("a")
    ws.write_string(0, 0, "head", f["head"])
    ws.write_string(0, 5, "side", f["head"])
    row0 = 1
    nums = [_column(NUMS, i) for i in range(N)]
    texts = [_column(TEXTS, i * 7) for i in range(N)]
    forms = [f"SUM(A{r + 1}:B{r + 1})" for r in range(row0, row0 + N)]
    cached: list[Any] = [(float(i) if i % 3 else "") for i in range(N)]
    side = [float(i) for i in range(5)]  # a shorter side column, like the decomposition block
    names = [None if i % 5 == 0 else f"县 {i}" for i in range(N)]  # links to other sheets
    links = [f"internal:'0{i} 县'!A1" if i % 3 == 0 and names[i] else None for i in range(N)]
    if fast:
        rows = Rows(ws, row0, N)
        rows.number(0, nums, f["num"])
        rows.text(1, texts, f["text"], f["quoted"])
        rows.text(2, texts[::-1], f["text"], f["quoted"], blank=True)
        rows.number(3, nums[::-1], f["pct"], blank=True)
        rows.formula(4, forms, cached, f["num"])
        rows.number(6, side, f["num"])
        rows.text(7, names, f["text"], f["quoted"], links=links)
        rows.write()
    else:
        for i in range(N):
            r = row0 + i
            v = nums[i]
            if v is not None and math.isfinite(v):
                ws.write_number(r, 0, v, f["num"])
            for c, t, blank in ((1, texts[i], False), (2, texts[::-1][i], True)):
                if t is None:
                    if blank:
                        ws.write_blank(r, c, None, f["text"])
                    continue
                t = str(t)
                ws.write_string(r, c, t, f["quoted"] if t.startswith(INJECTION_PREFIXES) else f["text"])
            w = nums[::-1][i]
            if w is not None and math.isfinite(w):
                ws.write_number(r, 3, w, f["pct"])
            else:
                ws.write_blank(r, 3, None, f["pct"])
            ws.write_formula(r, 4, "=" + forms[i], f["num"], cached[i])
            if i < len(side):
                ws.write_number(r, 6, side[i], f["num"])
            if links[i] is not None:
                ws.write_url(r, 7, links[i], f["text"], names[i])
            elif names[i] is not None:
                ws.write_string(r, 7, names[i], f["text"])
    ws.write_string(row0 + N + 1, 0, "after", f["head"])
    wb.close()


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


@pytest.mark.parametrize(("stream", "chunk"), [(True, 20_000), (True, 7), (False, 20_000)])
def test_rows_same_bytes_as_cell_by_cell(tmp_path: Path, stream: bool, chunk: int,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsxrows, "CHUNK_ROWS", chunk)  # 7: rows rendered in several chunks
    _write(tmp_path / "fast.xlsx", fast=True, stream=stream)
    _write(tmp_path / "cells.xlsx", fast=False, stream=stream)
    fast, cells = _parts(tmp_path / "fast.xlsx"), _parts(tmp_path / "cells.xlsx")
    assert fast.keys() == cells.keys()
    for name in fast:
        assert fast[name] == cells[name], name
    sheet = fast["xl/worksheets/sheet1.xml"].decode()
    assert "<f>SUM(A2:B2)</f>" in sheet and '<hyperlink ref="H5" location="\'03 县\'!A1"' in sheet
    if stream:  # inline strings (shared strings otherwise)
        assert "a&amp;b&lt;c&gt;" in sheet and '<t xml:space="preserve"> lead</t>' in sheet


def test_rows_refuse_out_of_order_and_dynamic_formulas(tmp_path: Path) -> None:
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet()
    ws.write_number(5, 0, 1.0)
    rows = Rows(ws, 2, 3)
    rows.number(0, [1.0, 2.0, 3.0], wb.add_format())
    with pytest.raises(ValueError, match="out of order"):
        rows.write()
    with pytest.raises(ValueError, match="plain formulas"):
        Rows(ws, 10, 1).formula(0, ["UNIQUE(A1:A3)"], [0.0], wb.add_format())
    with pytest.raises(ValueError, match="filled twice"):
        r = Rows(ws, 10, 1)
        r.number(0, [1.0], wb.add_format())
        r.number(0, [1.0], wb.add_format())
    wb.close()
