"""Helpers shared by the command modules."""

from __future__ import annotations

import shlex
import sys
import unicodedata
from collections.abc import Sequence


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
