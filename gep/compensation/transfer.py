"""Transfer calculators: the parameters agreements and finance bureaus need (docs/formulas.md §6).

Whole-table Polars functions, values in CNY (Float64 for estimates; the factor
allocation returns exact fen amounts in Decimal that add up to the pot):

* :func:`payment_capacity` — Pearl-curve development-stage coefficient L = 1/(1+e^(3−1/En))
  (谢余初 等, 生态学报 2017 [V]).
* :func:`spillover_ceiling` — value flowing downstream: V_out[u] = Σ_k GEP_k[u]·λ_k, apportioned to every
  downstream region d by water-use share s = W_d/ΣW, scaled by the payer's capacity L_d (李彩红 & 葛颜祥 2015; design [U]).
* :func:`opportunity_cost_floor` — OC = (R0−R1)·N_urban + (S0−S1)·N_rural (regional income-gap form [U]).
* :func:`priority_ranking` — ECPS = non-market value / GDP (孙郧峰 等 2021, after 刘晋宏 等 2019; §5.2 [V]).
* :func:`efa_allocation` — key-ecological-function-area transfer by factor formula: base + protected-area +
  guidance components ± a zero-sum reward/penalty by assessment score (财政部 2017 办法; structure [V], weights [U]).
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import polars as pl

from gep.compensation.money import CONTEXT, MONEY_DTYPE, dec, fmt, split_to_fen, to_fen
from gep.errors import InputError, Problem

# Default λ (share of a service's benefit that leaves the county downstream) — design values, UNVERIFIED.
DEFAULT_LAMBDAS: dict[str, float] = {
    "water_conservation": 1.0,
    "water_purification": 1.0,
    "soil_retention": 0.5,
    "flood_regulation": 0.5,
    "hydrological_regulation": 1.0,
    "environmental_purification": 0.5,
    "soil_conservation": 0.5,
}
NON_MARKET_CATEGORIES = ("regulating", "supporting", "cultural")


def _require(df: pl.DataFrame, cols: list[str], table: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError([
            Problem("MISSING_COLUMN", f"the {table} table has no '{c}' column", file=table, row=1, column=c,
                    expected="columns " + ", ".join(cols))
            for c in missing
        ])


def payment_capacity(engel: pl.Expr) -> pl.Expr:
    """Development-stage payment-capacity coefficient L = 1/(1+e^(3−1/En)), En = Engel coefficient (谢余初 2017)."""
    return 1.0 / (1.0 + (3.0 - 1.0 / engel).exp())


def downstream_closure(edges: pl.DataFrame) -> pl.DataFrame:
    """Every (upstream_id, downstream_id) pair connected along the river graph (transitive closure, by joins)."""
    base = edges.select("upstream_id", "downstream_id").unique()
    closure = base
    while True:
        step = (
            closure.join(base.rename({"upstream_id": "downstream_id", "downstream_id": "next_id"}), on="downstream_id")
            .select("upstream_id", pl.col("next_id").alias("downstream_id"))
        )
        grown = pl.concat([closure, step]).unique().filter(pl.col("upstream_id") != pl.col("downstream_id"))
        if grown.height == closure.height:
            return grown.sort("upstream_id", "downstream_id")
        closure = grown


def spillover_ceiling(
    services: pl.DataFrame,
    edges: pl.DataFrame,
    water_use: pl.DataFrame,
    lambdas: dict[str, float] | None = None,
    engel: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Ecosystem-service spillover ceiling per (upstream, downstream, year, method) in CNY.

    services: region_id, year, service, value_cny [, method] (gep account tables/services.csv);
    edges: upstream_id, downstream_id (gep.regions river_edges, any river); water_use: region_id, water_use_m3;
    engel (optional): region_id, engel_coefficient → payment_capacity L of the downstream payer.
    Columns: upstream_id, downstream_id, year, method, spill_value_cny, water_use_share, ceiling_cny,
    payment_capacity, capacity_scaled_cny. Σ over downstream of ceiling_cny = spill_value_cny (docs/formulas.md T2).
    """
    _require(services, ["region_id", "year", "service", "value_cny"], "services")
    _require(water_use, ["region_id", "water_use_m3"], "water_use")
    lam = lambdas if lambdas is not None else DEFAULT_LAMBDAS
    lam_df = pl.DataFrame({"service": list(lam), "lambda": [float(v) for v in lam.values()]})
    svc = services if "method" in services.columns else services.with_columns(pl.lit("").alias("method"))
    spill = (
        svc.join(lam_df.with_columns(pl.col("service").cast(svc.schema["service"])), on="service", how="inner")
        .group_by("region_id", "year", "method")
        .agg((pl.col("value_cny") * pl.col("lambda")).sum().alias("spill_value_cny"))
        .with_columns(pl.col("region_id").cast(pl.Utf8), pl.col("method").cast(pl.Utf8))  # dictionary-encoded in the account's table
        .rename({"region_id": "upstream_id"})
    )
    pairs = downstream_closure(edges).join(
        water_use.select(pl.col("region_id").alias("downstream_id"), pl.col("water_use_m3").cast(pl.Float64)),
        on="downstream_id",
        how="inner",
    )
    pairs = pairs.with_columns((pl.col("water_use_m3") / pl.col("water_use_m3").sum().over("upstream_id")).alias("water_use_share"))
    out = spill.join(pairs, on="upstream_id", how="inner").with_columns(
        (pl.col("spill_value_cny") * pl.col("water_use_share")).alias("ceiling_cny")
    )
    if engel is not None:
        _require(engel, ["region_id", "engel_coefficient"], "engel")
        out = out.join(
            engel.select(pl.col("region_id").alias("downstream_id"),
                         payment_capacity(pl.col("engel_coefficient").cast(pl.Float64)).alias("payment_capacity")),
            on="downstream_id", how="left",
        )
    else:
        out = out.with_columns(pl.lit(1.0).alias("payment_capacity"))
    return (
        out.with_columns((pl.col("ceiling_cny") * pl.col("payment_capacity")).alias("capacity_scaled_cny"))
        .select("upstream_id", "downstream_id", pl.col("year").cast(pl.Int32), "method", "spill_value_cny",
                "water_use_share", "ceiling_cny", "payment_capacity", "capacity_scaled_cny")
        .sort("method", "year", "upstream_id", "downstream_id")
    )


