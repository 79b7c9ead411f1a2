"""`gep coefficients list|show|validate|diff` through click's CliRunner."""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
from click.testing import CliRunner
from gep.cli.coefficients import coefficients
from gep.cli.main import main


def _run(args: list[str]) -> tuple[int, str, str]:
    r = CliRunner().invoke(coefficients, args)
    return r.exit_code, r.stdout, r.stderr


def test_registered_in_main_group() -> None:
    r = CliRunner().invoke(main, ["coefficients", "--help"])
    assert r.exit_code == 0 and "list" in r.stdout and "diff" in r.stdout


def test_list_csv_counts_rows_and_unverified() -> None:
    code, out, _ = _run(["list", "--format", "csv"])
    assert code == 0
    df = pl.read_csv(io.StringIO(out), infer_schema_length=0)
    rec = {r["id"]: r for r in df.iter_rows(named=True)}
    assert rec["xie2015"]["rows"] == "155" and rec["xie2015"]["unverified_rows"] == "44"
    assert rec["xie2015"]["price_year"] == "2010" and rec["xie2015"]["family"] == "equivalent_factor"
    assert rec["tnls"]["kind"] == "crosswalk" and rec["clcd"]["rows"] == "9"


def test_show_table_csv() -> None:
    code, out, _ = _run(["show", "xie2015", "--table", "standard_value", "--format", "csv"])
    assert code == 0
    df = pl.read_csv(io.StringIO(out))
    assert df["value"].to_list() == [3406.5] and df["price_year"].to_list() == [2010]
    assert df["key"].to_list() == ["standard_equivalent_value"] and df["verification"].to_list() == ["secondary"]


def test_show_text_and_crosswalk() -> None:
    code, out, _ = _run(["show", "xie2008", "--table", "equivalents"])
    assert code == 0 and "森林" in out and "[equivalents]" in out and "54 rows" in out
    code, out, _ = _run(["show", "tnls"])
    assert code == 0 and "天然牧草地" in out and "草甸" in out


def test_show_unknown_set_exits_2() -> None:
    code, _, err = _run(["show", "no_such_set"])
    assert code == 2 and "UNKNOWN_COEFFICIENT_SET" in err
    code, _, err = _run(["show", "xie2015", "--table", "nope"])
    assert code == 2 and "UNKNOWN_TABLE" in err


def test_validate_good_and_bad(tmp_path: Path) -> None:
    code, out, _ = _run(["validate", "xie2015", "xie2003", "xie2008", "tnls", "worldcover"])
    assert code == 0 and out.count("OK") == 5
    bad = tmp_path / "坏 表.csv"
    bad.write_text("ecosystem_type,service,value,unit,source,verification\n"
                   "旱地,food_production,abc,equivalent,s,secondary\n"
                   "旱地,raw_materials,0.4,equivalent,,secondary\n", encoding="utf-8")
    code, out, err = _run(["validate", "xie2015", str(bad)])
    assert code == 2
    assert "OK coefficient set xie2015" in out and "INVALID" in out
    assert "row 2, column 'value'" in err and "[WRONG_TYPE]" in err
    assert "row 3, column 'source'" in err and "[MISSING_VALUE]" in err


def test_diff(tmp_path: Path) -> None:
    head = "ecosystem_type,service,value,unit,source,verification\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(head + "旱地,food_production,0.8,equivalent,s,secondary\n", encoding="utf-8")
    b.write_text(head + "旱地,food_production,1.0,equivalent,s,secondary\n", encoding="utf-8")
    code, out, _ = _run(["diff", str(a), str(b)])
    assert code == 0 and "1 changed, 0 added, 0 removed" in out
    code, out, _ = _run(["diff", str(a), str(b), "--format", "csv"])
    df = pl.read_csv(io.StringIO(out))
    # (1.0 − 0.8) / 0.8 = 0.25
    assert df["status"].to_list() == ["changed"] and abs(df["rel_change"][0] - 0.25) < 1e-12


def test_diff_and_show_with_override_file(tmp_path: Path) -> None:
    ov = tmp_path / "覆盖.csv"
    ov.write_text("ecosystem_type,service,value,source\nmeadow,food_production,0.33,县 2020 调查\n", encoding="utf-8")
    code, out, _ = _run(["diff", "xie2015", "xie2015", "--overrides", str(ov), "--format", "csv"])
    assert code == 0
    df = pl.read_csv(io.StringIO(out))
    # (0.33 − 0.22) / 0.22 = 0.5
    assert df["key"].to_list() == ["草甸 | food_production"] and abs(df["rel_change"][0] - 0.5) < 1e-12
    code, out, _ = _run(["show", "xie2015", "-t", "equivalents", "--overrides", str(ov)])
    assert code == 0 and "based on xie2015 1.0.0 with 1 overridden row" in out
    bad = tmp_path / "bad.csv"
    bad.write_text("ecosystem_type,service,value\n草甸,food,0.3\n", encoding="utf-8")
    code, _, err = _run(["diff", "xie2015", "xie2015", "--overrides", str(bad)])
    assert code == 2 and "[UNKNOWN_KEY]" in err and "row 2" in err
