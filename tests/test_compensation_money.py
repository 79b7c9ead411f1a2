"""Rounding to the fen and ledger balance, including a hypothesis property test over random agreements and data."""

from __future__ import annotations

import random
from decimal import Decimal

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gep.compensation.agreement import parse_agreement
from gep.compensation.ledger import Leg, legs_to_ledger, net_table
from gep.compensation.money import split_to_fen, to_fen
from gep.compensation.monitoring import validate_monitoring
from gep.compensation.settlement import settle

D = Decimal


def test_half_up_to_the_fen() -> None:
    # float 2.675 is 2.67499999…; exact decimals round half up as a finance bureau expects
    assert to_fen(D("2.675")) == D("2.68")
    assert to_fen(D("0.005")) == D("0.01")
    assert to_fen(D("0.00499999")) == D("0.00")
    assert to_fen(D("-1.005")) == D("-1.01")


def test_largest_remainder_split() -> None:
    # 100.00 by 1/3 shares: exact 33.3333, 33.3333, 33.3334 → floors 33.33 ×3 = 99.99; the missing fen goes to the
    # largest remainder (the third, .0034) → 33.33, 33.33, 33.34
    assert split_to_fen(D("100.00"), [D("0.333333"), D("0.333333"), D("0.333334")]) == [D("33.33"), D("33.33"), D("33.34")]
    # ties go to the earlier line: 0.01 split 50/50 → 0.01, 0.00
    assert split_to_fen(D("0.01"), [D("0.5"), D("0.5")]) == [D("0.01"), D("0.00")]


def test_leg_rounded_once_then_split() -> None:
    # leg 10.005 → 10.01 (half up); split 0.5/0.5 → 5.01 + 5.00 (not 5.00 + 5.00 from rounding 5.0025 twice)
    leg = Leg("a", "2024", "S", "R", D("10.005"), (("U", D(1)),), (("X", D("0.5")), ("Y", D("0.5"))), "b")
    ledger = legs_to_ledger([leg])
    assert ledger["amount_cny"].to_list() == [D("5.01"), D("5.00")]
    net = net_table(ledger, {"a": ["U", "X", "Y", "Z"]})
    assert net.rows() == [
        ("a", "U", D("10.01"), D("0.00"), D("-10.01")),
        ("a", "X", D("0.00"), D("5.01"), D("5.01")),
        ("a", "Y", D("0.00"), D("5.00"), D("5.00")),
        ("a", "Z", D("0.00"), D("0.00"), D("0.00")),
    ]


@given(
    total=st.decimals(min_value=0, max_value=D("1e10"), places=2),
    weights=st.lists(st.integers(min_value=1, max_value=1000), min_size=1, max_size=6),
)
def test_split_sums_exactly(total: Decimal, weights: list[int]) -> None:
    s = sum(weights)
    parts = split_to_fen(total, [D(w) / D(s) for w in weights])
    assert sum(parts, D(0)) == total
    assert all(abs(p - total * w / s) < D("0.01") for p, w in zip(parts, weights, strict=True))


# ---------------------------------------------------------------- property test over random agreements
def _shares(rnd: list[int]) -> list[str]:
    tot = sum(rnd)
    raw = [D(x) / D(tot) for x in rnd]
    q = [r.quantize(D("0.0001")) for r in raw[:-1]]
    return [str(x) for x in q] + [str(D(1) - sum(q, D(0)))]


