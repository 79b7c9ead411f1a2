"""Accounts as multilinear forms in their coefficients, evaluated for many coefficient vectors at once.

value[r, s] = scale[r, s] × Σ_j area[r, j] × W[j, s],  W[j, s] = Σ_m const_m × x[c1_m] × x[c2_m]

r = (region, year) row, j = driver (ecosystem type, area in ha), s = output (service or carbon
pool), x = coefficient vector (one column per draw). Equivalent factor (谢高地 2015, V = Σ_k A_k·E_kf·D):
W[k, f] = (hm2 per ha) × E_kf × D, scale = regional adjustment (Xie 2015 §2.3; 1 when none).
Carbon stock (InVEST Carbon 3.20 / IPCC 2006 Vol 4 Eq 2.3): W[k, pool] = density_k,pool (t C/ha).
For D draws, A (R × J) @ W (J × S·D) is one BLAS matmul; monomials are a sparse matrix product.

The point estimate ``point`` is always the engine's own result (gep.account / gep.carbon
functions); :func:`check_against_engine` proves that the form reproduces it, and Monte
Carlo outputs are point + (form(x) − form(x_point)), so zero-width uncertainty returns
the engine's numbers exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp

from gep.account.equivalent import decode_services, equivalent_factor_services
from gep.account.function_value import PURIFICATION_SERVICES, function_value_services
from gep.account.step import fv_parameters, merge_override
from gep.account.tables import gep_totals
from gep.carbon.params import POOLS, CarbonSet, set_densities
from gep.carbon.stock import carbon_stock, stock_totals
from gep.errors import GepError, InputError, Problem
from gep.tuning.distributions import coefficient_id, set_coefficients
from gep.units import conversion_factor


@dataclass(frozen=True)
class LinearModel:
    """One account as a multilinear form (see module docstring); arrays are float64."""

    method: str
    """method label written to the outputs: equivalent_factor | carbon_stock."""
    unit: str
    """suffix of the value columns: cny or c_t."""
    output_column: str
    """name of the output dimension in the tables: service or pool."""
    rows: pl.DataFrame
    """region_id, year: one row per r, in r order."""
    drivers: list[str]
    outputs: list[str]
    area: np.ndarray
    """R × J driver quantities (ha)."""
    scale: np.ndarray | None
    """R × S multipliers (None = all 1)."""
    mono_cell: np.ndarray
    mono_const: np.ndarray
    mono_c1: np.ndarray
    mono_c2: np.ndarray
    coefficients: pl.DataFrame
    """the coefficients of the form: coefficient, unit, verification, value (index = position)."""
    point: np.ndarray
    """R × S engine point estimate."""
    point_total: np.ndarray
    """R engine totals (Σ over s as the engine reports it)."""
    driver_output: np.ndarray | None = None
    """compact form: driver j feeds only output driver_output[j]; then W has one cell per driver (J × D)."""

    @property
    def n_cells(self) -> int:
        return len(self.drivers) if self.driver_output is not None else len(self.drivers) * len(self.outputs)

    @property
    def cell_driver(self) -> np.ndarray:
        """Driver index of each cell."""
        j, s = len(self.drivers), len(self.outputs)
        return np.arange(j) if self.driver_output is not None else np.repeat(np.arange(j), s)

    @property
    def cell_output(self) -> np.ndarray:
        """Output index of each cell."""
        j, s = len(self.drivers), len(self.outputs)
        return self.driver_output if self.driver_output is not None else np.tile(np.arange(s), j)

    def cell_weights(self, rows: np.ndarray) -> np.ndarray:
        """Weight of each cell in the sum over ``rows``: Σ_r scale[r, s(c)] × area[r, j(c)] → (n_cells,).

        The sum over ``rows`` of output s is Σ_{c: s(c) = s} weight[c] × W[c].
        """
        area = self.area[rows][:, self.cell_driver]
        if self.scale is not None:
            area = area * self.scale[rows][:, self.cell_output]
        return area.sum(axis=0)

    def output_matrix(self, weights: np.ndarray) -> sp.csr_matrix:
        """Sparse (S × n_cells) matrix M with M[s(c), c] = weights[c]: outputs = M @ W."""
        n = self.n_cells
        return sp.csr_matrix((weights, (self.cell_output, np.arange(n))), shape=(len(self.outputs), n))

    def cell_matrix(self) -> sp.csr_matrix:
        """Sparse (J·S × monomials) 0/1 matrix adding monomials into their cell."""
        m = len(self.mono_cell)
        return sp.csr_matrix((np.ones(m), (self.mono_cell, np.arange(m))), shape=(self.n_cells, m))

    def cells(self, x: np.ndarray) -> np.ndarray:
        """W for coefficient columns ``x`` (n_coef × D) → (J·S × D)."""
        ext = np.vstack([x, np.ones((1, x.shape[1]))])
        mono = self.mono_const[:, None] * ext[self.mono_c1] * ext[self.mono_c2]
        return np.asarray(self.cell_matrix() @ mono)

    def point_x(self) -> np.ndarray:
        """The point coefficient vector as one column (n_coef × 1)."""
        return self.coefficients["value"].to_numpy().astype(np.float64)[:, None]

    def evaluate(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Plain (un-anchored) form value for coefficient columns ``x``: (R' × S × D)."""
        w = self.cells(x)
        return self.apply(w, rows)

    def apply(self, w: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """scale ⊙ (area @ W) for cell values ``w`` (J·S × D) → (R' × S × D)."""
        j, s, d = len(self.drivers), len(self.outputs), w.shape[1]
        area = self.area if rows is None else self.area[rows]
        if self.driver_output is not None:  # one matmul per output over its own drivers
            out = np.zeros((area.shape[0], s, d))
            for k in range(s):  # loop over outputs (services), not rows
                js = np.flatnonzero(self.driver_output == k)
                if len(js):
                    out[:, k, :] = area[:, js] @ w[js]
        else:
            out = (area @ w.reshape(j, s * d)).reshape(area.shape[0], s, d)
        if self.scale is not None:
            sc = self.scale if rows is None else self.scale[rows]
            out *= sc[:, :, None]
        return out


def check_against_engine(model: LinearModel, rtol: float = 1e-9) -> float:
    """Largest relative difference between the form at the point coefficients and the engine; GepError above ``rtol``."""
    mine = model.evaluate(model.point_x())[:, :, 0]
    denom = np.maximum(np.abs(model.point), np.abs(model.point).max(initial=0.0) * 1e-12 + 1e-300)
    rel = float(np.max(np.abs(mine - model.point) / denom, initial=0.0))
    if rel > rtol:
        raise GepError(f"the {model.method} tuning model does not reproduce the engine (relative difference {rel:.3g}); "
                       "this is a bug in gep.tuning, please report it")
    return rel


def _index(coefs: list[str]) -> dict[str, int]:
    return {c: i for i, c in enumerate(coefs)}


def _pivot_area(extent: pl.DataFrame, rows: pl.DataFrame, drivers: list[str]) -> np.ndarray:
    a = (
        extent.filter(pl.col("ecosystem_type").is_in(drivers))
        .group_by("region_id", pl.col("year").cast(pl.Int32), "ecosystem_type")
        .agg(pl.col("area_ha").sum())
    )
    r = rows.with_row_index("_r").join(a, on=["region_id", "year"], how="inner")
    dmap = pl.DataFrame({"ecosystem_type": drivers, "_j": np.arange(len(drivers), dtype=np.int64)})
    r = r.join(dmap, on="ecosystem_type", how="inner")
    out = np.zeros((rows.height, len(drivers)))
    out[r["_r"].to_numpy(), r["_j"].to_numpy()] = r["area_ha"].to_numpy()
    return out


def _grid(df: pl.DataFrame, rows: pl.DataFrame, col: str, outputs: list[str], value: str) -> np.ndarray:
    r = rows.with_row_index("_r").join(df.with_columns(pl.col("year").cast(pl.Int32)), on=["region_id", "year"],
                                       how="inner")
    omap = pl.DataFrame({col: outputs, "_s": np.arange(len(outputs), dtype=np.int64)})
    r = r.join(omap, on=col, how="inner")
    out = np.zeros((rows.height, len(outputs)))
    np.add.at(out, (r["_r"].to_numpy(), r["_s"].to_numpy()), r[value].to_numpy())
    return out


# ---------------------------------------------------------------------------
# equivalent factor (谢高地 2015)


def equivalent_factor_model(
    extent: pl.DataFrame,
    cset: object,
    standard_value: float | None = None,
    adjustments: pl.DataFrame | None = None,
) -> LinearModel:
    """Equivalent-factor ESV (CNY) as A[r, k] × E[k, f] × D × adjustment[r, f]; point from gep.account.

    ``cset``: a coefficient set with tables ``equivalents`` (ecosystem_type, service) and
    ``standard_value`` (parameter); ``standard_value`` (CNY/hm2) replaces the set's D point value;
    ``adjustments``: output of :func:`gep.account.equivalent.adjustment_table`.
    """

    sid = str(cset.manifest.id)  # type: ignore[attr-defined]
    eq: pl.DataFrame = cset.tables["equivalents"]  # type: ignore[attr-defined]
    eq_keys = list(cset.keys("equivalents"))  # type: ignore[attr-defined]
    if eq_keys != ["ecosystem_type", "service"]:
        raise InputError([Problem("NOT_SUPPORTED", f"coefficient set '{sid}': uncertainty analysis needs an "
                                  "'equivalents' table keyed by ecosystem_type, service", value=", ".join(eq_keys),
                                  expected="a set like xie2015 (group-keyed tables such as xie2003 or xie2008 are not supported)")])
    svt = cset.tables.get("standard_value")  # type: ignore[attr-defined]
    if svt is None or not svt.height:
        raise InputError([Problem("MISSING_COEFFICIENT", f"coefficient set '{sid}' has no standard_value table",
                                  expected="a row parameter = standard_equivalent_value")])
    sv_keys = list(cset.keys("standard_value"))  # type: ignore[attr-defined]
    sv_row = svt.filter(pl.col("parameter") == "standard_equivalent_value") if "parameter" in svt.columns else svt
    sv_row = sv_row.head(1)
    d_id = sv_row.select(coefficient_id(sid, "standard_value", sv_keys)).item()
    d_value = float(standard_value) if standard_value is not None else float(sv_row["value"][0])

    services = equivalent_factor_services(extent, eq, d_value, adjustments=adjustments, set_id=sid)
    totals = gep_totals(services)
    rows = totals.select("region_id", pl.col("year").cast(pl.Int32)).sort(["region_id", "year"])
    point_total = rows.join(totals.select("region_id", "year", "total_cny"), on=["region_id", "year"],
                            how="left")["total_cny"].to_numpy()
    drivers = sorted(set(eq["ecosystem_type"].to_list()))
    outputs = sorted(set(eq["service"].to_list()))
    point = _grid(services.group_by("region_id", "year", "service").agg(pl.col("value_cny").sum()), rows, "service",
                  outputs, "value_cny")
    area = _pivot_area(extent, rows, drivers)
    scale = None
    if adjustments is not None and adjustments.height:
        keys = [k for k in ("region_id", "year") if k in adjustments.columns]
        grid = rows.join(pl.DataFrame({"service": outputs}), how="cross")
        adj = grid.join(adjustments.with_columns([pl.col("year").cast(pl.Int32)] if "year" in keys else []),
                        on=[*keys, "service"], how="left").with_columns(pl.col("adjustment").fill_null(1.0))
        scale = _grid(adj, rows, "service", outputs, "adjustment")

    coefs = eq.select(coefficient_id(sid, "equivalents", eq_keys).alias("coefficient"), "unit", "verification",
                      pl.col("value").cast(pl.Float64))
    coefs = pl.concat([coefs, sv_row.select(pl.lit(d_id).alias("coefficient"), "unit", "verification",
                                            pl.lit(d_value).alias("value"))], how="vertical").sort("coefficient")
    idx = _index(coefs["coefficient"].to_list())
    cell = eq.select(
        pl.col("ecosystem_type").replace_strict(_index(drivers), return_dtype=pl.Int64).alias("j"),
        pl.col("service").replace_strict(_index(outputs), return_dtype=pl.Int64).alias("s"),
        coefficient_id(sid, "equivalents", eq_keys).replace_strict(idx, return_dtype=pl.Int64).alias("c1"),
    )
    m = cell.height
    return LinearModel(
        method="equivalent_factor", unit="cny", output_column="service", rows=rows, drivers=drivers, outputs=outputs,
        area=area, scale=scale,
        mono_cell=(cell["j"] * len(outputs) + cell["s"]).to_numpy(),
        mono_const=np.full(m, conversion_factor("ha", "hm2")),
        mono_c1=cell["c1"].to_numpy(), mono_c2=np.full(m, idx[d_id], dtype=np.int64),
        coefficients=coefs, point=point, point_total=point_total,
    )


# ---------------------------------------------------------------------------
# carbon stock (InVEST Carbon / IPCC 2006 Vol 4 Eq 2.3)


def carbon_stock_model(extent: pl.DataFrame, cset: object) -> LinearModel:
    """Carbon stock (t C) per region, year and pool as A[r, k] × density[k, pool]; point from gep.carbon.

    ``cset``: a coefficient set with a ``pools`` table keyed by ecosystem_type, pool (t C/ha).
    Classes without an ecosystem type hold zero carbon (as in gep.carbon.params.set_densities).
    """

    sid = str(cset.manifest.id)  # type: ignore[attr-defined]
    if "class_pools" in cset.tables:  # type: ignore[attr-defined]
        raise InputError([Problem("NOT_SUPPORTED", f"coefficient set '{sid}' has class-level pools (class_pools); "
                                  "uncertainty analysis supports pools by ecosystem type only", value=sid)])
    pools: pl.DataFrame = cset.tables["pools"].filter(pl.col("pool").is_in(list(POOLS)))  # type: ignore[attr-defined]
    keys = list(cset.keys("pools"))  # type: ignore[attr-defined]
    engine_set = CarbonSet(manifest={"id": sid}, tables={"pools": pools}, path=str(getattr(cset, "path", sid)))
    densities = set_densities(extent.select("class", "ecosystem_type").unique(), engine_set, None)
    stock = carbon_stock(extent, densities)
    totals = stock_totals(stock)
    rows = totals.select("region_id", pl.col("year").cast(pl.Int32)).sort(["region_id", "year"])
    point_total = rows.join(totals, on=["region_id", "year"], how="left")["c_t"].to_numpy()
    drivers = sorted(set(pools["ecosystem_type"].to_list()))
    outputs = list(POOLS)
    point = _grid(stock.group_by("region_id", "year", "pool").agg(pl.col("c_t").sum()), rows, "pool", outputs, "c_t")
    area = _pivot_area(extent, rows, drivers)
    coefs = pools.select(coefficient_id(sid, "pools", keys).alias("coefficient"), "unit", "verification",
                         pl.col("value").cast(pl.Float64)).sort("coefficient")
    cell = pools.select(
        pl.col("ecosystem_type").replace_strict(_index(drivers), return_dtype=pl.Int64).alias("j"),
        pl.col("pool").replace_strict(_index(outputs), return_dtype=pl.Int64).alias("s"),
        coefficient_id(sid, "pools", keys).replace_strict(_index(coefs["coefficient"].to_list()),
                                                          return_dtype=pl.Int64).alias("c1"),
    )
    m = cell.height
    return LinearModel(
        method="carbon_stock", unit="c_t", output_column="pool", rows=rows, drivers=drivers, outputs=outputs,
        area=area, scale=None,
        mono_cell=(cell["j"] * len(outputs) + cell["s"]).to_numpy(), mono_const=np.ones(m),
        mono_c1=cell["c1"].to_numpy(), mono_c2=np.full(m, coefs.height, dtype=np.int64),
        coefficients=coefs, point=point, point_total=point_total,
    )


# ---------------------------------------------------------------------------
# function value (欧阳志云 2013; rates × prices, quantities × prices, statistics)


def function_value_model(point_services: pl.DataFrame, unit_services: pl.DataFrame, coefficients: pl.DataFrame,
                         method: str = "function_value", every_row: str | None = None) -> LinearModel:
    """Function-value GEP (CNY) as Σ_rows base × rate × price, from two runs of gep.account's engine.

    ``point_services``: :func:`gep.account.function_value.function_value_services` with the set's
    values; ``unit_services``: the same call with every *set* rate and price replaced by 1 (user
    rates/prices and statistics unchanged), so that each row's value is its base
    (area × unit factors, or quantity × unit factor). Rows are matched in the engine's stable order.
    A row's rate and price are coefficients when their ``coefficient_id`` (``rate_id|price_id``) names
    a row of ``coefficients`` (coefficient, unit, verification, value); anything else is fixed.
    Form: B[r, m] = Σ base over the rows of region-year r in slot m = (service, rate, price).
    ``every_row``: a coefficient that multiplies rows without a price part (equivalent factor: the
    standard value D, rows ``set:equivalents:k/f``); ``method`` labels the outputs.
    """
    point_services, unit_services = decode_services(point_services), decode_services(unit_services)
    keys = ["region_id", "year", "service", "component", "ecosystem_type"]
    two = pl.col("coefficient_id").str.split("|").list.head(2).list.join("|")  # rate|price, without an emission cap
    a = point_services.select(*keys, two)
    b = unit_services.select(*keys, two)
    if not a.equals(b):
        raise GepError("function-value rows differ between the point and unit runs of the engine (gep.tuning bug)")
    ids = point_services.select(
        pl.col("coefficient_id").str.split("|").list.get(0, null_on_oob=True).alias("_rate"),
        pl.coalesce(pl.col("coefficient_id").str.split("|").list.get(1, null_on_oob=True),
                    pl.lit(every_row, dtype=pl.Utf8)).alias("_price"),
    )
    used = set(ids["_rate"].drop_nulls().to_list()) | set(ids["_price"].drop_nulls().to_list())
    coefs = coefficients.filter(pl.col("coefficient").is_in(sorted(used))).sort("coefficient")
    idx = _index(coefs["coefficient"].to_list())
    const = coefs.height
    parts = point_services.select(
        "region_id", pl.col("year").cast(pl.Int32), "service",
        pl.col("coefficient_id").str.split("|").list.get(0, null_on_oob=True).alias("_rate"),
        pl.coalesce(pl.col("coefficient_id").str.split("|").list.get(1, null_on_oob=True),
                    pl.lit(every_row, dtype=pl.Utf8)).alias("_price"),
        pl.Series("base", unit_services["value_cny"].to_numpy()),
    ).with_columns(
        pl.col("_rate").replace_strict(idx, default=const, return_dtype=pl.Int64).alias("c1"),
        pl.col("_price").replace_strict(idx, default=const, return_dtype=pl.Int64).alias("c2"),
    )
    parts = _emission_capped_base(parts, point_services, coefs, const)
    totals = point_services.group_by("region_id", pl.col("year").cast(pl.Int32)).agg(pl.col("value_cny").sum())
    rows = totals.select("region_id", "year").sort(["region_id", "year"])
    outputs = sorted(set(point_services["service"].to_list()))
    slots = parts.select("service", "c1", "c2").unique().sort(["service", "c1", "c2"]).with_row_index("m")
    slot_names = slots.select(pl.format("{}|{}|{}", "service", "c1", "c2")).to_series().to_list()
    b_long = parts.join(slots, on=["service", "c1", "c2"], how="inner").group_by("region_id", "year", "m").agg(
        pl.col("base").sum())
    r = rows.with_row_index("_r").join(b_long, on=["region_id", "year"], how="inner")
    area = np.zeros((rows.height, slots.height))
    area[r["_r"].to_numpy(), r["m"].to_numpy().astype(np.int64)] = r["base"].to_numpy()
    point = _grid(point_services.group_by("region_id", "year", "service").agg(pl.col("value_cny").sum()), rows,
                  "service", outputs, "value_cny")

    gt = gep_totals(point_services)
    point_total = rows.join(gt.select("region_id", pl.col("year").cast(pl.Int32), "total_cny"),
                            on=["region_id", "year"], how="left")["total_cny"].to_numpy()
    m = slots.height
    return LinearModel(
        method=method, unit="cny", output_column="service", rows=rows, drivers=slot_names,
        outputs=outputs, area=area, scale=None,
        mono_cell=np.arange(m), mono_const=np.ones(m),
        mono_c1=slots["c1"].to_numpy().astype(np.int64), mono_c2=slots["c2"].to_numpy().astype(np.int64),
        coefficients=coefs.select("coefficient", "unit", "verification", "value"), point=point,
        point_total=point_total,
        driver_output=slots.select(pl.col("service").replace_strict(_index(outputs), return_dtype=pl.Int64))
        .to_series().to_numpy(),
    )


def _emission_capped_base(parts: pl.DataFrame, point: pl.DataFrame, coefs: pl.DataFrame, const: int) -> pl.DataFrame:
    """Bases of the purification rows, which gep.account caps at the emissions (min(capacity × area, emissions)).

    The cap makes them piecewise linear, so their base comes from the point run, not the unit run: where the
    cap binds (the id cites ``emissions:…``) value = emissions × price, so the rate is held fixed and
    base = value / price; elsewhere base = value / (rate × price). Draws are linear around the point: a rate
    draw does not move a binding row, and may take a non-binding row above its cap (approximation).
    """

    purif = pl.col("service").is_in(PURIFICATION_SERVICES)
    if not parts.filter(purif).height:
        return parts
    x = np.append(coefs["value"].to_numpy().astype(np.float64), 1.0)  # index const = fixed (1)
    binding = point["coefficient_id"].cast(pl.Utf8).str.contains("|emissions:", literal=True).to_numpy()
    value = point["value_cny"].to_numpy().astype(np.float64)
    df = parts.with_columns(pl.Series("_bind", binding), pl.Series("_v", value))
    c1 = df["c1"].to_numpy()
    c2 = df["c2"].to_numpy()
    is_p = df.select(purif.alias("p"))["p"].to_numpy()
    rate = np.where(binding, 1.0, x[c1])
    denom = rate * x[c2]
    base = np.where(is_p, np.divide(value, denom, out=np.zeros_like(value), where=denom != 0), df["base"].to_numpy())
    new_c1 = np.where(is_p & binding, const, c1)
    return df.with_columns(pl.Series("base", base), pl.Series("c1", new_c1.astype(np.int64))).drop("_bind", "_v")


def function_value_parameters(
    cset: object,
    user_prices: pl.DataFrame | None = None,
    user_rates: pl.DataFrame | None = None,
    use_set_rates: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(indicators, prices, rates) exactly as the [account] step assembles them (gep.account.step)."""

    ind, prices, rates = fv_parameters(cset)
    prices = merge_override(prices, user_prices, ["service", "component"])
    rates = rates if use_set_rates else rates.clear()
    rates = merge_override(rates, user_rates.filter(pl.col("region_id").is_null()) if user_rates is not None else None,
                           ["ecosystem_type", "service", "component"])
    if user_rates is not None:
        rates = pl.concat([rates, user_rates.filter(pl.col("region_id").is_not_null()).select(rates.columns)],
                          how="vertical_relaxed")
    return ind, prices, rates


def function_value_model_from(
    cset: object,
    *,
    extent: pl.DataFrame | None = None,
    user_prices: pl.DataFrame | None = None,
    user_rates: pl.DataFrame | None = None,
    use_set_rates: bool = True,
    quantities: pl.DataFrame | None = None,
    statistics: pl.DataFrame | None = None,
) -> LinearModel:
    """Function-value form of a set and the run's county tables: two engine runs (set values, set values = 1)."""

    sid = str(cset.manifest.id)  # type: ignore[attr-defined]
    ind, prices, rates = function_value_parameters(cset, user_prices, user_rates, use_set_rates)
    own = pl.col("coefficient_id").str.starts_with(f"{sid}:")
    point = function_value_services(ind, prices, extent=extent, rates=rates, quantities=quantities,
                                    statistics=statistics)
    unit = function_value_services(
        ind, prices.with_columns(pl.when(own).then(1.0).otherwise(pl.col("price")).alias("price")),
        extent=extent, rates=rates.with_columns(pl.when(own).then(1.0).otherwise(pl.col("rate")).alias("rate")),
        quantities=quantities, statistics=statistics)
    coefs = set_coefficients(cset, ["prices", "rates"]).select("coefficient", "unit", "verification", "value")
    return function_value_model(point, unit, coefs)


def stock_change_model(stock: LinearModel) -> LinearModel:
    """Carbon stock change (t C) between consecutive years of each region: stock(t2) − stock(t1), per pool.

    = the stock-difference flux of gep.carbon (IPCC 2006 Vol 4 Eq 2.5; InVEST sequestration), as
    (A[t2] − A[t1]) × density. Rows: region_id, year (= year_to), year_from. Point = difference of
    the engine's stocks.
    """
    r = stock.rows.with_row_index("_i").sort(["region_id", "year"])
    r = r.with_columns(pl.col("_i").shift(1).over("region_id").alias("_i0"),
                       pl.col("year").shift(1).over("region_id").alias("year_from")).filter(pl.col("_i0").is_not_null())
    i1 = r["_i"].to_numpy().astype(np.int64)
    i0 = r["_i0"].to_numpy().astype(np.int64)
    return LinearModel(
        method=f"{stock.method}_change", unit=stock.unit, output_column=stock.output_column,
        rows=r.select("region_id", "year", pl.col("year_from").cast(pl.Int32)),
        drivers=stock.drivers, outputs=stock.outputs, area=stock.area[i1] - stock.area[i0],
        scale=None if stock.scale is None else stock.scale[i1],
        mono_cell=stock.mono_cell, mono_const=stock.mono_const, mono_c1=stock.mono_c1, mono_c2=stock.mono_c2,
        coefficients=stock.coefficients, point=stock.point[i1] - stock.point[i0],
        point_total=stock.point_total[i1] - stock.point_total[i0], driver_output=stock.driver_output,
    )


# ---------------------------------------------------------------------------
# carbon flux by the gain–loss method and the CNY value of the sink


def carbon_flux_models(
    point_summary: pl.DataFrame,
    rate_rows: pl.DataFrame,
    fixed_rows: pl.DataFrame,
    coefficients: pl.DataFrame,
    price_per_t_c: float,
    price_coefficient: str | None = None,
) -> tuple[LinearModel, LinearModel]:
    """Gain–loss carbon flux (t C/yr) and its value (CNY/yr) per region, year and group, as linear forms.

    flux[r, g] = fixed[r, g] + Σ_k base[r, g, k] × rate_k (t C; area × rate, 《生态产品总值核算规范》 2022 /
    gep.carbon.gainloss.rate_flux); value[r, g] = flux[r, g] × P_C (CNY; gep.carbon.valuation.value_flux),
    P_C = price_per_t_c, or factor × price row when ``price_coefficient`` names the set's price row
    (factor = price_per_t_c / that row's value: unit conversion, e.g. 44/12 for CNY/t CO2).

    ``point_summary``: the engine's :func:`gep.carbon.link.flux_summary` rows of family ``gain_loss``
    (region_id, year_from, year_to, group, delta_c_t, value_cny; group ``all`` = the engine's total);
    ``rate_rows``: region_id, year_from, year_to, group, coefficient, base_ha (t C per unit rate);
    ``fixed_rows``: region_id, year_from, year_to, group, delta_c_t (every part that does not move with a
    coefficient: user rates, IPCC forest/grassland rows, wetland CH4); ``coefficients``: coefficient, unit,
    verification, value (the rates of ``rate_rows`` and the price row). Both models share the coefficient
    list, so the same seed gives the same draws to both. Rows: region_id, year (= year_to), year_from.
    """
    keys = ["region_id", "year_from", "year_to"]
    cast = [pl.col("year_from").cast(pl.Int32), pl.col("year_to").cast(pl.Int32)]
    summ = point_summary.with_columns(*cast)
    rr = rate_rows.with_columns(*cast)
    fx = fixed_rows.with_columns(*cast)
    rows = (pl.concat([summ.select(keys), rr.select(keys), fx.select(keys)], how="vertical").unique()
            .select("region_id", pl.col("year_to").alias("year"), "year_from").sort(["region_id", "year", "year_from"]))
    groups = sorted(set(summ.filter(pl.col("group") != "all")["group"].to_list()) | set(rr["group"].to_list())
                    | set(fx["group"].to_list()))
    coefs = coefficients.select("coefficient", "unit", "verification", pl.col("value").cast(pl.Float64))
    idx = _index(coefs["coefficient"].to_list())
    const = coefs.height
    rate_drivers = rr.select("group", "coefficient").unique().sort(["group", "coefficient"])
    drivers = [f"{g}|{c}" for g, c in rate_drivers.iter_rows()] + [f"{g}|fixed" for g in groups]
    dmap = pl.DataFrame({"_d": drivers, "_j": np.arange(len(drivers), dtype=np.int64)})
    gmap = pl.DataFrame({"group": groups, "_s": np.arange(len(groups), dtype=np.int64)})
    parts = pl.concat([
        rr.select(*keys, pl.format("{}|{}", "group", "coefficient").alias("_d"), pl.col("base_ha").alias("_v")),
        fx.select(*keys, pl.format("{}|fixed", "group").alias("_d"), pl.col("delta_c_t").alias("_v")),
    ], how="vertical")
    r = (rows.with_row_index("_r").rename({"year": "year_to"}).join(parts, on=keys, how="inner")
         .join(dmap, on="_d", how="inner"))
    area = np.zeros((rows.height, len(drivers)))
    np.add.at(area, (r["_r"].to_numpy().astype(np.int64), r["_j"].to_numpy()), r["_v"].to_numpy())
    grid = rows.with_row_index("_r").rename({"year": "year_to"}).join(summ, on=keys, how="inner")
    point_t = np.zeros((rows.height, len(groups)))
    point_v = np.zeros((rows.height, len(groups)))
    total_t = np.zeros(rows.height)
    total_v = np.zeros(rows.height)
    per = grid.filter(pl.col("group") != "all").join(gmap, on="group", how="inner")
    np.add.at(point_t, (per["_r"].to_numpy().astype(np.int64), per["_s"].to_numpy()), per["delta_c_t"].to_numpy())
    np.add.at(point_v, (per["_r"].to_numpy().astype(np.int64), per["_s"].to_numpy()), per["value_cny"].to_numpy())
    tot = grid.filter(pl.col("group") == "all")
    total_t[tot["_r"].to_numpy().astype(np.int64)] = tot["delta_c_t"].to_numpy()
    total_v[tot["_r"].to_numpy().astype(np.int64)] = tot["value_cny"].to_numpy()
    c1 = np.concatenate([np.asarray([idx[c] for c in rate_drivers["coefficient"].to_list()], dtype=np.int64),
                         np.full(len(groups), const, dtype=np.int64)])
    driver_output = np.concatenate([
        rate_drivers.select(pl.col("group").replace_strict(_index(groups), return_dtype=pl.Int64)).to_series().to_numpy(),
        np.arange(len(groups), dtype=np.int64)])
    j = len(drivers)
    p_value = (float(coefs.filter(pl.col("coefficient") == price_coefficient)["value"][0])
               if price_coefficient is not None else 0.0)
    if p_value != 0.0:  # a zero price row cannot carry a factor: the price is then fixed
        v_const, v_c2 = price_per_t_c / p_value, np.full(j, idx[str(price_coefficient)], dtype=np.int64)
    else:
        v_const, v_c2 = price_per_t_c, np.full(j, const, dtype=np.int64)

    def model(unit: str, point: np.ndarray, total: np.ndarray, mono_const: np.ndarray, c2: np.ndarray) -> LinearModel:
        return LinearModel(
            method="carbon_flux", unit=unit, output_column="group", rows=rows, drivers=drivers, outputs=groups,
            area=area, scale=None, mono_cell=np.arange(j), mono_const=mono_const, mono_c1=c1, mono_c2=c2,
            coefficients=coefs, point=point, point_total=total, driver_output=driver_output)

    return (model("c_t", point_t, total_t, np.ones(j), np.full(j, const, dtype=np.int64)),
            model("cny", point_v, total_v, np.full(j, v_const), v_c2))
