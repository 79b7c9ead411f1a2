"""Settlement periods (month, quarter, year) as stable text keys.

Keys: month ``"2024-03"``, quarter ``"2024-Q1"``, year ``"2024"``. Every period
is a set of calendar months, so completeness of monitoring data is checked month
by month whatever the settlement period is.
"""

from __future__ import annotations

import calendar
import re

import polars as pl

PERIOD_KINDS = ("month", "quarter", "year")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_RE = re.compile(r"^(\d{4})$")


def parse_month(text: str) -> tuple[int, int] | None:
    """Parse ``YYYY-MM`` or ``YYYY`` (= January of that year for a start, December for an end)."""
    m = _MONTH_RE.match(text.strip())
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    return None


def months_between(start: tuple[int, int], end: tuple[int, int]) -> list[str]:
    """All months ``YYYY-MM`` from start to end inclusive."""
    y, mo = start
    out: list[str] = []
    while (y, mo) <= end:
        out.append(f"{y:04d}-{mo:02d}")
        mo += 1
        if mo == 13:
            y, mo = y + 1, 1
    return out


def period_of_month(month: str, kind: str) -> str:
    """The period key (month/quarter/year) containing calendar month ``YYYY-MM``."""
    y, mo = int(month[:4]), int(month[5:7])
    if kind == "month":
        return month
    if kind == "quarter":
        return f"{y:04d}-Q{(mo - 1) // 3 + 1}"
    return f"{y:04d}"


def period_expr(month_col: str, kind: str) -> pl.Expr:
    """Polars expression mapping a ``YYYY-MM`` column to the period key of ``kind``."""
    col = pl.col(month_col)
    if kind == "month":
        return col
    if kind == "quarter":
        q = ((col.str.slice(5, 2).cast(pl.Int32) - 1) // 3 + 1).cast(pl.Utf8)
        return pl.concat_str([col.str.slice(0, 4), pl.lit("-Q"), q])
    return col.str.slice(0, 4)


def periods_in(start: tuple[int, int], end: tuple[int, int], kind: str) -> dict[str, list[str]]:
    """Ordered map period key -> its calendar months inside [start, end]."""
    out: dict[str, list[str]] = {}
    for month in months_between(start, end):
        out.setdefault(period_of_month(month, kind), []).append(month)
    return out


def seconds_in_months(months: list[str]) -> int:
    """Seconds in the listed calendar months (for flow m3/s -> volume m3)."""
    total_days = sum(calendar.monthrange(int(m[:4]), int(m[5:7]))[1] for m in months)
    return total_days * 86400


def previous_year(period: str) -> str:
    """The same period one year earlier (``2024-03`` -> ``2023-03``, ``2024-Q1`` -> ``2023-Q1``)."""
    return f"{int(period[:4]) - 1:04d}{period[4:]}"


def months_of_period(period: str) -> list[str]:
    """Calendar months of a period key."""
    y = int(period[:4])
    if len(period) == 4:
        return [f"{y:04d}-{m:02d}" for m in range(1, 13)]
    if period[5] == "Q":
        q = int(period[6])
        return [f"{y:04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
    return [period]
