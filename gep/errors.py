"""Typed errors for gep, written for the people who fix the input files.

Every input problem is a :class:`Problem` with a stable reason ``code`` and the
place it was found (file, spreadsheet row with the header as row 1, column).
Validation collects all problems first and raises one :class:`InputError`
(pandera's ``lazy=True`` style), so a county statistician can fix the whole
file in one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def fmt_number(x: float) -> str:
    """A number for a message: plain when moderate, scientific (1e+300, 1e-300) when huge or tiny."""
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if x == 0 or 1e-4 <= abs(x) < 1e15:
        return f"{x:g}" if abs(x) < 1e6 else f"{x:.15g}"
    return f"{x:.6g}"


def os_error_reason(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be created or written, in words for a statistician: "afile is a file, not a folder"
    when a part of the path is a regular file (the OS says only "File exists" or "Not a directory"), else the
    operating system's reason ("Permission denied", "No space left on device")."""
    below_file = next((str(a) for a in Path(path).parents if a.exists() and not a.is_dir()), None)
    if below_file is not None:
        return f"{below_file} is a file, not a folder"
    return exc.strerror or exc.__class__.__name__


def fmt_amount(x: float, decimals: int = 2) -> str:
    """An amount for a message: thousands separators and ``decimals`` places (1,234.50), scientific notation
    (1e+300) when it is too large to read as digits."""
    if x != x or x in (float("inf"), float("-inf")) or abs(x) >= 1e15:
        return fmt_number(x)
    return f"{x:,.{decimals}f}"


def fmt_share(x: float) -> str:
    """A ratio as a percentage for a message (12.5%); scientific notation (1.6e+302%) when absurdly large."""
    if x != x or x in (float("inf"), float("-inf")) or abs(x) >= 1e13:
        return fmt_number(x * 100) + "%"
    return f"{x:.1%}"


def short_number(text: str) -> str:
    """``text`` unchanged, unless it is a number written with more than 20 characters: then 1e+300 style."""
    if len(text) <= 20 or not _NUMBER.match(text.strip()):
        return text
    try:
        return fmt_number(float(text))
    except (ValueError, OverflowError):
        return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where.

    ``row`` is the spreadsheet-style row number (header = row 1) for tables,
    or the line number for TOML files.
    """

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None

    def location(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def render(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.value is not None:
            text += f" (found '{short_number(self.value)}'"
            text += f"; expected {self.expected})" if self.expected else ")"
        elif self.expected:
            text += f" (expected {self.expected})"
        return f"{text} [{self.code}]"

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "message": self.message,
        }


class GepError(Exception):
    """Base class of every error gep raises on purpose."""


class InputError(GepError):
    """One or more problems in the user's inputs; the run stops, nothing is written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        super().__init__(self.render())

    def render(self, limit: int | None = None) -> str:
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [p.render() for p in shown]
        if limit is not None and len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


class UnitError(InputError):
    """A unit that gep does not know, or two units that cannot be combined."""


def rename_columns(problems: Iterable[Problem], headers: dict[str, str]) -> list[Problem]:
    """``problems`` with each canonical column name replaced by its header in the file (``region_id`` → 地区代码)."""
    return [replace(p, column=headers.get(p.column, p.column)) if p.column else p for p in problems]


@dataclass
class ProblemCollector:
    """Collects problems so validation can report all of them at once."""

    problems: list[Problem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    """Canonical column name → the header the file used (地区代码, 单位 …): problems are raised with the user's header."""

    def add(
        self,
        code: str,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        expected: str | None = None,
    ) -> None:
        self.problems.append(
            Problem(
                code=code,
                message=message,
                file=file,
                row=row,
                column=column,
                value=None if value is None else str(value),
                expected=expected,
            )
        )

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __len__(self) -> int:
        return len(self.problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InputError(rename_columns(self.problems, self.headers))
