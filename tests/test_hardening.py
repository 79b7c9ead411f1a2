"""Issue 15: no traceback from any input or output location, located refusals, crash-safe runs."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from gep.cli.main import main
from gep.config import load_config
from gep.errors import InputError, Problem, fmt_number
from gep.pipeline import execute
from gep.readers import read_raw


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    d = tmp_path / "w"
    d.mkdir()
    (d / "lc.csv").write_text("地区代码,年份,地类,面积(公顷)\nC1,2020,水田,10\n", encoding="utf-8")
    (d / "run.toml").write_text('[run]\nreport = false\n\n[inputs]\nlandcover = ["lc.csv"]\n', encoding="utf-8")
    return d


def test_output_below_a_regular_file_is_a_located_refusal(work: Path) -> None:
    (work / "afile").write_text("x")
    res = CliRunner().invoke(main, ["run", str(work / "run.toml"), "--out", str(work / "afile" / "out")])
    assert res.exit_code == 2, res.output
    assert "cannot write the output directory" in res.output and "BAD_OUTPUT" in res.output
    assert f"({work / 'afile'} is a file, not a folder)" in res.output  # not the OS's bare "File exists"


def test_output_that_cannot_be_created_is_a_located_refusal(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*a: object, **k: object) -> str:
        raise PermissionError(13, "Permission denied", str(work))
    monkeypatch.setattr("gep.pipeline.tempfile.mkdtemp", denied)
    res = CliRunner().invoke(main, ["run", str(work / "run.toml"), "--out", str(work / "out")])
    assert res.exit_code == 2, res.output
    assert "cannot write the output directory (Permission denied)" in res.output
    assert not (work / "out").exists() and not list(work.glob(".out*"))


def test_second_concurrent_run_is_refused_naming_the_other_process(work: Path) -> None:
    out = work / "out"
    with open(work / ".out.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fh.write("4242")
        fh.flush()
        with pytest.raises(InputError) as ei:
            execute(load_config(work / "run.toml"), out)
    assert "another gep run (process 4242)" in ei.value.problems[0].message
    assert not out.exists()


def test_stale_temp_of_a_dead_run_is_removed_with_a_note(work: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = work / f".out.tmp-{dead}-abc"
    (stale / "tables").mkdir(parents=True)
    out = execute(load_config(work / "run.toml"), work / "out")
    assert not stale.exists()
    assert "STALE_RUN_REMOVED" in (out / "manifest.json").read_text(encoding="utf-8")
    assert not list(work.glob(".out.tmp-*"))


def test_sigterm_removes_the_unfinished_folder(work: Path) -> None:
    script = f"""
import os, signal, gep.pipeline as p
from gep.config import load_config
orig = p.write_run
def slow(*a, **k):
    orig(*a, **k)
    os.kill(os.getpid(), signal.SIGTERM)
p.write_run = slow
try:
    p.execute(load_config({str(work / 'run.toml')!r}), {str(work / 'out')!r})
except KeyboardInterrupt:
    print("interrupted")
