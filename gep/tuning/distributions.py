"""Coefficient uncertainty: declared ranges → distribution parameters → seeded draws.

Distributions (docs/contracts.md §6): ``uniform`` on [low, high] (the default when
low/high are given), ``triangular`` on [low, high] with mode = value, ``normal`` and
``lognormal`` with low/high as the 2.5 % / 97.5 % points (median = midpoint of low
and high, on the log scale for lognormal). Sampling is by inverse CDF of uniforms
drawn from ``numpy.random.Generator(PCG64(seed))`` one draw (row) at a time, so the
same seed gives the same draws whatever the chunk size (tested).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl
from scipy.special import ndtri

from gep.errors import InputError, Problem

DISTRIBUTIONS: tuple[str, ...] = ("uniform", "triangular", "normal", "lognormal")
Z975: float = float(ndtri(0.975))
"""Standard-normal 97.5 % point (1.959964…): low/high of normal/lognormal are μ ∓ Z975·σ."""

SPEC_SCHEMA: dict[str, pl.DataType] = {
    "coefficient": pl.Utf8(),
    "unit": pl.Utf8(),
    "verification": pl.Utf8(),
    "value": pl.Float64(),
    "low": pl.Float64(),
    "high": pl.Float64(),
    "distribution": pl.Utf8(),
    "range_source": pl.Utf8(),
}


def coefficient_id(set_id: str, table: str, keys: Sequence[str]) -> pl.Expr:
    """Expression ``set:table:k1/k2`` (the ``coefficient_id`` format of the account engine)."""
    return pl.format(
        "{}:{}:{}",
        pl.lit(set_id),
        pl.lit(table),
        pl.concat_str([pl.col(k).cast(pl.Utf8).fill_null("") for k in keys], separator="/"),
    )


def set_coefficients(cset: object, tables: Sequence[str] | None = None) -> pl.DataFrame:
    """Long table of a coefficient set: coefficient (``set:table:k1/k2``), unit, verification, value, low, high, distribution.

    ``cset``: a :class:`gep.coefficients.CoefficientSet` (``manifest.id``, ``tables``, ``keys(name)``).
    """
    sid = str(cset.manifest.id)  # type: ignore[attr-defined]
    parts = []
    names = sorted(cset.tables) if tables is None else list(tables)  # type: ignore[attr-defined]
    for name in names:
        df: pl.DataFrame = cset.tables[name]  # type: ignore[attr-defined]
        keys = list(cset.keys(name))  # type: ignore[attr-defined]

        def opt(c: str, dtype: pl.DataType, frame: pl.DataFrame = df) -> pl.Expr:
            return pl.col(c).cast(dtype, strict=False) if c in frame.columns else pl.lit(None, dtype=dtype)

        parts.append(df.select(
            coefficient_id(sid, name, keys).alias("coefficient"),
            opt("unit", pl.Utf8()).alias("unit"),
            opt("verification", pl.Utf8()).alias("verification"),
            pl.col("value").cast(pl.Float64).alias("value"),
            opt("low", pl.Float64()).alias("low"),
            opt("high", pl.Float64()).alias("high"),
            opt("distribution", pl.Utf8()).str.strip_chars().str.to_lowercase().alias("distribution"),
            pl.when(opt("low", pl.Float64()).is_not_null() | opt("high", pl.Float64()).is_not_null())
            .then(pl.lit("set")).otherwise(None).alias("range_source"),
        ))
    if not parts:
        return pl.DataFrame(schema=SPEC_SCHEMA)
    return pl.concat(parts, how="vertical").sort("coefficient")


def declare_uncertainty(
    coefs: pl.DataFrame,
    declared: pl.DataFrame | None = None,
    default_range_pct: float | None = None,
    default_for: Sequence[str] = ("unverified",),
    default_distribution: str = "uniform",
) -> pl.DataFrame:
    """Fill low/high/distribution: declared rows win, then the set's own ranges, then ±``default_range_pct`` % of value.

    ``declared``: coefficient, low, high, distribution (see :func:`gep.tuning.declared.load_declared`).
    The ±% default applies to rows whose verification is in ``default_for`` (``"all"`` for every row);
    low/high are swapped for negative values, a zero value keeps zero width. Rows without any range are
    certain (low = high = value). Returns :data:`SPEC_SCHEMA` columns, sorted by coefficient.
    """
    out = coefs
    if declared is not None and declared.height:
        d = declared.select(
            "coefficient",
            pl.col("low").cast(pl.Float64).alias("_dlow"),
            pl.col("high").cast(pl.Float64).alias("_dhigh"),
            pl.col("distribution").cast(pl.Utf8).alias("_ddist"),
        )
        out = out.join(d, on="coefficient", how="left").with_columns(
            pl.coalesce("_dlow", "low").alias("low"),
            pl.coalesce("_dhigh", "high").alias("high"),
            pl.when(pl.col("_dlow").is_not_null()).then(pl.col("_ddist")).otherwise(pl.col("distribution"))
            .alias("distribution"),
            pl.when(pl.col("_dlow").is_not_null()).then(pl.lit("declared")).otherwise(pl.col("range_source"))
            .alias("range_source"),
        ).drop("_dlow", "_dhigh", "_ddist")
    if default_range_pct is not None:
        applies = pl.lit(True) if "all" in default_for else pl.col("verification").is_in(list(default_for))
        need = pl.col("low").is_null() & pl.col("high").is_null() & applies
        a = pl.col("value") * (1.0 - default_range_pct / 100.0)
        b = pl.col("value") * (1.0 + default_range_pct / 100.0)
        out = out.with_columns(
            pl.when(need).then(pl.min_horizontal(a, b)).otherwise(pl.col("low")).alias("low"),
            pl.when(need).then(pl.max_horizontal(a, b)).otherwise(pl.col("high")).alias("high"),
            pl.when(need).then(pl.lit(default_distribution)).otherwise(pl.col("distribution")).alias("distribution"),
            pl.when(need).then(pl.lit(f"default ±{default_range_pct:g} %")).otherwise(pl.col("range_source"))
            .alias("range_source"),
        )
    out = out.with_columns(
        pl.col("low").fill_null(pl.col("value")),
        pl.col("high").fill_null(pl.col("value")),
        pl.col("distribution").fill_null("uniform"),
        pl.col("range_source").fill_null("none (fixed)"),
    )
    check_spec(out)
    return out.select([pl.col(c).cast(t) for c, t in SPEC_SCHEMA.items()]).sort("coefficient")


def check_spec(spec: pl.DataFrame, file: str | None = None) -> None:
    """INVALID_VALUE for an unknown distribution, low > high, value outside [low, high] or lognormal low ≤ 0."""
    probs: list[Problem] = []
    bad_dist = spec.filter(~pl.col("distribution").is_in(list(DISTRIBUTIONS)))
    for r in bad_dist.iter_rows(named=True):
        probs.append(Problem("INVALID_VALUE", f"unknown distribution for coefficient {r['coefficient']}", file=file,
                             column="distribution", value=str(r["distribution"]),
                             expected="uniform, triangular, normal or lognormal"))
    for r in spec.filter(pl.col("low") > pl.col("high")).iter_rows(named=True):
        probs.append(Problem("INVALID_VALUE", f"low is above high for coefficient {r['coefficient']}", file=file,
                             column="low", value=f"{r['low']} > {r['high']}", expected="low ≤ value ≤ high"))
    outside = spec.filter((pl.col("low") <= pl.col("high"))
                          & ((pl.col("value") < pl.col("low")) | (pl.col("value") > pl.col("high"))))
    for r in outside.iter_rows(named=True):
        probs.append(Problem("INVALID_VALUE", f"the value of coefficient {r['coefficient']} lies outside its range",
                             file=file, column="value", value=f"{r['value']} not in [{r['low']}, {r['high']}]",
                             expected="low ≤ value ≤ high"))
    for r in spec.filter((pl.col("distribution") == "lognormal") & (pl.col("low") <= 0)).iter_rows(named=True):
        probs.append(Problem("INVALID_VALUE", f"a lognormal range must be positive (coefficient {r['coefficient']})",
                             file=file, column="low", value=str(r["low"]), expected="low > 0"))
    if probs:
        raise InputError(probs)


def uncertain(spec: pl.DataFrame) -> pl.DataFrame:
    """Rows with a non-zero range (the coefficients that are sampled), in coefficient order."""
    return spec.filter(pl.col("high") > pl.col("low")).sort("coefficient")


def _params(spec: pl.DataFrame) -> tuple[np.ndarray, ...]:
    low = spec["low"].to_numpy().astype(np.float64)
    high = spec["high"].to_numpy().astype(np.float64)
    mode = spec["value"].to_numpy().astype(np.float64)
    dist = spec["distribution"].to_numpy()
    return low, high, mode, dist


def inverse_cdf(u: np.ndarray, spec: pl.DataFrame) -> np.ndarray:
    """Quantiles of each row's distribution at probabilities ``u`` (shape draws × rows, in (0, 1)).

    Normal and lognormal use scipy.special.ndtri; uniform and triangular are the closed forms
    (triangular: a + √(u(b−a)(c−a)) below F(c), b − √((1−u)(b−a)(b−c)) above), which also take a
    mode at either end. tests/test_tuning_distributions.py checks every family against
    scipy.stats' ppf to 1e-12.
    """
    low, high, mode, dist = _params(spec)
    out = np.empty_like(u)
    width = high - low
    is_u = dist == "uniform"
    out[:, is_u] = low[is_u] + u[:, is_u] * width[is_u]
    is_t = dist == "triangular"
    if is_t.any():
        a, b, c, ut = low[is_t], high[is_t], mode[is_t], u[:, is_t]
        fc = np.where(b > a, (c - a) / np.where(b > a, b - a, 1.0), 0.5)
        left = a + np.sqrt(ut * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - ut) * (b - a) * (b - c))
        out[:, is_t] = np.where(ut < fc, left, right)
    z = None
    is_n = dist == "normal"
    if is_n.any():
        z = ndtri(u)
        mu = (low[is_n] + high[is_n]) / 2.0
        sigma = (high[is_n] - low[is_n]) / (2.0 * Z975)
        out[:, is_n] = mu + sigma * z[:, is_n]
    is_l = dist == "lognormal"
    if is_l.any():
        z = ndtri(u) if z is None else z
        ll, lh = np.log(low[is_l]), np.log(high[is_l])
        out[:, is_l] = np.exp((ll + lh) / 2.0 + (lh - ll) / (2.0 * Z975) * z[:, is_l])
    return out


def open_uniforms(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``n × k`` uniforms strictly inside (0, 1): u = (⌊2^53·U⌋ + ½) / 2^53 from one stream, row after row."""
    raw = rng.random((n, k))
    return (np.floor(raw * 9007199254740992.0) + 0.5) / 9007199254740992.0


def draw_chunks(spec: pl.DataFrame, n_draws: int, seed: int, chunk: int) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first draw index, values[rows of spec, draws in chunk]) for ``n_draws`` draws.

    Every row of ``spec`` is a coefficient; fixed rows (low = high) repeat their value and use no
    random numbers. The uncertain rows consume one PCG64 stream draw by draw, so the values of a
    draw do not depend on ``chunk``.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    unc_mask = (spec["high"] > spec["low"]).to_numpy()
    unc = spec.filter(pl.Series(unc_mask))
    value = spec["value"].to_numpy().astype(np.float64)
    start = 0
    while start < n_draws:
        n = min(chunk, n_draws - start)
        x = np.repeat(value[:, None], n, axis=1)
        if unc.height:
            x[unc_mask, :] = inverse_cdf(open_uniforms(rng, n, unc.height), unc).T
        yield start, x
        start += n


def draw_all(spec: pl.DataFrame, n_draws: int, seed: int, chunk: int = 4096) -> np.ndarray:
    """All draws as one array (rows of spec × n_draws)."""
    parts = [x for _, x in draw_chunks(spec, n_draws, seed, chunk)]
    return np.concatenate(parts, axis=1) if parts else np.empty((spec.height, 0))
