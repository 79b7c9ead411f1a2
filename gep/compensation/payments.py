"""Payments table (what has actually been paid): read and checked against the agreements.

Columns (CSV UTF-8/GBK, XLSX or Parquet; Chinese headers accepted): ``date`` (付款日期, 日期),
``payer`` (付款方, 付款方代码), ``payee`` (收款方, 收款方代码), ``amount_cny`` (金额, 金额(元));
optional ``agreement_id`` (协议). Every problem is reported with file, row (header = 1) and
column, then InputError (exit 2, nothing written): MISSING_COLUMN, MISSING_VALUE, WRONG_TYPE
(date, amount), NEGATIVE_VALUE, UNKNOWN_AGREEMENT, UNKNOWN_PARTY (a payer or payee that is not a
party of the agreement(s), with near matches among the parties' codes and names).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from gep.compensation.agreement import Agreement, near_matches
from gep.compensation.money import MONEY_DTYPE, to_fen
from gep.compensation.monitoring import iso_date
from gep.errors import ProblemCollector
from gep.readers import read_raw

ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "付款日期", "支付日期", "日期"),
    "payer": ("payer", "付款方", "付款方代码", "付款单位"),
    "payee": ("payee", "收款方", "收款方代码", "收款单位"),
    "amount_cny": ("amount_cny", "amount", "金额", "金额(元)", "金额（元）", "支付金额"),
    "agreement_id": ("agreement_id", "协议", "协议编号"),
}
REQUIRED = ("date", "payer", "payee", "amount_cny")


def read_payments(path: str | Path, agreements: Sequence[Agreement], display_name: str | None = None) -> pl.DataFrame:
    """Read and check a payments table; returns date, payer, payee, amount_cny (Decimal), agreement_id, row."""
    raw = read_raw(path, display_name=display_name)
    file = raw.file
    pc = ProblemCollector()
    lower = {c.strip().lower(): c for c in raw.df.columns}
    rename: dict[str, str] = {}
    for canon, names in ALIASES.items():
        for nm in names:
            if nm.lower() in lower:
                rename[lower[nm.lower()]] = canon
                break
    for canon in REQUIRED:
        if canon not in rename.values():
            pc.add("MISSING_COLUMN", f"the payments table has no '{canon}' column", file=file, row=1, column=canon,
                   expected="columns date, payer, payee, amount_cny (付款日期, 付款方, 收款方, 金额(元))")
    pc.raise_if_any()
    df = raw.df.rename(rename).select([c for c in ALIASES if c in rename.values()])
    df = df.with_columns(pl.all().cast(pl.Utf8).str.strip_chars())
    rows = raw.rows.to_list() if raw.rows is not None and raw.rows.len() == df.height else \
        list(range(2, df.height + 2))
    df = df.with_columns(iso_date(pl.col("date")).alias("_iso"))
    by_id = {a.id: a for a in agreements}
    all_parties = {p.id: p.name for a in agreements for p in a.parties}
    out: list[dict[str, object]] = []
    for row, r in zip(rows, df.iter_rows(named=True), strict=True):
        ok = True
        for col in REQUIRED:
            if not r.get(col):
                pc.add("MISSING_VALUE", f"'{col}' is empty", file=file, row=row, column=col, expected="a value")
                ok = False
        iso = r.get("_iso")
        if r.get("date") and (not iso or len(iso) != 10):
            pc.add("WRONG_TYPE", "the payment date is not a calendar date", file=file, row=row, column="date",
                   value=r["date"], expected="YYYY-MM-DD, YYYY/M/D or YYYY年M月D日")
            ok = False
        amount: Decimal | None = None
        if r.get("amount_cny"):
            try:
                amount = Decimal(str(r["amount_cny"]).replace(",", ""))
                if not amount.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                pc.add("WRONG_TYPE", "the amount is not a number", file=file, row=row, column="amount_cny",
                       value=r["amount_cny"], expected="an amount in 元, e.g. 20000000.00")
                ok = False
            else:
                if amount <= 0:
                    pc.add("NEGATIVE_VALUE", "the amount must be greater than zero", file=file, row=row,
                           column="amount_cny", value=r["amount_cny"], expected="an amount > 0 in 元")
                    ok = False
        aid = r.get("agreement_id") or None
        parties = all_parties
        if aid is not None:
            if aid not in by_id:
                pc.add("UNKNOWN_AGREEMENT", "the payment names an agreement that is not being settled", file=file,
                       row=row, column="agreement_id", value=aid, expected="one of " + ", ".join(sorted(by_id)))
                ok = False
            else:
                parties = {p.id: p.name for p in by_id[aid].parties}
        for col in ("payer", "payee"):
            pid = r.get(col)
            if pid and pid not in parties:
                near = near_matches(pid, parties)
                pc.add("UNKNOWN_PARTY", f"the {col} is not a party of the agreement"
                       + (f" '{aid}'" if aid else "s") + (f"; did you mean {', '.join(near)}?" if near else ""),
                       file=file, row=row, column=col, value=pid,
                       expected="a party code of the agreement: " + ", ".join(sorted(parties)))
                ok = False
        if ok and amount is not None:
            out.append({"date": iso, "payer": r["payer"], "payee": r["payee"], "amount_cny": to_fen(amount),
                        "agreement_id": aid, "row": row})
    pc.raise_if_any()
    return pl.DataFrame(out, schema={"date": pl.Utf8, "payer": pl.Utf8, "payee": pl.Utf8, "amount_cny": MONEY_DTYPE,
                                     "agreement_id": pl.Utf8, "row": pl.Int64}, orient="row")
