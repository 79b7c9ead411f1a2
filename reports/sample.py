"""A SYNTHETIC run directory for exercising the report writers (tests, benchmarks, docs).

Not engine output and not official statistics: the tables have the shapes of
docs/contracts.md §8/§10 and issue 6, filled with seeded random numbers, on a
grid of square "counties". The manifest is flagged ``synthetic``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

SAMPLE_LABEL = "SYNTHETIC TEST DATA — not official statistics / 合成测试数据，非官方统计"
SERVICES = [  # category, service, quantity_unit, price_unit, pricing method
    ("provisioning", "food_production", "t", "元/t", "市场价值法"),
    ("provisioning", "water_supply", "万m3", "元/m3", "市场价值法"),
    ("regulating", "water_conservation", "万m3", "元/m3", "影子工程法"),
    ("regulating", "soil_conservation", "t", "元/t", "替代成本法"),
    ("regulating", "carbon_sequestration", "t", "元/t", "市场价值法"),
    ("cultural", "recreation", "人次", "元/人次", "旅行费用法"),
]
ECOSYSTEMS = ["针叶", "阔叶", "水田", "草甸"]
POOLS = ["above", "below", "soil", "dead"]


def grid_boundaries(region_ids: list[str], lon0: float = 97.5, lat0: float = 26.0,
                    size_deg: float = 0.25) -> dict[str, Any]:
    """GeoJSON FeatureCollection of square cells, one per region (property region_id)."""
    ncol = max(1, int(np.ceil(np.sqrt(len(region_ids)) * 1.3)))
    feats = []
    for i, rid in enumerate(region_ids):
        x = lon0 + (i % ncol) * size_deg
        y = lat0 + (i // ncol) * size_deg
        ring = [[x, y], [x + size_deg, y], [x + size_deg, y + size_deg], [x, y + size_deg],
                [x, y]]
        geom: dict[str, Any] = {"type": "Polygon", "coordinates": [ring]}
        if i % 7 == 3:  # some multipolygons with a small island
            isl = [[x + 0.02, y + 0.02], [x + 0.06, y + 0.02], [x + 0.06, y + 0.06],
                   [x + 0.02, y + 0.02]]
            geom = {"type": "MultiPolygon", "coordinates": [[ring], [isl]]}
        feats.append({"type": "Feature", "properties": {"region_id": rid}, "geometry": geom})
    return {"type": "FeatureCollection", "features": feats}


def make_sample_run(out: Path | str, n_regions: int = 6, years: tuple[int, ...] = (2015, 2020),
                    seed: int = 7, names: dict[str, str] | None = None,
                    region_ids: list[str] | None = None, regions: str = "sample",
                    methods: tuple[str, ...] = ("function_value",)
                    ) -> tuple[Path, dict[str, Any], pl.DataFrame]:
    """Write a synthetic run to ``out``; return (out, grid boundaries, region_names).

    ``methods`` are the accounting methods written (each gets its own random values).

    ``region_ids``/``regions`` let the sample use a real registry's ids (e.g. "sichuan").
    """
    out = Path(out)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = list(region_ids) if region_ids else [f"{510100 + i:06d}" for i in range(n_regions)]
    n_regions = len(ids)
    area_km2 = np.round(rng.uniform(300, 3000, n_regions), 1)
    region_names = pl.DataFrame({
        "region_id": ids,
        "name_zh": [(names or {}).get(r, f"测试县{i:04d}") for i, r in enumerate(ids)],
        "name_en": [(names or {}).get(r, f"Test county {i:04d}") for i, r in enumerate(ids)],
        "area_km2": area_km2})
    grid = pl.DataFrame({"region_id": ids}).join(
        pl.DataFrame({"year": list(years)}, schema={"year": pl.Int32}), how="cross").join(
        pl.DataFrame({"ecosystem_type": ECOSYSTEMS}), how="cross").join(
        pl.DataFrame(SERVICES, schema=["category", "service", "quantity_unit", "price_unit",
                                       "pricing_method"], orient="row"), how="cross").join(
        pl.DataFrame({"method": list(methods)}), how="cross")
    n = grid.height
    quantity = np.round(rng.uniform(10, 5000, n), 2)
    price = np.round(rng.uniform(1, 400, n), 2)
    services = grid.with_columns(
        pl.lit("total").alias("component"),
        pl.Series("quantity", quantity), pl.Series("price", price),
        pl.Series("value_cny", np.round(quantity * price * 100, 2)),
        (pl.lit("fv.") + pl.col("service")).alias("coefficient_id"),
    ).select("region_id", "year", "ecosystem_type", "category", "service", "component",
             "quantity", "quantity_unit", "price", "price_unit", "value_cny", "method",
             "pricing_method", "coefficient_id")
    by_cat = services.group_by(["region_id", "year", "method", "category"]).agg(
        pl.col("value_cny").sum()).pivot(on="category", index=["region_id", "year", "method"],
                                          values="value_cny", sort_columns=True)
    cats = sorted({c for c, *_ in SERVICES})
    gep = by_cat.rename({c: f"{c}_cny" for c in cats}).with_columns(
        pl.sum_horizontal([f"{c}_cny" for c in cats]).alias("total_cny")).join(
        region_names.select("region_id", "area_km2"), on="region_id").with_columns(
        (pl.col("total_cny") / pl.col("area_km2")).alias("gep_cny_per_km2")).drop(
        "area_km2").sort(["region_id", "year", "method"])
    extent = grid.select("region_id", "year", "ecosystem_type").unique(maintain_order=True)
    extent = extent.with_columns(pl.col("ecosystem_type").alias("class"),
                                 pl.Series("area_ha", np.round(rng.uniform(100, 9000,
                                                                           extent.height), 2)))
    extent = extent.select("region_id", "year", "class", "ecosystem_type", "area_ha")
    stock = extent.select("region_id", "year", "class").join(
        pl.DataFrame({"pool": POOLS}), how="cross")
    stock = stock.with_columns(pl.Series("c_t", np.round(rng.uniform(1e3, 1e5, stock.height),
                                                         1)))
    flux = pl.DataFrame({"region_id": ids}).with_columns(
        pl.lit(years[0]).alias("year_from"), pl.lit(years[-1]).alias("year_to"),
        pl.lit("stock_difference").alias("method"), pl.lit("水田").alias("class_from"),
        pl.lit("阔叶").alias("class_to"),
        pl.Series("delta_c_t", np.round(rng.uniform(-500, 3000, n_regions), 1)))
    flux = flux.with_columns((pl.col("delta_c_t") * 44 / 12).round(3).alias("co2e_t")) \
        .with_columns((pl.col("co2e_t") * 60).round(2).alias("value_cny"),
                      (pl.col("co2e_t") * 55).round(2).alias("npv_cny"))
    k = min(n_regions, 6)
    ledger = pl.DataFrame({
        "agreement_id": ["AG1"] * (k - 1), "period": [str(years[-1])] * (k - 1),
        "section_id": [f"S{i}" for i in range(k - 1)],
        "payer": ids[1:k], "payee": ids[: k - 1],
        "amount_cny": [float(1_000_000 * (i + 1)) for i in range(k - 1)],
        "rule": ["water_quality"] * (k - 1), "basis": ["断面水质达标"] * (k - 1)})
    paid = ledger.group_by("payer").agg(pl.col("amount_cny").sum().alias("paid_cny")).rename(
        {"payer": "party"})
    recv = ledger.group_by("payee").agg(pl.col("amount_cny").sum().alias("received_cny")) \
        .rename({"payee": "party"})
    net = paid.join(recv, on="party", how="full", coalesce=True).fill_null(0.0).with_columns(
        (pl.col("received_cny") - pl.col("paid_cny")).alias("net_cny")).sort("party") \
        .select(pl.lit("AG1").alias("agreement_id"), "party", "paid_cny", "received_cny",
                "net_cny")
    coeffs = pl.DataFrame({
        "coefficient_id": [f"fv.{s}" for _, s, *_ in SERVICES],
        "set_id": ["sample"] * len(SERVICES),
        "value": [1.0] * len(SERVICES), "unit": [p for *_, p, _ in SERVICES],
        "price_year": [2020] * len(SERVICES),
        "source": [f"synthetic sample, table {i + 1}" for i in range(len(SERVICES))],
        "verification": ["verified", "secondary", "unverified", "secondary", "verified",
                         "unverified"]})
    tables = {"services": services, "gep": gep, "extent": extent, "carbon_stock": stock,
              "carbon_flux": flux, "compensation_ledger": ledger, "compensation_net": net,
              "coefficients_used": coeffs}
    for name, df in tables.items():
        df.write_csv(out / "tables" / f"{name}.csv")
    manifest = {
        "gep_version": "0.1.0", "title": "Synthetic report sample", "command": "sample",
        "synthetic": True, "data_label": SAMPLE_LABEL, "regions": regions,
        "price_base_year": 2020, "inputs": [],
        "coefficient_sets": [{"id": "sample", "version": "0", "title": "synthetic",
                              "price_year": 2020, "verification": "unverified",
                              "overrides": []}],
        "steps": ["extent", "account", "carbon", "compensation"],
        "tables": [{"name": k, "rows": v.height} for k, v in sorted(tables.items())],
        "warnings": [{"code": "SAMPLE", "message": "synthetic sample", "file": None,
                      "row": None, "column": None}]}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    return out, grid_boundaries(ids), region_names


HAND_NAMES = {"510104": "锦江区", "510105": '=HYPERLINK("http://x")'}
SCRIPT_CLASS = "<script>alert(1)</script>"


def make_hand_run(out: Path | str, title: str = "手算样例 hand-computed sample"
                  ) -> tuple[Path, dict[str, Any], pl.DataFrame]:
    """A two-county SYNTHETIC run whose totals are computed by hand (tests and docs).

    510104, 2020, function_value (value = quantity × 1e4 [万m3→m3] × price):
      water_supply 水田        100 万m3 × 2 元/m3 = 2,000,000 CNY = 200 万元
      water_conservation 针叶   50 万m3 × 5 元/m3 = 2,500,000 CNY = 250 万元
      water_conservation 阔叶   30 万m3 × 5 元/m3 = 1,500,000 CNY = 150 万元
      recreation           1,000 人次 × 300 元/人次 =   300,000 CNY =  30 万元
      GEP = 200 + 400 + 30 = 630 万元; area 100 km2 → 6.3 万元/km2
    510105 (name is a formula-injection probe):
      water_supply 10 万m3 × 2 = 20 万元; water_conservation 针叶 20 万m3 × 5 = 100 万元
      GEP = 120 万元; area 60 km2 → 2 万元/km2
    Compensation: 510104 pays 510105 1,000,000; 510105 pays 510104 250,000 → nets ∓750,000.
    """
    out = Path(out)
    (out / "tables").mkdir(parents=True, exist_ok=True)
    svc_rows = [
        ("510104", 2020, "水田", "provisioning", "water_supply", 100.0, "万m3", 2.0, "元/m3",
         2_000_000.0, "fv.water_supply"),
        ("510104", 2020, "针叶", "regulating", "water_conservation", 50.0, "万m3", 5.0, "元/m3",
         2_500_000.0, "fv.water_conservation"),
        ("510104", 2020, "阔叶", "regulating", "water_conservation", 30.0, "万m3", 5.0, "元/m3",
         1_500_000.0, "fv.water_conservation"),
        ("510104", 2020, None, "cultural", "recreation", 1000.0, "人次", 300.0, "元/人次",
         300_000.0, "fv.recreation"),
        ("510105", 2020, "水田", "provisioning", "water_supply", 10.0, "万m3", 2.0, "元/m3",
         200_000.0, "fv.water_supply"),
        ("510105", 2020, "针叶", "regulating", "water_conservation", 20.0, "万m3", 5.0, "元/m3",
         1_000_000.0, "fv.water_conservation"),
    ]
    services = pl.DataFrame(svc_rows, orient="row", schema=[
        "region_id", "year", "ecosystem_type", "category", "service", "quantity",
        "quantity_unit", "price", "price_unit", "value_cny", "coefficient_id"]).with_columns(
        pl.lit("total").alias("component"), pl.lit("function_value").alias("method"),
        pl.lit("an extra column the report must ignore").alias("extra_note"))
    gep = pl.DataFrame({
        "region_id": ["510104", "510105"], "year": [2020, 2020],
        "method": ["function_value"] * 2,
        "provisioning_cny": [2_000_000.0, 200_000.0], "regulating_cny": [4_000_000.0, 1_000_000.0],
        "supporting_cny": [0.0, 0.0], "cultural_cny": [300_000.0, 0.0],
        "total_cny": [6_300_000.0, 1_200_000.0], "area_km2": [100.0, 60.0],
        "gep_per_km2_cny": [63_000.0, 20_000.0], "gep_gdp_ratio": [0.5, None]})
    extent = pl.DataFrame({
        "region_id": ["510104", "510104", "510105"], "year": [2020] * 3,
        "class": ["0101水田", SCRIPT_CLASS, "0301乔木林地"],
        "ecosystem_type": ["水田", None, "针叶"], "area_ha": [6000.0, 4000.0, 6000.0]})
    ledger = pl.DataFrame({
        "agreement_id": ["AG1", "AG1"], "period": ["2020", "2020"], "section_id": ["S1", "S2"],
        "payer": ["510104", "510105"], "payee": ["510105", "510104"],
        "amount_cny": [1_000_000.0, 250_000.0], "rule": ["water_quality", "+bonus"],
        "basis": ["断面水质达标", "@audit"]})
    net = pl.DataFrame({
        "agreement_id": ["AG1", "AG1"], "party": ["510104", "510105"],
        "paid_cny": [1_000_000.0, 250_000.0], "received_cny": [250_000.0, 1_000_000.0],
        "net_cny": [-750_000.0, 750_000.0]})
    coeffs = pl.DataFrame({
        "coefficient_id": ["fv.water_supply", "fv.water_conservation", "fv.recreation"],
        "set_id": ["hand"] * 3, "value": [2.0, 5.0, 300.0],
        "unit": ["元/m3", "元/m3", "元/人次"], "price_year": [2020] * 3,
        "source": ["水利统计年鉴 表3", "影子工程 库容造价 (placeholder)", "旅行费用法 调查"],
        "verification": ["verified", "unverified", "secondary"]})
    for name, df in {"services": services, "gep": gep, "extent": extent,
                     "compensation_ledger": ledger, "compensation_net": net,
                     "coefficients_used": coeffs}.items():
        df.write_csv(out / "tables" / f"{name}.csv")
    manifest = {
        "gep_version": "0.1.0", "title": title, "command": "gep run hand.toml",
        "synthetic": True, "data_label": SAMPLE_LABEL, "regions": "hand",
        "price_base_year": 2020,
        "inputs": [{"role": "landcover", "path": "hand.csv", "sha256": "0" * 64, "bytes": 10}],
        "coefficient_sets": [{"id": "hand", "version": "1", "title": "hand", "price_year": 2020,
                              "verification": "unverified", "overrides": [],
                              "citation": "手算样例 (hand-computed), this docstring"}],
        "steps": ["account", "compensation"], "tables": [],
        "warnings": [{"code": "NEGATIVE_VALUE", "message": "=cmd|' /C calc'!A0", "file": "x.csv",
                      "row": 3, "column": "area_ha"}]}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1),
                                       encoding="utf-8")
    names = pl.DataFrame({"region_id": list(HAND_NAMES), "name_zh": list(HAND_NAMES.values()),
                          "name_en": ["Jinjiang", HAND_NAMES["510105"]],
                          "area_km2": [100.0, 60.0]})
    return out, grid_boundaries(list(HAND_NAMES)), names
