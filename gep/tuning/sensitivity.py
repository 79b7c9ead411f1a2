"""Sensitivity of one chosen output to the coefficients: one-at-a-time tornado and Sobol indices.

* One-at-a-time (OAT): each coefficient with a declared range is set to its low and its high
  value, all others at their point values; swing = |y(high) − y(low)|; arc elasticity
  ε = ((y_high − y_low) / y_point) / ((x_high − x_low) / x_point), which for an output linear in
  the coefficient (every account here) equals the point elasticity ∂ln y/∂ln x. Ranked by swing.
* Sobol (variance-based): first-order S1 by the Saltelli et al. 2010 estimator
  (Comput. Phys. Commun. 181:259, Table 2 (b)) and total ST by the Jansen 1999 estimator
  (Table 2 (f)), on a scrambled Sobol' sequence (scipy.stats.qmc, seeded with PCG64):
  N·(p + 2) model evaluations for p uncertain coefficients. The estimators follow SALib's
  conventions exactly (outputs centred on the mean of all N·(p + 2) evaluations, population
  variance of f_A ∪ f_B), and tests/test_tuning_sensitivity.py checks S1 and ST against
  ``SALib.analyze.sobol.analyze`` on the same evaluations to 1e-9. They are written here in
  numpy rather than imported from SALib because SALib makes matplotlib, pandas and multiprocess
  hard dependencies of every installation for what are two one-line estimators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from gep.errors import InputError, Problem
from gep.tuning.distributions import inverse_cdf
from gep.tuning.linear import LinearModel
from gep.tuning.montecarlo import ALL_REGIONS, TOTAL, align_spec

Z95: float = 1.959963984540054
"""Standard-normal 97.5 % point: 95 % interval half-width = Z95 × bootstrap sd."""


@dataclass(frozen=True)
class OutputSelector:
    """Which output: method, region (id, ``all`` or a prefecture id), year (None = latest), service/pool or ``total``."""

    method: str
    region: str = ALL_REGIONS
    year: int | None = None
    output: str = TOTAL

    @classmethod
    def parse(cls, text: str, default_method: str) -> OutputSelector:
        """``METHOD/REGION/YEAR/OUTPUT``; empty parts, ``auto`` and ``latest`` take the defaults."""
        parts = [p.strip() for p in text.split("/")] + [""] * 4
        method = parts[0] if parts[0] not in ("", "auto") else default_method
        year = None if parts[2] in ("", "latest") else int(parts[2])
        return cls(method, parts[1] or ALL_REGIONS, year, parts[3] or TOTAL)


@dataclass(frozen=True)
class OutputForm:
    """y(x) = y_point + Σ_c weights[c] × (W(x) − W(x_point))[c] for one chosen output (c = cells of the form)."""

    label: str
    weights: np.ndarray
    point: float


def output_form(model: LinearModel, sel: OutputSelector, children: dict[str, list[str]] | None = None) -> OutputForm:
    """The linear form of a selected output; InputError UNKNOWN_OUTPUT naming what exists."""
    years = model.rows["year"].to_numpy()
    regions = model.rows["region_id"].to_numpy()
    year = int(years.max()) if sel.year is None else sel.year
    probs: list[Problem] = []
    if year not in set(years.tolist()):
        probs.append(Problem("UNKNOWN_OUTPUT", f"year {year} is not in the accounts", column="output",
                             value=str(year), expected="one of " + ", ".join(str(y) for y in sorted(set(years.tolist())))))
    if sel.region == ALL_REGIONS:
        members = set(regions.tolist())
    elif sel.region in set(regions.tolist()):
        members = {sel.region}
    elif children and sel.region in children:
        members = set(children[sel.region])
    else:
        members = set()
        probs.append(Problem("UNKNOWN_OUTPUT", f"region {sel.region} is not in the accounts", column="output",
                             value=sel.region, expected="'all', a county id of the run or a prefecture id"))
    if sel.output != TOTAL and sel.output not in model.outputs:
        probs.append(Problem("UNKNOWN_OUTPUT", f"'{sel.output}' is not an output of {model.method}", column="output",
                             value=sel.output, expected="total or one of " + ", ".join(model.outputs)))
    if probs:
        raise InputError(probs)
    rows = np.flatnonzero((years == year) & np.isin(regions, list(members)))
    w = model.cell_weights(rows)
    if sel.output == TOTAL:
        point = float(model.point_total[rows].sum())
    else:
        s = model.outputs.index(sel.output)
        w = np.where(model.cell_output == s, w, 0.0)
        point = float(model.point[rows, s].sum())
    label = f"{model.method}/{sel.region}/{year}/{sel.output}"
    return OutputForm(label, w, point)


def evaluate_output(model: LinearModel, form: OutputForm, x: np.ndarray) -> np.ndarray:
    """y for coefficient columns ``x`` (n_coef × D), anchored on the engine point: (D,)."""
    dw = model.cells(x) - model.cells(model.point_x())
    return form.point + form.weights @ dw


def one_at_a_time(model: LinearModel, form: OutputForm, spec: pl.DataFrame) -> pl.DataFrame:
    """Tornado table: one row per coefficient with a range, ranked by swing (largest first, ties by name)."""
    aligned = align_spec(model, spec)
    pos = np.flatnonzero((aligned["high"] > aligned["low"]).to_numpy())
    u = model.unit
    meta = aligned[pos].join(model.coefficients.select("coefficient", "unit", "verification"), on="coefficient",
                             how="left", maintain_order="left")
    p = len(pos)
    x0 = model.point_x()[:, 0]
    x = np.repeat(x0[:, None], 2 * p, axis=1)
    x[pos, np.arange(p)] = aligned["low"].to_numpy()[pos]
    x[pos, p + np.arange(p)] = aligned["high"].to_numpy()[pos]
    y = evaluate_output(model, form, x) if p else np.empty(0)
    y_low, y_high = y[:p], y[p:]
    xl, xh, xv = aligned["low"].to_numpy()[pos], aligned["high"].to_numpy()[pos], x0[pos]
    with np.errstate(divide="ignore", invalid="ignore"):
        elast = ((y_high - y_low) / form.point) / ((xh - xl) / xv)
    elast = np.where(np.isfinite(elast) & (xv != 0) & (form.point != 0), elast, np.nan)
    df = pl.DataFrame({
        "output": [form.label] * p, "analysis": ["oat"] * p,
        "coefficient": meta["coefficient"], "coefficient_unit": meta["unit"], "verification": meta["verification"],
        "distribution": meta["distribution"], "range_source": meta["range_source"],
        "value": xv, "low": xl, "high": xh,
        f"output_point_{u}": np.full(p, form.point), f"output_at_low_{u}": y_low, f"output_at_high_{u}": y_high,
        f"swing_{u}": np.abs(y_high - y_low), "elasticity": elast,
    }).with_columns(pl.col("elasticity").fill_nan(None))
    df = df.sort([f"swing_{u}", "coefficient"], descending=[True, False])
    return df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("rank"))


def sobol_indices(func: Callable[[np.ndarray], np.ndarray], p: int, n_base: int, seed: int,
                  bootstrap: int = 100) -> pl.DataFrame:
    """First-order (Saltelli 2010) and total (Jansen 1999) Sobol indices of ``func`` over p independent inputs.

    ``func`` maps uniforms U (M × p, in (0, 1)) to outputs (M,). ``n_base`` is rounded up to a
    power of two (Sobol' balance). Returns index (0-based input), s1, s1_conf, st, st_conf
    (half-widths of 95 % bootstrap intervals over the N base samples, as SALib reports them; resampling
    ignores the low discrepancy of the Sobol' points, so they are conservative), variance.
    """
    m = max(1, int(np.ceil(np.log2(max(n_base, 2)))))
    from scipy.stats import qmc  # scipy.stats takes ~0.4 s to import: only runs that compute Sobol indices pay it

    sampler = qmc.Sobol(d=2 * p, scramble=True, seed=np.random.Generator(np.random.PCG64(seed)))
    base = np.clip(sampler.random_base2(m), 2.0**-53, 1.0 - 2.0**-53)
    a, b = base[:, :p], base[:, p:]
    fa, fb = func(a), func(b)
    fab = np.empty((p, len(fa)))
    for i in range(p):  # p evaluations of N points each (a loop over inputs, not over table rows)
        ab = a.copy()
        ab[:, i] = b[:, i]
        fab[i] = func(ab)
    s1, s1c, st, stc, var = sobol_estimates(fa, fb, fab, seed, bootstrap)
    return pl.DataFrame({"index": np.arange(p, dtype=np.int64), "s1": s1, "s1_conf": s1c, "st": st, "st_conf": stc,
                         "variance": np.full(p, var), "samples": np.full(p, 2**m, dtype=np.int64)})


def sobol_estimates(fa: np.ndarray, fb: np.ndarray, fab: np.ndarray, seed: int, bootstrap: int = 100,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """S1, S1 half-width, ST, ST half-width per input and the output variance, from f_A, f_B (N,) and f_ABi (p × N).

    Saltelli et al. 2010 (Comput. Phys. Commun. 181:259) Table 2 (b) for S1 = mean(f_B·(f_ABi − f_A)) / V and
    (f) (Jansen 1999) for ST = mean((f_A − f_ABi)²) / 2V, with V the population variance of f_A ∪ f_B after
    centring every output on the mean of all N·(p + 2) evaluations (SALib 1.4+ conventions): on raw GEP values
    (~1e7 CNY) uncentred outputs make mean(f_B·(f_ABi − f_A)) carry μ·mean(f_ABi − f_A), whose sampling noise
    swamps the half-widths of S1. Half-widths: Z95 × sd over ``bootstrap`` resamples of the N base points.
    """
    p, n = fab.shape
    mu = float(np.mean(np.concatenate([fa, fb, fab.ravel()])))
    fa, fb, fab = fa - mu, fb - mu, fab - mu
    var = float(np.var(np.concatenate([fa, fb])))
    boot = np.random.Generator(np.random.PCG64(seed)).integers(0, n, size=(bootstrap, n))
    fa_b, fb_b = fa[boot], fb[boot]
    var_b = np.var(np.concatenate([fa_b, fb_b], axis=1), axis=1)
    var_b = np.where(var_b > 0, var_b, np.nan)
    s1, st, s1c, stc = (np.full(p, np.nan) for _ in range(4))
    if var > 0:
        s1 = np.mean(fb * (fab - fa), axis=1) / var
        st = 0.5 * np.mean((fa - fab) ** 2, axis=1) / var
        for i in range(p):  # bootstrap per input (a loop over inputs, not over table rows)
            fab_b = fab[i][boot]
            s1c[i] = Z95 * float(np.nanstd(np.mean(fb_b * (fab_b - fa_b), axis=1) / var_b))
            stc[i] = Z95 * float(np.nanstd(0.5 * np.mean((fa_b - fab_b) ** 2, axis=1) / var_b))
    return s1, s1c, st, stc, var


def sobol(model: LinearModel, form: OutputForm, spec: pl.DataFrame, n_base: int, seed: int) -> pl.DataFrame:
    """Sobol rows for the uncertain coefficients of ``model`` (others fixed at their point values), ranked by ST."""
    aligned = align_spec(model, spec)
    pos = np.flatnonzero((aligned["high"] > aligned["low"]).to_numpy())
    unc = aligned[pos]
    x0 = model.point_x()[:, 0]
    u_name = model.unit

    def func(uu: np.ndarray) -> np.ndarray:
        x = np.repeat(x0[:, None], uu.shape[0], axis=1)
        x[pos, :] = inverse_cdf(uu, unc).T
        return evaluate_output(model, form, x)

    if not len(pos):
        return pl.DataFrame()
    idx = sobol_indices(func, len(pos), n_base, seed)
    meta = model.coefficients[pos]
    df = pl.DataFrame({
        "output": [form.label] * len(pos), "analysis": ["sobol"] * len(pos),
        "coefficient": meta["coefficient"], "coefficient_unit": meta["unit"], "verification": meta["verification"],
        "distribution": unc["distribution"], "range_source": unc["range_source"],
        "value": x0[pos], "low": unc["low"], "high": unc["high"],
        f"output_point_{u_name}": np.full(len(pos), form.point),
        "s1": idx["s1"], "s1_conf": idx["s1_conf"], "st": idx["st"], "st_conf": idx["st_conf"],
        "samples": idx["samples"], "seed": np.full(len(pos), seed, dtype=np.int64),
    })
    df = df.sort(["st", "coefficient"], descending=[True, False], nulls_last=True)
    return df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("rank"))
