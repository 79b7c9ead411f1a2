"""Override tables in `gep run` configs: derived set, manifest record, values moved, tuning still exact."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from gep.config import load_config
from gep.pipeline import execute


def _setup(d: Path, overrides: bool) -> Path:
    (d / "lc.csv").write_text("region_id,year,class,area_ha\nC1,2020,水田,10\nC1,2020,阔叶,5\n", encoding="utf-8")
    (d / "ov.csv").write_text(
        "table,ecosystem_type,service,value,source\n"
        "equivalents,水田,food_production,2.0,local yield survey 2020 (test)\n", encoding="utf-8")
    extra = 'equivalent_overrides = "ov.csv"\n' if overrides else ""
    cfg = d / ("with.toml" if overrides else "without.toml")
    cfg.write_text(
        '[run]\nreport = false\n[inputs]\nlandcover = ["lc.csv"]\n'
        '[account]\nmethods = ["equivalent_factor"]\n' + extra
        + "[uncertainty]\ndraws = 50\nseed = 3\n", encoding="utf-8")
    return cfg


def test_override_moves_value_and_is_recorded(tmp_path: Path) -> None:
    d = tmp_path / "覆盖"
    d.mkdir()
    base = execute(load_config(_setup(d, False)), d / "base", "test")
    over = execute(load_config(_setup(d, True)), d / "over", "test")
    g0 = pl.read_csv(base / "tables" / "gep.csv")["total_cny"][0]
    g1 = pl.read_csv(over / "tables" / "gep.csv")["total_cny"][0]
    # 水田 food_production 1.36 → 2.0 equivalents on 10 hm2 at 3406.5 CNY/hm2
    assert abs((g1 - g0) - 10 * (2.0 - 1.36) * 3406.5) < 1e-6
    manifest = json.loads((over / "manifest.json").read_text(encoding="utf-8"))
    sets = {s["id"]: s for s in manifest["coefficient_sets"]}
    derived = sets["xie2015+overrides"]
    assert derived["base_id"] == "xie2015"
    (row,) = derived["overrides"]
    assert row["old_value"] == 1.36 and row["new_value"] == 2.0
    assert any(i["role"] == "coefficient overrides" for i in manifest["inputs"])
    # zero-width Monte Carlo reproduces the overridden account exactly
    unc = pl.read_csv(over / "tables" / "uncertainty.csv", schema_overrides={"region_id": pl.Utf8})
    tot = unc.filter((pl.col("region_id") == "C1") & (pl.col("service") == "total"))
    assert tot["p50_cny"][0] == g1
