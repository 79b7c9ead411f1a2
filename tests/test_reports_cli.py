"""`gep report RUN_DIR [--format] [--lang]`: files written, exit codes for bad input."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from gep.cli.main import main
from gep.reports.sample import make_hand_run


def test_report_writes_requested_formats(tmp_path: Path) -> None:
    run, _, _ = make_hand_run(tmp_path / "县 报告")
    result = CliRunner().invoke(main, ["report", str(run), "--format", "xlsx", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert (run / "report.xlsx").is_file() and not (run / "report.html").exists()
    assert f"wrote {run / 'report.xlsx'}" in result.output
    result = CliRunner().invoke(main, ["report", str(run)])
    assert result.exit_code == 0, result.output
    assert (run / "report.html").stat().st_size > 1000
    # the registry 'hand' does not exist: the report says so instead of failing
    assert "regions registry &#39;hand&#39; not available" in (run / "report.html").read_text("utf-8")


def test_not_a_run_directory_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "空目录"
    empty.mkdir()
    result = CliRunner().invoke(main, ["report", str(empty)])
    assert result.exit_code == 2
    assert "FILE_NOT_FOUND" in result.output and "manifest.json" in result.output
    assert not (empty / "report.xlsx").exists()
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "FILE_NOT_FOUND" in result.output


def test_bad_format_and_lang_are_usage_errors(tmp_path: Path) -> None:
    run, _, _ = make_hand_run(tmp_path / "r")
    result = CliRunner().invoke(main, ["report", str(run), "--format", "pdf"])
    assert result.exit_code == 2 and "--format" in result.output
    result = CliRunner().invoke(main, ["report", str(run), "--lang", "fr"])
    assert result.exit_code == 2
    assert not (run / "report.xlsx").exists()


def test_detail_rows_option(tmp_path: Path) -> None:
    import openpyxl

    run, _, _ = make_hand_run(tmp_path / "明细")
    result = CliRunner().invoke(main, ["report", str(run), "--format", "xlsx",
                                       "--detail-rows", "2"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(run / "report.xlsx", read_only=True)
    (name,) = [n for n in wb.sheetnames if "服务明细" in n]
    # services has 6 rows; 2 kept + header; the note names the CSV
    rows = list(wb[name].iter_rows(values_only=True))
    assert sum(1 for r in rows if r[0] in ("510104", "510105")) == 2
    assert any(r[0] and "tables/services.csv" in str(r[0]) for r in rows)
    result = CliRunner().invoke(main, ["report", str(run), "--format", "xlsx",
                                       "--detail-rows", "all"])
    assert result.exit_code == 0
    wb = openpyxl.load_workbook(run / "report.xlsx", read_only=True)
    rows = list(wb[name].iter_rows(values_only=True))
    assert sum(1 for r in rows if r[0] in ("510104", "510105")) == 6
    result = CliRunner().invoke(main, ["report", str(run), "--detail-rows", "-1"])
    assert result.exit_code == 2 and "--detail-rows" in result.output


def test_detail_full_option_writes_the_detail_workbook(tmp_path: Path) -> None:
    import openpyxl

    run, _, _ = make_hand_run(tmp_path / "全部明细")
    result = CliRunner().invoke(main, ["report", str(run), "--format", "xlsx", "--detail", "full",
                                       "--detail-rows", "2"])
    assert result.exit_code == 0, result.output
    assert "report_detail.xlsx" in result.output
    wb = openpyxl.load_workbook(run / "report_detail.xlsx", read_only=True)
    (name,) = [n for n in wb.sheetnames if "服务明细" in n]
    rows = list(wb[name].iter_rows(values_only=True))
    assert sum(1 for r in rows if r[0] in ("510104", "510105")) == 2  # --detail-rows 2
    result = CliRunner().invoke(main, ["report", str(run), "--detail", "some"])
    assert result.exit_code == 2 and "--detail" in result.output


def test_county_sheets_option(tmp_path: Path) -> None:
    import openpyxl

    run, _, _ = make_hand_run(tmp_path / "县表")
    result = CliRunner().invoke(main, ["report", str(run), "--format", "xlsx", "--county-sheets", "1"])
    assert result.exit_code == 0, result.output
    names = openpyxl.load_workbook(run / "report.xlsx", read_only=True).sheetnames
    assert not [n for n in names if n.split(" ")[1] in ("510104", "510105")]
    result = CliRunner().invoke(main, ["report", str(run), "--format", "xlsx", "--county-sheets", "all"])
    names = openpyxl.load_workbook(run / "report.xlsx", read_only=True).sheetnames
    assert result.exit_code == 0 and len([n for n in names if n.split(" ")[1] in ("510104", "510105")]) == 2
    result = CliRunner().invoke(main, ["report", str(run), "--county-sheets", "many"])
    assert result.exit_code == 2 and "--county-sheets" in result.output
