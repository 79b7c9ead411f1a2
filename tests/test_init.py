"""`gep init`: templates per input kind (CSV and XLSX) that pass `gep validate`, a run.toml that runs as written."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from gep.cli.init import TEMPLATES

from tests._e2e import gep, read_csv


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("init") / "county"
    r = gep("init", target, "--region", "513221", "--region", "511802")
    assert r.exit_code == 0, r.output
    assert "SYNTHETIC" in r.output and "gep run" in r.output
    return target


def test_one_csv_xlsx_and_readme_per_kind(project: Path) -> None:
    for t in TEMPLATES:
        for ext in ("csv", "xlsx", "README.md"):
            assert (project / "inputs" / f"{t.file}.{ext}").is_file(), (t.file, ext)
        readme = (project / "inputs" / f"{t.file}.README.md").read_text(encoding="utf-8")
        assert "synthetic" in readme and t.source.splitlines()[0] in readme


def test_chinese_headers_with_units_and_synthetic_rows(project: Path) -> None:
    lc = read_csv(project / "inputs" / "landcover.csv")
    assert list(lc[0]) == ["地区代码", "年份", "地类", "面积(公顷)", "data_status"]
    assert {r["地区代码"] for r in lc} == {"513221", "511802"}
    for t in TEMPLATES:
        rows = read_csv(project / "inputs" / f"{t.file}.csv")
        assert rows, t.file
        assert {r["data_status"] for r in rows} == {"synthetic"}, t.file


def test_xlsx_holds_the_same_rows_as_csv(project: Path) -> None:
    csv_df = pl.read_csv(project / "inputs" / "landcover.csv", infer_schema_length=0)
    ws = openpyxl.load_workbook(project / "inputs" / "landcover.xlsx", read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == csv_df.columns
    assert len(rows) - 1 == csv_df.height
    assert sum(r[3] for r in rows[1:]) == pytest.approx(csv_df["面积(公顷)"].cast(pl.Float64).sum())


@pytest.mark.parametrize("ext", ["csv", "xlsx"])
def test_templates_pass_validate(project: Path, ext: str) -> None:
    files = sorted((project / "inputs").glob(f"*.{ext}"))
    r = gep("validate", *files, "--regions", "sichuan", "--crosswalk", "tnls",
            "--landcover", project / "inputs" / f"landcover.{ext}")
    assert r.exit_code == 0, r.output
    assert r.output.count("OK ") == len(TEMPLATES)
    assert "transitions" in r.output and "not reconciled" not in r.output


def test_run_toml_runs_as_written_into_the_project(project: Path) -> None:
    r = gep("run", project / "run.toml")
    assert r.exit_code == 0, r.output
    run = project / "run"
    assert (run / "report.html").is_file() and (run / "report.xlsx").is_file()
    gep_rows = read_csv(run / "tables" / "gep.csv")
    assert {r["region_id"] for r in gep_rows} == {"513221", "511802"}
    assert {r["method"] for r in gep_rows} == {"function_value", "equivalent_factor"}
    assert {r["data_status"] for r in gep_rows} == {"synthetic"}
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is True
    assert "CARBON_NOT_COMPUTED" not in {w["code"] for w in manifest["warnings"]}


def test_refuses_to_overwrite_a_project(project: Path) -> None:
    before = (project / "run.toml").read_bytes()
    r = gep("init", project)
    assert r.exit_code == 2
    assert "will not overwrite" in r.output and "run.toml" in r.output
    assert (project / "run.toml").read_bytes() == before


def test_unknown_region_is_refused_with_a_hint(tmp_path: Path) -> None:
    r = gep("init", tmp_path / "p", "--region", "110101")
    assert r.exit_code == 2
    assert "UNKNOWN_REGION" in r.output and "110101" in r.output and "gep regions list sichuan" in r.output
    assert not (tmp_path / "p").exists()


def test_same_project_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        assert gep("init", tmp_path / name).exit_code == 0
    for f in sorted((tmp_path / "a").rglob("*")):
        if f.is_file():
            assert f.read_bytes() == (tmp_path / "b" / f.relative_to(tmp_path / "a")).read_bytes(), f.name


def test_a_path_below_a_file_is_a_located_refusal_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "笔记.txt").write_text("a file, not a folder", encoding="utf-8")
    r = gep("init", tmp_path / "笔记.txt" / "县")
    assert r.exit_code == 2, r.output
    assert "[BAD_OUTPUT]" in r.output and "笔记.txt is a file, not a folder" in r.output
    assert "internal error" not in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["笔记.txt"]  # no temporary folder left behind


def test_an_existing_folder_keeps_the_users_files(tmp_path: Path) -> None:
    target = tmp_path / "已有"
    target.mkdir()
    (target / "我的说明.txt").write_text("keep me", encoding="utf-8")
    r = gep("init", target)
    assert r.exit_code == 0, r.output
    assert (target / "我的说明.txt").read_text(encoding="utf-8") == "keep me"
    assert (target / "run.toml").is_file() and (target / "inputs" / "landcover.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["已有"]
