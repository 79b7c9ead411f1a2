"""Agreement and monitoring validation: every problem with file, line/row, field and expectation."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from gep.compensation.agreement import load_agreement, load_agreements, parse_agreement
from gep.compensation.monitoring import read_monitoring, validate_monitoring
from gep.compensation.schema import _MODELS, PoolIn, ShareIn, TierIn, key_type
from gep.errors import InputError

GOOD = """id = "ok"
method = "load_price"
period = "month"
start = "2024-01"
end = "2024-02"

[[parties]]
id = "510121"
kind = "county"

[[parties]]
id = "510185"
kind = "county"

[[sections]]
id = "TJ01"
upstream = [{ party = "510121", share = 1 }]
downstream = [{ party = "510185", share = 1 }]

[[indicators]]
name = "NH3-N"
target_class = "III"

[load_price]
penalty_prices_cny_per_t = { "NH3-N" = 100000 }
"""


def errors(text: str, known: set[str] | None = None) -> InputError:
    with pytest.raises(InputError) as exc:
        parse_agreement(text, "协议.toml", known)
    return exc.value


def test_good_agreement_parses_with_gb3838_standard() -> None:
    a = parse_agreement(GOOD)
    assert a.method == "load_price" and a.indicators[0].standard_mg_l == Decimal("1.0")
    assert a.missing_data == "error" and a.attribution == "own_outflow" and a.netting == "gross"
    assert a.start == (2024, 1) and a.end == (2024, 2)


def test_shares_not_summing_to_one_names_the_line() -> None:
    bad = GOOD.replace('downstream = [{ party = "510185", share = 1 }]', 'downstream = [{ party = "510185", share = 0.9 }]')
    e = errors(bad)
    assert e.codes == ["SHARES_NOT_ONE"]
    p = e.problems[0]
    assert p.file == "协议.toml" and p.row == 18 and p.column == "sections.downstream" and p.value == "0.9"


def test_many_problems_are_collected_at_once() -> None:
    bad = (
        GOOD.replace('method = "load_price"', 'method = "lottery"')
        .replace('start = "2024-01"', 'start = "2024-13"')
        .replace('upstream = [{ party = "510121", share = 1 }]', 'upstream = [{ party = "999999", share = 1 }]')
    )
    e = errors(bad)
    assert e.codes == ["INVALID_VALUE", "INVALID_VALUE", "UNKNOWN_PARTY"]
    assert [p.row for p in e.problems] == [2, 4, 17]
    assert "index_bet" in (e.problems[0].expected or "")


def test_unknown_region_against_registry() -> None:
    e = errors(GOOD, known={"510121"})
    assert e.codes == ["UNKNOWN_REGION"]
    assert e.problems[0].row == 12 and e.problems[0].value == "510185"


def test_missing_method_section_and_bad_number() -> None:
    bad = GOOD.replace('penalty_prices_cny_per_t = { "NH3-N" = 100000 }', 'penalty_prices_cny_per_t = { "NH3-N" = "lots" }')
    e = errors(bad)
    assert e.codes == ["WRONG_TYPE"] and e.problems[0].row == 25
    e = errors(GOOD.split("[load_price]")[0])
    assert e.codes == ["MISSING_VALUE"] and "load_price" in e.problems[0].message


def test_negative_price_and_per_indicator_share_errors() -> None:
    bad = GOOD.replace('{ "NH3-N" = 100000 }', '{ "NH3-N" = -5, TP = 3 }')
    e = errors(bad)
    assert e.codes == ["NEGATIVE_VALUE", "UNKNOWN_INDICATOR"]
    bad = GOOD.replace('upstream = [{ party = "510121", share = 1 }]',
                       'upstream = [{ party = "510121", share = { "NH3-N" = 0.7 } }]')
    e = errors(bad)
    assert e.codes == ["SHARES_NOT_ONE"] and "NH3-N" in e.problems[0].message


def test_toml_syntax_error_has_line() -> None:
    e = errors(GOOD.replace('period = "month"', 'period = "month'))
    assert e.codes == ["UNREADABLE_FILE"] and e.problems[0].row == 3


def test_index_bet_tiers_and_weights_checked() -> None:
    text = """id = "x"
