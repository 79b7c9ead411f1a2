"""Hand-computed settlements for M1–M4, multi-hop chains and attribution modes (gep.compensation.settlement)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from gep.compensation.agreement import load_agreement
from gep.compensation.monitoring import read_monitoring
from gep.compensation.settlement import settle
from gep.errors import InputError

D = Decimal


def write(dir_: Path, name: str, text: str) -> Path:
    dir_.mkdir(parents=True, exist_ok=True)
    p = dir_ / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture()
def cdir(tmp_path: Path) -> Path:
    d = tmp_path / "生态补偿 测试"
    d.mkdir()
    return d


def run(cdir: Path, toml: str, csv: str):  # type: ignore[no-untyped-def]
    a = load_agreement(write(cdir, "协议.toml", toml))
    m = read_monitoring(write(cdir, "监测.csv", csv))
    return settle([a], m, "监测.csv")


def net_of(result, party: str) -> Decimal:  # type: ignore[no-untyped-def]
    row = result.net.filter(pl.col("party") == party)
    return row["net_cny"][0]


def assert_balanced(result) -> None:  # type: ignore[no-untyped-def]
    sums = result.net.group_by("agreement_id").agg(pl.col("net_cny").sum())
    assert all(v == 0 for v in sums["net_cny"].to_list())


# ---------------------------------------------------------------- M1 index bet (Xin'an)
M1 = """
id = "xinan"
method = "index_bet"
period = "year"
start = "2013"
end = "2013"
missing_data = "mean_of_available"
[[parties]]
id = "ANHUI"
kind = "province"
[[parties]]
id = "ZHEJIANG"
kind = "province"
[[sections]]
id = "JIEKOU"
upstream = "ANHUI"
downstream = "ZHEJIANG"
[[indicators]]
name = "CODMn"
[[indicators]]
name = "NH3-N"
[[indicators]]
name = "TP"
[[indicators]]
name = "TN"
[index_bet]
k0 = K0
weights = WEIGHTS
baselines_mg_l = { CODMn = 2.30, "NH3-N" = 0.22, TP = 0.050, TN = 1.50 }
[[index_bet.tiers]]
p_at_most = 1
payer = "downstream"
payee = "upstream"
amount_cny = 100000000
[[index_bet.tiers]]
p_above = 1
payer = "upstream"
payee = "downstream"
amount_cny = 100000000
[[provenance]]
parameter = "index_bet.k0"
verification = "unverified"
source = "secondary literature"
"""
XINAN_DATA = "section_id,date,indicator,concentration_mg_l\n" + "".join(
    f"JIEKOU,2013-06-01,{i},{c}\n" for i, c in (("CODMn", "2.10"), ("NH3-N", "0.20"), ("TP", "0.045"), ("TN", "1.40"))
)
EQUAL = '{ CODMn = 0.25, "NH3-N" = 0.25, TP = 0.25, TN = 0.25 }'


def test_m1_xinan_round1_reproduces_reference_P(cdir: Path) -> None:
    # worked example (illustrative baselines): P = 0.85 × 0.25 × (2.10/2.30 + 0.20/0.22 + 0.045/0.050 + 1.40/1.50)
    #   = 0.85 × 0.25 × (0.913043 + 0.909091 + 0.9 + 0.933333) = 0.776787 (printed 0.7768) ≤ 1 → Zhejiang pays Anhui 1亿
    r = run(cdir, M1.replace("K0", "0.85").replace("WEIGHTS", EQUAL), XINAN_DATA)
    assert r.ledger.height == 1
    line = r.ledger.row(0, named=True)
    assert (line["payer"], line["payee"], line["amount_cny"]) == ("ZHEJIANG", "ANHUI", D("100000000.00"))
    assert "= 0.776787" in line["basis"] and "UNVERIFIED parameters: index_bet.k0" in line["basis"]
    assert net_of(r, "ANHUI") == D("100000000.00")
    assert_balanced(r)


def test_m1_round3_weights(cdir: Path) -> None:
    # P = 0.90 × (0.22×0.913043 + 0.22×0.909091 + 0.28×0.9 + 0.28×0.933333) = 0.90 × 0.914203 = 0.822783 (printed 0.8228)
    w = '{ CODMn = 0.22, "NH3-N" = 0.22, TP = 0.28, TN = 0.28 }'
    r = run(cdir, M1.replace("K0", "0.90").replace("WEIGHTS", w), XINAN_DATA)
    assert "= 0.822783" in r.ledger["basis"][0]
    assert r.ledger["payer"][0] == "ZHEJIANG"


def test_m1_above_one_upstream_pays(cdir: Path) -> None:
    # k0 = 1.2: P = 1.2 × 0.25 × 3.655467 = 1.096640 > 1 → Anhui pays Zhejiang
    r = run(cdir, M1.replace("K0", "1.2").replace("WEIGHTS", EQUAL), XINAN_DATA)
    assert (r.ledger["payer"][0], r.ledger["payee"][0]) == ("ANHUI", "ZHEJIANG")
    assert "= 1.09664" in r.ledger["basis"][0]


# ---------------------------------------------------------------- M2 pool (Chishui)
M2 = """
id = "chishui"
method = "pool"
period = "year"
start = "2019-01"
end = "2019-12"
missing_data = "mean_of_available"
[[parties]]
id = "YN"
kind = "province"
[[parties]]
id = "GZ"
kind = "province"
[[parties]]
id = "SC"
kind = "province"
[[parties]]
id = "FUND"
kind = "pool"
[[sections]]
id = "QSP"
upstream = "YN"
downstream = [{ party = "GZ", share = 0.5 }, { party = "SC", share = 0.5 }]
[[sections]]
id = "LYX"
upstream = "GZ"
downstream = "SC"
[[indicators]]
name = "TP"
target_class = "II"
[pool]
pool_party = "FUND"
fund_cny = 200000000
contributions = { YN = 1, GZ = 5, SC = 4 }
allocations = { YN = 3, GZ = 4, SC = 3 }
compliance = "COMPLIANCE"
"""


def chishui_data(qsp_months_bad: int) -> str:
    rows = ["section_id,date,indicator,concentration_mg_l"]
    for m in range(1, 13):
        rows.append(f"QSP,2019-{m:02d}-10,TP,{'0.15' if m <= qsp_months_bad else '0.05'}")
        rows.append(f"LYX,2019-{m:02d}-10,TP,0.08")
    return "\n".join(rows) + "\n"


def test_m2_chishui_binary(cdir: Path) -> None:
    # 6 bad months at 0.15, 6 good at 0.05 → annual mean TP 0.10 ≤ 0.1 (Class II) → compliant: no deduction.
    r = run(cdir, M2.replace("COMPLIANCE", "binary"), chishui_data(6))
    assert set(r.ledger["rule"].to_list()) == {"M2_contribution", "M2_allocation"}
    # net_j = F·(a_j/Σa − c_j/Σc): YN 2亿×(0.3−0.1) = +4000万; GZ 2亿×(0.4−0.5) = −2000万; SC 2亿×(0.3−0.4) = −2000万
    assert net_of(r, "YN") == D("40000000.00")
    assert net_of(r, "GZ") == D("-20000000.00")
    assert net_of(r, "SC") == D("-20000000.00")
    assert net_of(r, "FUND") == 0
    # 7 bad months → mean (7×0.15+5×0.05)/12 = 0.108333 > 0.1 → D = 1 × 1 × allocation of YN (6000万), 3000万 each to GZ, SC
    r = run(cdir, M2.replace("COMPLIANCE", "binary"), chishui_data(7))
    ded = r.ledger.filter(pl.col("rule") == "M2_deduction")
    assert ded.select("payer", "payee", "amount_cny").rows() == [
        ("YN", "GZ", D("30000000.00")), ("YN", "SC", D("30000000.00"))
    ]
    assert net_of(r, "YN") == D("-20000000.00")  # 4000万 − 6000万
    assert net_of(r, "GZ") == D("10000000.00")  # −2000万 + 3000万
    assert net_of(r, "SC") == D("10000000.00")
    assert_balanced(r)


def test_m2_share_of_months(cdir: Path) -> None:
    # 3 of 12 months over 0.1 → f = 0.25; D = 0.25 × 6000万 = 1500万 → 750万 to GZ and to SC
    r = run(cdir, M2.replace("COMPLIANCE", "share_of_months"), chishui_data(3))
    ded = r.ledger.filter(pl.col("rule") == "M2_deduction")
    assert ded["amount_cny"].to_list() == [D("7500000.00"), D("7500000.00")]
    assert "3/12 months" in ded["basis"][0]
    assert net_of(r, "YN") == D("25000000.00")  # 4000万 − 1500万


# ---------------------------------------------------------------- M3 fixed per section (Chongqing + Shandong)
M3 = """
id = "m3"
method = "fixed_per_section"
period = "month"
start = "2024-03"
end = "2024-03"
[[parties]]
id = "A"
kind = "county"
[[parties]]
id = "B"
kind = "county"
[[parties]]
id = "C"
kind = "county"
[[parties]]
id = "PROV"
kind = "treasury"
[[sections]]
id = "S1"
upstream = "A"
downstream = "B"
[[sections]]
id = "S2"
upstream = "B"
downstream = "C"
[[indicators]]
name = "CODMn"
target_class = "II"
[[indicators]]
name = "NH3-N"
target_class = "II"
[fixed_per_section]
amount_met_improved_cny = 1000000
amount_met_declined_cny = 1000000
amount_not_met_cny = 1000000
per_pp_improvement_cny = 40000
per_pp_deterioration_cny = 50000
pp_counterparty = "PROV"
"""
M3_DATA = """section_id,date,indicator,concentration_mg_l
S1,2023-03-10,CODMn,2.5
S1,2023-03-10,NH3-N,0.25
S1,2024-03-10,CODMn,2.0
S1,2024-03-10,NH3-N,0.20
S2,2023-03-10,CODMn,3.0
S2,2023-03-10,NH3-N,0.4
S2,2024-03-10,CODMn,3.0
S2,2024-03-10,NH3-N,0.6
"""


def test_m3_chain_hand_computed(cdir: Path) -> None:
    # S1: met (2.0 ≤ 4, 0.20 ≤ 0.5), both −20 % vs 2023-03 → improved: B pays A 100万;
    #     pp: 20 pp × 4万 = 80万 per indicator from PROV to A (2 lines, 160万)
    # S2: NH3-N 0.6 > 0.5 → not met: B pays C 100万; pp: CODMn 0 %, NH3-N +50 % → B pays PROV 50 × 5万 = 250万
    # nets: A +260万, B −450万, C +100万, PROV −160万 + 250万 = +90万 (sum 0)
    r = run(cdir, M3, M3_DATA)
    assert r.ledger.select("section_id", "payer", "payee", "amount_cny", "rule").rows() == [
        ("S1", "B", "A", D("1000000.00"), "M3_met_improved"),
        ("S1", "PROV", "A", D("800000.00"), "M3_pp_improvement"),
        ("S1", "PROV", "A", D("800000.00"), "M3_pp_improvement"),
        ("S2", "B", "C", D("1000000.00"), "M3_not_met"),
        ("S2", "B", "PROV", D("2500000.00"), "M3_pp_deterioration"),
    ]
    assert [net_of(r, p) for p in ("A", "B", "C", "PROV")] == [
        D("2600000.00"), D("-4500000.00"), D("1000000.00"), D("900000.00")
    ]
    assert_balanced(r)


def test_m3_met_but_declined(cdir: Path) -> None:
    # S2 at 0.45 (met, +12.5 %) and CODMn 3.0 (0 %): mean change +6.25 % → declined → B pays C 100万;
    # pp: NH3-N 12.5 × 5万 = 62.5万 B → PROV
    r = run(cdir, M3, M3_DATA.replace("S2,2024-03-10,NH3-N,0.6", "S2,2024-03-10,NH3-N,0.45"))
    s2 = r.ledger.filter(pl.col("section_id") == "S2")
    assert s2.select("payer", "payee", "amount_cny", "rule").rows() == [
        ("B", "C", D("1000000.00"), "M3_met_declined"),
        ("B", "PROV", D("625000.00"), "M3_pp_deterioration"),
    ]


def test_m3_needs_previous_year(cdir: Path) -> None:
    data = "\n".join(line for line in M3_DATA.splitlines() if not line.startswith("S1,2023"))
    with pytest.raises(InputError) as exc:
        run(cdir, M3, data + "\n")
    assert exc.value.codes == ["MISSING_MONITORING", "MISSING_MONITORING"]
    assert "S1" in exc.value.problems[0].message and "2023-03" in exc.value.problems[0].message


# ---------------------------------------------------------------- M4 load × price (Zhenjiang 九里, Sichuan 三江)
M4 = """
id = "jiuli"
method = "load_price"
period = "month"
start = "2024-04"
end = "2024-04"
attribution = "ATTR"
[[parties]]
id = "DANYANG"
name = "丹阳市"
kind = "county"
[[parties]]
id = "DANTU"
name = "丹徒区"
kind = "county"
[[parties]]
id = "DOWN"
kind = "county"
[[parties]]
id = "UP"
kind = "county"
[[sections]]
id = "S0"
upstream = "UP"
downstream = [{ party = "DANYANG", share = 0.5 }, { party = "DANTU", share = 0.5 }]
[[sections]]
id = "JIULI"
inflow_section = "S0"
upstream = [{ party = "DANYANG", share = { CODMn = 0.8578, "NH3-N" = 0.8445, TP = 0.8807 } },
            { party = "DANTU", share = { CODMn = 0.1422, "NH3-N" = 0.1555, TP = 0.1193 } }]
