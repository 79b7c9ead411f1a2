"""Equivalent-factor ESV (当量因子法): value = area_hm2 × equivalent × standard value (CNY/hm2).

Method: 谢高地 et al. 2015, 自然资源学报 30(8):1243-1254 (14 ecosystem types × 11
services; 1 standard equivalent = 3406.50 CNY/hm2 at 2010 prices); 谢高地 et al.
2008, 自然资源学报 23(5):911-919 (the 1/7 grain-value convention). Formulas as in
docs/formulas.md §1. Negative equivalents (水田 water supply −2.63) are valid.
"""

from __future__ import annotations

import polars as pl

from gep.account._order import keyed_like, sort_by_keys, value_ranks
from gep.account.catalog import (
    ADJUSTMENT_GROUPS,
    EQUIVALENT_FACTOR_SERVICES,
    METHOD_EQUIVALENT_FACTOR,
    category_aliases,
)
from gep.account.identities import AccountIdentityError
from gep.errors import ProblemCollector
from gep.units import conversion_factor

SERVICES_SCHEMA: dict[str, pl.DataType] = {
    "region_id": pl.Utf8(),
    "year": pl.Int32(),
    "ecosystem_type": pl.Utf8(),
    "category": pl.Utf8(),
    "service": pl.Utf8(),
    "component": pl.Utf8(),
    "quantity": pl.Float64(),
    "quantity_unit": pl.Utf8(),
    "price": pl.Float64(),
    "price_unit": pl.Utf8(),
    "value_cny": pl.Float64(),
    "method": pl.Utf8(),
    "coefficient_id": pl.Utf8(),
    "price_year": pl.Int32(),
}
"""Columns and types of the services table as written (tables/services.*) and as the builders of one method return it."""
ENCODED_COLUMNS: tuple[str, ...] = ("region_id", "ecosystem_type", "category", "service", "component", "quantity_unit", "price_unit",
                                    "method", "coefficient_id")
"""Text columns that the account step holds dictionary-encoded (Categorical: 4 bytes a row instead of a string
view; sorted and compared by their text, so order and results do not change). Tables joined to it are cast
to its types first (gep.account._order.keyed_like); small tables built from it (gep, change decomposition)
are text again. gep.pipeline writes Categorical columns as text, so files keep SERVICES_SCHEMA."""
SERVICES_COLUMNS: list[str] = list(SERVICES_SCHEMA)
SERVICES_SORT: list[str] = ["region_id", "year", "method", "category", "service", "component", "ecosystem_type",
                             "coefficient_id", "quantity_unit", "price_year"]

XIE2015_STANDARD_VALUE_CNY_PER_HM2 = 3406.5  # 谢高地 2015, 2010 prices (🔶, quoted by 罗盛锋 & 闫文德 2018, 生态学报 38(9):3248-3259)
XIE2015_STANDARD_PRICE_YEAR = 2010
# Unit of an equivalent-factor quantity: equivalent-weighted area (标准当量面积) = area_hm2 × equivalent.
# Not hm2 of land: summed over services it exceeds the region's area many times over.
EQUIVALENT_AREA_UNIT = "equivalent·hm2"


def conform_services(df: pl.DataFrame) -> pl.DataFrame:
    """Select, cast and stably sort the canonical services columns (byte-identical output)."""
    return sort_by_keys(_select_services(df), SERVICES_SORT)


def _select_services(df: pl.DataFrame) -> pl.DataFrame:
    """The canonical columns in order, cast to SERVICES_SCHEMA; a column already dictionary-encoded stays so."""
    return df.select([pl.col(c) if isinstance(df.schema.get(c), pl.Categorical) else pl.col(c).cast(t)
                      for c, t in SERVICES_SCHEMA.items()])


def decode_services(df: pl.DataFrame) -> pl.DataFrame:
    """The services table with every dictionary-encoded column as text again (SERVICES_SCHEMA types)."""
    return df.with_columns([pl.col(c).cast(pl.Utf8) for c, t in df.schema.items() if isinstance(t, pl.Categorical)])


def encode_services(df: pl.DataFrame) -> pl.DataFrame:
    """The services table with its ENCODED_COLUMNS dictionary-encoded (the account step's in-memory form)."""
    return df.with_columns([pl.col(c).cast(pl.Categorical) for c in ENCODED_COLUMNS
                            if c in df.columns and not isinstance(df.schema[c], pl.Categorical)])