def opportunity_cost_floor(socio: pl.DataFrame, reference: dict[str, float] | None = None, clip_negative: bool = True) -> pl.DataFrame:
    """Opportunity-cost floor OC = (R0−R1)·N_urban + (S0−S1)·N_rural in CNY per region and year.

    socio: region_id, year, income_urban_cny, income_rural_cny, population_urban, population_rural.
    reference: {"income_urban_cny": R0, "income_rural_cny": S0}; default = population-weighted mean of the
    table per year. Negative gaps are set to 0 when clip_negative (a richer county has no income-gap claim).
    """
    cols = ["region_id", "year", "income_urban_cny", "income_rural_cny", "population_urban", "population_rural"]
    _require(socio, cols, "socio")
    df = socio.select(cols).with_columns(pl.col(c).cast(pl.Float64) for c in cols[2:])
    if reference:
        df = df.with_columns(pl.lit(float(reference["income_urban_cny"])).alias("ref_income_urban_cny"),
                             pl.lit(float(reference["income_rural_cny"])).alias("ref_income_rural_cny"))
    else:
        df = df.with_columns(
            ((pl.col("income_urban_cny") * pl.col("population_urban")).sum().over("year")
             / pl.col("population_urban").sum().over("year")).alias("ref_income_urban_cny"),
            ((pl.col("income_rural_cny") * pl.col("population_rural")).sum().over("year")
             / pl.col("population_rural").sum().over("year")).alias("ref_income_rural_cny"),
        )
    gap_u = pl.col("ref_income_urban_cny") - pl.col("income_urban_cny")
    gap_r = pl.col("ref_income_rural_cny") - pl.col("income_rural_cny")
    if clip_negative:
        gap_u, gap_r = gap_u.clip(lower_bound=0.0), gap_r.clip(lower_bound=0.0)
    return (
        df.with_columns((gap_u * pl.col("population_urban")).alias("oc_urban_cny"),
                        (gap_r * pl.col("population_rural")).alias("oc_rural_cny"))
        .with_columns((pl.col("oc_urban_cny") + pl.col("oc_rural_cny")).alias("floor_cny"))
        .with_columns(pl.col("year").cast(pl.Int32))
        .sort("year", "region_id")
    )


