"""Validators for `gep validate` (gep.compensation.validate): every problem returned with its line/row, never raised."""

from __future__ import annotations

from pathlib import Path

import pytest

from gep.compensation.validate import validate_agreement_file, validate_monitoring_file
from gep.pipeline import demo_data_dir

DEMO = demo_data_dir() / "compensation"

BAD = """title = "bad"
method = "pool"
period = "week"
start = "2024-13"
end = "2024-12"
[[parties]]
id = "A"
kind = "county"
[[parties]]
id = "A"
kind = "martian"
[[sections]]
id = "S1"
upstream = [{ party = "A", share = 0.6 }]
downstream = "Z"
[[sections]]
id = "S2"
upstream = "A"
[[indicators]]
name = "TP"
target_class = "VI"
[pool]
pool_party = "FUND"
fund_cny = -5
contributions = { A = "x" }
allocations = { B = 1 }
section_weights = { S9 = 1 }
"""


@pytest.fixture()
def d(tmp_path: Path) -> Path:
    p = tmp_path / "校验 数据"
    p.mkdir()
    return p


def test_demo_files_are_valid() -> None:
    for f in ("chishui_pool_2018.toml", "tuojiang_chain_m4_2024.toml", "minjiang_m3_2024.toml", "xinan_index_bet_2012.toml"):
        assert validate_agreement_file(DEMO / f) == []
    assert validate_monitoring_file(DEMO / "sichuan_monitoring_synthetic.csv") == []
    agreements = [DEMO / "chishui_pool_2018.toml", DEMO / "tuojiang_chain_m4_2024.toml"]
    assert validate_monitoring_file(DEMO / "sichuan_monitoring_synthetic.csv", agreements=agreements) == []


def test_every_agreement_problem_has_its_line(d: Path) -> None:
    p = d / "坏协议.toml"
    p.write_text(BAD, encoding="utf-8")
    problems = validate_agreement_file(p, known_regions={"510104"})
    got = sorted((x.row, x.code, x.column) for x in problems)
    assert got == sorted([
        (1, "MISSING_VALUE", None),                       # no id (top-level key → line 1)
        (3, "INVALID_VALUE", "period"),                   # week
        (4, "INVALID_VALUE", "start"),                    # month 13
        (7, "UNKNOWN_REGION", "parties.id"),              # A is a county but not in the registry
        (10, "DUPLICATE_KEY", "parties.id"),              # A twice
        (11, "INVALID_VALUE", "parties.kind"),            # martian
        (14, "SHARES_NOT_ONE", "sections.upstream"),      # 0.6 ≠ 1
        (15, "UNKNOWN_PARTY", "sections.downstream"),     # Z is not in [[parties]]
        (16, "MISSING_VALUE", "sections"),                # S2 has no downstream → its [[sections]] header
        (19, "MISSING_VALUE", "indicators"),              # no standard (class VI unknown)
        (21, "INVALID_VALUE", "indicators.target_class"),
        (23, "UNKNOWN_PARTY", "pool.pool_party"),
        (24, "NEGATIVE_VALUE", "pool.fund_cny"),
        (25, "WRONG_TYPE", "pool.contributions.A"),
        (26, "UNKNOWN_PARTY", "pool.allocations.B"),
        (27, "UNKNOWN_SECTION", "pool.section_weights.S9"),
    ])
    assert all(x.file == str(p) and x.row is not None and x.expected for x in problems)


def test_toml_syntax_errors_get_a_line(d: Path) -> None:
    p = d / "语法.toml"
    p.write_text('id = "x"\nmethod = "pool"\n[a]\n[a]\n', encoding="utf-8")
    assert [(x.code, x.row) for x in validate_agreement_file(p)] == [("UNREADABLE_FILE", 4)]
    p.write_text('id = "x"\ntitle = "unterminated\n', encoding="utf-8")
    assert [(x.code, x.row) for x in validate_agreement_file(p)] == [("UNREADABLE_FILE", 2)]