def standard_value_one_seventh(grain: pl.DataFrame, keys: list[str] | None = None) -> pl.DataFrame:
    """Standard equivalent value (CNY/hm2) = 1/7 × Σ m_i·p_i·q_i / M; 张帅 et al. (ChinaXiv 202106.00080), Xie 2003/2008 convention.

    ``grain``: crop, sown_area_ha (m_i), yield_kg_per_ha (q_i), price_cny_per_kg (p_i),
    optional key columns (region_id, year). M = Σ m_i. Returns keys + standard_value_cny_per_hm2.
    """
    keys = keys if keys is not None else [k for k in ("region_id", "year") if k in grain.columns]
    out = grain.group_by(keys or pl.lit(1)).agg(
        (
            (pl.col("sown_area_ha") * pl.col("price_cny_per_kg") * pl.col("yield_kg_per_ha")).sum()
            / pl.col("sown_area_ha").sum()
            / 7.0
        ).alias("standard_value_cny_per_hm2")
    )
    return out.select([*keys, "standard_value_cny_per_hm2"]).sort(keys) if keys else out.select(
        "standard_value_cny_per_hm2"
    )


def standard_value_net_profit(grain: pl.DataFrame, keys: list[str] | None = None) -> pl.DataFrame:
    """Standard equivalent value (CNY/hm2) = Σ S_i·F_i, S_i = sown-area share, F_i = net profit per hm2; Xie 2015 as printed by 赵鸿雁 et al. (ChinaXiv 201810.00160).

    ``grain``: crop, sown_area_ha, net_profit_cny_per_ha, optional key columns.
    """
    keys = keys if keys is not None else [k for k in ("region_id", "year") if k in grain.columns]
    out = grain.group_by(keys or pl.lit(1)).agg(
        ((pl.col("sown_area_ha") * pl.col("net_profit_cny_per_ha")).sum() / pl.col("sown_area_ha").sum()).alias(
            "standard_value_cny_per_hm2"
        )
    )
    return out.select([*keys, "standard_value_cny_per_hm2"]).sort(keys) if keys else out.select(
        "standard_value_cny_per_hm2"
    )


def adjustment_table(adjustments: pl.DataFrame) -> pl.DataFrame:
    """Expand regional ratios (region_id, [year,] factor ∈ npp|precipitation|soil, ratio) to one row per service.

    Xie 2015 spatial adjustment (谢高地 et al. 2015, 自然资源学报 30(8):1243-1254; ⚠️ formula details): NPP_j/NPP_mean scales food,
    raw materials, gas/climate regulation, purification, nutrient cycling, biodiversity,
    aesthetics; precipitation ratio scales water supply and hydrological regulation;
    soil-retention ratio scales soil conservation. Returns region_id, [year,] service, adjustment.
    """
    groups = pl.DataFrame(
        [(factor, svc) for factor, svcs in ADJUSTMENT_GROUPS.items() for svc in svcs],
        schema={"factor": pl.Utf8, "service": pl.Utf8},
        orient="row",
    )
    keys = [k for k in ("region_id", "year") if k in adjustments.columns]
    return adjustments.join(groups, on="factor", how="inner").select([*keys, "service", pl.col("ratio").alias("adjustment")])


def _present_cells(area: pl.DataFrame, blocks: pl.DataFrame, eq_type: pl.Series, cell: pl.Expr,
                   cells_per_region: int) -> tuple[pl.Series, pl.Series, pl.Series]:
    """(block, equivalent row, area_ha) of every region-year block × equivalent row whose region has area of that
    row's type in that year, block-major, equivalent rows in order.

    Cells (region rank, year, type) index a dense area array when it is small (a gather, no hash join); else
    the blocks × rows grid is joined to the areas on the cell number.
    """
    n_eq = eq_type.len()
    n_cells = int((area.get_column("_region_rank").max() or 0) + 1) * cells_per_region
    present = area.drop_nulls("_type").select(cell.alias("_cell"), "area_ha")
    if n_cells > max(8 * area.height, 1_000_000) or blocks.height * n_eq >= 2**32:
        grid = (blocks.select("_block", "_region_rank", "year")
                .join(pl.DataFrame({"_eq_row": pl.int_range(n_eq, dtype=pl.UInt32, eager=True), "_type": eq_type}),
                      how="cross", maintain_order="left_right")
                .with_columns(cell.alias("_cell"))
                .join(present, on="_cell", how="inner", maintain_order="left"))
        return grid.get_column("_block"), grid.get_column("_eq_row"), grid.get_column("area_ha")
    dense = pl.Series("area_ha", [None], dtype=pl.Float64).extend_constant(None, n_cells - 1)
    dense = dense.scatter(present.get_column("_cell"), present.get_column("area_ha"))
    base = blocks.with_columns(pl.lit(0, dtype=pl.Int64).alias("_type")).select(cell).to_series()
    i = pl.int_range(blocks.height * n_eq, dtype=pl.UInt32, eager=True)
    block, eq_row = i // n_eq, i % n_eq
    del i
    areas = dense.gather(base.gather(block) + eq_type.gather(eq_row))
    keep = areas.is_not_null()
    return block.filter(keep), eq_row.filter(keep), areas.filter(keep)


