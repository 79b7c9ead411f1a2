"""What a finance bureau files: names next to codes, nets by year, who pays whom, due dates, 清算单.

Pure functions on the settlement tables (no I/O; docs/compensation.md §What a bureau files):

* ``party_names`` — the name of every party: the region registry's name for a region code,
  else the name the agreement gives (funds, ministries: 赤水河流域横向补偿资金, 财政部).
* ``named_ledger`` / ``named_net`` — the ledger and net tables with ``payer_name`` /
  ``payee_name`` / ``party_name`` next to the codes and the money also in 万元.
* ``net_by_year`` — party × year nets beside the term total (``year = "合计"``).
* ``instructions`` — settlement instructions after netting: per agreement and year, who pays
  whom how much, directly party to party even when the money passes through a pooled fund
  (the pool nets to zero every period and is left out; it is named in ``via``); money is
  netted between the same two parties only (earmarked money is not passed on).
* ``payment_status`` — given a payments table (date, payer, payee, amount), paid / outstanding /
  overdue per instruction, payments applied to the instructions between the same two parties in
  order of due date (oldest first).
* ``settlement_sheets`` — one 清算单 per agreement and year as text lines, ready to print.

Money stays exact: amounts are Decimal fen; 万元 = 元 / 10 000 (six decimals, exact).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import polars as pl

from gep.compensation.agreement import Agreement
from gep.compensation.money import MONEY_DTYPE

WAN_DTYPE = pl.Decimal(38, 6)
TOTAL_YEAR = "合计"
ZERO = Decimal("0.00")

INSTRUCTION_SCHEMA: dict[str, pl.DataType] = {
    "agreement_id": pl.Utf8(), "year": pl.Utf8(), "line": pl.Int64(),
    "payer": pl.Utf8(), "payer_name": pl.Utf8(), "payee": pl.Utf8(), "payee_name": pl.Utf8(),
    "amount_cny": MONEY_DTYPE, "amount_wan": WAN_DTYPE, "via": pl.Utf8(), "due_date": pl.Utf8(),
}
STATUS_SCHEMA: dict[str, pl.DataType] = {
    **INSTRUCTION_SCHEMA, "paid_cny": MONEY_DTYPE, "outstanding_cny": MONEY_DTYPE, "status": pl.Utf8(),
    "as_of": pl.Utf8(),
}


def wan(amount: Decimal) -> Decimal:
    """元 → 万元, exact (a fen amount has at most six decimals in 万元)."""
    return (amount / Decimal(10000)).quantize(Decimal("0.000001"))


def party_names(agreements: Sequence[Agreement], region_name: Callable[[str], str | None] | None = None
                ) -> dict[tuple[str, str], str]:
    """(agreement_id, party) → name: the registry's name for a region code, else the agreement's name, else the id."""
    out: dict[tuple[str, str], str] = {}
    for a in agreements:
        for p in a.parties:
            name = region_name(p.id) if region_name is not None and p.kind in (
                "county", "prefecture", "province") else None
            out[(a.id, p.id)] = name or (p.name if p.name else p.id)
    return out


def _name_col(df: pl.DataFrame, names: dict[tuple[str, str], str], col: str, alias: str) -> pl.Series:
    return pl.Series(alias, [names.get((a, x), x) for a, x in df.select("agreement_id", col).rows()], dtype=pl.Utf8)


def named_ledger(ledger: pl.DataFrame, names: dict[tuple[str, str], str]) -> pl.DataFrame:
    """Ledger with payer_name, payee_name next to the codes and amount_wan (万元) next to amount_cny."""
    cols = ledger.columns
    out = ledger.with_columns(
        _name_col(ledger, names, "payer", "payer_name"), _name_col(ledger, names, "payee", "payee_name"),
        (pl.col("amount_cny").cast(WAN_DTYPE) / 10000).cast(WAN_DTYPE).alias("amount_wan"),
    )
    order = []
    for c in cols:
        order.append(c)
        if c in ("payer", "payee"):
            order.append(f"{c}_name")
        if c == "amount_cny":
            order.append("amount_wan")
    return out.select(order)


def named_net(net: pl.DataFrame, names: dict[tuple[str, str], str]) -> pl.DataFrame:
    """Net table with party_name after party and net_wan (万元) after net_cny."""
    out = net.with_columns(
        _name_col(net, names, "party", "party_name"),
        (pl.col("net_cny").cast(WAN_DTYPE) / 10000).cast(WAN_DTYPE).alias("net_wan"),
    )
    order = ["agreement_id", "party", "party_name", "paid_cny", "received_cny", "net_cny", "net_wan"]
    return out.select(order + [c for c in out.columns if c not in order])


def net_by_year(ledger: pl.DataFrame, agreements: Sequence[Agreement], names: dict[tuple[str, str], str]
                ) -> pl.DataFrame:
    """Party × year: paid, received, net (元 and 万元) per year of every agreement, and the term total (year 合计)."""
    rows: list[dict[str, object]] = []
    for a in agreements:
        lines = ledger.filter(pl.col("agreement_id") == a.id)
        years = sorted({str(p)[:4] for p in lines.get_column("period").to_list()})
        for year in [*years, TOTAL_YEAR]:
            sub = lines if year == TOTAL_YEAR else lines.filter(pl.col("period").str.slice(0, 4) == year)
            for party in a.party_ids:
                paid = sum(sub.filter(pl.col("payer") == party).get_column("amount_cny").to_list(), ZERO)
                received = sum(sub.filter(pl.col("payee") == party).get_column("amount_cny").to_list(), ZERO)
                kind = next(p.kind for p in a.parties if p.id == party)
                rows.append({"agreement_id": a.id, "year": year, "party": party,
                             "party_name": names.get((a.id, party), party), "party_kind": kind,
                             "paid_cny": paid, "received_cny": received, "net_cny": received - paid,
                             "net_wan": wan(received - paid)})
    schema = {"agreement_id": pl.Utf8, "year": pl.Utf8, "party": pl.Utf8, "party_name": pl.Utf8,
              "party_kind": pl.Utf8, "paid_cny": MONEY_DTYPE, "received_cny": MONEY_DTYPE, "net_cny": MONEY_DTYPE,
              "net_wan": WAN_DTYPE}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _match(debts: list[list[object]], creds: list[list[object]]) -> list[tuple[str, str, Decimal]]:
    """Greedy match of debtors to creditors, largest first (ties: code): (payer, payee, amount)."""
    debts = sorted(debts, key=lambda x: (-x[0], x[1]))  # type: ignore[operator]
    creds = sorted(creds, key=lambda x: (-x[0], x[1]))  # type: ignore[operator]
    out: list[tuple[str, str, Decimal]] = []
    i = j = 0
    while i < len(debts) and j < len(creds):
        amount = min(debts[i][0], creds[j][0])  # type: ignore[type-var]
        out.append((str(debts[i][1]), str(creds[j][1]), amount))  # type: ignore[arg-type]
        debts[i][0] -= amount  # type: ignore[operator]
        creds[j][0] -= amount  # type: ignore[operator]
        if debts[i][0] == 0:
            i += 1
        if creds[j][0] == 0:
            j += 1
    return out


def instructions(ledger: pl.DataFrame, agreements: Sequence[Agreement], names: dict[tuple[str, str], str]
                 ) -> pl.DataFrame:
    """Who pays whom how much per agreement and year, after netting.

    Money is netted only between the same two parties, because it is earmarked (a central
    grant to the upstream province is not paid on to a third party). Money booked through a
    pooled fund is paid party to party: each party's net with the pool in that year
    (allocations − contributions) is matched, largest debtor to largest creditor (ties: party
    code), and those flows are netted with the direct lines of the same two parties; ``via``
    names the pool. The pool nets to 0.00 every period, so it never appears as payer or payee.
    """
    rows: list[dict[str, object]] = []
    for a in agreements:
        pools = {p.id for p in a.parties if p.kind == "pool"}
        via_name = ", ".join(names.get((a.id, p), p) for p in sorted(pools))
        lines = ledger.filter(pl.col("agreement_id") == a.id)
        years = sorted({str(p)[:4] for p in lines.get_column("period").to_list()})
        for year in years:
            ys = lines.filter(pl.col("period").str.slice(0, 4) == year)
            pair: dict[tuple[str, str], Decimal] = {}
            through_pool: set[tuple[str, str]] = set()
            pool_net: dict[str, Decimal] = {}

            def add(payer: str, payee: str, amount: Decimal) -> None:
                x, y = sorted((payer, payee))
                pair[(x, y)] = pair.get((x, y), ZERO) + (amount if payer == x else -amount)

            for payer, payee, amount in ys.select("payer", "payee", "amount_cny").rows():
                if payer in pools and payee in pools:
                    continue
                if payee in pools:
                    pool_net[payer] = pool_net.get(payer, ZERO) - amount
                elif payer in pools:
                    pool_net[payee] = pool_net.get(payee, ZERO) + amount
                else:
                    add(payer, payee, amount)
            debts = [[-n, p] for p, n in pool_net.items() if n < 0]
            creds = [[n, p] for p, n in pool_net.items() if n > 0]
            for payer, payee, amount in _match(debts, creds):
                add(payer, payee, amount)
                through_pool.add(tuple(sorted((payer, payee))))  # type: ignore[arg-type]
            line = 0
            for (x, y), flow in sorted(pair.items()):
                if flow == 0:
                    continue
                payer, payee = (x, y) if flow > 0 else (y, x)
                line += 1
                amount = abs(flow)
                rows.append({"agreement_id": a.id, "year": year, "line": line,
                             "payer": payer, "payer_name": names.get((a.id, payer), payer),
                             "payee": payee, "payee_name": names.get((a.id, payee), payee),
                             "amount_cny": amount, "amount_wan": wan(amount),
                             "via": via_name if (x, y) in through_pool else "",
                             "due_date": a.payment.due(year) if a.payment else ""})
    return pl.DataFrame(rows, schema=INSTRUCTION_SCHEMA, orient="row")


def payment_status(instr: pl.DataFrame, payments: pl.DataFrame | None, as_of: str | None,
                   unmatched: list[tuple[int, Decimal]] | None = None) -> pl.DataFrame:
    """Instructions with paid_cny, outstanding_cny and status (paid | outstanding | overdue | not due).

    ``payments``: date (YYYY-MM-DD), payer, payee, amount_cny (Decimal), optional agreement_id.
    A payment is applied to the open instructions between the same payer and payee (of its
    agreement when given) in order of due date, then year. ``as_of`` (YYYY-MM-DD) decides
    overdue: an instruction with money outstanding after its due date. Without a payments
    table every instruction is outstanding. Money of a payment that no open instruction takes
    (paid twice, too much, or in the wrong direction) is appended to ``unmatched`` as
    (spreadsheet row, amount) so the caller can report it; it is never dropped silently.
    """
    rows = [dict(r) for r in instr.iter_rows(named=True)]
    for r in rows:
        r["paid_cny"] = ZERO
    if payments is not None:
        for p in payments.sort("date", maintain_order=True).iter_rows(named=True):
            left = Decimal(str(p["amount_cny"]))
            aid = p.get("agreement_id")
            open_rows = sorted(
                (r for r in rows if r["payer"] == p["payer"] and r["payee"] == p["payee"]
                 and (not aid or r["agreement_id"] == aid)),
                key=lambda r: (r["due_date"] or "9999", r["year"], r["agreement_id"], r["line"]))
            for r in open_rows:
                if left <= 0:
                    break
                take = min(left, r["amount_cny"] - r["paid_cny"])
                if take > 0:
                    r["paid_cny"] += take
                    left -= take
            if left > 0 and unmatched is not None:
                unmatched.append((int(p.get("row") or 0), left))
    for r in rows:
        r["as_of"] = as_of or ""
        r["outstanding_cny"] = r["amount_cny"] - r["paid_cny"]
        if r["outstanding_cny"] == 0:
            r["status"] = "paid"
        elif as_of and r["due_date"] and r["due_date"] < as_of:
            r["status"] = "overdue"
        elif as_of and r["due_date"]:
            r["status"] = "not due"
        else:
            r["status"] = "outstanding"
    return pl.DataFrame(rows, schema=STATUS_SCHEMA, orient="row")


def _money(x: Decimal) -> str:
    return f"{x:,.2f}"


def settlement_sheets(agreements: Sequence[Agreement], ledger: pl.DataFrame, by_year: pl.DataFrame,
                      status: pl.DataFrame) -> pl.DataFrame:
    """One 清算单 per agreement and year as text lines (agreement_id, year, line_no, text)."""
    out: list[tuple[str, str, int, str]] = []
    for a in agreements:
        years = [y for y in dict.fromkeys(by_year.filter(pl.col("agreement_id") == a.id).get_column("year").to_list())
                 if y != TOTAL_YEAR]
        for year in years:
            lines: list[str] = []
            lines.append(f"{a.title} — {year}年度 清算单 (Settlement sheet)")
            lines.append(f"协议 Agreement: {a.id}    方法 Method: {a.method}    结算周期 Period: {a.period}")
            lines.append("")
            lines.append("一、台账 Ledger lines (元)")
            lg = ledger.filter((pl.col("agreement_id") == a.id) & (pl.col("period").str.slice(0, 4) == year))
            for r in lg.iter_rows(named=True):
                sec = f" {r['section_id']}" if r.get("section_id") else ""
                lines.append(f"  {r['period']}{sec} {r['rule']}: {r['payer_name']} ({r['payer']}) → "
                             f"{r['payee_name']} ({r['payee']})  {_money(r['amount_cny'])} 元")
            if lg.height == 0:
                lines.append("  (无 none)")
            lines.append("")
            lines.append("二、净额 Net per party (元 / 万元)")
            ny = by_year.filter((pl.col("agreement_id") == a.id) & (pl.col("year") == year))
            total = ZERO
            for r in ny.iter_rows(named=True):
                total += r["net_cny"]
                lines.append(f"  {r['party_name']} ({r['party']}): 付 {_money(r['paid_cny'])}  收 "
                             f"{_money(r['received_cny'])}  净 {_money(r['net_cny'])} 元 = {r['net_wan']:,.4f} 万元")
            lines.append(f"  合计 Σ net = {_money(total)} 元")
            lines.append("")
            lines.append("三、支付指令 Payment instructions (after netting; party to party)")
            st = status.filter((pl.col("agreement_id") == a.id) & (pl.col("year") == year))
            as_of = next((x for x in st.get_column("as_of").to_list() if x), "")
            if as_of:
                lines.append(f"  状态截至 Status as of {as_of} (payments table)")
            for r in st.iter_rows(named=True):
                via = f", 经 via {r['via']}" if r["via"] else ""
                due = f", 到期 due {r['due_date']}" if r["due_date"] else ", 到期日协议未约定 due date not stated"
                lines.append(f"  {r['line']}. {r['payer_name']} ({r['payer']}) 支付 pays {r['payee_name']} "
                             f"({r['payee']}) {_money(r['amount_cny'])} 元 ({r['amount_wan']:,.4f} 万元){via}{due}; "
                             f"已付 paid {_money(r['paid_cny'])}, 未付 outstanding {_money(r['outstanding_cny'])} "
                             f"[{r['status']}]")
            if st.height == 0:
                lines.append("  (无资金往来 no money changes hands)")
            moved = sum(st.get_column("amount_cny").to_list(), ZERO)
            lines.append(f"  实际资金往来 Money changing hands: {_money(moved)} 元 ({wan(moved):,.4f} 万元)")
            flags = a.unverified()
            if flags:
                lines.append("")
                lines.append("注 Note: 未核实或默认参数 unverified or defaulted parameters: " + ", ".join(flags))
            lines.append("")
            lines.append("经办人 Prepared by: ________    复核人 Checked by: ________    日期 Date: ________")
            out.extend((a.id, year, i + 1, text) for i, text in enumerate(lines))
    return pl.DataFrame(out, schema={"agreement_id": pl.Utf8, "year": pl.Utf8, "line_no": pl.Int64, "text": pl.Utf8},
                        orient="row")