def priority_ranking(gep: pl.DataFrame, gdp: pl.DataFrame | None = None) -> pl.DataFrame:
    """ECPS = non-market value / GDP per region, year and method, ranked 1 = highest priority (孙郧峰 2021).

    gep: gep account tables/gep.csv (region_id, year, method, regulating_cny, supporting_cny, cultural_cny
    [, gdp_cny]); gdp (optional, used where gep has no gdp_cny): region_id, year, gdp_cny.
    Ties are ranked by region_id (stable).
    """
    _require(gep, ["region_id", "year"], "gep")
    g = gep if "method" in gep.columns else gep.with_columns(pl.lit("").alias("method"))
    g = g.with_columns(pl.col("year").cast(pl.Int32))
    cats = [f"{c}_cny" for c in NON_MARKET_CATEGORIES if f"{c}_cny" in g.columns]
    if not cats:
        _require(g, ["regulating_cny"], "gep")
    if gdp is not None:
        extra = gdp.select("region_id", pl.col("year").cast(pl.Int32), pl.col("gdp_cny").cast(pl.Float64).alias("_gdp"))
        g = g.join(extra, on=["region_id", "year"], how="left")
        g = g.with_columns(
            (pl.coalesce(pl.col("gdp_cny").cast(pl.Float64), pl.col("_gdp")) if "gdp_cny" in g.columns else pl.col("_gdp")).alias("gdp_cny")
        ).drop("_gdp")
    _require(g, ["gdp_cny"], "gep")
    out = g.select(
        "region_id", "year", "method",
        pl.sum_horizontal([pl.col(c).fill_null(0.0) for c in cats]).alias("nonmarket_value_cny"),
        pl.col("gdp_cny").cast(pl.Float64),
    ).with_columns(
        pl.when(pl.col("gdp_cny") > 0).then(pl.col("nonmarket_value_cny") / pl.col("gdp_cny")).alias("ecps")
    ).sort("method", "year", pl.col("ecps"), "region_id", descending=[False, False, True, False], nulls_last=True)
    ranked = out.with_columns(pl.int_range(1, pl.len() + 1).over("method", "year").alias("priority_rank"))
    # a region without GDP has no ECPS and no rank (it sorts last)
    return ranked.with_columns(
        pl.when(pl.col("ecps").is_not_null()).then(pl.col("priority_rank")).alias("priority_rank"))


