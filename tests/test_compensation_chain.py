"""Multi-hop chains on the real Sichuan river graph: pairwise settlement, own_outflow vs inflow_change, exact balance.

Chains are built with gep.compensation.chain.chain_sections from gep.regions.load_registry("sichuan").river_edges().
"""

from __future__ import annotations

import json
import random
from decimal import Decimal

import polars as pl
import pytest
from gep.regions import load_registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gep.compensation.agreement import parse_agreement
from gep.compensation.chain import chain_sections, equal_shares
from gep.compensation.monitoring import validate_monitoring
from gep.compensation.settlement import settle

D = Decimal
REG = load_registry("sichuan")
KNOWN = set(REG.all_ids())
EDGES = REG.river_edges()
CHAINS = {
    river: secs
    for river in sorted(set(EDGES["river"].to_list()))
    if (secs := chain_sections(EDGES.filter(pl.col("river") == river), "S")).height >= 2
}
INDICATORS = ("CODMn", "NH3-N", "TP")
MONTHS = ("2023-01", "2023-02", "2024-01", "2024-02")


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def chain_agreement(secs: pl.DataFrame, method: str, attribution: str, netting: str = "gross",
                    amount: str = "1000000.01") -> str:
    """TOML of one agreement over consecutive chain sections; each section's inflow is the previous one it touches."""
    rows = list(secs.iter_rows(named=True))
    parties: list[str] = []
    for r in rows:
        for rid in r["upstream_ids"] + r["downstream_ids"]:
            if rid not in parties:
                parties.append(rid)
    out = [f'id = "chain"\nmethod = "{method}"\nperiod = "month"\nstart = "2024-01"\nend = "2024-02"',
           f'attribution = "{attribution}"\nnetting = "{netting}"']
    for p in parties:
        kind = "county" if p in KNOWN else "external"
        out.append(f'[[parties]]\nid = "{p}"\nkind = "{kind}"')
    out.append('[[parties]]\nid = "PROV"\nkind = "treasury"\n[[parties]]\nid = "FUND"\nkind = "pool"')
    prev: dict[str, object] | None = None
    for r in rows:
        ups = ", ".join(f'{{ party = "{p}", share = {s} }}' for p, s in zip(r["upstream_ids"], equal_shares(len(r["upstream_ids"])), strict=True))
        downs = ", ".join(f'{{ party = "{p}", share = {s} }}' for p, s in zip(r["downstream_ids"], equal_shares(len(r["downstream_ids"])), strict=True))
        inflow = ""
        if prev is not None and set(prev["downstream_ids"]) & set(r["upstream_ids"]):  # type: ignore[arg-type]
            inflow = f'\ninflow_section = "{prev["section_id"]}"'
        out.append(f'[[sections]]\nid = "{r["section_id"]}"\nriver = {_q(r["river"])}\nupstream = [{ups}]\ndownstream = [{downs}]{inflow}')
        prev = r
    for ind in INDICATORS:
        out.append(f'[[indicators]]\nname = "{ind}"\ntarget_class = "III"')
    first = rows[0]["section_id"]
    if method == "index_bet":
        out.append(f'[index_bet]\nsection = "{first}"\nk0 = 0.9\nweights = {{ CODMn = 0.3, "NH3-N" = 0.3, TP = 0.4 }}\n'
                   'baselines_mg_l = { CODMn = 4, "NH3-N" = 0.8, TP = 0.15 }\n'
                   f'[[index_bet.tiers]]\np_at_most = 1\npayer = "downstream"\npayee = "upstream"\namount_cny = "{amount}"\n'
                   f'[[index_bet.tiers]]\np_above = 1\npayer = "upstream"\npayee = "downstream"\namount_cny = "{amount}"')
    elif method == "pool":
        c = ", ".join(f'"{p}" = {i % 4 + 1}' for i, p in enumerate(parties))
        a = ", ".join(f'"{p}" = {(i * 7) % 5 + 1}' for i, p in enumerate(parties))
        out.append(f'[pool]\npool_party = "FUND"\nfund_cny = "{amount}"\ncontributions = {{ {c} }}\nallocations = {{ {a} }}\n'
                   'compliance = "share_of_indicators"')
    elif method == "fixed_per_section":
        out.append(f'[fixed_per_section]\namount_met_improved_cny = "{amount}"\namount_met_declined_cny = 333333.33\n'
                   'amount_not_met_cny = 1000000\nper_pp_improvement_cny = 40000\nper_pp_deterioration_cny = 50000\n'
                   'pp_counterparty = "PROV"')
    else:
        out.append('[load_price]\npenalty_prices_cny_per_t = { CODMn = 15000, "NH3-N" = 100000, TP = 100000 }\n'
                   'improvement_prices_cny_per_t = { CODMn = 1500, "NH3-N" = 10000, TP = 10000.01 }\n'
                   'improvement_payer = "downstream"')
    return "\n".join(out) + "\n"