def equivalent_factor_services(
    extent: pl.DataFrame,
    equivalents: pl.DataFrame,
    standard_value: float | pl.DataFrame,
    *,
    price_year: int | None = XIE2015_STANDARD_PRICE_YEAR,
    adjustments: pl.DataFrame | None = None,
    set_id: str = "xie2015",
    encoded: bool = False,
) -> pl.DataFrame:
    """Services table by the equivalent-factor method, CNY; Xie 2015 eq. V_f = Σ_k A_k·E_kf·D (谢高地 et al. 2015, 自然资源学报 30(8):1243-1254).

    ``extent``: region_id, year, class, ecosystem_type, area_ha (rows with null
    ecosystem_type carry no service value). ``equivalents``: ecosystem_type, service,
    value [, category]. ``standard_value``: CNY/hm2 as a number, or a table with
    optional region_id/year keys and ``standard_value_cny_per_hm2``. ``adjustments``: output
    of :func:`adjustment_table` (missing → 1). quantity = equivalent-weighted area
    (标准当量面积, unit ``equivalent·hm2``, not land area) = area_hm2 × equivalent × adjustment;
    price = D (CNY/hm2 per equivalent); value = quantity × price. ``price_year`` None: each row's year.
    ``equivalents`` may carry its own ``coefficient_id`` (tables mapped from ecosystem groups).
    ``encoded``: return the ENCODED_COLUMNS dictionary-encoded, as the account step holds the table
    (else text, SERVICES_SCHEMA).
    """
    ha_to_hm2 = conversion_factor("ha", "hm2")
    area = (
        extent.filter(pl.col("ecosystem_type").is_not_null())
        .group_by(["region_id", "year", "ecosystem_type"])
        .agg(pl.col("area_ha").sum())
    )
    cat_map = category_aliases()
    default_cat = {code: cat for code, (_zh, cat) in EQUIVALENT_FACTOR_SERVICES.items()}
    eq = equivalents.select(
        "ecosystem_type",
        "service",
        pl.col("value").cast(pl.Float64).alias("equivalent"),
        (
            pl.col("category").replace_strict(cat_map, default=None)
            if "category" in equivalents.columns
            else pl.lit(None, dtype=pl.Utf8)
        )
        .fill_null(pl.col("service").replace_strict(default_cat, default=None))
        .alias("category"),
        # built on the small coefficient table, dictionary-encoded until the output cast; a table mapped
        # from ecosystem groups (xie2003, xie2008) brings its own ids (group row | type-map row)
        (pl.col("coefficient_id") if "coefficient_id" in equivalents.columns
         else pl.format("{}:equivalents:{}/{}", pl.lit(set_id), pl.col("ecosystem_type"), pl.col("service")))
        .cast(pl.Utf8).cast(pl.Categorical)
        .alias("coefficient_id"),
    )
    if eq.filter(pl.col("category").is_null()).height:
        raise AccountIdentityError("equivalent table has services without a category")
    sv = (
        pl.DataFrame({"standard_value_cny_per_hm2": [float(standard_value)]})
        if not isinstance(standard_value, pl.DataFrame)
        else standard_value
    )
    sv_keys = [k for k in ("region_id", "year") if k in sv.columns]
    # Built in SERVICES_SORT order from integer keys on the small tables, so the wide table is never sorted
    # and its text columns are gathered once: region-year blocks (region rank, year) × the equivalent rows
    # ranked by category, service, ecosystem_type, coefficient_id (method, component, units and price_year
    # are constant per region and year), kept where the region has area of that type in that year.
    eq = (eq.with_columns(pl.col("coefficient_id").cast(pl.Utf8).alias("_cid"))
          .sort(["category", "service", "ecosystem_type", "_cid"], nulls_last=True, maintain_order=True)
          .drop("_cid"))
    types = eq.get_column("ecosystem_type").cast(pl.Utf8).unique().sort()
    type_code = pl.col("ecosystem_type").cast(pl.Utf8).replace_strict(
        types, pl.Series(range(len(types)), dtype=pl.Int64), default=None)
    region_rank, _ = value_ranks(area.get_column("region_id"), nulls_last=True)
    year_min = area.get_column("year").min() or 0
    n_years = (area.get_column("year").max() or 0) - year_min + 1
    cell = ((pl.col("_region_rank") * n_years + (pl.col("year").cast(pl.Int64) - year_min)) * len(types)
            + pl.col("_type"))
    area = area.with_columns(region_rank.alias("_region_rank"), type_code.alias("_type"))
    blocks = area.select("_region_rank", "year", "region_id").unique(["_region_rank", "year"]).sort(
        ["_region_rank", "year"]).with_row_index("_block")
    rows, eq_rows, grid_area = _present_cells(area, blocks, eq.select(type_code.alias("_type"))["_type"], cell,
                                              n_years * len(types))
    eq = encode_services(eq)  # the wide table's text columns are gathered as dictionary codes
    df = pl.DataFrame([
        blocks.get_column("region_id").cast(pl.Categorical).gather(rows), blocks.get_column("year").gather(rows),
        *[eq.get_column(c).gather(eq_rows) for c in eq.columns], grid_area,
    ])
    if sv_keys:
        df = df.join(keyed_like(sv, df, sv_keys), on=sv_keys, how="left", maintain_order="left")
    elif sv.height == 1:  # one value for every row: a constant column, not a cross join of the wide table
        df = df.with_columns(pl.lit(sv.item(0, "standard_value_cny_per_hm2"), dtype=pl.Float64)
                             .alias("standard_value_cny_per_hm2"))
    else:
        df = df.join(sv, how="cross", maintain_order="left_right")
    if adjustments is not None and adjustments.height:
        adj_keys = [k for k in ("region_id", "year") if k in adjustments.columns]
        df = df.join(keyed_like(adjustments, df, [*adj_keys, "service"]), on=[*adj_keys, "service"], how="left",
                     maintain_order="left")
    else:
        df = df.with_columns(pl.lit(None, dtype=pl.Float64).alias("adjustment"))
    df = df.with_columns(
        (pl.col("area_ha") * ha_to_hm2 * pl.col("equivalent") * pl.col("adjustment").fill_null(1.0)).alias("quantity"),
        pl.col("standard_value_cny_per_hm2").alias("price"),
    ).with_columns(
        (pl.col("quantity") * pl.col("price")).alias("value_cny"),
        pl.lit("").cast(pl.Categorical).alias("component"),
        pl.lit(EQUIVALENT_AREA_UNIT).cast(pl.Categorical).alias("quantity_unit"),
        pl.lit("CNY/hm2").cast(pl.Categorical).alias("price_unit"),
        pl.lit(METHOD_EQUIVALENT_FACTOR).cast(pl.Categorical).alias("method"),
        # a standard value derived per year from that year's grain statistics is in that year's prices
        # so is a standard value given without a price year (price_year=None)
        (pl.col("year") if "year" in sv_keys or price_year is None else pl.lit(price_year)).alias("price_year"),
    )
    missing = df.filter(pl.col("price").is_null()).select("region_id", "year").unique().sort(["region_id", "year"])
    if missing.height:
        problems = ProblemCollector()
        for r in missing.iter_rows(named=True):
            problems.add("MISSING_COEFFICIENT",
                         f"no standard equivalent value for region '{r['region_id']}' in {r['year']}: the grain "
                         "statistics (or standard value table) do not cover it",
                         column="region_id", value=r["region_id"], expected="a row for every region and year valued")
        problems.raise_if_any()
    out = encode_services(_select_services(df))
    return out if encoded else decode_services(out)
