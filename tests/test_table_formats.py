"""Table formats of a run directory: CSV up to ``[run] csv_max_rows`` rows, Parquet always, hashes of the bytes written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from gep.cli.main import main
from gep.config import load_config
from gep.errors import InputError
from gep.pipeline import LAST_RUN_WARNINGS, execute


def _work(tmp_path: Path, run_extra: str = "") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "lc.csv").write_text(
        "region_id,year,class,area_ha\n"
        "C1,2020,水田,10\n"
        "C1,2020,城镇,2\n"
        "C2,2020,paddy,1\n",
        encoding="utf-8",
    )
    (tmp_path / "run.toml").write_text(
        f'[run]\nreport = false\n{run_extra}\n[inputs]\nlandcover = ["lc.csv"]\n'
        '[account]\nmethods = ["equivalent_factor"]\n',
        encoding="utf-8",
    )
    return tmp_path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_default_writes_csv_and_parquet_and_hashes_what_is_on_disk(tmp_path: Path) -> None:
    out = execute(load_config(_work(tmp_path) / "run.toml"), tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    names = {t["name"] for t in manifest["tables"]}
    assert {"extent", "services", "gep"} <= names
    for rec in manifest["tables"]:
        csv, parquet = out / "tables" / f"{rec['name']}.csv", out / "tables" / f"{rec['name']}.parquet"
        assert csv.exists() and parquet.exists()
        assert rec["sha256"] == _sha(csv)  # the table's hash is the CSV's, as before
        assert [f["file"] for f in rec["files"]] == [f"tables/{csv.name}", f"tables/{parquet.name}"]
        for f in rec["files"]:
            assert f["sha256"] == _sha(out / f["file"]) and f["bytes"] == (out / f["file"]).stat().st_size
        assert "note" not in rec
        assert pl.read_parquet(parquet).height == rec["rows"] == pl.read_csv(csv).height
    # 10 ha paddy + 1 ha paddy, 22 services rows (2 regions × 11 services)
    assert pl.read_parquet(out / "tables" / "services.parquet").height == 22


def test_tables_above_csv_max_rows_are_parquet_only_with_a_note(tmp_path: Path) -> None:
    out = execute(load_config(_work(tmp_path, "csv_max_rows = 3") / "run.toml"), tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    recs = {t["name"]: t for t in manifest["tables"]}
    # extent has exactly 3 rows: still CSV; services has 22 rows: Parquet only
    assert recs["extent"]["rows"] == 3 and (out / "tables" / "extent.csv").exists()
    assert "note" not in recs["extent"]
    svc = recs["services"]
    assert svc["rows"] == 22
    assert not (out / "tables" / "services.csv").exists()
    assert [f["file"] for f in svc["files"]] == ["tables/services.parquet"]
    assert svc["sha256"] == _sha(out / "tables" / "services.parquet")
    assert "22 rows > [run] csv_max_rows = 3" in svc["note"]
    codes = [(w["code"], w["file"]) for w in manifest["warnings"]]
    assert ("TABLE_PARQUET_ONLY", "tables/services.parquet") in codes
    assert ("TABLE_PARQUET_ONLY", "tables/extent.parquet") not in codes
    assert any(w.code == "TABLE_PARQUET_ONLY" for w in LAST_RUN_WARNINGS.get() or [])


def test_parquet_only_table_holds_the_same_values_as_its_csv(tmp_path: Path) -> None:
    both = execute(load_config(_work(tmp_path / "a") / "run.toml"), tmp_path / "a" / "out")
    only = execute(load_config(_work(tmp_path / "b", "csv_max_rows = 0") / "run.toml"), tmp_path / "b" / "out")
    # csv_max_rows = 0: only empty tables (0 rows, not more than 0) keep a CSV
    assert all(pl.read_csv(p).height == 0 for p in (only / "tables").glob("*.csv"))
    assert not (only / "tables" / "services.csv").exists() and not (only / "tables" / "extent.csv").exists()
    for p in (both / "tables").glob("*.parquet"):
        assert p.read_bytes() == (only / "tables" / p.name).read_bytes(), p.name
    svc = pl.read_parquet(only / "tables" / "services.parquet")
    csv = pl.read_csv(both / "tables" / "services.csv", schema_overrides=svc.schema)
    assert svc.equals(csv)


def test_negative_csv_max_rows_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as e:
        load_config(_work(tmp_path, "csv_max_rows = -1") / "run.toml")
    assert "csv_max_rows" in str(e.value)


def test_transfer_reads_a_run_whose_tables_are_parquet_only(tmp_path: Path) -> None:
    """`gep transfer --accounts RUN` finds services and gep as Parquet when the run wrote no CSV for them."""
    e2e = Path(__file__).parent / "data" / "e2e"
    text = (e2e / "tuning" / "base_run.toml").read_text(encoding="utf-8")
    assert "[run]" in text
    cfg = tmp_path / "base_run.toml"
    text = text.replace("[run]", "[run]\ncsv_max_rows = 0", 1).replace("../county/", f"{(e2e / 'county').as_posix()}/")
    cfg.write_text(text, encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(main, ["run", str(cfg), "--out", str(tmp_path / "acc")])
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "acc" / "tables" / "services.csv").exists()
    res = runner.invoke(main, ["transfer", "--accounts", str(tmp_path / "acc"), "--socio",
                               str(e2e / "transfer" / "socio_2020_en.csv"), "--method", "equivalent_factor",
                               "--calculator", "priority", "--out", str(tmp_path / "tr")])
    assert res.exit_code == 0, res.output
    pr = pl.read_parquet(tmp_path / "tr" / "tables" / "transfer_priority.parquet")
    # as in tests/test_e2e_transfer.py: ECPS = non-market value / GDP = 19 137 717 / 1e9 for 510104
    ecps = pr.filter(pl.col("region_id") == "510104")["ecps"][0]
    assert abs(ecps - 19_137_717 / 1e9) < 1e-9