downstream = "DOWN"
[[indicators]]
name = "CODMn"
target_class = "III"
[[indicators]]
name = "NH3-N"
target_class = "III"
[[indicators]]
name = "TP"
target_class = "III"
[load_price]
penalty_prices_cny_per_t = { CODMn = 15000, "NH3-N" = 100000, TP = 100000 }
"""
M4_DATA = """section_id,date,indicator,concentration_mg_l,flow_m3s
S0,2024-04-15,CODMn,6.0,8
S0,2024-04-15,NH3-N,1.2,8
S0,2024-04-15,TP,0.2,8
JIULI,2024-04-15,CODMn,7.0,10
JIULI,2024-04-15,NH3-N,1.3,10
JIULI,2024-04-15,TP,0.25,10
"""


def test_m4_zhenjiang_split(cdir: Path) -> None:
    # April: 10 m3/s × 30 d × 86400 s = 25 920 000 m3.
    # CODMn (7.0−6.0) × 25.92e6 × 1e-6 = 25.92 t × 1.5万 = 388 800; NH3-N 0.3 → 7.776 t × 10万 = 777 600;
    # TP 0.05 → 1.296 t × 10万 = 129 600; section total 1 296 000.
    # 丹阳 = 388 800×0.8578 + 777 600×0.8445 + 129 600×0.8807 = 333 512.64 + 656 683.20 + 114 138.72 = 1 104 334.56
    # 丹徒 = 55 287.36 + 120 916.80 + 15 461.28 = 191 665.44.
    # Scaled to the reference's 2.0e7 m3 month (× 20/25.92) these are 852 110 = 85.211万 and 147 890 = 14.789万 (§3.5).
    r = run(cdir, M4.replace("ATTR", "own_outflow"), M4_DATA)
    jl = r.ledger.filter(pl.col("section_id") == "JIULI")
    assert jl["amount_cny"].sum() == D("1296000.00")
    by = jl.group_by("payer").agg(pl.col("amount_cny").sum()).sort("payer").rows()
    assert by == [("DANTU", D("191665.44")), ("DANYANG", D("1104334.56"))]
    assert by[1][1] * 20 / D("25.92") == D("852110")
    # S0 is exactly at target for CODMn and TP; NH3-N 1.2 vs 1.0 at 8 m3/s: 0.2 × 20.736e6 m3 = 4.1472 t × 10万 = 414 720
    s0 = r.ledger.filter(pl.col("section_id") == "S0")
    assert s0.select("payer", "payee", "amount_cny").rows() == [
        ("UP", "DANYANG", D("207360.00")), ("UP", "DANTU", D("207360.00"))
    ]
    assert_balanced(r)


def test_m4_inflow_change_attribution(cdir: Path) -> None:
    # judged on inflow→outflow change: excess = (mean(C·Q)_out − C_in·mean(Q)_out) × s × 1e-6
    # CODMn (7.0 − 6.0) × 25.92 = 25.92 t → 388 800; NH3-N (1.3 − 1.2) × 25.92 = 2.592 t → 259 200;
    # TP (0.25 − 0.2) × 25.92 = 1.296 t → 129 600; total 777 600
    r = run(cdir, M4.replace("ATTR", "inflow_change"), M4_DATA)
    jl = r.ledger.filter(pl.col("section_id") == "JIULI")
    assert jl["amount_cny"].sum() == D("777600.00")
    assert "inflow S0" in jl["basis"][0]


def test_m4_two_way_improvement(cdir: Path) -> None:
    # JIULI better than target: CODMn 5.0 (−1.0), NH3-N 1.0 (0), TP 0.15 (−0.05) at 10 m3/s in April.
    # 改善金 from the downstream: CODMn 25.92 t × 1500 = 38 880; TP 1.296 t × 10 000 = 12 960; total 51 840
    toml = M4.replace("ATTR", "own_outflow").replace(
        "[load_price]\n", '[load_price]\nimprovement_prices_cny_per_t = { CODMn = 1500, TP = 10000 }\n'
    )
    data = M4_DATA.replace("JIULI,2024-04-15,CODMn,7.0", "JIULI,2024-04-15,CODMn,5.0").replace(
        "JIULI,2024-04-15,NH3-N,1.3", "JIULI,2024-04-15,NH3-N,1.0").replace("JIULI,2024-04-15,TP,0.25", "JIULI,2024-04-15,TP,0.15")
    r = run(cdir, toml, data)
    jl = r.ledger.filter(pl.col("section_id") == "JIULI")
    assert set(jl["rule"].to_list()) == {"M4_improvement"}
    assert set(jl["payer"].to_list()) == {"DOWN"}
    assert jl["amount_cny"].sum() == D("51840.00")
    # CODMn share 丹阳 0.8578 × 38 880 = 33 351.264 → 33 351.26; 丹徒 5 528.736 → 5 528.74 (largest remainder)
    cod = jl.filter(pl.col("basis").str.starts_with("CODMn")).select("payee", "amount_cny").rows()
    assert cod == [("DANYANG", D("33351.26")), ("DANTU", D("5528.74"))]


def test_m4_missing_flow_is_an_error(cdir: Path) -> None:
    data = M4_DATA.replace("JIULI,2024-04-15,TP,0.25,10", "JIULI,2024-04-15,TP,0.25,")
    with pytest.raises(InputError) as exc:
        run(cdir, M4.replace("ATTR", "own_outflow"), data)
    assert exc.value.codes == ["MISSING_MONITORING"]
    assert exc.value.problems[0].column == "flow_m3s"


def test_skip_period_policy_settles_nothing_for_that_section(cdir: Path) -> None:
    toml = M4.replace("ATTR", "own_outflow").replace('start = "2024-04"', 'missing_data = "skip_period"\nstart = "2024-04"')
    data = "\n".join(line for line in M4_DATA.splitlines() if not line.startswith("S0")) + "\n"
    r = run(cdir, toml, data)
    assert set(r.ledger["section_id"].to_list()) == {"JIULI"}
    # one warning per indicator of the skipped section
    assert [w.code for w in r.warnings] == ["PERIOD_SKIPPED"] * 3
    assert all("section S0" in w.message for w in r.warnings)


# ---------------------------------------------------------------- netting
def test_pairwise_netting_of_a_chain(cdir: Path) -> None:
    # M3 example with netting: B→A 100万 only (A and PROV lines separate), B→C 100万, B→PROV 250万 − PROV→... none
    r = run(cdir, M3.replace('period = "month"', 'period = "month"\nnetting = "pairwise"'), M3_DATA)
    assert r.ledger.filter(pl.col("payee") == "A").select("payer", "amount_cny", "rule").rows() == [
        ("B", D("1000000.00"), "NET"), ("PROV", D("1600000.00"), "NET")
    ]
    assert [net_of(r, p) for p in ("A", "B", "C", "PROV")] == [
        D("2600000.00"), D("-4500000.00"), D("1000000.00"), D("900000.00")
    ]


def test_m4_sichuan_exceedance_multiple(cdir: Path) -> None:
    # Sichuan 2011–2016 扣缴 (陈雨艳 et al. 2018): deduction = (C − Cs)/Cs × base, single factor, no flow, penalties only.
    # JIULI NH3-N 1.3 vs 1.0 → multiple 0.3 × base 1,000,000 = 300,000 split 0.8445 / 0.1555 → 253,350 / 46,650;
    # CODMn 7.0 vs 6.0 → 1/6 × 600,000 = 100,000 → 85,780 / 14,220; TP 0.25 vs 0.2 → 0.25 × 0 base → nothing.
    # S0: NH3-N 1.2 → 0.2 × 1,000,000 = 200,000 from UP to 丹阳/丹徒 100,000 each.
    toml = M4.replace("ATTR", "own_outflow").replace(
        'penalty_prices_cny_per_t = { CODMn = 15000, "NH3-N" = 100000, TP = 100000 }',
        'mode = "exceedance_multiple"\nexceedance_base_cny = { CODMn = 600000, "NH3-N" = 1000000 }')
    data = "\n".join(line.rsplit(",", 1)[0] + "," for line in M4_DATA.splitlines()) + "\n"  # no flows at all
    r = run(cdir, toml, data.replace("flow_m3s,", "flow_m3s"))
    assert set(r.ledger["rule"].to_list()) == {"M4_exceedance"}
    jl = r.ledger.filter(pl.col("section_id") == "JIULI").group_by("payer").agg(pl.col("amount_cny").sum()).sort("payer")
    assert jl.rows() == [("DANTU", D("60870.00")), ("DANYANG", D("339130.00"))]
    s0 = r.ledger.filter(pl.col("section_id") == "S0")["amount_cny"].to_list()
    assert s0 == [D("100000.00"), D("100000.00")]
    assert_balanced(r)
