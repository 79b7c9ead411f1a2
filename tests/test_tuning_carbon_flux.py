"""Monte Carlo of the gain–loss carbon flux (t C/yr) and of the sink's value (CNY): hand-made set, 中文 paths.

Hand case (carbon set "tinyf": rates t C/ha/yr 阔叶 2.0 [range 1–3 uniform], 草甸 0.5, 旱地 0 = not counted;
price CEA 2025 = 12 CNY/t CO2 = 12 × 44/12 = 44 CNY/t C):

    510001 2020: 阔叶 100 ha, 草甸 40, 旱地 50 → forest 100·2 = 200, grassland 40·0.5 = 20, all 220 t C
                 (with the IPCC forest row, 30 ha of 阔叶 with G_W 2, R 0.25, CF 0.5:
                  37.5 + (100 − 30)·2 = 177.5 forest, all 197.5)
    510002 2020: 阔叶 10 → forest 20
    510001 2025: 阔叶 120, 草甸 40 → forest 240, grassland 20, all 260
    all 2020: forest 220, grassland 20, all 240 t C → 240 × 44 = 10 560 CNY
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from gep.config import load_config
from gep.errors import GepError
from gep.pipeline import execute
from gep.tuning.linear import carbon_flux_models, check_against_engine

LANDCOVER = """region_id,year,class,area_ha
510001,2020,阔叶,100
510001,2020,草甸,40
510001,2020,旱地,50
510002,2020,阔叶,10
510001,2025,阔叶,120
510001,2025,草甸,40
"""

SET_TOML = """id = "tinyf"
version = "0.1.0"
title = "tiny carbon set with rates and a price"
method_family = "carbon"
citation = "hand-made test fixture"
license = "CC0"
verification = "unverified"

[[tables]]
name = "pools"
file = "pools.csv"
keys = ["ecosystem_type", "pool"]

[[tables]]
name = "rates"
file = "rates.csv"
keys = ["ecosystem_type"]

[[tables]]
name = "prices"
file = "prices.csv"
keys = ["market", "year"]
"""

POOLS = "ecosystem_type,pool,value,unit,price_year,source,verification,low,high,distribution,note\n" + "".join(
    f"{t},{p},10,t C/ha,,test,unverified,,,,\n" for t in ("阔叶", "草甸", "旱地")
    for p in ("c_above", "c_below", "c_soil", "c_dead"))


def write_run(root: Path, *, rate_range: bool = True, price_range: bool = False, forest: bool = False,
              uncertainty: str = "") -> Path:
    """A run folder with the tiny set (碳集_tinyf), land cover and [carbon] gain-loss; returns the config path."""
    folder = root / "碳集_tinyf"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "set.toml").write_text(SET_TOML, encoding="utf-8")
    (folder / "pools.csv").write_text(POOLS, encoding="utf-8")
    r = "1,3,uniform" if rate_range else ",,"
    (folder / "rates.csv").write_text(
        "ecosystem_type,value,unit,price_year,source,verification,low,high,distribution,note\n"
        f"阔叶,2.0,t C/ha/yr,,test,unverified,{r},\n"
        "草甸,0.5,t C/ha/yr,,test,verified,,,,\n"
        "旱地,0,t C/ha/yr,,test,unverified,,,,\n", encoding="utf-8")
    p = "6,18,uniform" if price_range else ",,"
    (folder / "prices.csv").write_text(
        "market,year,value,unit,price_year,source,verification,low,high,distribution,note\n"
        "CEA,2024,99,CNY/t CO2,2024,test,verified,,,,\n"
        f"CEA,2025,12,CNY/t CO2,2025,test,verified,{p},\n", encoding="utf-8")
    (root / "土地覆盖.csv").write_text(LANDCOVER, encoding="utf-8")
    inv = ""
    if forest:
        (root / "森林清查.csv").write_text("region_id,year,class,area_ha,gw_t_dm_ha_yr,r,cf\n"
                                          "510001,2020,阔叶,30,2,0.25,0.5\n", encoding="utf-8")
        inv = 'forest_inventory = "森林清查.csv"\n'
    cfg = root / "运行.toml"
    cfg.write_text(f"""[run]
title = "tiny carbon flux run"
report = false

[inputs]
landcover = ["土地覆盖.csv"]