def test_missing_and_unreadable_files_are_returned_not_raised(d: Path) -> None:
    assert [x.code for x in validate_agreement_file(d / "nothing.toml")] == ["FILE_NOT_FOUND"]
    assert [x.code for x in validate_agreement_file(d)] == ["FILE_NOT_FOUND"]
    assert [x.code for x in validate_monitoring_file(d / "nothing.csv")] == ["FILE_NOT_FOUND"]
    assert [x.code for x in validate_monitoring_file(d)] == ["UNREADABLE_FILE"]
    empty = d / "空.csv"
    empty.write_bytes(b"")
    assert [x.code for x in validate_monitoring_file(empty)] == ["EMPTY_FILE"]


def test_monitoring_rows_and_columns(d: Path) -> None:
    p = d / "监测.csv"
    p.write_text("断面,日期,指标,浓度\nS1,2024-02-30,总磷,abc\n,2024-01-01,TP,-1\nS1,2024-01-05,TP,0.1\nS1,2024-01-05,TP,0.2\n",
                 encoding="utf-8")
    got = sorted((x.row, x.code, x.column) for x in validate_monitoring_file(p))
    assert got == [
        (2, "WRONG_TYPE", "concentration_mg_l"), (2, "WRONG_TYPE", "date"),
        (3, "MISSING_VALUE", "section_id"), (3, "NEGATIVE_VALUE", "concentration_mg_l"),
        (4, "DUPLICATE_KEY", "date"), (5, "DUPLICATE_KEY", "date"),
    ]
    q = d / "缺列.csv"
    q.write_text("section_id,date\nS1,2024-01-01\n", encoding="utf-8")
    assert [(x.row, x.code, x.column) for x in validate_monitoring_file(q)] == [
        (1, "MISSING_COLUMN", "indicator"), (1, "MISSING_COLUMN", "concentration_mg_l")]


def test_monitoring_against_agreements_reports_gaps(d: Path) -> None:
    # the Tuojiang M4 agreement needs every month of 2024 with flows; keep only January of TJ01
    lines = (DEMO / "sichuan_monitoring_synthetic.csv").read_text(encoding="utf-8").splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.startswith("TJ01,2024-01")]
    p = d / "一月.csv"
    p.write_text("\n".join(keep) + "\n", encoding="utf-8")
    problems = validate_monitoring_file(p, agreements=[DEMO / "tuojiang_chain_m4_2024.toml"])
    assert problems and {x.code for x in problems} == {"MISSING_MONITORING"}
    assert any("TJ01" in x.message and "2024-02" in x.message for x in problems)
    assert any("TJ08" in x.message for x in problems)
    # a broken agreement is reported, not raised
    bad = d / "坏.toml"
    bad.write_text(BAD, encoding="utf-8")
    assert "UNKNOWN_PARTY" in {x.code for x in validate_monitoring_file(p, agreements=[bad])}


def test_validate_of_a_run_config_settles_like_the_run(tmp_path: Path) -> None:
    """Monitoring that passes its own checks but lacks a section the agreement settles: validate RUN.toml refused
    it (MISSING_MONITORING) only since it settles the agreements as the run does; before, validate said OK and the
    run failed."""
    from click.testing import CliRunner
    from gep.cli.main import main
    from gep.context import demo_data_dir

    src = demo_data_dir() / "compensation" / "sichuan_monitoring_synthetic.csv"
    lines = src.read_text(encoding="utf-8").splitlines()
    (tmp_path / "监测.csv").write_text("\n".join([lines[0], *[ln for ln in lines if ln.startswith("TJ01,")]]) + "\n",
                                     encoding="utf-8")
    cfg = tmp_path / "run.toml"
    cfg.write_text('[run]\nreport = false\nregions = "sichuan"\n\n[compensation]\n'
                   'agreements = ["demo:compensation/tuojiang_chain_m4_2024.toml"]\nmonitoring = ["监测.csv"]\n',
                   encoding="utf-8")
    val = CliRunner().invoke(main, ["validate", str(cfg)])
    run = CliRunner().invoke(main, ["run", str(cfg), "--out", str(tmp_path / "out")])
    assert val.exit_code == run.exit_code == 2, (val.output, run.output)
    want = "监测.csv, column 'concentration_mg_l': agreement 'tuojiang-m4-2024' needs monitoring data for section 'TJ02'"
    assert want in val.output and want in run.output