def section_parties(secs: pl.DataFrame) -> dict[str, set[str]]:
    return {r["section_id"]: set(r["upstream_ids"]) | set(r["downstream_ids"]) for r in secs.iter_rows(named=True)}


# ---------------------------------------------------------------- hand-computed: 金堂 → 简阳 → 雁江 on the 沱江
TJ = CHAINS["沱江干流"].head(2)  # S01 金堂 510121 → 简阳 510185; S02 简阳 → 雁江区 512002 (资阳)


def _tj_data(c1: str, c2: str) -> pl.DataFrame:
    # one April sample per section, NH3-N only relevant (CODMn/TP at Class III exactly → no load either way)
    rows = []
    for sec, nh3 in (("S01", c1), ("S02", c2)):
        for ind, c in (("CODMn", "6"), ("NH3-N", nh3), ("TP", "0.2")):
            rows.append((sec, "2024-04-15", ind, c, "10"))
    return validate_monitoring(pl.DataFrame(rows, schema=["section_id", "date", "indicator", "concentration_mg_l", "flow_m3s"],
                                            orient="row"), "tj.csv")


def _tj_settle(attribution: str, c1: str, c2: str) -> dict[str, Decimal]:
    text = chain_agreement(TJ, "load_price", attribution).replace('start = "2024-01"\nend = "2024-02"',
                                                                   'start = "2024-04"\nend = "2024-04"')
    a = parse_agreement(text, known_regions=KNOWN)
    r = settle([a], _tj_data(c1, c2))
    assert sum(r.net["net_cny"].to_list(), D(0)) == 0
    return dict(zip(r.net["party"].to_list(), r.net["net_cny"].to_list(), strict=True))


def test_tuojiang_chain_comes_from_the_river_graph() -> None:
    assert TJ.select("section_id", "upstream_ids", "downstream_ids").rows() == [
        ("S01", ["510121"], ["510185"]), ("S02", ["510185"], ["512002"])]


def test_own_outflow_vs_inflow_change_hand_computed() -> None:
    # April: 30 d × 86,400 s × 10 m3/s = 25,920,000 m3; NH3-N standard 1.0 mg/L, 100,000 CNY/t penalty, 10,000 improvement
    # S01 1.2: (1.2 − 1.0) × 25.92e6 × 1e-6 = 5.184 t × 100,000 = 518,400.00 金堂 → 简阳 (both modes: S01 has no inflow)
    # S02 1.3, own_outflow: 7.776 t → 777,600.00 简阳 → 雁江; inflow_change: (1.3 − 1.2) → 2.592 t → 259,200.00
    own = _tj_settle("own_outflow", "1.2", "1.3")
    assert own == {"510121": D("-518400.00"), "510185": D("-259200.00"), "512002": D("777600.00"),
                   "PROV": D("0.00"), "FUND": D("0.00")}
    inc = _tj_settle("inflow_change", "1.2", "1.3")
    assert inc == {"510121": D("-518400.00"), "510185": D("259200.00"), "512002": D("259200.00"),
                   "PROV": D("0.00"), "FUND": D("0.00")}
    # 简阳 cleans the river (1.2 in, 1.1 out): own_outflow still fails the 1.0 target → pays 2.592 t × 100,000 =
    # 259,200.00; inflow_change rewards the −2.592 t improvement: 雁江 pays 简阳 2.592 × 10,000 = 25,920.00
    own = _tj_settle("own_outflow", "1.2", "1.1")
    assert (own["510185"], own["512002"]) == (D("518400.00") - D("259200.00"), D("259200.00"))
    inc = _tj_settle("inflow_change", "1.2", "1.1")
    assert (inc["510185"], inc["512002"]) == (D("518400.00") + D("25920.00"), D("-25920.00"))


# ---------------------------------------------------------------- property: random chains of the real graph
@st.composite
def chain_case(draw: st.DrawFn) -> tuple[pl.DataFrame, str, str, str, int]:
    river = draw(st.sampled_from(sorted(CHAINS)))
    secs = CHAINS[river]
    k = draw(st.integers(min_value=2, max_value=min(4, secs.height)))
    start = draw(st.integers(min_value=0, max_value=secs.height - k))
    method = draw(st.sampled_from(["index_bet", "pool", "fixed_per_section", "load_price"]))
    attribution = draw(st.sampled_from(["own_outflow", "inflow_change"]))
    netting = draw(st.sampled_from(["gross", "pairwise"]))
    return secs.slice(start, k), method, attribution, netting, draw(st.integers(0, 2**32))