"""
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "interrupted" in res.stdout, res.stderr
    assert not list(work.glob(".out.tmp-*")) and not (work / "out").exists()


def test_csv_row_with_extra_fields_is_named(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("a,b,c\n1,2,3\n4,5,6,7\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        read_raw(f)
    p = ei.value.problems[0]
    assert (p.code, p.row) == ("EXTRA_FIELDS", 3)
    assert "the row has 4 fields but the header has 3" in p.render()


def test_huge_numbers_are_shown_in_scientific_notation() -> None:
    assert Problem("X", "bad", value=str(int(1e300))).render() == "bad (found '1e+300') [X]"
    assert fmt_number(1e-300) == "1e-300" and fmt_number(12.5) == "12.5"


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_text("地区代码,年份\nC1,2020\n", encoding="utf-16")
    assert read_raw(f).df.columns == ["地区代码", "年份"]


def test_big5_file_is_named_as_big5(tmp_path: Path) -> None:
    f = tmp_path / "b.csv"
    f.write_bytes("地區代碼,年份,面積\nC1,2020,3\n".encode("big5"))
    with pytest.raises(InputError) as ei:
        read_raw(f)
    assert "this file seems to be encoded in Big5" in ei.value.problems[0].message


def test_hidden_first_sheet_is_not_read(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "old"
    hidden.append(["a", "b"])
    hidden.append(["hidden", "1"])
    hidden.sheet_state = "hidden"
    ws = wb.create_sheet("data")
    ws.append(["a", "b"])
    ws.append(["visible", "2"])
    f = tmp_path / "h.xlsx"
    wb.save(f)
    raw = read_raw(f)
    assert raw.df["a"].to_list() == ["visible"] and "[data]" in raw.file


def _account(tmp: Path, *args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["account", *args, "--out", str(tmp / "o")])
    assert res.exit_code != 2 or not (tmp / "o").exists()
    return res.exit_code, res.output


def test_negative_quantity_of_a_service_that_cannot_be_negative(tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    q.write_text("region_id,year,service,component,quantity,unit\n"
                 "510104,2015,water_supply,domestic,-10,万m3\n"
                 "510104,2015,carbon_sequestration,,-3,t\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(q)])
    assert res.exit_code == 2
    assert "row 2, column 'quantity': service 'water_supply' cannot have a negative quantity" in res.output
    assert "row 3" not in res.output  # a carbon flux may be net negative


def test_quantity_that_overflows_after_unit_conversion(tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    q.write_text("region_id,year,service,component,quantity,unit\n510104,2015,water_supply,domestic,1e308,亿m3\n",
                 encoding="utf-8")
    code, out = _account(tmp_path, "--method", "function-value", "--quantities", str(q))
    assert code == 2, out
    assert "does not fit a number after unit conversion" in out and "found '1e+308'" in out


def test_negative_standard_equivalent_value_is_refused(tmp_path: Path) -> None:
    lc = tmp_path / "lc.csv"
    lc.write_text("region_id,year,class,area_ha\n510104,2020,有林地,100\n", encoding="utf-8")
    code, out = _account(tmp_path, "--method", "equivalent-factor", "--landcover", str(lc),
                         "--standard-value", "-3406.5")
    assert code == 2, out
    assert "coefficient 'standard_value_cny_per_hm2' must be above 0" in out


def test_excel_float_and_full_width_region_codes_are_read(tmp_path: Path) -> None:
    f = tmp_path / "lc.csv"
    f.write_text("region_id,year,class,area_ha\n510104.0,2020,有林地,１００\n５１０１０５,2020,有林地,100\n",
                 encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 0, res.output
    assert "2 regions" in res.output and "200.00 ha" in res.output


def test_year_too_large_for_a_whole_number_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "q.csv"
    f.write_text("region_id,year,service,component,quantity,unit\n510104,1e308,water_supply,domestic,1,万m3\n",
                 encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 2 and "is not a whole number" in res.output, res.output


def test_unknown_price_unit_is_refused_by_validate_and_blamed_on_the_prices_file(tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    q.write_text("region_id,year,service,component,quantity,unit\n510104,2015,water_supply,domestic,10,万m3\n",
                 encoding="utf-8")
    p = tmp_path / "p.csv"
    p.write_text("service,component,price,unit\nwater_supply,domestic,2.6,元/foo\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(p)])
    assert res.exit_code == 2 and "p.csv, row 2, column 'unit': unit 'foo' is not a unit gep knows" in res.output
    code, out = _account(tmp_path, "--method", "function-value", "--quantities", str(q), "--prices", str(p))
    assert code == 2 and "p.csv, row 2, column 'unit'" in out and "q.csv" not in out, out


def test_internal_error_writes_the_traceback_to_a_log_file_and_exits_1(
        work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def boom(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("boom in a step")

    monkeypatch.setattr("gep.pipeline.write_run", boom)
    logs = tmp_path / "logs"
    logs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(logs))
    res = CliRunner().invoke(main, ["run", str(work / "run.toml"), "--out", str(work / "out")])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "ZeroDivisionError: boom in a step" in res.output
    (log,) = logs.glob("gep-bug-*.log")
    assert f"log:       {log}" in res.output
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "boom in a step" in text and "command: gep" in text
    assert not (work / "out").exists()


def test_declared_sign_rules_only_carbon_flux_may_be_net_negative() -> None:
    from gep.account.catalog import service_aliases
    from gep.coefficients.ranges import SIGNS, may_be_negative, range_rules

    rules = range_rules()
    assert set(rules["sign"].to_list()) <= set(SIGNS)
    known = set(service_aliases().values())
    assert set(rules.filter(pl.col("subject") == "service")["name"].to_list()) - {"*"} <= known
    assert may_be_negative("quantity") == may_be_negative("value") == frozenset({"carbon_sequestration"})


def test_negative_food_value_in_statistics_is_refused_by_validate_and_run(tmp_path: Path) -> None:
    s = tmp_path / "s.csv"
    s.write_text("region_id,year,service,component,value,unit\n"
                 "510104,2015,agricultural_products,grain,-5,万元\n"
                 "510104,2015,carbon_sequestration,,-2,万元\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(s)])
    assert res.exit_code == 2, res.output
    assert "s.csv, row 2, column 'value': service 'agricultural_products' cannot have a negative value (found '-5'" in res.output
    assert "row 3" not in res.output
    code, out = _account(tmp_path, "--method", "function-value", "--statistics", str(s))
    assert code == 2 and "s.csv, row 2, column 'value'" in out, out


def test_negative_standard_value_from_a_run_config_is_refused(work: Path) -> None:
    (work / "lc.csv").write_text("region_id,year,class,area_ha\n510104,2020,有林地,100\n", encoding="utf-8")
    (work / "run.toml").write_text('[run]\nreport = false\n\n[inputs]\nlandcover = ["lc.csv"]\n\n'
                                   '[account]\nmethods = ["equivalent_factor"]\nstandard_value = -1\n',
                                   encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(work / "run.toml"), "--out", str(work / "out")])
    assert res.exit_code == 2, res.output
    assert "standard_value_cny_per_hm2' must be above 0" in res.output and not (work / "out").exists()


def _problem_lines(output: str) -> set[str]:
    return {line.strip() for line in output.splitlines() if line.strip().startswith("- ")}


def test_validate_and_run_report_the_same_problems_in_one_pass(tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    q.write_text("region_id,year,service,component,quantity,unit\n"
                 "519999,20x15,water_supply,domestic,abc,万m3\n"
                 "510104,2015,no_such_service,,1,万m3\n"
                 "510104,2015,water_supply,industrial,-4,万m3\n", encoding="utf-8")
    val = CliRunner().invoke(main, ["validate", str(q), "--regions", "sichuan"])
    code, out = _account(tmp_path, "--method", "function-value", "--quantities", str(q), "--regions", "sichuan")
    assert val.exit_code == code == 2
    lines = _problem_lines(val.output)
    assert lines == _problem_lines(out), (val.output, out)
    codes = sorted(line.rsplit("[", 1)[1].rstrip("]") for line in lines)
    # a type error does not hide the region, service and sign problems of the same file
    assert codes == ["NEGATIVE_VALUE", "UNKNOWN_REGION", "UNKNOWN_SERVICE", "WRONG_TYPE", "WRONG_TYPE"]


def test_price_unit_of_the_wrong_kind_is_refused_by_validate_and_run_on_the_prices_row(tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    q.write_text("region_id,year,service,component,quantity,unit\n510104,2015,water_supply,domestic,10,万m3\n",
                 encoding="utf-8")
    p = tmp_path / "p.csv"
    p.write_text("service,component,price,unit\nwater_supply,domestic,2.6,元/kg\n", encoding="utf-8")
    want = ("p.csv, row 2, column 'unit': service 'water_supply' is measured in m3: price unit '元/kg' does not fit it")
    val = CliRunner().invoke(main, ["validate", str(p)])
    assert val.exit_code == 2 and want in val.output and "[UNIT_MISMATCH]" in val.output, val.output
    code, out = _account(tmp_path, "--method", "function-value", "--quantities", str(q), "--prices", str(p))
    assert code == 2 and want in out and "q.csv" not in out, out


def test_quantity_overflowing_its_indicator_unit_is_refused_by_validate(tmp_path: Path) -> None:
    q = tmp_path / "q.csv"
    q.write_text("region_id,year,service,component,quantity,unit\n510104,2015,water_supply,domestic,1e308,亿m3\n",
                 encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(q)])
    assert res.exit_code == 2, res.output
    assert ("q.csv, row 2, column 'quantity': service 'water_supply': quantity 1e+308 亿m3 does not fit a number "
            "after unit conversion to m3 (found '1e+308'") in res.output


def test_validate_of_a_run_config_checks_units_against_the_configs_function_value_set(tmp_path: Path) -> None:
    import shutil

    from gep.coefficients.sets import SETS_DIR

    shutil.copytree(SETS_DIR / "function_value_cn", tmp_path / "fvset")
    ind = tmp_path / "fvset" / "indicators.csv"
    ind.write_text(ind.read_text(encoding="utf-8").replace(",m3,quantity,5", ",kg,quantity,5"), encoding="utf-8")
    (tmp_path / "q.csv").write_text("region_id,year,service,component,quantity,unit\n"
                                    "510104,2015,water_supply,domestic,10,万m3\n", encoding="utf-8")
    (tmp_path / "r.toml").write_text('[run]\nreport = false\n\n[account]\nmethods = ["function_value"]\n'
                                     'function_value_set = "fvset"\nquantities = ["q.csv"]\n', encoding="utf-8")
    want = "q.csv, row 2, column 'unit': service 'water_supply' is measured in kg"
    val = CliRunner().invoke(main, ["validate", str(tmp_path / "r.toml")])
    run = CliRunner().invoke(main, ["run", str(tmp_path / "r.toml"), "--out", str(tmp_path / "o")])
    # the set folder is found from the config's folder by both, whatever the working directory
    assert val.exit_code == run.exit_code == 2 and want in val.output and want in run.output, (val.output, run.output)


def _workbook(path: Path, sheets: list[tuple[str, list[list[object]], bool]]) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, hidden in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        if hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


LC_HEADER = ["region_id", "year", "class", "area_ha"]


def test_sheet_named_in_the_path_is_read_and_same_layout_sheets_are_refused(tmp_path: Path) -> None:
    f = _workbook(tmp_path / "lc.xlsx", [("2020", [LC_HEADER, ["510104", 2020, "有林地", 5]], False),
                                         ("2025", [LC_HEADER, ["510104", 2025, "有林地", 7]], False)])
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 2 and "[AMBIGUOUS_SHEET]" in res.output, res.output
    assert "2 sheets with the same columns (2020, 2025)" in res.output and "lc.xlsx#2020" in res.output
    res = CliRunner().invoke(main, ["validate", f"{f}#2025"])
    assert res.exit_code == 0 and "years 2025" in res.output and "7.00 ha" in res.output, res.output
    (tmp_path / "r.toml").write_text('[run]\nreport = false\n\n[inputs]\nlandcover = ["lc.xlsx#2020"]\n',
                                     encoding="utf-8")
    out = execute(load_config(tmp_path / "r.toml"), tmp_path / "o")
    assert "2020" in (out / "tables" / "extent.csv").read_text(encoding="utf-8")
    assert "2025" not in (out / "tables" / "extent.csv").read_text(encoding="utf-8")
    (tmp_path / "r.toml").write_text('[run]\nreport = false\n\n[inputs]\nlandcover = ["lc.xlsx"]\n'
                                     'sheet = "2025"\n', encoding="utf-8")
    out = execute(load_config(tmp_path / "r.toml"), tmp_path / "o2")
    assert "2025" in (out / "tables" / "extent.csv").read_text(encoding="utf-8")


def test_hidden_first_sheet_and_extra_tables_are_named_in_a_warning_and_the_manifest(tmp_path: Path) -> None:
    f = _workbook(tmp_path / "lc.xlsx", [("old", [LC_HEADER, ["510104", 2010, "有林地", 1]], True),
                                         ("data", [LC_HEADER, ["510104", 2020, "有林地", 5]], False),
                                         ("说明", [["说明", "来源"], ["synthetic", "demo"]], False)])
    res = CliRunner().invoke(main, ["validate", str(f)])
    assert res.exit_code == 0, res.output
    assert "first sheet 'old' is hidden and not read; read sheet 'data'" in res.output
    assert "2 sheets with tables; read sheet 'data', not '说明'" in res.output
    (tmp_path / "r.toml").write_text('[run]\nreport = false\n\n[inputs]\nlandcover = ["lc.xlsx"]\n', encoding="utf-8")
    out = execute(load_config(tmp_path / "r.toml"), tmp_path / "o")
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert manifest.count("XLSX_SHEET_CHOSEN") == 2 and "read sheet 'data'" in manifest


def test_latin1_header_gets_an_encoding_hint(tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_bytes("région,année,surface\n510104,2020,3\n".encode("latin-1"))
    with pytest.raises(InputError) as ei:
        read_raw(f)
    p = ei.value.problems[0]
    assert p.code == "UNREADABLE_FILE" and "this file seems to be encoded in Latin-1" in p.message


def test_gb18030_four_byte_characters_and_utf16_big_endian_are_read(tmp_path: Path) -> None:
    f = tmp_path / "g.csv"
    f.write_bytes("地区代码,年份,地类,面积(公顷),备注\n510104,2020,有林地,3,䶮\n".encode("gb18030"))
    assert read_raw(f).df["备注"].to_list() == ["䶮"]  # U+4DAE: four bytes in GB18030, not in GBK
    f.write_bytes(b"\xfe\xff" + "地区代码,年份\n510104,2020\n".encode("utf-16-be"))
    assert read_raw(f).df.columns == ["地区代码", "年份"]


def test_normalised_region_codes_are_noted_in_validate_and_the_manifest(work: Path) -> None:
    (work / "lc.csv").write_text("region_id,year,class,area_ha\n510104.0,2020,有林地,1\n５１０１０５,2020,有林地,2\n",
                                 encoding="utf-8")
    res = CliRunner().invoke(main, ["validate", str(work / "lc.csv")])
    assert res.exit_code == 0, res.output
    assert ("lc.csv, row 2, column 'region_id': 2 region codes written as a number or with full-width digits "
            "were read as codes ('510104.0' → '510104')") in res.output and "[REGION_CODE_NORMALISED]" in res.output
    out = execute(load_config(work / "run.toml"), work / "out")
    manifest = (out / "manifest.json").read_text(encoding="utf-8")
    assert manifest.count("REGION_CODE_NORMALISED") == 1
    assert "510105" in (out / "tables" / "extent.csv").read_text(encoding="utf-8")


def test_validate_of_a_run_config_needs_the_price_index_years_the_run_rebases(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("region_id,year,service,component,value,unit\n510104,2015,recreation,,5,万元\n",
                                    encoding="utf-8")
    (tmp_path / "i.csv").write_text("year,index\n2010,100\n2020,120\n", encoding="utf-8")
    (tmp_path / "r.toml").write_text('[run]\nreport = false\nprice_base_year = 2020\n\n[account]\n'
                                     'methods = ["function_value"]\nstatistics = ["s.csv"]\nprice_index = "i.csv"\n',
                                     encoding="utf-8")
    val = CliRunner().invoke(main, ["validate", str(tmp_path / "r.toml")])
    run = CliRunner().invoke(main, ["run", str(tmp_path / "r.toml"), "--out", str(tmp_path / "o")])
    assert val.exit_code == run.exit_code == 2, (val.output, run.output)
    want = "the price index has no value for year 2015, needed to rebase values to 2020"
    assert want in val.output and want in run.output


def test_an_impossible_area_is_refused_in_scientific_notation_by_validate_and_run(tmp_path: Path) -> None:
    """1e300 ha (or 1e12 亩) is larger than the Earth's land surface: refused where it is, never echoed as 300 digits."""
    lc = tmp_path / "地类.csv"
    lc.write_text("region_id,year,class,area_mu\n510104,2020,水田,1e12\n510104,2020,旱地,1e300\n", encoding="utf-8")
    val = CliRunner().invoke(main, ["validate", str(lc), "--kind", "landcover", "--regions", "sichuan"])
    run = CliRunner().invoke(main, ["account", "--landcover", str(lc), "--crosswalk", "tnls", "--method",
                                    "equivalent_factor", "--regions", "sichuan", "--out", str(tmp_path / "o")])
    for res in (val, run):
        assert res.exit_code == 2, res.output
        assert "row 2, column 'area_mu': value is larger than 1.5e+10 ha (found '1e12'" in res.output
        assert "row 3, column 'area_mu': value is larger than 1.5e+10 ha (found '1e300'" in res.output
        assert "[VALUE_OUT_OF_RANGE]" in res.output and "0" * 30 not in res.output
    assert not (tmp_path / "o").exists()


def test_amounts_in_messages_stay_readable() -> None:
    from gep.errors import fmt_amount, fmt_share

    assert fmt_amount(6070.0) == "6,070.00" and fmt_amount(1e300) == "1e+300" and fmt_amount(float("inf")) == "inf"
    assert fmt_share(0.125) == "12.5%" and fmt_share(1.6e298) == "1.6e+300%"


def test_price_ratio_and_index_columns_follow_ranges_csv() -> None:
    """The prices, adjustment-ratio and price-index columns take their sign rule from coefficients/ranges.csv."""
    from gep.account.inputs import ADJUSTMENTS_SPEC, PRICE_INDEX_SPEC, PRICES_SPEC
    from gep.coefficients.ranges import range_rules

    rules = {r["name"]: r for r in range_rules().filter(pl.col("subject") == "coefficient").iter_rows(named=True)}
    for spec, col, name in ((PRICES_SPEC, "price", "price"), (ADJUSTMENTS_SPEC, "ratio", "adjustment_ratio"),
                            (PRICE_INDEX_SPEC, "index", "price_index")):
        assert spec.column(col).nonnegative == (rules[name]["sign"] in ("nonnegative", "positive")), name
        assert spec.column(col).max_value == rules[name]["high"], name
