"""gep.tuning.sensitivity: tornado elasticities on the hand-made case, Sobol indices with known values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from _tuning_fixtures import EXTENT, load_tiny
from SALib.analyze import sobol as salib_sobol
from scipy.stats import qmc

from gep.errors import InputError
from gep.tuning.distributions import declare_uncertainty, set_coefficients
from gep.tuning.linear import equivalent_factor_model
from gep.tuning.sensitivity import (
    OutputSelector,
    one_at_a_time,
    output_form,
    sobol,
    sobol_estimates,
    sobol_indices,
)


@pytest.fixture()
def tiny(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_tiny(tmp_path / "敏感性")


def spec_10pct(tiny):  # type: ignore[no-untyped-def]
    """±10 % on every coefficient, plus E(旱地, climate) = 0 declared on [0, 0.4]."""
    base = set_coefficients(tiny).with_columns(pl.lit(None, dtype=pl.Float64).alias("low"),
                                               pl.lit(None, dtype=pl.Float64).alias("high"))
    declared = pl.DataFrame({"coefficient": ["tiny:equivalents:旱地/climate_regulation"], "low": [0.0], "high": [0.4],
                             "distribution": ["uniform"]})
    return declare_uncertainty(base, declared, default_range_pct=10, default_for=["all"])


def test_tornado_hand_computed(tiny) -> None:  # type: ignore[no-untyped-def]
    """Output 510001 2020 total = 300 000 CNY = (100·0.5 + 50·1.0 + 100·2.0 + 50·0)·1000.

    D ±10 %: 270 000 / 330 000, swing 60 000, elasticity 1 (value = A × E × D).
    E(阔叶, climate) 2.0 ±10 %: ±100·0.2·1000 = ±20 000, swing 40 000, elasticity 200 000/300 000 = 2/3.
    E(旱地, climate) 0 → [0, 0.4]: 300 000 / 320 000, swing 50·0.4·1000 = 20 000, elasticity undefined (x = 0).
    E(阔叶, food) and E(旱地, food): swing 10 000 each, elasticity 1/6; tie ranked by name.
    """
    m = equivalent_factor_model(EXTENT, tiny)
    form = output_form(m, OutputSelector("equivalent_factor", "510001", 2020, "total"))
    assert form.point == 300_000.0
    t = one_at_a_time(m, form, spec_10pct(tiny))
    got = {r["coefficient"]: r for r in t.iter_rows(named=True)}
    d = got["tiny:standard_value:standard_equivalent_value"]
    assert (d["output_at_low_cny"], d["output_at_high_cny"]) == pytest.approx((270_000.0, 330_000.0))
    assert d["elasticity"] == pytest.approx(1.0, rel=1e-12) and d["rank"] == 1
    c = got["tiny:equivalents:阔叶/climate_regulation"]
    assert c["swing_cny"] == pytest.approx(40_000.0) and c["elasticity"] == pytest.approx(2 / 3) and c["rank"] == 2
    z = got["tiny:equivalents:旱地/climate_regulation"]
    assert (z["output_at_low_cny"], z["output_at_high_cny"]) == pytest.approx((300_000.0, 320_000.0))
    assert z["elasticity"] is None and z["rank"] == 3
    assert t["coefficient"].to_list()[3:] == ["tiny:equivalents:旱地/food_production", "tiny:equivalents:阔叶/food_production"]
    assert t["elasticity"].to_list()[3:] == pytest.approx([1 / 6, 1 / 6])
    assert t["rank"].to_list() == [1, 2, 3, 4, 5]


def test_elasticity_one_for_a_single_product(tiny) -> None:  # type: ignore[no-untyped-def]
    """510002 2020 food = 200 ha × E(旱地, food) × D: elasticity 1 for both E and D."""
    m = equivalent_factor_model(EXTENT, tiny)
    form = output_form(m, OutputSelector("equivalent_factor", "510002", 2020, "food_production"))
    t = one_at_a_time(m, form, spec_10pct(tiny))
    e = dict(zip(t["coefficient"].to_list(), t["elasticity"].to_list(), strict=True))
    assert e["tiny:equivalents:旱地/food_production"] == pytest.approx(1.0, rel=1e-12)
    assert e["tiny:standard_value:standard_equivalent_value"] == pytest.approx(1.0, rel=1e-12)
    assert t.filter(pl.col("coefficient").str.contains("阔叶"))["swing_cny"].to_list() == [0.0, 0.0]


def test_sobol_additive_function() -> None:
    """y = x1 + 2·x2, x ~ U(0,1): V = 1/12 + 4/12, S1 = ST = (0.2, 0.8)."""
    out = sobol_indices(lambda u: u[:, 0] + 2.0 * u[:, 1], 2, 8192, seed=1)
    assert out["s1"].to_list() == pytest.approx([0.2, 0.8], abs=0.01)
    assert out["st"].to_list() == pytest.approx([0.2, 0.8], abs=0.01)
    # bootstrap 95 % half-widths: positive and the truth inside; resampling ignores the low discrepancy of
    # the Sobol' points, so they are conservative (plain Monte Carlo error, ~0.04–0.06 at N = 8192)
    conf = out["s1_conf"].to_numpy()
    assert np.all(conf > 0) and np.all(conf < 0.1)
    assert np.all(np.abs(out["s1"].to_numpy() - [0.2, 0.8]) <= conf)


def test_sobol_is_shift_invariant_and_confidence_informative() -> None:
    """Indices and bootstrap half-widths of y + 1e7 equal those of y (outputs centred before estimating).

    y = 1e6·(x1 + 2·x2): S1 = (0.2, 0.8). Uncentred, the S1 estimator mean(f_B·(f_ABi − f_A)) carried
    μ·mean(f_ABi − f_A) with μ = 1e7 + 1.5e6, and the half-widths came out ~1.5 instead of < 0.1.
    """
    def f(u: np.ndarray) -> np.ndarray:
        return 1e6 * (u[:, 0] + 2.0 * u[:, 1])

    plain = sobol_indices(f, 2, 1024, seed=1)
    shifted = sobol_indices(lambda u: f(u) + 1e7, 2, 1024, seed=1)
    for col in ("s1", "s1_conf", "st", "st_conf"):
        assert shifted[col].to_list() == pytest.approx(plain[col].to_list(), rel=1e-6, abs=1e-9), col
    assert shifted["s1"].to_list() == pytest.approx([0.2, 0.8], abs=0.02)
    s1c, stc = shifted["s1_conf"].to_numpy(), shifted["st_conf"].to_numpy()
    assert np.all(s1c > 0) and np.all(s1c < 0.1)
    assert np.all(s1c < 3 * stc)  # of the order of ST's half-widths


def test_sobol_single_input_is_one_with_narrow_interval() -> None:
    """y = 1e7·(1 + x): one input explains all variance, S1 = ST = 1; N = 1024 half-widths well under 0.15."""
    out = sobol_indices(lambda u: 1e7 * (1.0 + u[:, 0]), 1, 1024, seed=1)
    assert out["s1"][0] == pytest.approx(1.0, abs=0.01)
    assert out["st"][0] == pytest.approx(1.0, abs=0.01)
    assert 0 < out["s1_conf"][0] < 0.15 and 0 < out["st_conf"][0] < 0.15


def test_sobol_ishigami() -> None:
    """Ishigami y = sin x1 + 7 sin² x2 + 0.1 x3⁴ sin x1, x ~ U(−π, π) (Ishigami & Homma 1990; Saltelli 2010 §4).

    Analytic: V = 13.8446; S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437).
    """
    def ish(u: np.ndarray) -> np.ndarray:
        x = -np.pi + 2.0 * np.pi * u
        return np.sin(x[:, 0]) + 7.0 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])

    out = sobol_indices(lambda u: ish(u) + 100.0, 3, 8192, seed=4)
    assert out["s1"].to_list() == pytest.approx([0.3139, 0.4424, 0.0], abs=0.02)
    assert out["st"].to_list() == pytest.approx([0.5576, 0.4424, 0.2437], abs=0.02)
    assert out["variance"][0] == pytest.approx(13.8446, rel=0.02)
    assert np.all(out["s1_conf"].to_numpy() < 0.05)


def test_sobol_product_function() -> None:
    """y = x1·x2, x ~ U(0,1): V = 1/9 − 1/16 = 7/144, V1 = Var(x1/2) = 1/48 → S1 = 3/7, ST = 1 − 3/7 = 4/7."""
    out = sobol_indices(lambda u: u[:, 0] * u[:, 1], 2, 16384, seed=2)
    assert out["s1"].to_list() == pytest.approx([3 / 7, 3 / 7], abs=0.015)
    assert out["st"].to_list() == pytest.approx([4 / 7, 4 / 7], abs=0.015)


def test_sobol_on_the_account(tiny) -> None:  # type: ignore[no-untyped-def]
    """510002 2020 total = 200 000·(E/1)·(D/1000) with E ~ U(0.9, 1.1), D ~ U(900, 1100): symmetric → S1 ≈ 0.5 each.

    Product of two independent U(0.9,1.1): V1 = V2 = 0.01/3·1, V12 = (0.01/3)² ≈ 1.1e-5 → S1 ≈ 0.4992.
    """
    m = equivalent_factor_model(EXTENT, tiny)
    form = output_form(m, OutputSelector("equivalent_factor", "510002", 2020, "total"))
    base = set_coefficients(tiny).with_columns(pl.lit(None, dtype=pl.Float64).alias("low"),
                                               pl.lit(None, dtype=pl.Float64).alias("high"))
    spec = declare_uncertainty(base, pl.DataFrame({
        "coefficient": ["tiny:equivalents:旱地/food_production", "tiny:standard_value:standard_equivalent_value"],
        "low": [0.9, 900.0], "high": [1.1, 1100.0], "distribution": ["uniform", "uniform"]}))
    s = sobol(m, form, spec, 4096, seed=3)
    assert s.height == 2
    assert s["s1"].to_list() == pytest.approx([0.4992, 0.4992], abs=0.02)
    assert np.all(s["st"].to_numpy() >= s["s1"].to_numpy() - 0.02)


def test_selector_parsing_and_unknown_outputs(tiny) -> None:  # type: ignore[no-untyped-def]
    sel = OutputSelector.parse("auto/all/latest/total", "equivalent_factor")
    assert sel == OutputSelector("equivalent_factor", "all", None, "total")
    m = equivalent_factor_model(EXTENT, tiny)
    assert output_form(m, sel).point == 330_000.0  # latest year 2025: only 510001
    assert output_form(m, OutputSelector("equivalent_factor", "5100", 2020, "total"),
                       {"5100": ["510001", "510002"]}).point == 500_000.0
    with pytest.raises(InputError) as exc:
        output_form(m, OutputSelector("equivalent_factor", "999999", 2019, "nothing"))
    assert [p.code for p in exc.value.problems] == ["UNKNOWN_OUTPUT"] * 3


def test_sobol_estimates_equal_salib_on_the_same_evaluations() -> None:
    """S1 and ST equal SALib's ``analyze.sobol`` (the reference implementation) on the same f_A, f_B, f_ABi.

    Ishigami function (a = 7, b = 0.1) on [−π, π]³; SALib reads the evaluations interleaved per base
    point as [A, AB_1, …, AB_p, B]. Half-widths use their own bootstrap draws, so only their size is compared.
    """
    def ishigami(u: np.ndarray) -> np.ndarray:
        x = (u - 0.5) * 2 * np.pi
        return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])

    p, n = 3, 4096
    base = qmc.Sobol(d=2 * p, scramble=True, seed=np.random.Generator(np.random.PCG64(3))).random(n)
    a, b = base[:, :p], base[:, p:]
    fa, fb = ishigami(a), ishigami(b)
    fab = np.empty((p, n))
    for i in range(p):
        ab = a.copy()
        ab[:, i] = b[:, i]
        fab[i] = ishigami(ab)
    s1, s1c, st, stc, _ = sobol_estimates(fa, fb, fab, seed=3)
    y = np.column_stack([fa, *fab, fb]).ravel()
    problem = {"num_vars": p, "names": ["x1", "x2", "x3"], "bounds": [[0.0, 1.0]] * p}
    ref = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=100, seed=3)
    assert s1 == pytest.approx(ref["S1"], rel=1e-9, abs=1e-12)
    assert st == pytest.approx(ref["ST"], rel=1e-9, abs=1e-12)
    assert s1c == pytest.approx(ref["S1_conf"], rel=0.5)
    assert stc == pytest.approx(ref["ST_conf"], rel=0.5)
    # and both near the analytic Ishigami indices S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244)
    assert s1 == pytest.approx([0.314, 0.442, 0.0], abs=0.03)
    assert st == pytest.approx([0.558, 0.442, 0.244], abs=0.03)