def _random_data(secs: pl.DataFrame, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    rows = [(s, f"{m}-10", ind, f"{rng.uniform(0.01, 9):.3f}", f"{rng.uniform(0.5, 900):.1f}")
            for s in secs["section_id"] for m in MONTHS for ind in INDICATORS]
    return pl.DataFrame(rows, schema=["section_id", "date", "indicator", "concentration_mg_l", "flow_m3s"], orient="row")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chain_case())
def test_random_real_chains_balance_pairwise(case: tuple[pl.DataFrame, str, str, str, int]) -> None:
    secs, method, attribution, netting, seed = case
    counties = {p for ps in section_parties(secs).values() for p in ps}
    assert len(counties) >= 3  # at least three counties along the river
    a = parse_agreement(chain_agreement(secs, method, attribution, netting), known_regions=KNOWN)
    r = settle([a], validate_monitoring(_random_data(secs, seed), "random.csv"))
    # exact double entry per agreement, externals included
    assert sum(r.net["net_cny"].to_list(), D(0)) == 0
    assert sum(r.net["paid_cny"].to_list(), D(0)) == sum(r.net["received_cny"].to_list(), D(0))
    assert all(x > 0 for x in r.ledger["amount_cny"].to_list())
    # pairwise: a line on a section only moves money between that section's parties (or PROV/FUND), never A → C
    own = section_parties(secs)
    pairs = {frozenset((u, d)) for s in secs.iter_rows(named=True) for u in s["upstream_ids"] for d in s["downstream_ids"]}
    for line in r.ledger.iter_rows(named=True):
        ends = {line["payer"], line["payee"]}
        if ends & {"PROV", "FUND"}:
            continue
        if line["rule"] == "NET":
            assert frozenset(ends) in pairs
        else:
            assert ends <= own[line["section_id"]]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chain_case())
def test_pass_through_counties_owe_nothing_under_inflow_change(case: tuple[pl.DataFrame, str, str, str, int]) -> None:
    # the river passes every county unchanged (same samples at every section): under inflow_change a section with an
    # inflow section has C_out − C_in = 0 → no M4 load either way; own_outflow judges every section on the target
    secs, _, _, _, seed = case
    head = _random_data(secs.head(1), seed)
    data = pl.concat([head.with_columns(pl.lit(s).alias("section_id")) for s in secs["section_id"]])
    mon = validate_monitoring(data, "same.csv")
    inc = settle([parse_agreement(chain_agreement(secs, "load_price", "inflow_change"), known_regions=KNOWN)], mon)
    own = settle([parse_agreement(chain_agreement(secs, "load_price", "own_outflow"), known_regions=KNOWN)], mon)
    text = chain_agreement(secs, "load_price", "inflow_change")
    with_inflow = {blk.split('id = "')[1].split('"')[0] for blk in text.split("[[sections]]")[1:] if "inflow_section" in blk}
    assert not set(inc.ledger["section_id"].to_list()) & with_inflow
    # own_outflow: every section settles the same excess, so the same rounded amounts (sections of a border river
    # where one county is on both sides are left out: its share would be paid to itself and is not a ledger line)
    disjoint = [r["section_id"] for r in secs.iter_rows(named=True) if not set(r["upstream_ids"]) & set(r["downstream_ids"])]
    totals = {own.ledger.filter(pl.col("section_id") == s)["amount_cny"].sum() for s in disjoint}
    assert len(totals) <= 1
    assert sum(inc.net["net_cny"].to_list(), D(0)) == 0 and sum(own.net["net_cny"].to_list(), D(0)) == 0


@pytest.mark.parametrize("river", ["沱江干流", "岷江干流", "嘉陵江干流"])
def test_whole_main_stems_settle_balanced_in_both_modes(river: str) -> None:
    secs = CHAINS[river]
    data = validate_monitoring(_random_data(secs, 7), "stem.csv")
    for attribution in ("own_outflow", "inflow_change"):
        r = settle([parse_agreement(chain_agreement(secs, "load_price", attribution), known_regions=KNOWN)], data)
        assert sum(r.net["net_cny"].to_list(), D(0)) == 0
        assert set(r.ledger["section_id"].to_list()) <= set(secs["section_id"].to_list())
        # every county in the middle of the chain has legs on both of its sections
        counts = r.ledger.group_by("section_id").len()
        assert counts.height >= 2
