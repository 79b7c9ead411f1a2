"""Declared sign and range rules of services and coefficients (which may be negative, which are bounded).

The rules are data, in ``coefficients/ranges.csv`` (documented in docs/input_tables.md §Sign and range
rules): one row per service (``subject = service``; ``name = *`` is the default of every service) or
coefficient (``subject = coefficient``), the column the rule applies to, its ``sign`` (any, nonnegative,
positive) and optional ``low``/``high`` bounds. Only carbon_sequestration (a net carbon flux) may be net
negative. Readers and steps check their tables with :func:`sign_problems` and :func:`coefficient_problems`,
so ``gep validate`` and a run refuse the same values with the same located messages.

Reference data layer: imports only the core (:mod:`gep.errors`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import polars as pl

from gep.errors import Problem, fmt_number

RANGES_FILE = Path(__file__).resolve().parent / "ranges.csv"
SIGNS = ("any", "nonnegative", "positive")


@lru_cache(maxsize=1)
def _rules() -> pl.DataFrame:
    return pl.read_csv(RANGES_FILE, schema_overrides={"low": pl.Float64, "high": pl.Float64}, infer_schema=False)


def range_rules() -> pl.DataFrame:
    """``subject, name, column, sign, low, high, unit, note``: every declared rule (a copy)."""
    return _rules().clone()


def service_rules(column: str) -> pl.DataFrame:
    """Per-service rule for ``column`` (quantity or value) → ``service, sign, low, high``; ``*`` is the default."""
    r = _rules().filter((pl.col("subject") == "service") & (pl.col("column") == column))
    return r.select(pl.col("name").alias("service"), "sign", "low", "high")


def may_be_negative(column: str = "quantity") -> frozenset[str]:
    """Services whose ``column`` may be below zero (declared ``sign = any``)."""
    r = service_rules(column).filter((pl.col("sign") == "any") & (pl.col("service") != "*"))
    return frozenset(r["service"].to_list())


def _bound_expr(value: pl.Expr, sign: pl.Expr, low: pl.Expr, high: pl.Expr) -> pl.Expr:
    """True where ``value`` breaks its rule (nulls never break one)."""
    return value.is_not_null() & (
        ((sign == "nonnegative") & (value < 0))
        | ((sign == "positive") & (value <= 0))
        | (low.is_not_null() & (value < low))
        | (high.is_not_null() & (value > high))
    )


def _expected(sign: str, low: float | None, high: float | None) -> str:
    parts = {"nonnegative": ["zero or more"], "positive": ["above 0"], "any": []}[sign]
    if low is not None and sign == "any":
        parts.append(f"at least {fmt_number(low)}")
    if high is not None:
        parts.append(f"at most {fmt_number(high)}")
    return " and ".join(parts) or "any number"


def sign_problems(df: pl.DataFrame, column: str, file: str | None, *, rows: str = "source_row",
                  limit: int = 20) -> list[Problem]:
    """Rows of ``df`` (service, ``column``, ``rows``) whose value breaks its service's declared rule, located.

    A service without its own rule takes the ``*`` rule. At most ``limit`` rows are listed.
    """
    rules = service_rules(column)
    default = rules.filter(pl.col("service") == "*")
    own = rules.filter(pl.col("service") != "*")
    d = default.row(0, named=True) if default.height else {"sign": "any", "low": None, "high": None}
    negative_ok = ", ".join(sorted(may_be_negative(column))) or "none"
    j = df.select("service", column, rows).join(own, on="service", how="left").with_columns(
        pl.col("sign").fill_null(pl.lit(d["sign"], pl.Utf8)), pl.col("low").fill_null(pl.lit(d["low"], pl.Float64)),
        pl.col("high").fill_null(pl.lit(d["high"], pl.Float64)))
    bad = j.filter(_bound_expr(pl.col(column), pl.col("sign"), pl.col("low"), pl.col("high"))).sort(rows)
    out = []
    for r in bad.head(limit).iter_rows(named=True):
        what = "a negative" if r[column] < 0 else "this"
        out.append(Problem(
            "NEGATIVE_VALUE" if r[column] < 0 else "VALUE_OUT_OF_RANGE",
            f"service '{r['service']}' cannot have {what} {column}", file=file, row=r[rows], column=column,
            value=fmt_number(r[column]),
            expected=_expected(r["sign"], r["low"], r["high"]) + f" (only {negative_ok} may be net negative; "
            "rules in coefficients/ranges.csv)"))
    return out


def _coefficient_rule(name: str) -> dict[str, object]:
    """The declared rule of coefficient ``name`` (sign, low, high, unit, note); KeyError when none is declared."""
    rule = _rules().filter((pl.col("subject") == "coefficient") & (pl.col("name") == name))
    if not rule.height:
        raise KeyError(f"no declared range rule for coefficient {name!r}")
    return rule.row(0, named=True)


def coefficient_problems(name: str, values: Iterable[float | None], **where: object) -> list[Problem]:
    """The first value breaking coefficient ``name``'s declared rule, as a located problem (``where``: file, row, column)."""
    r = _coefficient_rule(name)
    for v in values:
        bad = v is None or v != v or v in (float("inf"), float("-inf"))
        if not bad:
            bad = ((r["sign"] == "nonnegative" and v < 0) or (r["sign"] == "positive" and v <= 0)
                   or (r["low"] is not None and v < r["low"]) or (r["high"] is not None and v > r["high"]))
        if bad:
            return [Problem("INVALID_VALUE", f"coefficient '{name}' must be {_expected(r['sign'], r['low'], r['high'])} "
                            f"({r['note']})", value="empty" if v is None else fmt_number(v),
                            expected=f"a number {_expected(r['sign'], r['low'], r['high'])} in {r['unit']}",
                            **where)]  # type: ignore[arg-type]
    return []


def column_bounds(name: str) -> dict[str, object]:
    """ColumnSpec keyword arguments (``nonnegative``, ``max_value``, ``max_reason``) of coefficient ``name``'s
    declared rule, so a table column of that coefficient (prices, adjustment ratios, price index) is checked by the
    rule in ranges.csv: editing the file changes what gep accepts."""
    r = _coefficient_rule(name)
    out: dict[str, object] = {"nonnegative": r["sign"] in ("nonnegative", "positive")}
    if r["high"] is not None:
        out |= {"max_value": float(r["high"]), "max_reason": f"{r['note']} (coefficients/ranges.csv)"}
    return out


__all__ = ["RANGES_FILE", "SIGNS", "coefficient_problems", "column_bounds", "may_be_negative", "range_rules", "service_rules",
           "sign_problems"]