@st.composite
def scenario(draw: st.DrawFn) -> tuple[str, pl.DataFrame]:
    method = draw(st.sampled_from(["index_bet", "pool", "fixed_per_section", "load_price"]))
    n = draw(st.integers(min_value=2, max_value=5))
    parties = [f"P{i}" for i in range(n)] + ["PROV", "FUND"]
    lines = [f'id = "r"\nmethod = "{method}"\nperiod = "month"\nstart = "2024-01"\nend = "2024-02"',
             'netting = "' + draw(st.sampled_from(["gross", "pairwise"])) + '"',
             'attribution = "' + draw(st.sampled_from(["own_outflow", "inflow_change"])) + '"']
    for p in parties:
        lines.append(f'[[parties]]\nid = "{p}"\nkind = "external"')
    sections = []
    for i in range(n - 1):
        k_up = draw(st.integers(min_value=1, max_value=min(2, i + 1)))
        ups = parties[i + 1 - k_up: i + 1]
        su = _shares(draw(st.lists(st.integers(1, 9), min_size=k_up, max_size=k_up)))
        up = ", ".join(f'{{ party = "{p}", share = {s} }}' for p, s in zip(ups, su, strict=True))
        sid = f"S{i}"
        inflow = f'\ninflow_section = "S{i - 1}"' if i > 0 else ""
        lines.append(f'[[sections]]\nid = "{sid}"\nupstream = [{up}]\ndownstream = "{parties[i + 1]}"{inflow}')
        sections.append(sid)
    inds = ["CODMn", "NH3-N", "TP"]
    for ind in inds:
        lines.append(f'[[indicators]]\nname = "{ind}"\ntarget_class = "III"')
    amt = draw(st.decimals(min_value=1, max_value=D("1e8"), places=2))
    if method == "index_bet":
        lines.append(f'[index_bet]\nsection = "S0"\nk0 = 0.9\nweights = {{ CODMn = 0.3, "NH3-N" = 0.3, TP = 0.4 }}\n'
                     f'baselines_mg_l = {{ CODMn = 4, "NH3-N" = 0.8, TP = 0.15 }}\n'
                     f'[[index_bet.tiers]]\np_at_most = 1\npayer = "downstream"\npayee = "upstream"\namount_cny = "{amt}"\n'
                     f'[[index_bet.tiers]]\np_above = 1\npayer = "upstream"\npayee = "PROV"\namount_cny = "{amt}"')
    elif method == "pool":
        c = ", ".join(f'{p} = {draw(st.integers(1, 9))}' for p in parties[:n])
        a = ", ".join(f'{p} = {draw(st.integers(1, 9))}' for p in parties[:n])
        comp = draw(st.sampled_from(["binary", "share_of_indicators", "share_of_months"]))
        lines.append(f'[pool]\npool_party = "FUND"\nfund_cny = "{amt}"\ncontributions = {{ {c} }}\nallocations = {{ {a} }}\n'
                     f'compliance = "{comp}"\nsection_weights = {{ S0 = 0.7 }}')
    elif method == "fixed_per_section":
        lines.append(f'[fixed_per_section]\namount_met_improved_cny = "{amt}"\namount_met_declined_cny = 3333.33\n'
                     f'amount_not_met_cny = 10000.01\nper_pp_improvement_cny = 40000\nper_pp_deterioration_cny = 50000\n'
                     f'pp_counterparty = "PROV"')
    else:
        mode = draw(st.sampled_from(["load", "exceedance_multiple"]))
        lines.append(f'[load_price]\nmode = "{mode}"\n'
                     'penalty_prices_cny_per_t = { CODMn = 15000, "NH3-N" = 100000, TP = 100000 }\n'
                     'improvement_prices_cny_per_t = { CODMn = 1500, "NH3-N" = 10000, TP = 10000.01 }\n'
                     'exceedance_base_cny = { CODMn = 333333.33, TP = 1000000 }\n'
                     'improvement_payer = "' + draw(st.sampled_from(["downstream", "PROV"])) + '"')
    rows = []
    rng = random.Random(draw(st.integers(min_value=0, max_value=2**32)))  # data from one drawn seed (fast)
    for s in sections:
        for month in ("2023-01", "2023-02", "2024-01", "2024-02"):
            for ind in inds:
                rows.append((s, f"{month}-10", ind, f"{rng.uniform(0.01, 9):.3f}", f"{rng.uniform(0.5, 900):.1f}"))
    mon = pl.DataFrame(rows, schema=["section_id", "date", "indicator", "concentration_mg_l", "flow_m3s"], orient="row")
    return "\n".join(lines) + "\n", mon


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_every_random_agreement_balances_to_the_fen(sc: tuple[str, pl.DataFrame]) -> None:
    text, raw = sc
    a = parse_agreement(text)
    r = settle([a], validate_monitoring(raw, "random.csv"))
    led = r.ledger
    assert led["amount_cny"].dtype == pl.Decimal(38, 2)
    assert all(x > 0 for x in led["amount_cny"].to_list())
    assert (led["payer"] != led["payee"]).all()
    # exact double entry: Σ net over all parties (externals included) is zero; paid == received in total
    assert sum(r.net["net_cny"].to_list(), D(0)) == 0
    assert sum(r.net["paid_cny"].to_list(), D(0)) == sum(r.net["received_cny"].to_list(), D(0))
    if a.method == "pool" and a.netting == "gross":
        fund = r.net.filter(pl.col("party") == "FUND").row(0, named=True)
        assert fund["net_cny"] == 0 and fund["paid_cny"] == to_fen(a.params.fund_cny) * 2  # two monthly periods
