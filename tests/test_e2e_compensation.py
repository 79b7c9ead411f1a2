"""End-to-end: a finance bureau settles its own agreement (TOML) against its own monitoring workbook (XLSX).

Agreement tests/data/e2e/compensation/jiuli_m4_2024.toml: one section JL01, upstream 市中区 511002 and
东兴区 511011 with per-indicator shares, downstream 大安区 510304, M4 pollutant load × unit price for
April 2024. Monitoring monitoring_2024-04.xlsx (sheet '2024年4月', Chinese headers and indicator
names): CODMn 7.0, NH3-N 1.3, TP 0.25 mg/L at 10 m3/s. Hand computation (docs/compensation.md M4):
April = 30 d × 86 400 s = 2 592 000 s; volume 25 920 000 m3;
  CODMn (7.0 − 6.0) × 25 920 000 × 1e-6 = 25.92 t × 15 000 = 388 800.00
  NH3-N (1.3 − 1.0) × 25.92 = 7.776 t × 100 000 = 777 600.00
  TP (0.25 − 0.20) × 25.92 = 1.296 t × 100 000 = 129 600.00        section total 1 296 000.00
  市中区 388 800 × 0.8578 + 777 600 × 0.8445 + 129 600 × 0.8807
        = 333 512.64 + 656 683.20 + 114 138.72 = 1 104 334.56;  东兴区 191 665.44.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from _e2e import gep, read_csv

DATA = Path(__file__).parent / "data" / "e2e" / "compensation"
AGREEMENT = DATA / "jiuli_m4_2024.toml"
MONITORING = DATA / "monitoring_2024-04.xlsx"




def test_finance_bureau_settles_own_agreement_by_hand(tmp_path: Path) -> None:
    out = tmp_path / "财政局结算"
    res = gep("compensate", "--agreement", AGREEMENT, "--monitoring", MONITORING, "--out", out)
    assert res.exit_code == 0, res.output
    ledger = read_csv(out / "tables" / "compensation_ledger.csv")
    lines = {(r["payer"], r["basis"].split(":")[0]): Decimal(r["amount_cny"]) for r in ledger}
    assert lines == {
        ("511002", "CODMn"): Decimal("333512.64"), ("511011", "CODMn"): Decimal("55287.36"),
        ("511002", "NH3-N"): Decimal("656683.20"), ("511011", "NH3-N"): Decimal("120916.80"),
        ("511002", "TP"): Decimal("114138.72"), ("511011", "TP"): Decimal("15461.28"),
    }
    assert {r["payee"] for r in ledger} == {"510304"} and {r["rule"] for r in ledger} == {"M4_penalty"}
    assert all("UNVERIFIED" in r["basis"] for r in ledger)  # the flagged price table is named on every line
    net = {r["party"]: (Decimal(r["paid_cny"]), Decimal(r["received_cny"]), Decimal(r["net_cny"]))
           for r in read_csv(out / "tables" / "compensation_net.csv")}
    assert net == {
        "510304": (Decimal("0.00"), Decimal("1296000.00"), Decimal("1296000.00")),
        "511002": (Decimal("1104334.56"), Decimal("0.00"), Decimal("-1104334.56")),
        "511011": (Decimal("191665.44"), Decimal("0.00"), Decimal("-191665.44")),
    }
    assert sum(n for _, _, n in net.values()) == Decimal("0.00")


def test_agreement_missing_method_exits_2_names_file_and_field(tmp_path: Path) -> None:
    out = tmp_path / "缺字段"
    res = gep("compensate", "--agreement", DATA / "missing_method.toml", "--monitoring", MONITORING, "--out", out)
    assert res.exit_code == 2, res.output
    assert "missing_method.toml" in res.output and "'method'" in res.output and "[MISSING_VALUE]" in res.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_agreement_missing_price_table_names_line(tmp_path: Path) -> None:
    text = AGREEMENT.read_text(encoding="utf-8")
    bad = tmp_path / "协议_缺单价.toml"
    bad.write_text("\n".join(l for l in text.splitlines() if not l.startswith("penalty_prices_cny_per_t")) + "\n",
                   encoding="utf-8")
    out = tmp_path / "out"
    res = gep("compensate", "--agreement", bad, "--monitoring", MONITORING, "--out", out)
    assert res.exit_code == 2, res.output
    line = next(i for i, l in enumerate(bad.read_text(encoding="utf-8").splitlines(), 1) if l == "[load_price]")
    assert "协议_缺单价.toml" in res.output and f"row {line}" in res.output and "penalty_prices_cny_per_t" in res.output
    assert not out.exists()


def test_month_without_samples_is_an_error(tmp_path: Path) -> None:
    may = tmp_path / "到五月.toml"
    may.write_text(AGREEMENT.read_text(encoding="utf-8").replace('end = "2024-04"', 'end = "2024-05"'), encoding="utf-8")
    out = tmp_path / "out"
    res = gep("compensate", "--agreement", may, "--monitoring", MONITORING, "--out", out)
    assert res.exit_code == 2, res.output
    # CODMn, NH3-N, TP and the flow: each gap named with the month
    assert res.output.count("[MISSING_MONITORING]") == 4 and "2024-05" in res.output
    assert not out.exists()


def test_validate_agreement_and_workbook() -> None:
    res = gep("validate", AGREEMENT, MONITORING, "--regions", "sichuan")
    assert res.exit_code == 0, res.output
    assert "3 samples" in res.output


# Fixed by 716e3e6 (was: UNKNOWN_KIND 'cannot tell which input this is').
def test_validate_names_missing_method() -> None:
    res = gep("validate", DATA / "missing_method.toml")
    assert res.exit_code == 2
    assert "'method'" in res.output and "[UNKNOWN_KIND]" not in res.output


def test_unknown_party_does_not_cascade_into_share_errors(tmp_path: Path) -> None:
    bad = tmp_path / "错代码.toml"
    bad.write_text(AGREEMENT.read_text(encoding="utf-8").replace('id = "511011"', 'id = "511099"'), encoding="utf-8")
    res = gep("compensate", "--agreement", bad, "--monitoring", MONITORING, "--out", tmp_path / "out")
    assert res.exit_code == 2
    assert "[UNKNOWN_PARTY]" in res.output and "511099" in res.output
    assert "[SHARES_NOT_ONE]" not in res.output


def test_repeat_into_same_directory_is_byte_identical_reports_included(tmp_path: Path) -> None:
    out = tmp_path / "重复结算"
    args = ("compensate", "--agreement", AGREEMENT, "--monitoring", MONITORING, "--out", out)

    def files() -> dict[str, bytes]:
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    assert gep(*args).exit_code == 0
    first = files()
    assert {"report.xlsx", "report.html", "manifest.json", "run.toml"} <= set(first)
    assert gep(*args).exit_code == 0  # the same command again: every byte, reports included
    assert files() == first
    res = gep("run", out / "run.toml")  # the resolved config into the same directory
    assert res.exit_code == 0, res.output
    again = files()
    assert again.keys() == first.keys()
    for k in first:  # only the recorded command line differs (manifest and the reports that print it)
        if k.startswith("tables/") or k == "run.toml":
            assert first[k] == again[k], k


def test_monitoring_csv_with_excel_chinese_locale_dates(tmp_path: Path) -> None:
    out = tmp_path / "斜杠日期"
    res = gep("compensate", "--agreement", AGREEMENT, "--monitoring", DATA / "monitoring_2024-04_excel_dates.csv",
              "--out", out)
    assert res.exit_code == 0, res.output
    net = {r["party"]: r["net_cny"] for r in read_csv(out / "tables" / "compensation_net.csv")}
    assert net == {"510304": "1296000.00", "511002": "-1104334.56", "511011": "-191665.44"}
