"""Published agreements reproduced end to end, from agreement files written as a bureau writes them.

Chishui 赤水河 2018–2020 (reference compensation.md §2 [V]): fund 2亿/yr, contributions 1:5:4,
allocations 3:4:3. All sections compliant → no deductions, so per year
  云南 3/10·2亿 − 1/10·2亿 = 6000万 − 2000万 = +4000万
  贵州 4/10·2亿 − 5/10·2亿 = 8000万 − 1亿   = −2000万
  四川 3/10·2亿 − 4/10·2亿 = 6000万 − 8000万 = −2000万
Xin'an 新安江 (李肇桀 2024; 浙江日报 2024-09-29): round 1 (2012–2014) 1亿 each way on the index and 中央财政 3亿/yr to
安徽; round 2 (2015–2017) 中央 4亿, 3亿, 2亿. Monitoring at 街口 equals the baselines (P = k0) except
2014 (×1.25: P = 0.85 × 1.25 = 1.0625 > 1) and 2016 (×1.2: P = 0.89 × 1.2 = 1.068 > 1), so both
outcomes of the index occur.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from _e2e import gep, read_csv

DATA = Path(__file__).parent / "data" / "compensation"
CHISHUI = DATA / "赤水河_2018-2020.toml"
CHISHUI_MON = DATA / "chishui_monitoring_2018-2020.csv"
XINAN1 = DATA / "新安江_第一轮_2012-2014.toml"
XINAN2 = DATA / "新安江_第二轮_2015-2017.toml"
JIEKOU_MON = DATA / "jiekou_monitoring_2012-2017.csv"
WAN = Decimal(10000)
YI = Decimal(100_000_000)


def _by_year(out: Path) -> dict[tuple[str, str], Decimal]:
    return {(r["year"], r["party_name"]): Decimal(r["net_cny"])
            for r in read_csv(out / "tables" / "compensation_net_by_year.csv")}


@pytest.fixture(scope="module")
def chishui(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("赤水河") / "结算"
    res = gep("compensate", "--agreement", CHISHUI, "--monitoring", CHISHUI_MON, "--out", out)
    assert res.exit_code == 0, res.output
    return out


def test_chishui_2018_2020_published_transfers_each_year(chishui: Path) -> None:
    nets = _by_year(chishui)
    for year in ("2018", "2019", "2020"):
        assert nets[(year, "云南省")] == 4000 * WAN
        assert nets[(year, "贵州省")] == -2000 * WAN
        assert nets[(year, "四川省")] == -2000 * WAN
        assert nets[(year, "赤水河流域横向补偿资金")] == Decimal("0.00")
        assert sum(v for (y, _), v in nets.items() if y == year) == Decimal("0.00")
    assert nets[("合计", "云南省")] == 12000 * WAN
    ledger = read_csv(chishui / "tables" / "compensation_ledger.csv")
    assert sum(Decimal(r["amount_cny"]) for r in ledger if r["payee_name"] == "赤水河流域横向补偿资金") == 6 * YI
    assert {r["rule"] for r in ledger} == {"M2_contribution", "M2_allocation"}  # all compliant: no deduction
    net = read_csv(chishui / "tables" / "compensation_net.csv")
    assert sum(Decimal(r["net_cny"]) for r in net) == Decimal("0.00")
    assert {r["party_name"] for r in net} >= {"云南省", "贵州省", "四川省", "赤水河流域横向补偿资金"}
    assert {r["net_wan"] for r in net if r["party"] == "530000"} == {"12000.000000"}


def test_chishui_instructions_party_to_party_through_the_fund(chishui: Path) -> None:
    rows = read_csv(chishui / "tables" / "compensation_settlement.csv")
    got = {(r["year"], r["payer_name"], r["payee_name"], r["amount_cny"], r["via"], r["due_date"]) for r in rows}
    assert got == {(y, payer, "云南省", "20000000.00", "赤水河流域横向补偿资金", f"{int(y) + 1}-06-30")
                   for y in ("2018", "2019", "2020") for payer in ("贵州省", "四川省")}
    assert {r["amount_wan"] for r in rows} == {"2000.000000"}


def test_chishui_reports_show_names_sheets_and_honest_headline(chishui: Path) -> None:
    page = (chishui / "report.html").read_text(encoding="utf-8")
    assert page.count("清算单") >= 3 and "云南省" in page and "赤水河流域横向补偿资金" in page
    # headline: money changing hands 2018–2020 = 3 × 4000万 = 12,000 万元, not Σ ledger lines (3 × 4亿)
    assert "<div class=\"v\">12,000.00</div>" in page or "<div class=\"v\">12000.00</div>" in page
    wb = openpyxl.load_workbook(chishui / "report.xlsx", read_only=True)
    sheets = [n for n in wb.sheetnames if "清算单" in n]
    assert len(sheets) == 3
    text = "\n".join(str(r[0]) for r in wb[sheets[0]].iter_rows(values_only=True) if r[0])
    assert "四川省 (510000) 支付 pays 云南省 (530000) 20,000,000.00 元 (2,000.0000 万元)" in text


def test_xinan_round1_both_outcomes_and_central_transfer(tmp_path: Path) -> None:
    out = tmp_path / "新安江一"
    res = gep("compensate", "--agreement", XINAN1, "--monitoring", JIEKOU_MON, "--out", out)
    assert res.exit_code == 0, res.output
    ledger = read_csv(out / "tables" / "compensation_ledger.csv")
    bet = {(r["period"], r["payer_name"], r["payee_name"]): Decimal(r["amount_cny"])
           for r in ledger if r["rule"] == "M1_index_bet"}
    assert bet == {("2012", "浙江省", "安徽省"): YI, ("2013", "浙江省", "安徽省"): YI,
                   ("2014", "安徽省", "浙江省"): YI}
    central = {(r["period"], r["payer_name"], r["payee_name"]): Decimal(r["amount_cny"])
               for r in ledger if r["rule"] == "UNCONDITIONAL_transfer"}
    assert central == {(y, "财政部", "安徽省"): 3 * YI for y in ("2012", "2013", "2014")}
    nets = _by_year(out)
    assert nets[("2012", "安徽省")] == 4 * YI and nets[("2014", "安徽省")] == 2 * YI
    assert nets[("2014", "浙江省")] == YI and nets[("合计", "财政部")] == -9 * YI
    for y in ("2012", "2013", "2014", "合计"):
        assert sum(v for (yy, _), v in nets.items() if yy == y) == Decimal("0.00")
    # P = 1.0625 in 2014 is in the basis
    assert any("1.0625" in r["basis"] for r in ledger if r["period"] == "2014")


def test_xinan_round2_central_schedule_and_graded_tiers(tmp_path: Path) -> None:
    out = tmp_path / "新安江二"
    res = gep("compensate", "--agreement", XINAN2, "--monitoring", JIEKOU_MON, "--out", out)
    assert res.exit_code == 0, res.output
    ledger = read_csv(out / "tables" / "compensation_ledger.csv")
    central = {r["period"]: Decimal(r["amount_cny"]) for r in ledger if r["rule"] == "UNCONDITIONAL_transfer"}
    assert central == {"2015": 4 * YI, "2016": 3 * YI, "2017": 2 * YI}
    bet = {(r["period"], r["payer_name"]): Decimal(r["amount_cny"]) for r in ledger if r["rule"] == "M1_index_bet"}
    # P = 0.89 → tier P ≤ 0.95: 2亿 to 安徽; P = 1.068 → 安徽 pays 2亿
    assert bet == {("2015", "浙江省"): 2 * YI, ("2016", "安徽省"): 2 * YI, ("2017", "浙江省"): 2 * YI}
    instr = read_csv(out / "tables" / "compensation_settlement.csv")
    got = {(r["year"], r["payer_name"], r["payee_name"], r["amount_cny"]) for r in instr}
    # earmarked money is not netted across parties: 财政部 pays 安徽 and 安徽 pays 浙江 in 2016
    assert ("2016", "财政部", "安徽省", "300000000.00") in got and ("2016", "安徽省", "浙江省", "200000000.00") in got
    assert all(r["due_date"] == f"{int(r['year']) + 1}-12-31" for r in instr)


def _agreement(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def test_index_rounding_half_up_decides_the_tier(tmp_path: Path) -> None:
    base = XINAN2.read_text(encoding="utf-8")
    mon = tmp_path / "m.csv"
    # one year at the baselines: P = k0 exactly
    mon.write_text("section_id,date,indicator,concentration_mg_l\n" + "".join(
        f"JIEKOU,2015-{m:02d}-10,{i},{c}\n" for m in range(1, 13)
        for i, c in (("CODMn", "2.30"), ("NH3-N", "0.22"), ("TP", "0.050"), ("TN", "1.50"))), encoding="utf-8")
    one_year = base.replace('end = "2017"', 'end = "2015"').replace(
        'amount_cny = { "2015" = 400000000, "2016" = 300000000, "2017" = 200000000 }', 'amount_cny = 400000000')
    results = {}
    for k0, decimals in (("0.954", "p_decimals = 2"), ("0.955", "p_decimals = 2"), ("0.954", "")):
        text = one_year.replace("k0 = 0.89", f"k0 = {k0}").replace("p_decimals = 2", decimals)
        if not decimals:
            text = text.replace('p_rounding = "half_up"\n', "")
        out = tmp_path / f"out{k0}{bool(decimals)}"
        res = gep("compensate", "--agreement", _agreement(tmp_path, "a.toml", text), "--monitoring", mon, "--out", out)
        assert res.exit_code == 0, res.output
        (bet,) = [r for r in read_csv(out / "tables" / "compensation_ledger.csv") if r["rule"] == "M1_index_bet"]
        results[(k0, bool(decimals))] = Decimal(bet["amount_cny"])
    assert results[("0.954", True)] == 2 * YI  # 0.954 → 0.95 (half up) ≤ 0.95: first tier
    assert results[("0.955", True)] == YI  # 0.955 → 0.96 (half up): second tier
    assert results[("0.954", False)] == YI  # unrounded 0.954 > 0.95: second tier


def test_whole_term_fund_split_into_periods_to_the_fen(tmp_path: Path) -> None:
    from gep.compensation.agreement import parse_agreement

    text = CHISHUI.read_text(encoding="utf-8").replace("fund_cny = 200000000", 'fund_total_cny = "100.00"')
    a = parse_agreement(text)
    assert a.params.fund_by_period == (("2018", Decimal("33.34")), ("2019", Decimal("33.33")),  # type: ignore[union-attr]
                                       ("2020", Decimal("33.33")))
    assert ("pool.fund_split", "equal parts per period") in a.defaults_used
    text2 = text.replace('fund_total_cny = "100.00"', 'fund_total_cny = 600000000\nfund_split = { "2018" = 2, "2019" = 1, "2020" = 1 }')
    a2 = parse_agreement(text2)
    assert dict(a2.params.fund_by_period) == {"2018": 3 * YI, "2019": Decimal("1.5") * YI,  # type: ignore[union-attr]
                                              "2020": Decimal("1.5") * YI}


@pytest.mark.parametrize(("amount", "code", "line_key"), [
    ('{ "2015" = 400000000, "2017" = 200000000 }', "SCHEDULE_GAP", "amount_cny"),
    ('{ "2015-2016" = 400000000, "2016-2017" = 200000000 }', "SCHEDULE_OVERLAP", "amount_cny"),
    ('{ "2015" = 4, "2016" = 3, "2017" = 2, "2018" = 1 }', "SCHEDULE_OUTSIDE_TERM", "amount_cny"),
])
def test_bad_schedules_located_exit_2_nothing_written(tmp_path: Path, amount: str, code: str, line_key: str) -> None:
    text = XINAN2.read_text(encoding="utf-8").replace(
        'amount_cny = { "2015" = 400000000, "2016" = 300000000, "2017" = 200000000 }', f"amount_cny = {amount}")
    path = _agreement(tmp_path, "坏.toml", text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("amount_cny = {"))
    out = tmp_path / "out"
    res = gep("compensate", "--agreement", path, "--monitoring", JIEKOU_MON, "--out", out)
    assert res.exit_code == 2 and f"[{code}]" in res.output and f"row {line}" in res.output, res.output
    assert "坏.toml" in res.output and not out.exists()


def test_tiers_with_a_gap_are_refused(tmp_path: Path) -> None:
    text = XINAN2.read_text(encoding="utf-8").replace("p_above = 0.95\np_at_most = 1", "p_above = 0.97\np_at_most = 1")
    res = gep("compensate", "--agreement", _agreement(tmp_path, "t.toml", text), "--monitoring", JIEKOU_MON,
              "--out", tmp_path / "o")
    assert res.exit_code == 2 and "[TIER_GAP]" in res.output and "(0.95, 0.97]" in res.output, res.output
    assert not (tmp_path / "o").exists()


def test_parameters_left_out_are_flagged_everywhere(tmp_path: Path) -> None:
    text = CHISHUI.read_text(encoding="utf-8")
    for line in ('averaging = "arithmetic_mean"\n', 'compliance = "binary"\n',
                 'deduction_base = "responsible_allocation"\n', "section_weights = { QSP = 1, LYX = 1, MTZ = 0.5 }\n"):
        text = text.replace(line, "")
    mon = tmp_path / "m.csv"  # 鲢鱼溪 fails TP in 2018 so that a deduction line exists
    mon.write_text(CHISHUI_MON.read_text(encoding="utf-8").replace("LYX,2018-03-15,总磷,0.07", "LYX,2018-03-15,总磷,0.9"),
                   encoding="utf-8")
    out = tmp_path / "out"
    res = gep("compensate", "--agreement", _agreement(tmp_path, "c.toml", text), "--monitoring", mon, "--out", out)
    assert res.exit_code == 0, res.output
    for key in ("averaging", "pool.compliance", "pool.deduction_base", "pool.section_weights"):
        assert key in res.output  # CLI warning DEFAULT_PARAMETER
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {w["column"] for w in manifest["warnings"] if w["code"] == "DEFAULT_PARAMETER"} == {
        "averaging", "pool.compliance", "pool.deduction_base", "pool.section_weights"}
    (row,) = read_csv(out / "tables" / "compensation_agreements.csv")
    assert "pool.section_weights" in row["unverified_parameters"] and "averaging" in row["unverified_parameters"]
    ledger = read_csv(out / "tables" / "compensation_ledger.csv")
    (ded,) = [r for r in ledger if r["rule"] == "M2_deduction"]
    assert "pool.section_weights = default 1 for QSP, LYX, MTZ" in ded["basis"]
    assert "averaging = default arithmetic mean" in ded["basis"]
    assert all("averaging" not in r["basis"] for r in ledger if r["rule"] != "M2_deduction")  # no data used
    assert "pool.deduction_base" in (out / "report.html").read_text(encoding="utf-8")


def test_payments_paid_outstanding_overdue(tmp_path: Path) -> None:
    pay = tmp_path / "付款.csv"
    pay.write_text("付款日期,付款方,收款方,金额(元)\n2019-05-20,510000,530000,20000000\n"
                   "2019-07-15,520000,530000,\"10,000,000.00\"\n", encoding="utf-8")
    out = tmp_path / "out"
    res = gep("compensate", "--agreement", CHISHUI, "--monitoring", CHISHUI_MON, "--payments", pay, "--out", out)
    assert res.exit_code == 0, res.output
    st = {(r["year"], r["payer_name"]): (r["paid_cny"], r["outstanding_cny"], r["status"])
          for r in read_csv(out / "tables" / "compensation_settlement.csv")}
    # as of the latest payment (2019-07-15): the 2018 lines were due 2019-06-30
    assert st[("2018", "四川省")] == ("20000000.00", "0.00", "paid")
    assert st[("2018", "贵州省")] == ("10000000.00", "10000000.00", "overdue")
    assert st[("2019", "四川省")] == ("0.00", "20000000.00", "not due")


def test_payment_to_a_party_outside_the_agreement_exit_2(tmp_path: Path) -> None:
    pay = tmp_path / "付款.csv"
    pay.write_text("date,payer,payee,amount_cny\n2019-05-20,510001,530000,20000000\n", encoding="utf-8")
    out = tmp_path / "out"
    res = gep("compensate", "--agreement", CHISHUI, "--monitoring", CHISHUI_MON, "--payments", pay, "--out", out)
    assert res.exit_code == 2, res.output
    assert "付款.csv, row 2, column 'payer'" in res.output and "[UNKNOWN_PARTY]" in res.output
    assert "510000 四川省" in res.output and not out.exists()


def test_unknown_county_code_suggests_registry_names(tmp_path: Path) -> None:
    text = (Path(__file__).parent / "data" / "e2e" / "compensation" / "jiuli_m4_2024.toml").read_text(encoding="utf-8")
    bad = text.replace('id = "511002"', 'id = "511020"', 1)
    res = gep("compensate", "--agreement", _agreement(tmp_path, "j.toml", bad), "--monitoring",
              Path(__file__).parent / "data" / "e2e" / "compensation" / "monitoring_2024-04.xlsx", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "[UNKNOWN_REGION]" in res.output, res.output
    assert "did you mean" in res.output and "511002" in res.output.split("did you mean")[1]


def test_unknown_key_is_located_with_did_you_mean(tmp_path: Path) -> None:
    # a typo would otherwise leave the default section weights in force silently
    text = CHISHUI.read_text(encoding="utf-8").replace("section_weights =", "section_weigths =")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("section_weigths"))
    out = tmp_path / "o"
    res = gep("compensate", "--agreement", _agreement(tmp_path, "拼错.toml", text), "--monitoring", CHISHUI_MON,
              "--out", out)
    assert res.exit_code == 2 and "[UNKNOWN_KEY]" in res.output, res.output
    assert f"拼错.toml, row {line}, column 'pool.section_weigths'" in res.output
    assert "did you mean 'section_weights'?" in res.output and not out.exists()


def test_pool_fund_by_year_and_transfer_total_split(tmp_path: Path) -> None:
    # fund 2亿 in 2018, 1亿 in 2019–2020 → 云南 +4000万, +2000万, +2000万; a 3亿 grant for the term split 1:1:1
    text = CHISHUI.read_text(encoding="utf-8").replace(
        "fund_cny = 200000000", 'fund_cny = { "2018" = 200000000, "2019-2020" = 100000000 }')
    text = text.replace('kind = "external"\n', 'kind = "external"\n\n[[parties]]\nid = "MOF"\nname = "财政部"\n'
                        'kind = "treasury"\n', 1)
    text += '\n[[transfers]]\npayer = "MOF"\npayee = "530000"\ntotal_cny = 300000000\nsplit = "equal"\n'
    out = tmp_path / "o"
    res = gep("compensate", "--agreement", _agreement(tmp_path, "c.toml", text), "--monitoring", CHISHUI_MON,
              "--out", out)
    assert res.exit_code == 0, res.output
    nets = _by_year(out)
    assert [nets[(y, "云南省")] for y in ("2018", "2019", "2020")] == [14000 * WAN, 12000 * WAN, 12000 * WAN]
    assert [nets[(y, "财政部")] for y in ("2018", "2019", "2020")] == [-YI, -YI, -YI]
    assert all(sum(v for (yy, _), v in nets.items() if yy == y) == Decimal("0.00") for y in ("2018", "2019", "2020"))
    ledger = read_csv(out / "tables" / "compensation_ledger.csv")
    assert {r["rule"] for r in ledger} == {"M2_contribution", "M2_allocation", "UNCONDITIONAL_transfer"}


def test_overpayment_is_reported_not_dropped(tmp_path: Path) -> None:
    pay = tmp_path / "付款.csv"
    pay.write_text("date,payer,payee,amount_cny\n2019-05-20,510000,530000,25000000\n"
                   "2019-05-21,530000,510000,100\n", encoding="utf-8")
    out = tmp_path / "out"
    res = gep("compensate", "--agreement", CHISHUI, "--monitoring", CHISHUI_MON, "--payments", pay, "--out", out)
    assert res.exit_code == 0, res.output
    # 2,500万 paid against 2018 (2,000万) then 2019 (500万 of 2,000万); the reverse 100 元 matches nothing
    st = {(r["year"], r["payer_name"]): r["paid_cny"] for r in read_csv(out / "tables" / "compensation_settlement.csv")}
    assert st[("2018", "四川省")] == "20000000.00" and st[("2019", "四川省")] == "5000000.00"
    assert "[PAYMENT_UNMATCHED]" in res.output and "row 3" in res.output
