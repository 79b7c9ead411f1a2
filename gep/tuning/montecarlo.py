"""Monte Carlo uncertainty of accounts: N seeded coefficient draws → mean, sd, P5, P50, P95 per region, year, output.

Vectorised over draws × table: coefficient draws are generated in chunks of draws
(:func:`gep.tuning.distributions.draw_chunks`) and turned into cell values W (J·S × N,
small); outputs are computed in blocks of region rows as one matmul per block, so memory
is bounded by ``memory_mb`` whatever the number of counties; every row's statistics depend
on that row's draws only. The chunk of draws never changes a number; the block of rows can change
the last bit of a value (BLAS may round the product A_block @ W of a 1-row block differently from
a 100-row block), so same inputs and same ``memory_mb`` give the same bytes. Percentiles are exact
(numpy ``linear`` interpolation, Hyndman & Fan type 7) over all draws of an output.
Outputs are point + (form(x) − form(x_point)): with zero-width ranges they equal the
engine's point estimate exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from gep.tuning.distributions import draw_chunks
from gep.tuning.linear import LinearModel

ALL_REGIONS = "all"
"""region_id of the rows that add up every region of a year."""
TOTAL = "total"
"""output name of the rows that add up every service (or pool)."""
PERCENTILES: tuple[float, ...] = (5.0, 50.0, 95.0)


def align_spec(model: LinearModel, spec: pl.DataFrame) -> pl.DataFrame:
    """The uncertainty spec rows of the model's coefficients, in the model's coefficient order."""
    out = model.coefficients.select("coefficient").join(
        spec.drop("unit", "verification", "value"), on="coefficient", how="left", maintain_order="left"
    )
    out = out.with_columns(pl.Series("value", model.coefficients["value"].to_numpy()))
    return out.with_columns(
        pl.col("low").fill_null(pl.col("value")), pl.col("high").fill_null(pl.col("value")),
        pl.col("distribution").fill_null("uniform"),
    )


def cell_deltas(model: LinearModel, spec: pl.DataFrame, n_draws: int, seed: int, chunk: int = 1024) -> np.ndarray:
    """W(x_d) − W(x_point) for every draw d: (J·S × n_draws); exactly 0 where no coefficient of a cell varies."""
    aligned = align_spec(model, spec)
    w0 = model.cells(model.point_x())
    out = np.empty((model.n_cells, n_draws))
    for start, x in draw_chunks(aligned, n_draws, seed, chunk):
        out[:, start:start + x.shape[1]] = model.cells(x) - w0
    return out


def _stats(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mean, sd (ddof 1) and percentiles along the last axis; ``delta`` is partitioned in place (overwritten)."""
    n = delta.shape[-1]
    mean = np.add.reduce(delta, axis=-1) / n  # bit for bit np.mean
    if n > 1:  # bit for bit np.std(ddof=1), reusing the mean instead of summing the draws again
        dev = delta - mean[..., None]
        np.multiply(dev, dev, out=dev)
        sd = np.sqrt(np.add.reduce(dev, axis=-1) / (n - 1))
        del dev
    else:
        sd = np.zeros(delta.shape[:-1])
    # sorted first (numpy's SIMD sort), the exact percentiles are read off in one cheap pass: about twice as fast
    # as np.percentile's multi-kth partition of unsorted draws, and the same numbers bit for bit (order statistics
    # do not depend on how the array got ordered)
    delta.sort(axis=-1)
    pct = np.percentile(delta, PERCENTILES, axis=-1, overwrite_input=True)
    return mean, sd, pct


