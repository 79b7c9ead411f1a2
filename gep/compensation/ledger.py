"""The compensation ledger: legs of money split to the fen, double entry, net per party.

A *leg* is one money movement decided by a settlement rule (e.g. "section TJ03,
March, NH3-N 赔偿金"), possibly split among several payers (shares φ) and payees
(shares ψ). ``legs_to_ledger`` rounds each leg total once to the fen and splits it
into ledger lines by the largest-remainder rule (gep.compensation.money, rounding
rules 2–4 in docs/compensation.md §Rounding); ``net_table`` sums the lines per party.

Every ledger line moves money from a payer to a payee, so the sum of
``net_cny`` over all parties of an agreement is exactly zero by construction
(double entry); pool funds are legs whose rounded totals are the same on the way
in and on the way out, so the pool party nets to exactly zero too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from gep.compensation.money import CONTEXT, MONEY_DTYPE, fmt, split_to_fen, to_fen

LEDGER_COLUMNS = ["agreement_id", "period", "section_id", "payer", "payee", "amount_cny", "rule", "basis"]
NET_COLUMNS = ["agreement_id", "party", "paid_cny", "received_cny", "net_cny"]

LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Utf8(),
    "period": pl.Utf8(),
    "section_id": pl.Utf8(),
    "payer": pl.Utf8(),
    "payee": pl.Utf8(),
    "amount_cny": MONEY_DTYPE,
    "rule": pl.Utf8(),
    "basis": pl.Utf8(),
}
NET_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Utf8(),
    "party": pl.Utf8(),
    "paid_cny": MONEY_DTYPE,
    "received_cny": MONEY_DTYPE,
    "net_cny": MONEY_DTYPE,
}


@dataclass(frozen=True)
class Leg:
    """One money movement decided by a rule, before splitting and rounding.

    ``amount_cny`` is exact (not rounded) and >= 0; ``payers``/``payees`` are
    (party id, share) with shares summing to 1 on each side.
    """

    agreement_id: str
    period: str
    section_id: str | None
    rule: str
    amount_cny: Decimal
    payers: tuple[tuple[str, Decimal], ...]
    payees: tuple[tuple[str, Decimal], ...]
    basis: str


def legs_to_ledger(legs: Iterable[Leg], netting: dict[str, str] | None = None) -> pl.DataFrame:
    """Split each leg into payer × payee lines rounded to the fen (rule in the module docstring).

    ``netting`` maps agreement_id -> "gross" (default) or "pairwise" (lines of one
    period between the same two parties are netted into one line, rule "NET").
    Lines that round to 0.00 and lines with payer == payee are dropped.
    """
    rows: list[dict[str, object]] = []
    for leg in legs:
        total = to_fen(leg.amount_cny)
        if total == 0:
            continue
        pairs = [
            (p, q, CONTEXT.multiply(ps, qs))
            for p, ps in leg.payers
            for q, qs in leg.payees
        ]
        if not pairs:  # engine bug: validation guarantees a payer and a payee on every leg
            raise RuntimeError(f"leg without payer or payee: {leg}")
        parts = split_to_fen(total, [w for _, _, w in pairs])
        for (p, q, w), part in zip(pairs, parts, strict=True):
            if part == 0 or p == q:
                continue
            basis = leg.basis if w == 1 else f"{leg.basis}; line share {fmt(w)} of {total} CNY"
            rows.append(
                {
                    "agreement_id": leg.agreement_id,
                    "period": leg.period,
                    "section_id": leg.section_id,
                    "payer": p,
                    "payee": q,
                    "amount_cny": part,
                    "rule": leg.rule,
                    "basis": basis,
                }
            )
    if netting:
        rows = _net_pairwise(rows, netting)
    return pl.DataFrame(rows, schema=LEDGER_SCHEMA, orient="row") if rows else pl.DataFrame(schema=LEDGER_SCHEMA)


def _net_pairwise(rows: list[dict[str, object]], netting: dict[str, str]) -> list[dict[str, object]]:
    """Net already-rounded lines per (agreement, period, unordered party pair); keeps first-seen order."""
    out: list[dict[str, object]] = []
    groups: dict[tuple[str, str, str, str], list[dict[str, object]]] = {}
    order: list[tuple[str, str, str, str]] = []
    for r in rows:
        if netting.get(str(r["agreement_id"]), "gross") != "pairwise":
            out.append(r)
            continue
        a, b = sorted((str(r["payer"]), str(r["payee"])))
        key = (str(r["agreement_id"]), str(r["period"]), a, b)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(r)
    for key in order:
        agreement_id, period, a, b = key
        lines = groups[key]
        flow_a_to_b = sum(
            (Decimal(str(r["amount_cny"])) * (1 if r["payer"] == a else -1) for r in lines), Decimal(0)
        )
        if flow_a_to_b == 0:
            continue
        payer, payee = (a, b) if flow_a_to_b > 0 else (b, a)
        sections = sorted({str(r["section_id"]) for r in lines if r["section_id"] is not None})
        out.append(
            {
                "agreement_id": agreement_id,
                "period": period,
                "section_id": ",".join(sections) if sections else None,
                "payer": payer,
                "payee": payee,
                "amount_cny": abs(flow_a_to_b),
                "rule": "NET",
                "basis": "pairwise net of "
                + "; ".join(f"{r['rule']} {r['section_id']} {r['payer']}→{r['payee']} {r['amount_cny']}" for r in lines),
            }
        )
    return out


def net_table(ledger: pl.DataFrame, parties: dict[str, list[str]]) -> pl.DataFrame:
    """Per agreement and party: paid_cny, received_cny, net_cny = received − paid (exact fen sums).

    ``parties`` maps agreement_id -> every party of that agreement, so parties with
    no ledger line still appear with zeros. Sorted by agreement_id, party.
    """
    paid = ledger.group_by("agreement_id", "payer").agg(pl.col("amount_cny").sum().alias("paid_cny")).rename(
        {"payer": "party"}
    )
    received = ledger.group_by("agreement_id", "payee").agg(
        pl.col("amount_cny").sum().alias("received_cny")
    ).rename({"payee": "party"})
    base_rows = [(a, p) for a, ps in parties.items() for p in ps]
    base = pl.DataFrame(base_rows, schema={"agreement_id": pl.Utf8, "party": pl.Utf8}, orient="row")
    seen = pl.concat([paid.select("agreement_id", "party"), received.select("agreement_id", "party"), base]).unique()
    zero = pl.lit(Decimal("0.00")).cast(MONEY_DTYPE)
    out = (
        seen.join(paid, on=["agreement_id", "party"], how="left")
        .join(received, on=["agreement_id", "party"], how="left")
        .with_columns(
            pl.col("paid_cny").cast(MONEY_DTYPE).fill_null(zero),
            pl.col("received_cny").cast(MONEY_DTYPE).fill_null(zero),
        )
        .with_columns((pl.col("received_cny") - pl.col("paid_cny")).cast(MONEY_DTYPE).alias("net_cny"))
        .select(NET_COLUMNS)
        .sort("agreement_id", "party")
    )
    return out
