"""Helpers shared by the command modules."""

from __future__ import annotations

import shlex
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import click
from gep.reports import DETAIL

DETAIL_HELP = ("Excel detail: 'capped' writes report.xlsx, the filing workbook (summary, one "
               "account sheet per county, the first 200 rows of each detail table); 'full' also "
               "writes report_detail.xlsx with the all-region account and every table in full. "
               "Full tables are always in tables/*.csv.")


def detail_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """The ``--detail capped|full`` option of the commands that write reports."""
    return click.option("--detail", type=click.Choice(list(DETAIL)), default=None,
                        help=DETAIL_HELP + " Default: [run] report_detail of the config, else capped.")(f)


def command_line() -> str:
    """The command line as typed (recorded in the manifest)."""
    args = [a for a in sys.argv[1:]]
    return "gep " + " ".join(shlex.quote(a) for a in args)


def text_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK wide and full-width characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded to ``width`` terminal columns, on the left when ``right`` (numbers)."""
    fill = " " * max(0, width - text_width(text))
    return fill + text if right else text + fill


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """The one aligned plain-text table of the CLI (CJK-width aware), header underlined with dashes."""
    widths = [max([text_width(h)] + [text_width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(pad(c, w, rt) for c, w, rt in zip(cells, widths, right, strict=True)).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])