def efa_allocation(
    factors: pl.DataFrame,
    total_cny: Decimal | float | str,
    *,
    component_shares: dict[str, float] | None = None,
    base_weights: dict[str, float] | None = None,
    protected_factor: str = "protected_area_km2",
    guidance: dict[str, float] | None = None,
    reward_rate: float = 0.1,
    score_column: str = "assessment_score",
) -> pl.DataFrame:
    """Key-ecological-function-area transfer of a fixed pot by factor formula (财政部 2017 办法 structure).

    pot_base = total × share_base, split by Σ_f w_f · x_{c,f}/Σ_c x_{c,f} over ``base_weights`` factors (e.g.
    fiscal_gap_cny, redline_area_km2, population, gep_total_cny); pot_protected by ``protected_factor``;
    guidance = fixed CNY per region (taken off the top); reward/penalty = reward_rate · base_c · (score_c/S̄ − 1)
    with S̄ the base-weighted mean score, so adjustments sum to zero. allocation_cny (Decimal, fen) is the
    largest-remainder split of the pot by the component sum, so Σ allocation_cny = total exactly.
    """
    shares = component_shares or {"base": 0.8, "protected": 0.2}
    weights = base_weights or {"fiscal_gap_cny": 0.5, "redline_area_km2": 0.3, "gep_total_cny": 0.2}
    need = ["region_id", *weights, protected_factor] + ([score_column] if reward_rate else [])
    _require(factors, need, "factors")
    total = to_fen(dec(total_cny))
    guid = guidance or {}
    guid_total = sum(guid.values())
    pot = float(total) - guid_total
    if pot < 0:
        raise InputError([Problem("INVALID_VALUE", "guidance amounts exceed the transfer total", column="guidance",
                                  value=str(guid_total), expected=f"at most {total} CNY")])
    wsum = sum(weights.values())
    df = factors.with_columns(pl.col(c).cast(pl.Float64).fill_null(0.0) for c in [*weights, protected_factor])
    base_share = pl.sum_horizontal([(pl.col(f) / pl.col(f).sum()) * (w / wsum) for f, w in weights.items()])
    df = df.with_columns(
        (base_share * pot * shares.get("base", 0.0)).alias("base_cny"),
        (pl.col(protected_factor) / pl.col(protected_factor).sum() * pot * shares.get("protected", 0.0)).alias("protected_cny"),
        pl.col("region_id").replace_strict(guid, default=0.0, return_dtype=pl.Float64).alias("guidance_cny"),
    )
    if reward_rate:
        score = pl.col(score_column).cast(pl.Float64)
        mean = (pl.col("base_cny") * score).sum() / pl.col("base_cny").sum()
        df = df.with_columns((reward_rate * pl.col("base_cny") * (score / mean - 1.0)).alias("reward_penalty_cny"))
    else:
        df = df.with_columns(pl.lit(0.0).alias("reward_penalty_cny"))
    df = df.with_columns(
        (pl.col("base_cny") + pl.col("protected_cny") + pl.col("guidance_cny") + pl.col("reward_penalty_cny")).clip(lower_bound=0.0)
        .alias("component_sum_cny")
    ).sort("region_id")
    comp = df["component_sum_cny"].to_list()
    s = sum(comp)
    comp_dec = [Decimal(repr(float(x))) for x in comp]
    denom = sum(comp_dec, Decimal(0))
    # exact decimal shares of the float component sums (they add up to 1 within 1e-45; split_to_fen closes the gap)
    weights_dec = [c / denom for c in comp_dec] if s > 0 else [Decimal(0)] * len(comp)
    alloc = split_to_fen(total, weights_dec) if s > 0 else [Decimal("0.00")] * len(comp)
    return df.select(
        "region_id", "base_cny", "protected_cny", "guidance_cny", "reward_penalty_cny", "component_sum_cny",
    ).with_columns(pl.Series("allocation_cny", alloc, dtype=MONEY_DTYPE))


INCENTIVE_RULE = "INCENTIVE_factor"
INCENTIVE_UNVERIFIED = "incentive formula shape R·Σ w_f·x_f/Σx_f (《四川省流域横向生态保护补偿激励政策实施方案》 2023 [U])"


def _factor_problems(df: pl.DataFrame, weights: dict[str, Decimal], table: str) -> list[Problem]:
    """Missing, negative or all-zero factor values (every problem, by region)."""
    problems: list[Problem] = []
    for f, w in weights.items():
        bad_null = df.filter(pl.col(f).is_null())["region_id"].to_list()
        bad_neg = df.filter(pl.col(f) < 0).select("region_id", f).rows()
        problems += [Problem("MISSING_VALUE", f"region {r} has no value for factor '{f}'", file=table, column=f, value=r,
                             expected="a number ≥ 0 for every eligible region") for r in bad_null]
        problems += [Problem("NEGATIVE_VALUE", f"region {r} has a negative value for factor '{f}'", file=table, column=f,
                             value=f"{r}: {x}", expected="a number ≥ 0") for r, x in bad_neg]
        if w > 0 and not bad_null and not bad_neg and df.height and float(df[f].sum()) == 0.0:
            problems.append(Problem("INVALID_VALUE", f"factor '{f}' is zero for every region, so it cannot share out money",
                                    file=table, column=f, expected="at least one region with a value > 0, or weight 0"))
    return problems