def _block_stats(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Statistics of each output (rb × S × N) and of their sum over S, as (rb × (S+1)) arrays (pct: 3 × rb × (S+1))."""
    total = d.sum(axis=1)
    m1, s1, p1 = _stats(d)
    m2, s2, p2 = _stats(total)
    return (np.concatenate([m1, m2[:, None]], axis=1), np.concatenate([s1, s2[:, None]], axis=1),
            np.concatenate([p1, p2[:, :, None]], axis=2))


def _frame(model: LinearModel, region: list[str], year: list[int], output: list[str], point: np.ndarray,
           mean: np.ndarray, sd: np.ndarray, pct: np.ndarray, n_draws: int, seed: int,
           year_from: list[int] | None = None) -> pl.DataFrame:
    u = model.unit
    first: dict[str, object] = {"region_id": region}
    if year_from is not None:  # changes between two years
        first["year_from"] = pl.Series(year_from, dtype=pl.Int32)
    return pl.DataFrame({
        **first, "year": pl.Series(year, dtype=pl.Int32), "method": [model.method] * len(region),
        model.output_column: output,
        f"point_{u}": point, f"mean_{u}": point + mean, f"sd_{u}": sd,
        f"p5_{u}": point + pct[0], f"p50_{u}": point + pct[1], f"p95_{u}": point + pct[2],
        "draws": pl.Series([n_draws] * len(region), dtype=pl.Int64), "seed": pl.Series([seed] * len(region), dtype=pl.Int64),
    })


def monte_carlo(
    model: LinearModel,
    spec: pl.DataFrame,
    n_draws: int,
    seed: int,
    *,
    chunk_draws: int = 1024,
    memory_mb: float = 256.0,
    all_regions: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> pl.DataFrame:
    """Uncertainty table of one model: per region, year and output (plus ``total``; plus region ``all``).

    Columns: region_id, [year_from,] year, method, service|pool, point_U, mean_U, sd_U, p5_U, p50_U,
    p95_U, draws, seed (U = cny or c_t; year_from for changes between two years). ``spec``: output of :func:`gep.tuning.distributions.declare_uncertainty`.
    ``progress(done, total)`` hears of the region rows summarised so far (a bar for a long national run).
    """
    wd = cell_deltas(model, spec, n_draws, seed, chunk_draws)
    n_out = len(model.outputs) + 1
    per_row_bytes = n_out * n_draws * 8 * 2  # outputs + one temporary (std); percentiles partition in place
    block = max(1, int(memory_mb * 2**20 // max(per_row_bytes, 1)))
    regions = model.rows["region_id"].to_list()
    years = model.rows["year"].to_list()
    has_from = "year_from" in model.rows.columns
    froms = model.rows["year_from"].to_list() if has_from else [0] * len(years)
    outputs = [*model.outputs, TOTAL]
    frames: list[pl.DataFrame] = []  # region 'all' first, then regions in (region_id, year) order
    if all_regions:
        for yf, y in sorted(set(zip(froms, years, strict=True))):
            sel = np.flatnonzero((np.asarray(years) == y) & (np.asarray(froms) == yf))
            d = np.asarray(model.output_matrix(model.cell_weights(sel)) @ wd)
            d = np.concatenate([d, d.sum(axis=0, keepdims=True)], axis=0)
            mean, sd, pct = _stats(d)
            point = np.concatenate([model.point[sel].sum(axis=0), [model.point_total[sel].sum()]])
            frames.append(_frame(model, [ALL_REGIONS] * n_out, [int(y)] * n_out, outputs, point, mean, sd, pct,
                                 n_draws, seed, [int(yf)] * n_out if has_from else None))
    total = model.rows.height
    if not total:
        progress = None
    if progress is not None:
        progress(0, total)
    for b0 in range(0, total, block):
        rows = np.arange(b0, min(b0 + block, total))
        mean, sd, pct = _block_stats(model.apply(wd, rows))
        point = np.concatenate([model.point[rows], model.point_total[rows, None]], axis=1)
        frames.append(_frame(
            model, np.repeat(np.asarray(regions, dtype=object)[rows], n_out).tolist(),
            np.repeat(np.asarray(years)[rows], n_out).tolist(), outputs * len(rows),
            point.ravel(), mean.ravel(), sd.ravel(), pct.reshape(3, -1), n_draws, seed,
            np.repeat(np.asarray(froms)[rows], n_out).tolist() if has_from else None))
        if progress is not None:
            progress(int(rows[-1]) + 1, total)
    return pl.concat(frames, how="vertical")



FLUX_KEYS: tuple[str, ...] = ("region_id", "year_from", "year", "method", "group")


def carbon_flux_table(
    flux: LinearModel,
    value: LinearModel,
    spec: pl.DataFrame,
    n_draws: int,
    seed: int,
    *,
    chunk_draws: int = 1024,
    memory_mb: float = 256.0,
    all_regions: bool = True,
) -> pl.DataFrame:
    """``uncertainty_carbon_flux``: gain–loss flux (``*_c_t``, t C/yr) and sink value (``*_cny``) side by side.

    Both models share their coefficient list, so draw d is the same coefficient vector for the flux and for
    its value (the CNY interval is that of the same draws × price). Group ``all`` = every group together
    (as in carbon_flux_summary); method ``gain_loss``. Columns: region_id, year_from, year, method, group,
    point/mean/sd/p5/p50/p95 _c_t, the same _cny, draws, seed.
    """
    if flux.coefficients["coefficient"].to_list() != value.coefficients["coefficient"].to_list():
        raise ValueError("carbon flux and value models must share their coefficients (same draws)")
    kw = {"chunk_draws": chunk_draws, "memory_mb": memory_mb, "all_regions": all_regions}
    t = monte_carlo(flux, spec, n_draws, seed, **kw)  # type: ignore[arg-type]
    v = monte_carlo(value, spec, n_draws, seed, **kw)  # type: ignore[arg-type]
    fix = [pl.lit("gain_loss").alias("method"),
           pl.when(pl.col("group") == TOTAL).then(pl.lit("all")).otherwise(pl.col("group")).alias("group")]
    t = t.with_columns(*fix)
    v = v.with_columns(*fix).drop("draws", "seed")
    out = t.drop("draws", "seed").join(v, on=list(FLUX_KEYS), how="left", maintain_order="left")
    return out.with_columns(t["draws"], t["seed"])
