"""gep.compensation.filing: instructions reproduce every party's net per year, exactly (property test)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from gep.compensation.agreement import parse_agreement
from gep.compensation.filing import instructions, net_by_year, party_names, payment_status
from gep.compensation.ledger import LEDGER_SCHEMA
from hypothesis import given, settings
from hypothesis import strategies as st

AGREEMENT = """
id = "p"
method = "pool"
period = "year"
start = "2020"
end = "2021"
averaging = "arithmetic_mean"
[[parties]]
id = "A"
name = "甲县"
kind = "external"
[[parties]]
id = "B"
name = "乙县"
kind = "external"
[[parties]]
id = "C"
name = "丙县"
kind = "external"
[[parties]]
id = "F"
name = "资金池"
kind = "pool"
[[sections]]
id = "S"
upstream = "A"
downstream = "B"
[[indicators]]
name = "TP"
standard_mg_l = 0.1
[pool]
pool_party = "F"
fund_cny = 100
contributions = { A = 1, B = 1, C = 1 }
allocations = { A = 1, B = 1, C = 1 }
compliance = "binary"
deduction_base = "fund"
section_weights = { S = 1 }
[payment]
due = "03-31"
years_after_period = 1
"""
AGR = parse_agreement(AGREEMENT)
PARTIES = ["A", "B", "C"]
fen = st.integers(min_value=1, max_value=10_000_000).map(lambda n: Decimal(n) / 100)


@st.composite
def ledgers(draw: st.DrawFn) -> pl.DataFrame:
    rows = []
    for year in ("2020", "2021"):
        ins = draw(st.lists(st.tuples(st.sampled_from(PARTIES), fen), min_size=0, max_size=4))
        for p, amt in ins:  # contributions into the pool, then the same total out again
            rows.append(("p", year, None, p, "F", amt, "M2_contribution", ""))
        total = sum((a for _, a in ins), Decimal(0))
        if total:
            outs = draw(st.lists(st.sampled_from(PARTIES), min_size=1, max_size=3))
            share = (total / len(outs)).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
            parts = [share] * len(outs)
            parts[0] += total - sum(parts)
            rows += [("p", year, None, "F", q, a, "M2_allocation", "") for q, a in zip(outs, parts, strict=True)]
        direct = draw(st.lists(st.tuples(st.sampled_from(PARTIES), st.sampled_from(PARTIES), fen), max_size=5))
        rows += [("p", year, "S", a, b, x, "M2_deduction", "") for a, b, x in direct if a != b]
    return pl.DataFrame(rows, schema=LEDGER_SCHEMA, orient="row")


@settings(max_examples=150, deadline=None)
@given(ledgers())
def test_instructions_reproduce_nets_and_never_name_the_pool(ledger: pl.DataFrame) -> None:
    names = party_names([AGR])
    by_year = net_by_year(ledger, [AGR], names)
    instr = instructions(ledger, [AGR], names)
    assert "F" not in set(instr["payer"].to_list()) | set(instr["payee"].to_list())
    for year in ("2020", "2021"):
        ys = by_year.filter(pl.col("year") == year)
        assert sum(ys["net_cny"].to_list(), Decimal(0)) == Decimal("0.00")
        iy = instr.filter(pl.col("year") == year)
        for party, net in ys.select("party", "net_cny").rows():
            got = sum(iy.filter(pl.col("payee") == party)["amount_cny"].to_list(), Decimal(0)) - sum(
                iy.filter(pl.col("payer") == party)["amount_cny"].to_list(), Decimal(0))
            assert got == (net if party != "F" else 0)
        assert all(a > 0 for a in iy["amount_cny"].to_list())
        assert set(iy["due_date"].to_list()) <= {f"{int(year) + 1}-03-31"}
    status = payment_status(instr, None, None)
    assert status["outstanding_cny"].to_list() == status["amount_cny"].to_list()


def test_names_come_from_registry_then_agreement() -> None:
    names = party_names([AGR], lambda pid: {"A": "registry-A"}.get(pid))
    # only county/prefecture/province parties take the registry's name; these are external
    assert names[("p", "A")] == "甲县" and names[("p", "F")] == "资金池"