method = "index_bet"
period = "year"
start = "2020"
end = "2020"
[[parties]]
id = "A"
kind = "external"
[[parties]]
id = "B"
kind = "external"
[[sections]]
id = "S"
upstream = "A"
downstream = "B"
[[indicators]]
name = "TP"
[index_bet]
k0 = 0.85
weights = { TP = 0.9 }
baselines_mg_l = { TP = 0.05 }
[[index_bet.tiers]]
p_at_most = 1.2
payer = "downstream"
payee = "upstream"
amount_cny = 1
[[index_bet.tiers]]
p_above = 1
payer = "upstream"
payee = "nobody"
amount_cny = 1
"""
    e = errors(text)
    assert e.codes == ["SHARES_NOT_ONE", "UNKNOWN_PARTY", "INVALID_VALUE"]
    assert e.problems[0].row == 20  # weights line
    assert e.problems[1].row == 30  # payee of tier 2
    assert "overlap" in e.problems[2].message


def test_duplicate_agreement_ids_and_missing_file(tmp_path: Path) -> None:
    d = tmp_path / "协议 目录"
    d.mkdir()
    (d / "a.toml").write_text(GOOD, encoding="utf-8")
    (d / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_agreements([d / "a.toml", d / "b.toml", d / "none.toml"])
    assert exc.value.codes == ["FILE_NOT_FOUND", "DUPLICATE_KEY"]
    assert load_agreement(d / "a.toml").file.endswith("a.toml")


# ---------------------------------------------------------------- monitoring
def test_monitoring_problems_with_rows(tmp_path: Path) -> None:
    d = tmp_path / "监测数据"
    d.mkdir()
    p = d / "监测.csv"
    p.write_text(
        "断面,日期,指标,浓度(mg/L),流量(m3/s)\n"
        "TJ01,2024-01-15,氨氮,0.8,100\n"
        "TJ01,2024-02-30,氨氮,0.8,100\n"
        "TJ01,2024-03-15,氨氮,abc,100\n"
        "TJ01,2024-04-15,氨氮,-0.1,-5\n"
        ",2024-05-15,氨氮,0.2,\n"
        "TJ01,2024-01-15,NH3-N,0.9,100\n",
        encoding="gb18030",
    )
    with pytest.raises(InputError) as exc:
        read_monitoring(p)
    got = [(x.code, x.row, x.column) for x in exc.value.problems]
    assert got == [
        ("MISSING_VALUE", 6, "section_id"),
        ("WRONG_TYPE", 3, "date"),
        ("WRONG_TYPE", 4, "concentration_mg_l"),
        ("NEGATIVE_VALUE", 5, "concentration_mg_l"),
        ("NEGATIVE_VALUE", 5, "flow_m3s"),
        ("DUPLICATE_KEY", 2, "date"),
        ("DUPLICATE_KEY", 7, "date"),
    ]


def test_monitoring_missing_column_and_aliases() -> None:
    with pytest.raises(InputError) as exc:
        validate_monitoring(pl.DataFrame({"section_id": ["A"], "date": ["2024-01-01"], "indicator": ["TP"]}), "m.csv")
    assert exc.value.codes == ["MISSING_COLUMN"] and exc.value.problems[0].column == "concentration_mg_l"
    ok = validate_monitoring(
        pl.DataFrame({"断面": ["A"], "日期": ["2024-01"], "指标": ["总磷"], "浓度": ["0.123456"]}), "m.csv"
    )
    assert ok.row(0, named=True)["indicator"] == "TP"
    assert ok["concentration_mg_l"][0] == Decimal("0.123456") and ok["month"][0] == "2024-01"


def test_per_indicator_shares_only_for_load_price() -> None:
    bad = GOOD.replace('method = "load_price"', 'method = "fixed_per_section"').replace(
        'upstream = [{ party = "510121", share = 1 }]', 'upstream = [{ party = "510121", share = { "NH3-N" = 1 } }]'
    ).split("[load_price]")[0] + "[fixed_per_section]\namount_not_met_cny = 1\n"
    e = errors(bad)
    assert e.codes == ["INVALID_VALUE"] and e.problems[0].row == 17 and "per indicator" in e.problems[0].message


def test_monitoring_from_xlsx_with_date_cells(tmp_path: Path) -> None:
    import datetime

    import openpyxl

    p = tmp_path / "监测 表.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["断面", "日期", "指标", "浓度(mg/L)", "流量(m3/s)"])
    ws.append(["TJ01", datetime.datetime(2024, 3, 15), "总磷", 0.21, 120.5])
    ws.append(["TJ01", datetime.datetime(2024, 4, 15), "总磷", -0.1, 80])
    wb.save(p)
    with pytest.raises(InputError) as exc:
        read_monitoring(p)
    assert [(x.code, x.row) for x in exc.value.problems] == [("NEGATIVE_VALUE", 3)]
    ws.delete_rows(3)
    wb.save(p)
    ok = read_monitoring(p)
    assert ok.select("date", "month", "indicator").row(0) == ("2024-03-15", "2024-03", "TP")
    assert ok["flow_m3s"][0] == Decimal("120.5")


def test_unknown_party_is_reported_once_not_as_shares_not_one() -> None:
    # upstream A 0.6 + B 0.4 = 1 as written; B is mistyped as 510199 → one UNKNOWN_PARTY, no SHARES_NOT_ONE
    text = GOOD.replace('upstream = [{ party = "510121", share = 1 }]',
                        'upstream = [{ party = "510121", share = 0.6 }, { party = "510199", share = 0.4 }]')
    e = errors(text)
    assert e.codes == ["UNKNOWN_PARTY"] and e.problems[0].value == "510199" and e.problems[0].row == 17
    # shares that are really wrong are still reported when every party is known: 0.6 + 0.3 = 0.9
    text = GOOD.replace('upstream = [{ party = "510121", share = 1 }]',
                        'upstream = [{ party = "510121", share = 0.6 }, { party = "510185", share = 0.3 }]')
    assert errors(text).codes == ["SHARES_NOT_ONE"]


@pytest.mark.parametrize("text", ["2024/4/15", "2024-4-15", "2024年4月15日", "2024 年 4 月 15 日", "2024.04.15",
                                  "2024-04-15", "2024-04-15 00:00:00", "2024-04-15T09:30:00", "2024/4/15 9:30"])
def test_monitoring_dates_as_excel_writes_them_in_a_chinese_locale(text: str) -> None:
    ok = validate_monitoring(pl.DataFrame({"断面": ["A"], "日期": [text], "指标": ["总磷"], "浓度": ["0.1"]}), "m.csv")
    assert ok.select("date", "month").row(0) == ("2024-04-15", "2024-04")


@pytest.mark.parametrize("text", ["2024/4", "2024年4月", "2024-04"])
def test_monitoring_monthly_means_in_any_spelling(text: str) -> None:
    ok = validate_monitoring(pl.DataFrame({"断面": ["A"], "日期": [text], "指标": ["总磷"], "浓度": ["0.1"]}), "m.csv")
    assert ok.select("date", "month").row(0) == ("2024-04", "2024-04")


def test_monitoring_other_date_text_stays_an_error_with_row_and_column() -> None:
    bad = ["15/04/2024", "2024/13/1", "2024年2月30日", "2024.04", "45397", "2024/4-15", "四月十五日"]
    raw = pl.DataFrame({"断面": ["A"] * len(bad), "日期": bad, "指标": ["总磷"] * len(bad), "浓度": ["0.1"] * len(bad)})
    with pytest.raises(InputError) as exc:
        validate_monitoring(raw, "监测.csv")
    got = [(p.code, p.row, p.column, p.value) for p in exc.value.problems]
    assert got == [("WRONG_TYPE", r, "date", v) for r, v in zip(range(2, 2 + len(bad)), bad)]
    assert "年" in (exc.value.problems[0].expected or "")


def test_same_sample_in_two_spellings_is_a_duplicate() -> None:
    raw = pl.DataFrame({"断面": ["A", "A"], "日期": ["2024/4/15", "2024-04-15"], "指标": ["总磷", "TP"], "浓度": ["0.1", "0.2"]})
    with pytest.raises(InputError) as exc:
        validate_monitoring(raw, "m.csv")
    assert [(p.code, p.row, p.value) for p in exc.value.problems] == [
        ("DUPLICATE_KEY", 2, "A 2024-04-15 TP"), ("DUPLICATE_KEY", 3, "A 2024-04-15 TP")]


def test_monitoring_xlsx_date_cells_with_a_time_and_date_formats(tmp_path: Path) -> None:
    import datetime

    import openpyxl

    p = tmp_path / "监测_日期单元格.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["断面", "日期", "指标", "浓度(mg/L)"])
    ws.append(["TJ01", datetime.datetime(2024, 4, 15, 9, 30), "总磷", 0.21])  # sampled at 09:30
    ws.append(["TJ01", datetime.date(2024, 5, 15), "总磷", 0.22])
    ws["B3"].number_format = "yyyy\"年\"m\"月\"d\"日\""  # shown in Chinese, stored as a date serial
    ws.append(["TJ01", "2024年6月15日", "总磷", 0.23])  # typed as text
    wb.save(p)
    ok = read_monitoring(p)
    assert ok.select("date", "month").rows() == [("2024-04-15", "2024-04"), ("2024-05-15", "2024-05"),
                                                 ("2024-06-15", "2024-06")]


def test_every_key_of_the_schema_declares_its_value_type() -> None:
    """The schema models, not the parser, say what each key holds: no key is left untyped (``Any``)
    except a share's party, which only [[parties]] can check."""
    untyped = [f"{m.__name__}.{f}" for m in set(_MODELS.values()) for f, info in m.model_fields.items()
               if info.annotation is Any]
    assert untyped == ["ShareIn.party"]
    assert key_type(("pool", "fund_cny", "2015")) == PoolIn.model_fields["fund_cny"].annotation
    assert key_type(("index_bet", "tiers", 0, "amount_cny", "2016-2017")) == TierIn.model_fields["amount_cny"].annotation
    assert key_type(("sections", 2, "upstream", "share")) == ShareIn.model_fields["share"].annotation


