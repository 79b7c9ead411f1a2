"""gep.tuning.distributions: ranges, inverse-CDF sampling, seeds and chunk invariance."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from gep.errors import InputError
from gep.tuning.distributions import (
    Z975,
    declare_uncertainty,
    draw_all,
    inverse_cdf,
    open_uniforms,
)

N = 200_000


def spec(rows: list[tuple[str, float, float, float, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"coefficient": pl.Utf8, "value": pl.Float64, "low": pl.Float64,
                                      "high": pl.Float64, "distribution": pl.Utf8}, orient="row")


def test_moments_of_each_distribution() -> None:
    s = spec([
        ("a_uniform", 4.0, 2.0, 6.0, "uniform"),        # mean 4, var 4²/12 = 4/3
        ("b_triangular", 1.0, 0.0, 4.0, "triangular"),  # mean (0+1+4)/3 = 5/3, var (0+16+1-0-0-4)/18 = 13/18
        ("c_normal", 10.0, 10.0 - 2 * Z975, 10.0 + 2 * Z975, "normal"),  # μ 10, σ 2
        ("d_lognormal", 1.0, math.exp(-Z975), math.exp(Z975), "lognormal"),  # log μ 0, σ 1: mean e^0.5, median 1
    ])
    x = draw_all(s, N, seed=42)
    mean, var = x.mean(axis=1), x.var(axis=1)
    se = np.sqrt(np.array([4 / 3, 13 / 18, 4.0, (math.e - 1) * math.e]) / N)
    expected_mean = np.array([4.0, 5 / 3, 10.0, math.exp(0.5)])
    assert np.all(np.abs(mean - expected_mean) < 5 * se)
    assert var[0] == pytest.approx(4 / 3, rel=0.01)
    assert var[1] == pytest.approx(13 / 18, rel=0.01)
    assert var[2] == pytest.approx(4.0, rel=0.01)
    assert np.median(x[3]) == pytest.approx(1.0, abs=0.01)
    # declared low/high are the 2.5 % and 97.5 % points of normal and lognormal
    assert np.quantile(x[2], [0.025, 0.975]) == pytest.approx([10 - 2 * Z975, 10 + 2 * Z975], abs=0.05)
    assert np.quantile(x[3], [0.025, 0.975]) == pytest.approx([math.exp(-Z975), math.exp(Z975)], rel=0.02)
    # bounded distributions stay inside their range; the triangular mode is the value
    assert x[0].min() >= 2.0 and x[0].max() <= 6.0
    assert x[1].min() >= 0.0 and x[1].max() <= 4.0
    hist, edges = np.histogram(x[1], bins=40, range=(0, 4))
    assert 0.9 <= edges[np.argmax(hist)] <= 1.1


def test_same_seed_same_draws_other_seed_other_draws() -> None:
    s = spec([("u", 1.0, 0.5, 1.5, "uniform"), ("n", 1.0, 0.5, 1.5, "normal")])
    a, b, c = draw_all(s, 1000, 7), draw_all(s, 1000, 7), draw_all(s, 1000, 8)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chunk_size_does_not_change_draws() -> None:
    s = spec([("u", 1.0, 0.5, 1.5, "uniform"), ("t", 1.0, 0.0, 3.0, "triangular"), ("l", 2.0, 1.0, 4.0, "lognormal")])
    whole = draw_all(s, 1003, 11, chunk=4096)
    for chunk in (1, 7, 500):
        assert np.array_equal(draw_all(s, 1003, 11, chunk=chunk), whole)


def test_fixed_coefficients_use_no_random_numbers() -> None:
    s = spec([("a", 1.0, 0.5, 1.5, "uniform"), ("b", 3.0, 2.0, 4.0, "normal")])
    with_fixed = spec([("a", 1.0, 0.5, 1.5, "uniform"), ("ab", 9.0, 9.0, 9.0, "uniform"), ("b", 3.0, 2.0, 4.0, "normal")])
    x, y = draw_all(s, 50, 3), draw_all(with_fixed, 50, 3)
    assert np.array_equal(y[[0, 2]], x)
    assert np.all(y[1] == 9.0)


def test_open_uniforms_strictly_inside() -> None:
    u = open_uniforms(np.random.Generator(np.random.PCG64(1)), 10_000, 3)
    assert u.min() > 0.0 and u.max() < 1.0


def coefs() -> pl.DataFrame:
    return pl.DataFrame({
        "coefficient": ["s:t:a", "s:t:b", "s:t:c", "s:t:d"],
        "unit": ["x"] * 4,
        "verification": ["verified", "unverified", "unverified", "secondary"],
        "value": [2.0, -4.0, 0.0, 10.0],
        "low": [1.0, None, None, None],
        "high": [3.0, None, None, None],
        "distribution": [None, None, None, None],
        "range_source": ["set", None, None, None],
    }, schema_overrides={"distribution": pl.Utf8, "low": pl.Float64, "high": pl.Float64, "range_source": pl.Utf8})


def test_declared_over_set_over_default() -> None:
    declared = pl.DataFrame({"coefficient": ["s:t:a"], "low": [1.5], "high": [2.5], "distribution": ["normal"]})
    out = declare_uncertainty(coefs(), declared, default_range_pct=25, default_for=["unverified"])
    rows = {r["coefficient"]: r for r in out.iter_rows(named=True)}
    assert (rows["s:t:a"]["low"], rows["s:t:a"]["high"], rows["s:t:a"]["distribution"]) == (1.5, 2.5, "normal")
    assert rows["s:t:a"]["range_source"] == "declared"
    # -4 ± 25 % = [-5, -3] (swapped for a negative value); 0 keeps zero width; secondary not covered
    assert (rows["s:t:b"]["low"], rows["s:t:b"]["high"]) == (-5.0, -3.0)
    assert (rows["s:t:c"]["low"], rows["s:t:c"]["high"]) == (0.0, 0.0)
    assert (rows["s:t:d"]["low"], rows["s:t:d"]["high"], rows["s:t:d"]["range_source"]) == (10.0, 10.0, "none (fixed)")
    everything = declare_uncertainty(coefs(), None, default_range_pct=10, default_for=["all"])
    assert everything.filter(pl.col("coefficient") == "s:t:d").select("low", "high").row(0) == (9.0, 11.0)
    assert everything.filter(pl.col("coefficient") == "s:t:a").select("low", "high").row(0) == (1.0, 3.0)


def test_invalid_ranges_are_input_problems() -> None:
    bad = coefs().with_columns(
        pl.Series("low", [3.0, 1.0, -1.0, None]), pl.Series("high", [1.0, 2.0, 1.0, None]),
        pl.Series("distribution", [None, "uniform", "lognormal", "beta"]),
    )
    with pytest.raises(InputError) as exc:
        declare_uncertainty(bad)
    codes = [(p.code, p.column) for p in exc.value.problems]
    assert ("INVALID_VALUE", "distribution") in codes      # beta
    assert ("INVALID_VALUE", "low") in codes               # 3 > 1, lognormal low ≤ 0
    assert ("INVALID_VALUE", "value") in codes             # -4 outside [1, 2]
    assert len(exc.value.problems) == 4


def test_inverse_cdf_equals_scipy_stats_ppf() -> None:
    """Each distribution's quantiles equal scipy.stats' ppf (triang, norm, lognorm) to 1e-12 relative."""
    s = spec([("u", 1.0, 0.5, 1.5, "uniform"), ("t", 1.0, 0.0, 3.0, "triangular"), ("tr", 3.0, 0.0, 3.0, "triangular"),
              ("n", 3.0, 2.0, 4.0, "normal"), ("l", 2.0, 1.0, 4.0, "lognormal")])
    u = np.linspace(1e-9, 1 - 1e-9, 2001)
    q = inverse_cdf(np.repeat(u[:, None], 5, axis=1), s)
    z975 = stats.norm.ppf(0.975)
    expected = [
        stats.uniform.ppf(u, loc=0.5, scale=1.0),
        stats.triang.ppf(u, c=1.0 / 3.0, loc=0.0, scale=3.0),
        stats.triang.ppf(u, c=1.0, loc=0.0, scale=3.0),
        stats.norm.ppf(u, loc=3.0, scale=1.0 / z975),
        stats.lognorm.ppf(u, s=math.log(4.0) / (2 * z975), scale=2.0),  # geometric mean √(1·4) = 2
    ]
    for k, e in enumerate(expected):
        assert q[:, k] == pytest.approx(e, rel=1e-12, abs=1e-12), s["coefficient"][k]