def factor_allocation(
    factors: pl.DataFrame,
    total_cny: Decimal | float | str,
    weights: dict[str, float] | dict[str, Decimal],
    *,
    payer: str = "PROVINCE",
    verification: str = "unverified",
    unverified: tuple[str, ...] = ("incentive_weights",),
    table: str = "factors",
) -> pl.DataFrame:
    """Split a fixed pot by weighted factor shares, R_c = R · Σ_f (w_f/Σw) · x_{c,f}/Σ_c x_{c,f}, in exact fen (CNY).

    Shape of Sichuan's 2023 激励政策 provincial reward ("结合流域生态功能重要程度、协议签订的资金规模",
    《四川省流域横向生态保护补偿激励政策实施方案》 2023: factors [V], formula and weights [U]); e.g. weights {"gep_regulating_cny": 0.5,
    "agreed_fund_cny": 0.5}. Shares and exact amounts are computed in Decimal (factor values enter by
    their shortest float repr); allocation_cny is the largest-remainder split of R to the fen (gep.compensation.money
    rule 3), so Σ allocation_cny = R exactly. One row per region, a ledger line payer → region_id:
    region_id, <factors>, share_<factor> (x/Σx), share, exact_cny (6 places), allocation_cny,
    rounding_cny (= allocation − exact), payer, rule, basis, verification. Input problems raise InputError.
    """
    wdec = {f: dec(w) for f, w in weights.items()}
    problems: list[Problem] = []
    if not wdec or any(w < 0 for w in wdec.values()) or sum(wdec.values(), Decimal(0)) <= 0:
        problems.append(Problem("INVALID_VALUE", "the factor weights must be ≥ 0 and add up to more than 0",
                                column="weights", value=str(dict(weights)), expected="e.g. {importance = 0.5, fund = 0.5}"))
    total = dec(total_cny)
    if total < 0 or not total.is_finite():
        problems.append(Problem("NEGATIVE_VALUE", "the pot to allocate must be a positive amount", column="total_cny",
                                value=str(total_cny), expected="an amount ≥ 0 in CNY"))
    if problems:
        raise InputError(problems)
    _require(factors, ["region_id", *wdec], table)
    df = factors.with_columns(pl.col(c).cast(pl.Float64) for c in wdec).sort("region_id")
    if df.height == 0:
        raise InputError([Problem("INVALID_VALUE", "no region is eligible for the allocation", file=table,
                                  expected="at least one region")])
    problems = _factor_problems(df, wdec, table)
    if df["region_id"].is_duplicated().any():
        problems += [Problem("DUPLICATE_KEY", f"region {r} appears more than once", file=table, column="region_id", value=r,
                             expected="one row per region") for r in df.filter(pl.col("region_id").is_duplicated())["region_id"].unique().sort()]
    if problems:
        raise InputError(problems)
    total = to_fen(total)
    wsum = sum(wdec.values(), Decimal(0))
    used = [f for f, w in wdec.items() if w > 0]
    vals = {f: [dec(float(x)) for x in df[f].to_list()] for f in used}
    sums = {f: sum(vals[f], Decimal(0)) for f in used}
    wn = {f: CONTEXT.divide(wdec[f], wsum) for f in used}
    n = df.height
    shares = [sum((CONTEXT.multiply(wn[f], CONTEXT.divide(vals[f][i], sums[f])) for f in used), Decimal(0)) for i in range(n)]
    exact = [CONTEXT.multiply(total, s) for s in shares]
    alloc = split_to_fen(total, shares)
    flag = ""
    if verification != "verified":
        flag = "; UNVERIFIED parameters: " + ", ".join((INCENTIVE_UNVERIFIED, *unverified))
    bases = []
    for i in range(n):
        terms = " + ".join(f"{fmt(wn[f], 6)}×{fmt(vals[f][i])}/{fmt(sums[f])}" for f in used)
        floor = exact[i].quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        cut = f"cut to {floor}" + ("; +0.01 largest remainder" if alloc[i] != floor else "")
        bases.append(f"R {fmt(total)} CNY × ({terms}) = R × {fmt(shares[i], 10)} = {fmt(exact[i], 6)} CNY → "
                     f"{cut} → {alloc[i]}{flag}")
    exact6 = [e.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP) for e in exact]
    return df.select(
        "region_id",
        *[pl.col(f) for f in wdec],
        *[(pl.col(f) / pl.col(f).sum()).alias(f"share_{f}") for f in wdec],
    ).with_columns(
        pl.Series("share", [float(s) for s in shares], dtype=pl.Float64),
        pl.Series("exact_cny", exact6, dtype=pl.Decimal(38, 6)),
        pl.Series("allocation_cny", alloc, dtype=MONEY_DTYPE),
    ).with_columns(
        (pl.col("allocation_cny").cast(pl.Decimal(38, 6)) - pl.col("exact_cny")).cast(pl.Decimal(38, 6)).alias("rounding_cny"),
        pl.lit(payer).alias("payer"),
        pl.lit(INCENTIVE_RULE).alias("rule"),
        pl.Series("basis", bases, dtype=pl.Utf8),
        pl.lit(verification).alias("verification"),
    )
