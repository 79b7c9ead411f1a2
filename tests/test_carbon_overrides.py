"""Carbon coefficient overrides: `[carbon] overrides` and `gep carbon --overrides` (derived set
`<id>+overrides` through gep.coefficients.apply_overrides), manifest record, stocks moved by area × Δ."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.carbon import params
from gep.carbon.step import load_coefficients
from gep.config import load_config
from gep.errors import InputError
from gep.pipeline import execute

# carbon_default 阔叶 pools (t C/ha, placeholders): c_above 50, c_below 11, c_soil 100, c_dead 5 = 166.
# The override moves 阔叶 c_soil 100 → 120 (Δ = +20 t C/ha).
LC = "region_id,year,class,area_ha\nR1,2015,阔叶,10\nR1,2015,草甸,5\nR1,2020,阔叶,12\nR1,2020,草甸,3\n"
OV = ("table,ecosystem_type,pool,value,unit,source,verification\n"
      "pools,阔叶,c_soil,120,t C/ha,county soil survey 2021 (test),secondary\n")


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    d = tmp_path / "碳汇覆盖"
    d.mkdir()
    (d / "lc.csv").write_text(LC, encoding="utf-8")
    (d / "覆盖表.csv").write_text(OV, encoding="utf-8")
    for name, extra in (("base.toml", ""), ("over.toml", 'overrides = "覆盖表.csv"\n')):
        (d / name).write_text('[run]\nreport = false\n[inputs]\nlandcover = ["lc.csv"]\n'
                              '[carbon]\nprice_per_tc = 100\n' + extra, encoding="utf-8")
    return d


def _stock(run: Path) -> pl.DataFrame:
    return pl.read_csv(run / "tables" / "carbon_stock.csv", schema_overrides={"region_id": pl.Utf8})


def test_config_override_moves_stock_by_area_times_delta_and_is_recorded(case: Path) -> None:
    base = execute(load_config(case / "base.toml"), case / "base", "test")
    over = execute(load_config(case / "over.toml"), case / "over", "test")
    s0, s1 = _stock(base), _stock(over)
    diff = (s1.join(s0, on=["region_id", "year", "class", "pool"], suffix="_0")
            .with_columns((pl.col("c_t") - pl.col("c_t_0")).alias("d")).filter(pl.col("d") != 0))
    # only 阔叶 c_soil moves: 10 ha × 20 = 200 t C in 2015, 12 ha × 20 = 240 t C in 2020
    assert sorted(diff.select("year", "class", "pool", "d").iter_rows()) == [
        (2015, "阔叶", "c_soil", 200.0), (2020, "阔叶", "c_soil", 240.0)]
    # stock difference 2015→2020 of 阔叶 moves by (12 − 10) × 20 = 40 t C = 4000 CNY at 100 CNY/t C
    f0 = pl.read_csv(base / "tables" / "carbon_flux.csv", schema_overrides={"region_id": pl.Utf8})
    f1 = pl.read_csv(over / "tables" / "carbon_flux.csv", schema_overrides={"region_id": pl.Utf8})
    assert f1["delta_c_t"].sum() - f0["delta_c_t"].sum() == pytest.approx(40.0, abs=1e-9)
    assert f1["value_cny"].sum() - f0["value_cny"].sum() == pytest.approx(4000.0, abs=1e-6)

    manifest = json.loads((over / "manifest.json").read_text(encoding="utf-8"))
    sets = {s["id"]: s for s in manifest["coefficient_sets"]}
    assert "carbon_default" not in sets  # only the set actually used is recorded
    derived = sets["carbon_default+overrides"]
    assert derived["base_id"] == "carbon_default" and derived["base_version"] == "0.1.0"
    (row,) = derived["overrides"]
    assert row["table"] == "pools" and row["key"] == {"ecosystem_type": "阔叶", "pool": "c_soil"}
    assert (row["old_value"], row["new_value"], row["verification"]) == (100.0, 120.0, "secondary")
    (inp,) = [i for i in manifest["inputs"] if i["role"] == "coefficient overrides"]
    assert inp["sha256"] == hashlib.sha256((case / "覆盖表.csv").read_bytes()).hexdigest()
    # run.toml repeats the run with the override (absolute path)
    again = execute(load_config(over / "run.toml"), case / "again", "test")
    assert (again / "tables/carbon_stock.csv").read_bytes() == (over / "tables/carbon_stock.csv").read_bytes()


def test_cli_overrides_equal_config_overrides(case: Path) -> None:
    res = CliRunner().invoke(main, ["carbon", "--landcover", str(case / "lc.csv"), "--overrides",
                                    str(case / "覆盖表.csv"), "--price-per-tc", "100", "--out", str(case / "cli")])
    assert res.exit_code == 0, res.output
    cfg = execute(load_config(case / "over.toml"), case / "cfg", "test")
    assert (case / "cli/tables/carbon_stock.csv").read_bytes() == (cfg / "tables/carbon_stock.csv").read_bytes()
    s = _stock(case / "cli").filter((pl.col("year") == 2020) & (pl.col("class") == "阔叶"))
    # 12 ha × (50, 11, 120, 5) t C/ha
    assert dict(s.select("pool", "c_t").iter_rows()) == {"c_above": 600.0, "c_below": 132.0, "c_soil": 1440.0,
                                                         "c_dead": 60.0}


def test_unit_of_the_override_is_converted(tmp_path: Path) -> None:
    # 12 kg/m2 = 12 × 10 t/ha = 120 t C/ha (1 kg/m2 = 0.001 t / 1e-4 ha); gep.units does not read "kg C/m2"
    p = tmp_path / "ov.csv"
    p.write_text("ecosystem_type,pool,value,unit\n阔叶,c_soil,12,kg/m2\n", encoding="utf-8")
    cs = load_coefficients("carbon_default", None, str(p))
    assert cs.id == "carbon_default+overrides"
    d = params.set_densities(pl.DataFrame({"class": ["x"], "ecosystem_type": ["阔叶"]}), cs)
    assert d["c_soil"][0] == pytest.approx(120.0, rel=1e-12)


def test_unknown_key_is_an_input_error_and_nothing_is_written(case: Path) -> None:
    (case / "bad.csv").write_text("table,ecosystem_type,pool,value\npools,阔叶,c_wood,5\nrates,草甸,,abc\n",
                                  encoding="utf-8")
    res = CliRunner().invoke(main, ["carbon", "--landcover", str(case / "lc.csv"), "--overrides",
                                    str(case / "bad.csv"), "--out", str(case / "bad_out")])
    assert res.exit_code == 2, res.output
    assert "WRONG_TYPE" in res.output and "row 3" in res.output
    assert not (case / "bad_out").exists()
    (case / "bad2.csv").write_text("table,ecosystem_type,pool,value\npools,阔叶,c_wood,5\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        load_coefficients("carbon_default", None, str(case / "bad2.csv"))
    assert ei.value.codes == ["UNKNOWN_KEY"] and ei.value.problems[0].row == 2


def test_uncertainty_analyses_the_overridden_carbon_set(case: Path) -> None:
    """With [carbon] overrides, the Monte Carlo point is the overridden stock, not the base set's."""
    text = (case / "over.toml").read_text(encoding="utf-8")
    (case / "over_mc.toml").write_text(text + '[uncertainty]\nmodels = ["carbon_stock"]\ndraws = 20\nseed = 1\n',
                                       encoding="utf-8")
    out = execute(load_config(case / "over_mc.toml"), case / "mc", "test")
    unc = pl.read_csv(out / "tables" / "uncertainty_carbon.csv", schema_overrides={"region_id": pl.Utf8})
    soil = unc.filter((pl.col("region_id") == "R1") & (pl.col("year") == 2015) & (pl.col("pool") == "c_soil"))
    # 阔叶 10 ha × 120 (overridden) + 草甸 5 ha × its c_soil; the base set would give 10 × 100 + ...
    stock = _stock(out).filter((pl.col("year") == 2015) & (pl.col("pool") == "c_soil"))["c_t"].sum()
    assert soil["point_c_t"][0] == pytest.approx(stock, rel=1e-12)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert not [w for w in manifest["warnings"] if w["code"] == "UNCERTAINTY_BASIS_DIFFERS"]
