"""Carbon valuation: CO2e = C × 44/12, value at a carbon price, InVEST net present value.

Method: InVEST Carbon 3.20 valuation (user guide Eq ``carbon_value``; natcap.invest
``carbon._calculate_valuation_constant``):
V = ΔC × (p / n) × Σ_{t=0}^{n−1} 1 / ((1 + r/100)^t (1 + g/100)^t),
p price per t C, r discount rate %, g annual price change %, n = year_to − year_from.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from gep import units as U
from gep.carbon.params import CarbonSet
from gep.errors import InputError, Problem

C_TO_CO2: float = U.C_TO_CO2
"""44/12 t CO2 per t C (molar masses)."""


@dataclass(frozen=True)
class CarbonPrice:
    """A carbon price per t C (internally), with where it came from."""

    per_t_c: float
    year: int | None
    source: str
    verification: str

    @property
    def per_t_co2(self) -> float:
        """The same price per t CO2: P_CO2 = P_C × 12/44."""
        return self.per_t_c / C_TO_CO2


def price_from_unit(value: float, unit: str, context: str = "carbon price") -> float:
    """Price per t C from ``value`` in ``unit`` (``CNY/t CO2``, ``元/t CO2e``, ``万元/t C``, ...).

    The money and mass parts go through :func:`gep.units.value_factor`; the basis (C or CO2)
    is read from the unit text: per t CO2 → × 44/12 to get per t C.
    """
    compact = unit.replace(" ", "")
    per = compact.partition("/")[2]
    basis_co2 = "co2" in per.lower()
    # gep.units weighs t C, t CO2 and t CO2e as mass t: 1 t × price × f = CNY
    per_t = value * U.value_factor("t", compact, context=context)
    return per_t * C_TO_CO2 if basis_co2 else per_t


def price_from_set(cset: CarbonSet, market: str = "CEA", year: int | None = None) -> CarbonPrice:
    """Price of ``market`` for ``year`` from the set's ``prices`` table (latest year when ``year`` is None).

    A year the table does not have is an input problem (MISSING_COEFFICIENT naming the years it has).
    """
    tab = cset.table("prices")
    rows = tab.filter(pl.col("market") == market) if tab is not None else pl.DataFrame()
    if rows.height == 0:
        markets = [] if tab is None else sorted(set(tab["market"].to_list()))
        raise InputError([Problem("MISSING_COEFFICIENT", f"no carbon price for market '{market}'", column="price_market",
                                  value=market, expected="one of: " + ", ".join(markets))])
    rows = rows.with_columns(pl.col("year").cast(pl.Int64)).sort("year")
    if year is None:
        row = rows.tail(1)
    else:
        row = rows.filter(pl.col("year") == year)
        if row.height == 0:
            raise InputError([Problem(
                "MISSING_COEFFICIENT", f"no {market} carbon price for {year}", column="price_year", value=str(year),
                expected="one of the years " + ", ".join(str(y) for y in rows["year"].to_list())
                + ", or give the price yourself (--price-per-tco2 / --price-per-tc)")])
    rec = row.row(0, named=True)
    return CarbonPrice(per_t_c=price_from_unit(float(rec["value"]), str(rec["unit"])), year=int(rec["year"]),
                       source=f"{market} {rec['year']}: {rec['source']}", verification=str(rec["verification"]))


def check_npv_rates(discount_rate_pct: float, price_change_pct: float) -> None:
    """Rates at or below −100 % make (1 + x/100) non-positive: INVALID_VALUE."""
    bad = []
    if discount_rate_pct <= -100:
        bad.append(Problem("INVALID_VALUE", "the discount rate must be above -100 %", column="discount_rate",
                           value=str(discount_rate_pct), expected="a percentage > -100, e.g. 3 for 3 %"))
    if price_change_pct <= -100:
        bad.append(Problem("INVALID_VALUE", "the annual price change must be above -100 %", column="price_change",
                           value=str(price_change_pct), expected="a percentage > -100, e.g. 0"))
    if bad:
        raise InputError(bad)


def valuation_constant_expr(n: pl.Expr, price_per_t_c: float, discount_rate_pct: float, price_change_pct: float) -> pl.Expr:
    """(p/n) Σ_{t=0}^{n−1} k^t with k = 1/((1+r/100)(1+g/100)); closed form (1−k^n)/(1−k), n when k = 1.

    Same closed form as natcap.invest carbon._calculate_valuation_constant (CNY per t C of change).
    """
    k = 1.0 / ((1.0 + discount_rate_pct / 100.0) * (1.0 + price_change_pct / 100.0))
    nf = n.cast(pl.Float64)
    if abs(1.0 - k) < 1e-15:
        s = nf
    else:
        s = (1.0 - pl.lit(k) ** nf) / (1.0 - k)
    return pl.lit(price_per_t_c) / nf * s


def value_flux(flux: pl.DataFrame, price: CarbonPrice, discount_rate_pct: float = 0.0,
               price_change_pct: float = 0.0, npv_methods: tuple[str, ...] = ("stock_difference",)) -> pl.DataFrame:
    """Add co2e_t = delta_c_t × 44/12, value_cny = delta_c_t × P_C (= co2e_t × P_CO2) and, for
    the stock-difference rows (a change between two scenarios), InVEST's npv_cny; null elsewhere."""
    check_npv_rates(discount_rate_pct, price_change_pct)
    n = pl.col("year_to") - pl.col("year_from")
    return flux.with_columns(
        (pl.col("delta_c_t") * C_TO_CO2).alias("co2e_t"),
        (pl.col("delta_c_t") * price.per_t_c).alias("value_cny"),
        pl.when(pl.col("method").is_in(list(npv_methods)))
        .then(pl.col("delta_c_t") * valuation_constant_expr(n, price.per_t_c, discount_rate_pct, price_change_pct))
        .otherwise(None).alias("npv_cny"),
    )
