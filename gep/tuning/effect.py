"""Effect of replacing coefficient set A by set B (e.g. a derived set with overrides) on a run's accounts.

The run's account is the linear form of set A (:mod:`gep.tuning.linear`); B's values are matched
to A's coefficients by ``table:key`` (set ids may differ). Outputs: the account under B per region,
year and output (value_b = value_a + form(x_B) − form(x_A), exact for these multilinear forms),
and the one-at-a-time effect of each changed coefficient on the total of all regions of a year.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from gep.tuning.distributions import set_coefficients
from gep.tuning.linear import LinearModel
from gep.tuning.montecarlo import ALL_REGIONS, TOTAL


def _strip_set(expr: pl.Expr) -> pl.Expr:
    return expr.str.splitn(":", 2).struct.field("field_1")


def b_values(model: LinearModel, cset_b: object) -> pl.DataFrame:
    """coefficient (A's id), value_a, value_b for every coefficient of the model (value_b = value_a when B lacks it)."""
    b = set_coefficients(cset_b).select(_strip_set(pl.col("coefficient")).alias("_k"), pl.col("value").alias("value_b"))
    a = model.coefficients.select("coefficient", "unit", pl.col("value").alias("value_a"),
                                  _strip_set(pl.col("coefficient")).alias("_k"))
    return a.join(b, on="_k", how="left", maintain_order="left").with_columns(
        pl.col("value_b").fill_null(pl.col("value_a"))).drop("_k")


def effect_by_output(model: LinearModel, values: pl.DataFrame) -> pl.DataFrame:
    """region_id, year, method, output, value_a_U, value_b_U, change_U, change_pct (region ``all`` rows first)."""
    xa = model.point_x()
    xb = values["value_b"].to_numpy().astype(np.float64)[:, None]
    dw = model.cells(xb) - model.cells(xa)
    d = model.apply(dw)[:, :, 0]
    years = model.rows["year"].to_numpy()
    outs = [*model.outputs, TOTAL]
    u = model.unit
    frames = []
    for y in sorted(set(years.tolist())):
        sel = np.flatnonzero(years == y)
        wy = np.asarray(model.output_matrix(model.cell_weights(sel)) @ dw)[:, 0]
        pa = np.concatenate([model.point[sel].sum(axis=0), [model.point_total[sel].sum()]])
        frames.append(pl.DataFrame({"region_id": [ALL_REGIONS] * len(outs), "year": [int(y)] * len(outs),
                                    model.output_column: outs, f"value_a_{u}": pa,
                                    f"value_b_{u}": pa + np.concatenate([wy, [wy.sum()]])}))
    pa = np.concatenate([model.point, model.point_total[:, None]], axis=1)
    pb = pa + np.concatenate([d, d.sum(axis=1, keepdims=True)], axis=1)
    n = len(outs)
    frames.append(pl.DataFrame({
        "region_id": np.repeat(model.rows["region_id"].to_numpy(), n).tolist(),
        "year": np.repeat(years, n).tolist(), model.output_column: outs * model.rows.height,
        f"value_a_{u}": pa.ravel(), f"value_b_{u}": pb.ravel()}))
    out = pl.concat([f.with_columns(pl.col("year").cast(pl.Int32)) for f in frames], how="vertical")
    return out.select(
        "region_id", "year", pl.lit(model.method).alias("method"), model.output_column, f"value_a_{u}", f"value_b_{u}",
        (pl.col(f"value_b_{u}") - pl.col(f"value_a_{u}")).alias(f"change_{u}"),
        pl.when(pl.col(f"value_a_{u}") != 0)
        .then((pl.col(f"value_b_{u}") - pl.col(f"value_a_{u}")) / pl.col(f"value_a_{u}").abs() * 100.0)
        .otherwise(None).alias("change_pct"),
    )


def effect_by_coefficient(model: LinearModel, values: pl.DataFrame, year: int | None = None) -> pl.DataFrame:
    """Each changed coefficient alone (others at A): change of the all-region total of ``year`` (latest by default).

    Columns: coefficient, unit, value_a, value_b, year, total_a_U, change_U, change_pct; sorted by |change|.
    """
    years = model.rows["year"].to_numpy()
    y = int(years.max()) if year is None else int(year)
    sel = np.flatnonzero(years == y)
    w = model.cell_weights(sel)
    changed = np.flatnonzero((values["value_b"] != values["value_a"]).to_numpy())
    xa = model.point_x()[:, 0]
    x = np.repeat(xa[:, None], len(changed), axis=1)
    x[changed, np.arange(len(changed))] = values["value_b"].to_numpy()[changed]
    delta = w @ (model.cells(x) - model.cells(xa[:, None])) if len(changed) else np.empty(0)
    total = float(model.point_total[sel].sum())
    u = model.unit
    df = values[changed].with_columns(
        pl.lit(y, dtype=pl.Int32).alias("year"), pl.lit(total).alias(f"total_a_{u}"),
        pl.Series(f"change_{u}", delta, dtype=pl.Float64),
    ).with_columns((pl.col(f"change_{u}") / abs(total) * 100.0 if total else pl.lit(None, dtype=pl.Float64))
                   .alias("change_pct"))
    return df.sort(pl.col(f"change_{u}").abs(), "coefficient", descending=[True, False])
