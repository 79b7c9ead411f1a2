"""Reports read each table from Parquet when the engine wrote it, else from the CSV."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from gep.reports.data import read_tables


def test_parquet_preferred_csv_fallback_and_types(tmp_path: Path) -> None:
    t = tmp_path / "tables"
    t.mkdir()
    # the same table in both formats: Parquet wins (typed: region ids stay text, Int32 years)
    pl.DataFrame({"region_id": ["510104"], "year": [2020], "total_cny": [1.0]}).with_columns(
        pl.col("year").cast(pl.Int32)).write_parquet(t / "gep.parquet")
    (t / "gep.csv").write_text("region_id,year,total_cny\n510104,2020,999\n", encoding="utf-8")
    # CSV only: read from the CSV, ids as text
    (t / "extent.csv").write_text("region_id,year,area_ha\n510105,2020,5\n", encoding="utf-8")
    # Parquet only, with the ledger's exact decimals: read as Float64, as the CSV would be
    pl.DataFrame({"payer": ["510104"], "amount_cny": [Decimal("1000000.25")]}).write_parquet(
        t / "compensation_ledger.parquet")
    tables = read_tables(t)
    assert list(tables) == ["compensation_ledger", "extent", "gep"]
    assert tables["gep"].get_column("total_cny").to_list() == [1.0]
    assert tables["gep"].schema["region_id"] == pl.Utf8
    assert tables["extent"].row(0) == ("510105", 2020, 5.0)
    assert tables["compensation_ledger"].schema["amount_cny"] == pl.Float64
    assert tables["compensation_ledger"].get_column("amount_cny").to_list() == [1000000.25]


def test_reports_pause_the_garbage_collector_and_restore_it(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """write_reports runs with gc paused (reports/__init__.py) and leaves it as it found it,
    also when a writer fails."""
    import gc

    from gep.reports.sample import make_hand_run

    from gep import reports

    run, bounds, names = make_hand_run(tmp_path / "run")
    seen: list[bool] = []
    real = reports.write_html

    def spy(*a, **k):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*a, **k)

    monkeypatch.setattr(reports, "write_html", spy)
    assert gc.isenabled()
    reports.write_reports(run, formats=["html"], boundaries=bounds, region_names=names)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        reports.write_reports(run, formats=["html"], boundaries=bounds, region_names=names)
        assert not gc.isenabled()
    finally:
        gc.enable()

    def fail(*a, **k):  # type: ignore[no-untyped-def]
        raise RuntimeError("writer failed")

    monkeypatch.setattr(reports, "write_html", fail)
    with pytest.raises(RuntimeError, match="writer failed"):
        reports.write_reports(run, formats=["html"], boundaries=bounds, region_names=names)
    assert gc.isenabled()
