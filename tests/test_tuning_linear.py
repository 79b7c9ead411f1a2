"""gep.tuning.linear + montecarlo: the linear forms reproduce the engines; zero width gives the point exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from _tuning_fixtures import EXTENT, load_tiny, load_tiny_carbon

from gep.account.equivalent import adjustment_table, equivalent_factor_services
from gep.account.tables import gep_totals
from gep.tuning import montecarlo as mc
from gep.tuning.distributions import declare_uncertainty, set_coefficients
from gep.tuning.linear import (
    carbon_stock_model,
    check_against_engine,
    equivalent_factor_model,
)
from gep.tuning.montecarlo import monte_carlo


@pytest.fixture()
def tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_tiny(tmp_path / "中文目录")


def test_point_matches_hand_computation(tiny) -> None:  # type: ignore[no-untyped-def]
    m = equivalent_factor_model(EXTENT, tiny)
    assert m.rows.rows() == [("510001", 2020), ("510001", 2025), ("510002", 2020)]
    assert m.outputs == ["climate_regulation", "food_production"]
    # see _tuning_fixtures: (climate, food) per row; totals 300 000, 330 000, 200 000 CNY
    assert m.point.tolist() == [[200_000.0, 100_000.0], [240_000.0, 90_000.0], [0.0, 200_000.0]]
    assert m.point_total.tolist() == [300_000.0, 330_000.0, 200_000.0]
    assert check_against_engine(m) == 0.0


def test_form_equals_engine_away_from_the_point(tiny) -> None:  # type: ignore[no-untyped-def]
    """Change E(旱地, climate) 0 → 0.4, E(阔叶, food) 0.5 → 0.7 and D 1000 → 1100; rerun the real engine."""
    m = equivalent_factor_model(EXTENT, tiny)
    new = {"tiny:equivalents:旱地/climate_regulation": 0.4, "tiny:equivalents:阔叶/food_production": 0.7,
           "tiny:standard_value:standard_equivalent_value": 1100.0}
    x = m.coefficients.select(pl.col("coefficient").replace_strict(new, default=pl.col("value"), return_dtype=pl.Float64))
    mine = m.evaluate(x.to_numpy())[:, :, 0]
    eq = tiny.tables["equivalents"].with_columns(
        pl.when((pl.col("ecosystem_type") == "旱地") & (pl.col("service") == "climate_regulation")).then(0.4)
        .when((pl.col("ecosystem_type") == "阔叶") & (pl.col("service") == "food_production")).then(0.7)
        .otherwise(pl.col("value")).alias("value"))
    svc = equivalent_factor_services(EXTENT, eq, 1100.0, set_id="tiny")
    engine = svc.group_by("region_id", "year", "service").agg(pl.col("value_cny").sum()).sort("region_id", "year", "service")
    assert mine.ravel().tolist() == pytest.approx(engine["value_cny"].to_list(), rel=1e-12)
    # 510002 2020 climate: 200 ha × 0.4 × 1100 = 88 000
    assert mine[2, 0] == pytest.approx(88_000.0, rel=1e-12)


def test_adjustments_scale_the_form_like_the_engine(tiny) -> None:  # type: ignore[no-untyped-def]
    adj = adjustment_table(pl.DataFrame({"region_id": ["510001", "510002"], "factor": ["npp", "npp"],
                                         "ratio": [1.2, 0.5]}))
    m = equivalent_factor_model(EXTENT, tiny, adjustments=adj)
    # climate_regulation follows NPP: 510001 2020 climate 200 000 × 1.2 = 240 000
    assert m.point[0, 0] == pytest.approx(240_000.0)
    assert check_against_engine(m) < 1e-12


def test_zero_width_reproduces_engine_exactly(tiny) -> None:  # type: ignore[no-untyped-def]
    spec = declare_uncertainty(set_coefficients(tiny).with_columns(pl.lit(None, dtype=pl.Float64).alias("low"),
                                                                   pl.lit(None, dtype=pl.Float64).alias("high")))
    m = equivalent_factor_model(EXTENT, tiny)
    u = monte_carlo(m, spec, 64, seed=1)
    totals = gep_totals(equivalent_factor_services(EXTENT, tiny.tables["equivalents"], 1000.0, set_id="tiny"))
    got = u.filter((pl.col("service") == "total") & (pl.col("region_id") != "all")).sort("region_id", "year")
    for col in ("point_cny", "mean_cny", "p5_cny", "p50_cny", "p95_cny"):
        assert got[col].to_list() == totals.sort("region_id", "year")["total_cny"].to_list()
    assert (u["sd_cny"] == 0.0).all()
    all2020 = u.filter((pl.col("region_id") == "all") & (pl.col("year") == 2020) & (pl.col("service") == "total"))
    assert all2020["p50_cny"].item() == 500_000.0


def test_zero_width_on_national_sets_and_demo_extent() -> None:
    """xie2015 and carbon_default on the 183-county synthetic demo: every statistic == the engine, bit for bit."""
    from gep.coefficients import load_set

    from gep.carbon.params import load_carbon_set, set_densities
    from gep.carbon.stock import carbon_stock, stock_totals
    from gep.pipeline import demo_config, prepare

    extent = prepare(demo_config()).extent
    assert extent is not None
    xie = load_set("xie2015")
    m = equivalent_factor_model(extent, xie)
    u = monte_carlo(m, declare_uncertainty(set_coefficients(xie)), 16, seed=5)
    engine = gep_totals(equivalent_factor_services(extent, xie.tables["equivalents"], 3406.5, set_id="xie2015"))
    got = u.filter((pl.col("service") == "total") & (pl.col("region_id") != "all")).sort("region_id", "year")
    ref = engine.sort("region_id", "year")
    assert got.height == ref.height == 549
    assert got["p5_cny"].to_list() == ref["total_cny"].to_list()
    assert got["mean_cny"].to_list() == ref["total_cny"].to_list()

    cset = load_set("carbon_default")
    c = carbon_stock_model(extent, cset)
    uc = monte_carlo(c, declare_uncertainty(set_coefficients(cset)), 16, seed=5)
    dens = set_densities(extent.select("class", "ecosystem_type").unique(), load_carbon_set("carbon_default"), None)
    ref_c = stock_totals(carbon_stock(extent, dens)).sort("region_id", "year")
    got_c = uc.filter((pl.col("pool") == "total") & (pl.col("region_id") != "all")).sort("region_id", "year")
    assert got_c["p95_c_t"].to_list() == ref_c["c_t"].to_list()


def test_carbon_form_hand_computed(tmp_path: Path) -> None:
    c = carbon_stock_model(EXTENT, load_tiny_carbon(tmp_path / "碳"))
    assert c.point_total.tolist() == [17_000.0, 19_200.0, 8_000.0]
    assert check_against_engine(c) == 0.0


def test_seed_and_chunking_reproducible(tiny) -> None:  # type: ignore[no-untyped-def]
    spec = declare_uncertainty(set_coefficients(tiny), default_range_pct=30, default_for=["all"])
    m = equivalent_factor_model(EXTENT, tiny)
    a = monte_carlo(m, spec, 1000, seed=3)
    assert a.equals(monte_carlo(m, spec, 1000, seed=3, chunk_draws=10))  # chunks of draws: bit for bit
    b = monte_carlo(m, spec, 1000, seed=3, chunk_draws=10, memory_mb=1e-6)  # 1 row per block: BLAS may round
    num = [c for c in a.columns if c.endswith("_cny")]                       # the last bit differently
    assert a.drop(num).equals(b.drop(num))
    for col in num:
        assert np.allclose(a[col].to_numpy(), b[col].to_numpy(), rtol=1e-12, atol=0), col
    c = monte_carlo(m, spec, 1000, seed=4)
    assert not a.equals(c)


def test_progress_hears_every_block_and_does_not_change_the_table(tiny) -> None:  # type: ignore[no-untyped-def]
    spec = declare_uncertainty(set_coefficients(tiny), default_range_pct=30, default_for=["all"])
    m = equivalent_factor_model(EXTENT, tiny)
    heard: list[tuple[int, int]] = []
    a = monte_carlo(m, spec, 99, seed=3, memory_mb=1e-6, progress=lambda d, t: heard.append((d, t)))  # 1 row a block
    n = m.rows.height
    assert heard == [(i, n) for i in range(n + 1)]
    assert a.equals(monte_carlo(m, spec, 99, seed=3, memory_mb=1e-6))


def test_block_statistics_match_numpy_bit_for_bit() -> None:
    """mean and sd share one sum of the draws; they must equal np.mean and np.std(ddof=1) exactly."""
    d = np.random.default_rng(1).normal(size=(3, 4, 1001)) * 1e8
    mean, sd, pct = mc._stats(d.copy())
    assert np.array_equal(mean, d.mean(axis=-1)) and np.array_equal(sd, d.std(axis=-1, ddof=1))
    assert np.array_equal(pct, np.percentile(d, mc.PERCENTILES, axis=-1))


def test_single_uniform_coefficient_percentiles(tiny) -> None:  # type: ignore[no-untyped-def]
    """Only D uncertain, U(900, 1100): every output = point × D/1000, so outputs are comonotonic.

    510002 2020 total 200 000 → P5 ≈ 200 000 × 0.91 = 182 000, mean ≈ 200 000; and the quantiles of the
    all-region sum equal the sums of the regions' quantiles.
    """
    declared = pl.DataFrame({"coefficient": ["tiny:standard_value:standard_equivalent_value"], "low": [900.0],
                             "high": [1100.0], "distribution": ["uniform"]})
    base = set_coefficients(tiny).with_columns(pl.lit(None, dtype=pl.Float64).alias("low"),
                                               pl.lit(None, dtype=pl.Float64).alias("high"))
    spec = declare_uncertainty(base, declared)
    m = equivalent_factor_model(EXTENT, tiny)
    u = monte_carlo(m, spec, 20_000, seed=9)
    row = u.filter((pl.col("region_id") == "510002") & (pl.col("service") == "total")).row(0, named=True)
    assert row["p5_cny"] == pytest.approx(182_000.0, rel=2e-3)
    assert row["p95_cny"] == pytest.approx(218_000.0, rel=2e-3)
    assert row["mean_cny"] == pytest.approx(200_000.0, rel=2e-3)
    y20 = u.filter((pl.col("year") == 2020) & (pl.col("service") == "total"))
    parts = y20.filter(pl.col("region_id") != "all")
    whole = y20.filter(pl.col("region_id") == "all")
    for col in ("p5_cny", "p50_cny", "p95_cny", "mean_cny"):
        assert whole[col].item() == pytest.approx(parts[col].sum(), rel=1e-12)


def test_triangular_set_range_mean(tiny) -> None:  # type: ignore[no-untyped-def]
    """E(阔叶, climate) ~ Tri(1.5, 2.0, 2.5) from the set: mean 2.0 → climate mean 200 000, sd = 100 000·sqrt(1/24)."""
    m = equivalent_factor_model(EXTENT, tiny)
    u = monte_carlo(m, declare_uncertainty(set_coefficients(tiny)), 50_000, seed=2)
    row = u.filter((pl.col("region_id") == "510001") & (pl.col("year") == 2020)
                   & (pl.col("service") == "climate_regulation")).row(0, named=True)
    sd = 100 * 1000 * np.sqrt((1.5**2 + 2.5**2 + 2.0**2 - 1.5 * 2.5 - 1.5 * 2.0 - 2.5 * 2.0) / 18)
    assert row["mean_cny"] == pytest.approx(200_000.0, abs=4 * sd / np.sqrt(50_000))
    assert row["sd_cny"] == pytest.approx(sd, rel=0.02)


# ---------------------------------------------------------------------------
# function value: rates × prices (+ statistics as constants), built from two engine runs

STATS = pl.DataFrame({"region_id": ["510001"], "year": [2020], "service": ["agricultural_products"],
                      "component": [""], "value": [100.0], "unit": ["万元"]},
                     schema_overrides={"year": pl.Int32})


def test_function_value_form_hand_checked_and_equal_to_engine() -> None:
    """510002 2020 water_conservation = 200 ha × 600 m3/hm2 × 7.06 CNY/m3 = 847 200 CNY (function_value_cn rows).

    510001 2020 = (100 × 3000 + 50 × 600) × 7.06 = 2 329 800; its agricultural statistics 100 万元 = 1 000 000 CNY.
    """
    from gep.coefficients import load_set

    from gep.account.function_value import function_value_services
    from gep.tuning.linear import function_value_model_from, function_value_parameters

    cset = load_set("function_value_cn")
    m = function_value_model_from(cset, extent=EXTENT, statistics=STATS)
    assert m.method == "function_value" and m.driver_output is not None
    wc = m.outputs.index("water_conservation")
    assert m.point[2, wc] == pytest.approx(847_200.0, rel=1e-12)
    assert m.point[0, wc] == pytest.approx(2_329_800.0, rel=1e-12)
    assert m.point[0, m.outputs.index("agricultural_products")] == 1_000_000.0
    assert check_against_engine(m) < 1e-12

    # away from the point: water-conservation price 7.06 → 9, 旱地 rate 600 → 750; rerun the engine
    new = {"function_value_cn:prices:water_conservation/": 9.0, "function_value_cn:rates:旱地/water_conservation/": 750.0}
    x = m.coefficients.select(pl.col("coefficient").replace_strict(new, default=pl.col("value"), return_dtype=pl.Float64))
    mine = m.evaluate(x.to_numpy())[:, :, 0]
    ind, prices, rates = function_value_parameters(cset)
    prices = prices.with_columns(pl.col("coefficient_id").replace_strict(new, default=pl.col("price"),
                                                                         return_dtype=pl.Float64).alias("price"))
    rates = rates.with_columns(pl.col("coefficient_id").replace_strict(new, default=pl.col("rate"),
                                                                       return_dtype=pl.Float64).alias("rate"))
    svc = function_value_services(ind, prices, extent=EXTENT, rates=rates, statistics=STATS)
    eng = svc.group_by("region_id", "year", "service").agg(pl.col("value_cny").sum())
    for (rid, year), r in zip(m.rows.rows(), range(m.rows.height), strict=True):
        ref = dict(eng.filter((pl.col("region_id") == rid) & (pl.col("year") == year)).select("service", "value_cny").rows())
        got = {s: mine[r, k] for k, s in enumerate(m.outputs) if s in ref}
        assert got == pytest.approx(ref, rel=1e-12)
    assert mine[2, wc] == pytest.approx(200 * 750 * 9.0, rel=1e-12)


def test_function_value_zero_width_exact_and_statistics_fixed() -> None:
    from gep.coefficients import load_set

    from gep.account.function_value import function_value_services
    from gep.tuning.linear import function_value_model_from, function_value_parameters

    cset = load_set("function_value_cn")
    m = function_value_model_from(cset, extent=EXTENT, statistics=STATS)
    fixed = monte_carlo(m, declare_uncertainty(set_coefficients(cset, ["prices", "rates"])), 8, seed=1)
    ind, prices, rates = function_value_parameters(cset)
    ref = gep_totals(function_value_services(ind, prices, extent=EXTENT, rates=rates, statistics=STATS))
    got = fixed.filter((pl.col("service") == "total") & (pl.col("region_id") != "all")).sort("region_id", "year")
    assert got["p50_cny"].to_list() == ref.sort("region_id", "year")["total_cny"].to_list()
    wide = monte_carlo(m, declare_uncertainty(set_coefficients(cset, ["prices", "rates"]), default_range_pct=30,
                                              default_for=["all"]), 200, seed=1)
    agri = wide.filter((pl.col("service") == "agricultural_products") & (pl.col("region_id") == "510001"))
    assert agri.select("p5_cny", "p95_cny", "sd_cny").row(0) == (1_000_000.0, 1_000_000.0, 0.0)
    wcs = wide.filter((pl.col("service") == "water_conservation") & (pl.col("region_id") == "510002"))
    assert wcs["p5_cny"].item() < 847_200.0 < wcs["p95_cny"].item()


# ---------------------------------------------------------------------------
# property: for any areas and any coefficient vector, the form equals a fresh engine run

from hypothesis import given, settings
from hypothesis import strategies as st

_AREAS = st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=6, max_size=6)
_COEFS = st.lists(st.floats(-5.0, 50.0, allow_nan=False), min_size=5, max_size=5)


@settings(max_examples=30, deadline=None)
@given(areas=_AREAS, coefs=_COEFS)
def test_equivalent_form_equals_engine_for_any_input(tmp_path_factory: pytest.TempPathFactory, areas: list[float],
                                                     coefs: list[float]) -> None:
    tiny = load_tiny(tmp_path_factory.mktemp("性质"))
    extent = EXTENT.with_columns(pl.Series("area_ha", areas))
    m = equivalent_factor_model(extent, tiny)
    x = np.array(coefs)[:, None] * np.array([1, 1, 1, 1, 100.0])[:, None]  # 4 equivalents, then D
    names = m.coefficients["coefficient"].to_list()
    eq = tiny.tables["equivalents"].with_columns(
        pl.format("tiny:equivalents:{}/{}", "ecosystem_type", "service")
        .replace_strict(dict(zip(names, x[:, 0].tolist(), strict=True)), return_dtype=pl.Float64).alias("value"))
    d = float(x[names.index("tiny:standard_value:standard_equivalent_value"), 0])
    svc = equivalent_factor_services(extent, eq, d, set_id="tiny")
    ref = svc.group_by("region_id", "year", "service").agg(pl.col("value_cny").sum())
    mine = m.evaluate(x)[:, :, 0]
    scale = max(1.0, float(np.abs(mine).max()))
    for rid, year, service, value in ref.iter_rows():
        r = m.rows.rows().index((rid, year))
        assert abs(mine[r, m.outputs.index(service)] - value) <= 1e-12 * scale


def test_carbon_stock_change_hand_computed(tmp_path: Path) -> None:
    """510001 2020 → 2025: 19 200 − 17 000 = 2 200 t C = 20 ha × (50 + 100) + (30 − 50) ha × 40 (see fixtures).

    c_above(阔叶) ~ U(40, 60) from the set: change = 20·c_above + 2000 − 800 → P5/P95 = 1 200 + 20·(41, 59).
    """
    from gep.tuning.linear import stock_change_model
    from gep.tuning.sensitivity import OutputSelector, one_at_a_time, output_form

    cset = load_tiny_carbon(tmp_path / "碳变化")
    stock = carbon_stock_model(EXTENT, cset)
    ch = stock_change_model(stock)
    assert ch.method == "carbon_stock_change"
    assert ch.rows.rows() == [("510001", 2025, 2020)]
    assert ch.point_total.tolist() == [2_200.0]
    assert ch.evaluate(ch.point_x())[:, :, 0].sum() == pytest.approx(2_200.0)
    spec = declare_uncertainty(set_coefficients(cset))
    u = monte_carlo(ch, spec, 20_000, seed=4)
    assert u.columns[:3] == ["region_id", "year_from", "year"]
    row = u.filter((pl.col("region_id") == "510001") & (pl.col("pool") == "total")).row(0, named=True)
    assert (row["p5_c_t"], row["p95_c_t"]) == pytest.approx((1_200 + 20 * 41.0, 1_200 + 20 * 59.0), rel=2e-3)
    fixed = monte_carlo(ch, declare_uncertainty(set_coefficients(cset).with_columns(
        pl.lit(None, dtype=pl.Float64).alias("low"), pl.lit(None, dtype=pl.Float64).alias("high"))), 4, seed=4)
    assert fixed.filter(pl.col("pool") == "total")["p50_c_t"].to_list() == [2_200.0, 2_200.0]
    # elasticity of the change to c_above(阔叶) = 20 × 50 / 2 200
    form = output_form(ch, OutputSelector("carbon_stock_change", "all", None, "total"))
    t = one_at_a_time(ch, form, spec)
    assert t["elasticity"].to_list() == pytest.approx([1000 / 2200])