[carbon]
coefficients = "{folder.as_posix()}"
method = "gain-loss"
{inv}
[uncertainty]
{uncertainty}
""", encoding="utf-8")
    return cfg


def run_table(root: Path, out: Path, **kw: object) -> tuple[pl.DataFrame, Path]:
    path = execute(load_config(write_run(root, **kw)), out, "test")  # type: ignore[arg-type]
    return pl.read_parquet(path / "tables" / "uncertainty_carbon_flux.parquet"), path


def pick(t: pl.DataFrame, region: str, year: int, group: str) -> dict[str, object]:
    rows = t.filter((pl.col("region_id") == region) & (pl.col("year") == year) & (pl.col("group") == group))
    assert rows.height == 1
    return rows.row(0, named=True)


def test_zero_width_reproduces_the_engine_exactly(tmp_path: Path) -> None:
    t, path = run_table(tmp_path / "零宽", tmp_path / "结果", rate_range=False,
                        uncertainty='models = ["carbon_flux"]\ndraws = 50\nseed = 3\n')
    assert t.columns == ["region_id", "year_from", "year", "method", "group",
                         *[f"{s}_c_t" for s in ("point", "mean", "sd", "p5", "p50", "p95")],
                         *[f"{s}_cny" for s in ("point", "mean", "sd", "p5", "p50", "p95")], "draws", "seed"]
    # hand values (module docstring): t C and CNY at 44 CNY/t C
    assert pick(t, "510001", 2020, "forest")["point_c_t"] == 200.0
    assert pick(t, "510001", 2020, "grassland")["point_c_t"] == 20.0
    assert pick(t, "510001", 2025, "all")["point_c_t"] == 260.0
    assert pick(t, "all", 2020, "all")["point_c_t"] == 240.0
    assert pick(t, "all", 2020, "all")["point_cny"] == pytest.approx(10_560.0, rel=1e-12)
    assert set(t["method"]) == {"gain_loss"} and set(t["group"]) == {"forest", "grassland", "all"}  # 旱地 rate 0
    for u in ("c_t", "cny"):
        for s in ("mean", "p5", "p50", "p95"):
            assert (t[f"{s}_{u}"] == t[f"point_{u}"]).all()  # exactly, not approximately
        assert (t[f"sd_{u}"] == 0.0).all()
    # the points are the engine's own carbon_flux_summary (gain_loss), bit for bit
    s = pl.read_parquet(path / "tables" / "carbon_flux_summary.parquet").filter(pl.col("method") == "gain_loss")
    j = t.filter(pl.col("region_id") != "all").join(
        s.select("region_id", pl.col("year_to").cast(pl.Int32).alias("year"), "group", "delta_c_t", "value_cny"),
        on=["region_id", "year", "group"], how="left")
    assert s.height == 8 and j["delta_c_t"].null_count() == 1  # 3 + 2 + 3 rows; the grid adds 510002 grassland = 0
    assert pick(t, "510002", 2020, "grassland")["point_c_t"] == 0.0
    j = j.drop_nulls("delta_c_t")
    assert (j["point_c_t"] == j["delta_c_t"]).all() and (j["point_cny"] == j["value_cny"]).all()


def test_rate_range_gives_the_hand_interval_and_is_reproducible(tmp_path: Path) -> None:
    u = 'models = ["carbon_flux"]\ndraws = 4000\nseed = 17\n'
    t, path = run_table(tmp_path / "区间", tmp_path / "结果1", uncertainty=u)
    f = pick(t, "510001", 2020, "forest")
    # forest = 100 ha × rate, rate ~ U(1, 3): mean 200, P5 = 100 × 1.1 = 110, P95 = 290
    assert f["mean_c_t"] == pytest.approx(200.0, abs=3.0)
    assert f["p5_c_t"] == pytest.approx(110.0, abs=3.0)
    assert f["p95_c_t"] == pytest.approx(290.0, abs=3.0)
    assert f["sd_c_t"] == pytest.approx(200.0 / np.sqrt(12.0), rel=0.05)  # 100 × (3 − 1)/√12
    g = pick(t, "510001", 2020, "grassland")  # 草甸 rate has no range: fixed exactly
    assert g["p5_c_t"] == g["p95_c_t"] == 20.0
    # the value is the same draws × 44 CNY/t C (price fixed)
    assert f["p95_cny"] == pytest.approx(f["p95_c_t"] * 44.0, rel=1e-12)
    a = pick(t, "all", 2020, "all")  # 110 ha of 阔叶 in 2020: all = 20 + 110·x
    assert a["p5_c_t"] == pytest.approx(20.0 + 110.0 * 1.1, abs=3.0)
    coefs = pl.read_parquet(path / "tables" / "uncertainty_coefficients.parquet").filter(
        pl.col("method") == "carbon_flux")
    assert coefs["coefficient"].to_list() == ["tinyf:prices:CEA/2025", "tinyf:rates:草甸", "tinyf:rates:阔叶"]
    # same seed → byte-identical table; the chunk size does not change a draw
    t2, _ = run_table(tmp_path / "区间", tmp_path / "结果2", uncertainty=u)
    t3, _ = run_table(tmp_path / "区间", tmp_path / "结果3", uncertainty=u + "chunk_draws = 7\n")
    assert t2.equals(t) and t3.equals(t)
    t4, _ = run_table(tmp_path / "区间", tmp_path / "结果4", uncertainty=u.replace("17", "18"))
    assert not t4.equals(t)


def test_price_range_moves_only_the_value(tmp_path: Path) -> None:
    t, _ = run_table(tmp_path / "价格", tmp_path / "结果", rate_range=False, price_range=True,
                     uncertainty='models = ["carbon_flux"]\ndraws = 4000\nseed = 5\n')
    a = pick(t, "all", 2020, "all")
    assert a["p5_c_t"] == a["p95_c_t"] == 240.0
    # price ~ U(6, 18) CNY/t CO2 → P5 = 6.6 → 6.6 × 44/12 = 24.2 CNY/t C; P95 = 17.4 → 63.8; × 240 t C
    assert a["p5_cny"] == pytest.approx(240.0 * 24.2, rel=0.01)
    assert a["p95_cny"] == pytest.approx(240.0 * 63.8, rel=0.01)
    assert a["mean_cny"] == pytest.approx(10_560.0, rel=0.01)


def test_ipcc_forest_rows_are_fixed_and_net_of_their_area(tmp_path: Path) -> None:
    t, _ = run_table(tmp_path / "清查", tmp_path / "结果", forest=True,
                     uncertainty='models = ["auto"]\ndraws = 4000\nseed = 9\n')
    f = pick(t, "510001", 2020, "forest")
    assert f["point_c_t"] == pytest.approx(177.5, rel=1e-12)  # 37.5 IPCC + 70 ha × 2
    # only the 70 ha left for area × rate move: P5 = 37.5 + 70 × 1.1, P95 = 37.5 + 70 × 2.9
    assert f["p5_c_t"] == pytest.approx(114.5, abs=2.0)
    assert f["p95_c_t"] == pytest.approx(240.5, abs=2.0)
    assert pick(t, "510001", 2025, "forest")["point_c_t"] == 240.0  # no inventory row in 2025


def test_auto_adds_the_flux_to_stock_uncertainty(tmp_path: Path) -> None:
    _, path = run_table(tmp_path / "自动", tmp_path / "结果", uncertainty="draws = 20\nseed = 1\n")
    assert (path / "tables" / "uncertainty_carbon.csv").exists()  # carbon stock still analysed
    assert (path / "tables" / "uncertainty_carbon_flux.csv").exists()


def _hand_frames(price_id: str | None) -> tuple[pl.DataFrame, ...]:
    keys = {"region_id": ["510001"], "year_from": [2019], "year_to": [2020]}
    summary = pl.DataFrame({**{k: v * 2 for k, v in keys.items()}, "group": ["forest", "all"],
                            "delta_c_t": [205.0, 205.0], "value_cny": [205.0 * 44, 205.0 * 44]})
    rates = pl.DataFrame({**keys, "group": ["forest"], "coefficient": ["s:rates:阔叶"], "base_ha": [100.0]})
    fixed = pl.DataFrame({**keys, "group": ["forest"], "delta_c_t": [5.0]})
    coefs = pl.DataFrame({"coefficient": ["s:prices:CEA/2025", "s:rates:阔叶"], "unit": ["CNY/t CO2", "t C/ha/yr"],
                          "verification": ["verified", "unverified"], "value": [12.0, 2.0]})
    return summary, rates, fixed, coefs


def test_form_is_fixed_plus_base_times_rate_times_price() -> None:
    summary, rates, fixed, coefs = _hand_frames("s:prices:CEA/2025")
    flux, value = carbon_flux_models(summary, rates, fixed, coefs, 44.0, "s:prices:CEA/2025")
    check_against_engine(flux)
    check_against_engine(value)
    # x = (price 18 CNY/t CO2, rate 3): flux 5 + 100·3 = 305 t C; value 305 × 18 × 44/12 = 20 130 CNY
    x = np.array([[18.0], [3.0]])
    assert flux.evaluate(x)[0, 0, 0] == pytest.approx(305.0)
    assert value.evaluate(x)[0, 0, 0] == pytest.approx(20_130.0)
    # an engine total the form cannot reproduce is an engine error, not a silent interval
    bad = summary.with_columns(pl.lit(999.0).alias("delta_c_t"))
    with pytest.raises(GepError):
        check_against_engine(carbon_flux_models(bad, rates, fixed, coefs, 44.0, "s:prices:CEA/2025")[0])


def test_sensitivity_of_carbon_flux_alone_is_refused(tmp_path: Path) -> None:
    from gep.errors import InputError

    cfg = write_run(tmp_path / "敏感", uncertainty="draws = 10\n")
    cfg.write_text(cfg.read_text(encoding="utf-8") + '\n[sensitivity]\nmodels = ["carbon_flux"]\n'
                   'outputs = ["auto/all/latest/total"]\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        execute(load_config(cfg), tmp_path / "结果", "test")
    assert [p.code for p in err.value.problems] == ["NOT_SUPPORTED"]


def test_user_rates_are_fixed(tmp_path: Path) -> None:
    root = tmp_path / "用户速率"
    cfg = write_run(root, uncertainty='models = ["carbon_flux"]\ndraws = 200\nseed = 2\n')
    (root / "速率.csv").write_text("region_id,class,ecosystem_type,rate_t_c_ha_yr\n510002,阔叶,,5\n", encoding="utf-8")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('method = "gain-loss"\n',
                                                           'method = "gain-loss"\nrates = "速率.csv"\n'),
                   encoding="utf-8")
    t = pl.read_parquet(execute(load_config(cfg), tmp_path / "结果", "test") / "tables"
                        / "uncertainty_carbon_flux.parquet")
    f2 = pick(t, "510002", 2020, "forest")  # 10 ha × user rate 5 = 50 t C, not a coefficient of the set
    assert f2["point_c_t"] == f2["p5_c_t"] == f2["p95_c_t"] == 50.0
    f1 = pick(t, "510001", 2020, "forest")  # the set's 阔叶 rate still varies in 510001
    assert f1["p5_c_t"] < 200.0 < f1["p95_c_t"]


def test_auto_skips_an_invest_pool_table(tmp_path: Path) -> None:
    root = tmp_path / "invest"
    cfg = write_run(root, uncertainty="draws = 10\n")
    (root / "pools.csv").write_text("lucode,lulc_name,c_above,c_below,c_soil,c_dead\n1,阔叶,10,2,50,1\n2,草甸,1,1,40,0\n"
                                    "3,旱地,0,0,30,0\n", encoding="utf-8")
    from _tuning_fixtures import write_set

    text = cfg.read_text(encoding="utf-8")
    text = text.replace(text.split("coefficients = ")[1].split("\n")[0], '"pools.csv"')
    cfg.write_text(text.replace("[carbon]", f'[account]\nmethods = ["equivalent_factor"]\n'
                                f'equivalent_set = "{write_set(root).as_posix()}"\n\n[carbon]'), encoding="utf-8")
    out = execute(load_config(cfg), tmp_path / "结果", "test")
    assert (out / "tables" / "uncertainty.csv").exists()  # the account is analysed, the flux is skipped
    assert not (out / "tables" / "uncertainty_carbon_flux.csv").exists()


def test_carbon_overrides_are_analysed(tmp_path: Path) -> None:
    root = tmp_path / "覆盖"
    cfg = write_run(root, rate_range=False, uncertainty='models = ["carbon_flux"]\ndraws = 20\nseed = 4\n')
    (root / "覆盖.csv").write_text("table,ecosystem_type,value\nrates,阔叶,3\n", encoding="utf-8")
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('method = "gain-loss"\n',
                                                           'method = "gain-loss"\noverrides = "覆盖.csv"\n'),
                   encoding="utf-8")
    out = execute(load_config(cfg), tmp_path / "结果", "test")
    t = pl.read_parquet(out / "tables" / "uncertainty_carbon_flux.parquet")
    f = pick(t, "510001", 2020, "forest")  # 100 ha × overridden rate 3 = 300 t C, reproduced exactly
    assert f["point_c_t"] == f["p5_c_t"] == f["p95_c_t"] == 300.0
    coefs = pl.read_parquet(out / "tables" / "uncertainty_coefficients.parquet").filter(
        pl.col("method") == "carbon_flux")
    assert coefs.filter(pl.col("coefficient").str.ends_with(":rates:阔叶"))["value"].to_list() == [3.0]
