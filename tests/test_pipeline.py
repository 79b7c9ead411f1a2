"""gep.pipeline and `gep run`/`gep validate`: run directories, manifest, resolved config, atomicity."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from gep.cli.main import main
from gep.config import load_config
from gep.errors import InputError
from gep.pipeline import execute


@pytest.fixture()
def work(tmp_path: Path) -> Path:
    d = tmp_path / "县级核算 run"
    d.mkdir()
    (d / "lc.csv").write_text(
        "地区代码,年份,地类,面积(亩)\n"
        "C1,2020,水田,150\n"     # 10 ha
        "C1,2020,城镇,30\n"      # 2 ha, no service value
        "C2,2020,paddy,15\n",    # 1 ha, English code of 水田
        encoding="gbk",
    )
    (d / "run.toml").write_text(
        '[run]\ntitle = "测试"\nreport = false\n\n[inputs]\nlandcover = ["lc.csv"]\n', encoding="utf-8"
    )
    return d


def test_run_writes_tables_manifest_and_resolved_config(work: Path) -> None:
    out = execute(load_config(work / "run.toml"), work / "out", "gep run run.toml")
    extent = pl.read_csv(out / "tables" / "extent.csv", schema_overrides={"region_id": pl.Utf8})
    # 150 亩 = 10 ha; 'paddy' is the English code of the Xie type 水田; 城镇 has no type
    assert extent.rows() == [("C1", 2020, "城镇", None, 2.0), ("C1", 2020, "水田", "水田", 10.0),
                             ("C2", 2020, "paddy", "水田", 1.0)]
    assert pl.read_parquet(out / "tables" / "extent.parquet").equals(
        extent.with_columns(pl.col("year").cast(pl.Int32)))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["role"] == "landcover"
    assert manifest["inputs"][0]["path"] == "../lc.csv"  # relative to the run folder: it can be shared
    assert len(manifest["inputs"][0]["sha256"]) == 64
    assert manifest["tables"][0]["name"] == "extent" and manifest["tables"][0]["rows"] == 3
    resolved = tomllib.loads((out / "run.toml").read_text(encoding="utf-8"))
    assert resolved["inputs"]["landcover"] == ["../lc.csv"]
    assert resolved["run"]["report_lang"] == "zh-en"  # defaults are filled in


def test_repeat_from_run_toml_is_byte_identical(work: Path) -> None:
    out = execute(load_config(work / "run.toml"), work / "out", "gep run")
    again = execute(load_config(out / "run.toml"), work / "again", "gep run")
    for name in ("tables/extent.csv", "tables/extent.parquet", "manifest.json"):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    # running again into the same directory replaces it atomically with the same bytes
    before = (out / "manifest.json").read_bytes()
    execute(load_config(out / "run.toml"), out, "gep run")
    assert (out / "manifest.json").read_bytes() == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_input_error_writes_nothing(work: Path) -> None:
    (work / "lc.csv").write_text("region_id,year,class,area_ha\nC1,2020,水田,-1\n", encoding="utf-8")
    with pytest.raises(InputError):
        execute(load_config(work / "run.toml"), work / "out", "gep run")
    assert not (work / "out").exists()
    assert not [p for p in work.iterdir() if p.name.startswith(".out")]


def test_refuses_to_overwrite_foreign_directory(work: Path) -> None:
    foreign = work / "mydocs"
    foreign.mkdir()
    (foreign / "important.docx").write_bytes(b"x")
    with pytest.raises(InputError) as err:
        execute(load_config(work / "run.toml"), foreign, "gep run")
    assert err.value.codes == ["BAD_OUTPUT"]
    assert (foreign / "important.docx").exists()


def test_bad_config_names_line(work: Path) -> None:
    (work / "bad.toml").write_text('[run]\ntitle = "x"\nreprot = false\n\n[inputz]\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_config(work / "bad.toml")
    rows = {(p.code, p.row) for p in err.value.problems}
    assert ("BAD_CONFIG", 5) in rows  # unknown section [inputz]
    assert ("BAD_CONFIG", 3) in rows  # unknown key reprot


def test_cli_run_exit_codes(work: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["run", str(work / "run.toml"), "--out", str(work / "cli-out")])
    assert ok.exit_code == 0, ok.output
    assert (work / "cli-out" / "manifest.json").exists()
    (work / "lc.csv").write_text("region_id,year,class,area_ha\nC1,2020,水田,x\n", encoding="utf-8")
    bad = runner.invoke(main, ["run", str(work / "run.toml"), "--out", str(work / "cli-bad")])
    assert bad.exit_code == 2
    assert "row 2" in bad.output and "area_ha" in bad.output and "nothing was written" in bad.output
    assert not (work / "cli-bad").exists()


def test_cli_validate(work: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(work / "lc.csv")])
    assert ok.exit_code == 0 and "OK" in ok.output and "3 rows" in ok.output
    bad_file = work / "bad.csv"
    bad_file.write_text("region_id,year,class,area_ha\n510104,2020,旱地,1\n519999,2020,旱地,1\n", encoding="utf-8")
    bad = runner.invoke(main, ["validate", str(bad_file), "--regions", "sichuan"])
    assert bad.exit_code == 2
    assert "row 3" in bad.output and "UNKNOWN_REGION" in bad.output and "519999" in bad.output


def test_cli_prints_run_warnings(work: Path) -> None:
    # 'paddy' rows of the land cover are valued; a class with no ecosystem type warns in carbon
    (work / "warn.toml").write_text('[run]\nreport = false\n[inputs]\nlandcover = ["lc.csv"]\n[carbon]\n',
                                    encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(work / "warn.toml"), "--out", str(work / "w")])
    assert res.exit_code == 0, res.output
    manifest = json.loads((work / "w" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["warnings"]
    assert "warning" in res.output and manifest["warnings"][0]["code"] in res.output


def test_synthetic_runs_label_every_output_row(work: Path) -> None:
    (work / "syn.toml").write_text('[run]\nreport = false\nsynthetic = true\n[inputs]\nlandcover = ["lc.csv"]\n',
                                   encoding="utf-8")
    out = execute(load_config(work / "syn.toml"), work / "syn", "test")
    extent = pl.read_csv(out / "tables" / "extent.csv")
    assert extent["data_status"].to_list() == ["synthetic"] * 3
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["synthetic"] is True
    plain = execute(load_config(work / "run.toml"), work / "plain", "test")
    assert "data_status" not in pl.read_csv(plain / "tables" / "extent.csv").columns


def test_tables_are_written_as_text_whatever_the_engine_held(tmp_path: Path) -> None:
    """A dictionary-encoded (Categorical) engine column is written as text, and the files (CSV and Parquet,
    row groups included: 300,000 rows make three) are byte for byte those of the same table held as text."""
    from gep.pipeline import PARQUET_ROW_GROUP_ROWS, _write_table

    n = 300_000
    text = pl.DataFrame({"region_id": [f"{510100 + i % 97:06d}" for i in range(n)],
                         "service": ["water_supply", "food_production", "水源涵养"] * (n // 3),
                         "value_cny": [i * 0.5 for i in range(n)]})
    encoded = text.with_columns(pl.col("region_id", "service").cast(pl.Categorical))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ra = _write_table(text, tmp_path / "a", "t", csv_max_rows=n)
    rb = _write_table(encoded, tmp_path / "b", "t", csv_max_rows=n)
    for ext in ("csv", "parquet"):
        assert (tmp_path / "a" / f"t.{ext}").read_bytes() == (tmp_path / "b" / f"t.{ext}").read_bytes()
    assert ra["sha256"] == rb["sha256"]
    back = pl.read_parquet(tmp_path / "b" / "t.parquet")
    assert back.schema["service"] == pl.Utf8 and back.equals(text)
    import pyarrow.parquet as pq

    meta = pq.read_metadata(tmp_path / "b" / "t.parquet")
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [
        PARQUET_ROW_GROUP_ROWS, PARQUET_ROW_GROUP_ROWS, n - 2 * PARQUET_ROW_GROUP_ROWS]