def test_values_are_checked_by_their_declared_types_in_one_pass() -> None:
    """Values of every kind wrong at once: each is reported with its code, line and the expectation the
    schema declares (choice lists come from the models, not from the parser)."""
    text = (GOOD.replace('period = "month"', 'period = "fortnight"')
            .replace('kind = "county"\n\n[[parties]]\nid = "510185"', 'kind = "village"\n\n[[parties]]\nid = "510185"')
            .replace('target_class = "III"', 'target_class = "III"\nstandard_mg_l = 0')
            .replace('{ "NH3-N" = 100000 }', '{ "NH3-N" = "lots" }\nmode = 3'))
    e = errors(text)
    got = [(p.code, p.row, p.column) for p in e.problems]
    assert got == [
        ("INVALID_VALUE", 3, "period"),
        ("INVALID_VALUE", 9, "parties.kind"),
        ("INVALID_VALUE", 23, "indicators.standard_mg_l"),
        ("WRONG_TYPE", 27, "load_price.mode"),
        ("WRONG_TYPE", 26, "load_price.penalty_prices_cny_per_t.NH3-N"),
    ], got
    by_col = {p.column: p for p in e.problems}
    assert by_col["period"].expected == "one of month, quarter, year"
    assert by_col["parties.kind"].expected == "one of county, prefecture, province, treasury, pool, external"
    assert by_col["indicators.standard_mg_l"].message == "'indicators.standard_mg_l' must be greater than zero"


def test_docs_show_every_key_of_the_schema() -> None:
    """docs/compensation.md §Agreement files shows every key the schema knows (in its TOML examples)."""
    doc = (Path(__file__).parents[1] / "docs" / "compensation.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```toml\n(.*?)```", doc, re.S))
    shown = set(re.findall(r"\b([a-z_][a-z_0-9]*)\s*=", blocks)) | set(re.findall(r"\[\[?(?:index_bet\.)?([a-z_]+)\]\]?", blocks))
    missing = sorted(f"{m.__name__}.{f}" for m in set(_MODELS.values()) for f in m.model_fields if f not in shown)
    assert missing == []
