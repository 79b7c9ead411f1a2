"""Benchmark of gep.carbon on a synthetic national input (not a test).

Input (SYNTHETIC, numpy seed 11): 2,844 counties × 14 land-cover classes (one per Xie 2015
ecosystem type, so no crosswalk is needed) × 3 years (2015, 2020, 2025), and a transition
table for 2015→2020 and 2020→2025 that reconciles exactly with the land cover: each
off-diagonal flow i→j exists with probability ``--density`` (default 0.3) and takes 0–5 % of
the opening area of i (floored to 0.01 ha); the unchanged row is opening − outflows. Gain-loss
inputs: an IPCC forest inventory (I_V, harvest) for 针叶/针阔混交/阔叶 and a grassland
management change on 5 % of 草原/草甸/灌草丛, both for 2020 and 2025, and wetland CH4.

Each case runs in its own subprocess so that the peak resident memory (resource.getrusage
ru_maxrss, which includes Polars' Rust allocations that tracemalloc cannot see) belongs to
that case alone; the baseline line is the peak of building the input alone.

* ``stock``: densities from carbon_default + gep.carbon.stock.carbon_stock (long table per pool)
* ``stock-difference``: gep.carbon.step.compute with the transitions (reconciliation, change by
  conversion, valuation with NPV, summaries, GEP quantities)
* ``gain-loss``: compute with rates, IPCC forest and grassland rows and wetland CH4
* ``run-both``: the whole `gep carbon --method both` run from CSV files (loaders, checks, both
  methods, tables written as CSV + Parquet, manifest)

Run: python benchmarks/bench_carbon.py [--counties 2844] [--density 0.3] [--json FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

TYPES = ["旱地", "水田", "针叶", "针阔混交", "阔叶", "灌木", "草原", "灌草丛", "草甸", "湿地", "荒漠", "裸地", "水系", "冰川积雪"]
YEARS = [2015, 2020, 2025]
FOREST = ["针叶", "针阔混交", "阔叶"]
GRASS = ["草原", "草甸", "灌草丛"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_input(counties: int, density: float) -> dict[str, pl.DataFrame]:
    """Synthetic extent, transitions, forest inventory and grassland management (all in ha)."""
    rng = np.random.default_rng(11)
    k = len(TYPES)
    ids = np.array([f"{100000 + i:06d}" for i in range(counties)])
    area = np.floor(rng.uniform(0.0, 5000.0, (counties, k)) * 100) / 100
    layers = [area]
    trans: list[pl.DataFrame] = []
    for y0, y1 in itertools.pairwise(YEARS):
        mask = rng.random((counties, k, k)) < density
        mask[:, np.arange(k), np.arange(k)] = False
        flow = np.floor(area[:, :, None] * rng.uniform(0.0, 0.05, (counties, k, k)) * mask * 100) / 100
        unchanged = area - flow.sum(axis=2)
        flow[:, np.arange(k), np.arange(k)] = unchanged
        c, i, j = np.nonzero(flow > 0)
        trans.append(pl.DataFrame({
            "region_id": ids[c], "year_from": np.full(c.size, y0, np.int32), "year_to": np.full(c.size, y1, np.int32),
            "class_from": np.array(TYPES)[i], "class_to": np.array(TYPES)[j], "area_ha": flow[c, i, j]}))
        area = flow.sum(axis=1)
        layers.append(area)
    extent = pl.concat([
        pl.DataFrame({"region_id": np.repeat(ids, k), "year": np.full(counties * k, y, np.int32),
                      "class": np.tile(TYPES, counties), "area_ha": lay.reshape(-1)})
        for y, lay in zip(YEARS, layers, strict=True)
    ]).with_columns(pl.col("class").alias("ecosystem_type"))
    later = extent.filter(pl.col("year") > YEARS[0])
    forest = later.filter(pl.col("class").is_in(FOREST)).select(
        "region_id", "year", "class",
        pl.Series("iv_m3_ha_yr", rng.uniform(2.0, 6.0, counties * len(FOREST) * 2)),
        pl.Series("harvest_m3", np.floor(rng.uniform(0.0, 2000.0, counties * len(FOREST) * 2))))
    grass = later.filter(pl.col("class").is_in(GRASS)).select(
        "region_id", "year", "class", (pl.col("area_ha") * 0.05).round(2).alias("area_ha"),
        pl.lit("cool_temperate_moist").alias("climate_zone"), pl.lit("HAC").alias("soil_type"),
        pl.lit("severely_degraded").alias("mg_from"), pl.lit("nominal").alias("mg_to"))
    return {"extent": extent, "transitions": pl.concat(trans), "forest": forest, "grass": grass}


def _loaded(df: pl.DataFrame, name: str) -> pl.DataFrame:
    """The shapes the engine's loaders return (an `_row` column for problem locations)."""
    return df.with_row_index("_row", offset=2).with_columns(pl.col("_row").cast(pl.Int64)) if name != "extent" else df


def run_case(name: str, counties: int, density: float) -> dict[str, float]:
    from gep.carbon import gainloss as GL
    from gep.carbon import params
    from gep.carbon.step import compute
    from gep.carbon.stock import carbon_stock
    from gep.carbon.valuation import CarbonPrice

    data = make_input(counties, density)
    ext = data["extent"]
    res: dict[str, float] = {"extent_rows": ext.height, "transition_rows": data["transitions"].height}
    cset = params.load_carbon_set()
    price = CarbonPrice(62.36 * 44 / 12, 2025, "CEA 2025", "verified")
    c0, t0 = _cpu(), time.perf_counter()
    if name == "stock":
        stock = carbon_stock(ext, params.set_densities(ext, cset))
        res.update(rows=stock.height, total_c_t=float(stock["c_t"].sum()))
    elif name == "stock-difference":
        r = compute(ext, params.set_densities(ext, cset), cset, price, method="stock-difference",
                    transitions=_loaded(data["transitions"], "t"), discount_rate=3.0)
        res.update(rows=r.flux.height, total_c_t=float(r.flux["delta_c_t"].sum()))
    elif name == "gain-loss":
        ch4 = (GL.ch4_factor_t_ch4(cset, "rewetted_temperate_nutrient_poor")[0], GL.gwp_value(cset, "AR6"))
        r = compute(ext, params.set_densities(ext, cset), cset, price, method="gain-loss",
                    forest=_loaded(data["forest"], "f").with_columns(
                        *[pl.lit(None, pl.Float64).alias(c) for c in (
                            "area_ha", "gw_t_dm_ha_yr", "r", "bcef_i", "bcef_r", "cf", "disturbance_area_ha",
                            "disturbance_bw_t_dm_ha", "disturbance_fd")]),
                    grassland=_loaded(data["grass"], "g").with_columns(
                        *[pl.lit(None, pl.Utf8).alias(c) for c in ("input_from", "input_to")],
                        *[pl.lit(None, pl.Float64).alias(c) for c in ("soc_ref_t_c_ha", "d_yr")]),
                    ch4=ch4)
        res.update(rows=r.flux.height, total_c_t=float(r.flux["delta_c_t"].sum()))
    elif name == "run-both":
        from gep.carbon.step import Config
        from gep.config import InputsSection, RunConfig, RunSection
        from gep.pipeline import execute
        from gep.reports import write_run_reports

        with tempfile.TemporaryDirectory(prefix="gep-bench-碳") as tmp:
            d = Path(tmp)
            c_write = time.perf_counter()
            ext.drop("ecosystem_type").write_csv(d / "lc.csv")
            data["transitions"].write_csv(d / "tr.csv")
            data["forest"].write_csv(d / "forest.csv")
            data["grass"].write_csv(d / "grass.csv")
            res["write_inputs_seconds"] = time.perf_counter() - c_write
            c0, t0 = _cpu(), time.perf_counter()
            step = Config(method="both", transitions=str(d / "tr.csv"), forest_inventory=str(d / "forest.csv"),
                          grassland_management=str(d / "grass.csv"), wetland_ch4_ef="rewetted_temperate_nutrient_poor",
                          price_market="CEA", price_year=2025, discount_rate=3.0)
            cfg = RunConfig(run=RunSection.model_validate({"title": "bench", "report": False}),
                            inputs=InputsSection.model_validate({"landcover": [str(d / "lc.csv")]}),
                            steps={"carbon": step})
            out = execute(cfg, d / "out", "bench", reporter=write_run_reports)
            flux = pl.read_parquet(out / "tables" / "carbon_flux.parquet")
            res.update(rows=flux.height, total_c_t=float(flux["delta_c_t"].sum()))
            res["seconds"] = time.perf_counter() - t0
            res["cpu_seconds"] = _cpu() - c0
    res.setdefault("seconds", time.perf_counter() - t0)
    res.setdefault("cpu_seconds", _cpu() - c0)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, default=2844)
    ap.add_argument("--density", type=float, default=0.3, help="probability of each off-diagonal transition")
    ap.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.counties, args.density)))
        return
    code = (f"import resource,sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from bench_carbon import make_input; make_input({args.counties}, {args.density}); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)")
    base = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    print(f"input: {args.counties} counties × {len(TYPES)} classes × {len(YEARS)} years, transitions density "
          f"{args.density}; peak RSS of building the input alone: {base:.0f} MB")
    print(f"{'case':<18}{'wall s':>9}{'CPU s':>8}{'peak RSS MB':>13}{'extent rows':>13}{'transitions':>13}"
          f"{'output rows':>13}{'Σ (1e6 t C)':>14}")
    results: dict[str, dict[str, float]] = {}
    for case in ("stock", "stock-difference", "gain-loss", "run-both"):
        out = subprocess.run([sys.executable, __file__, "--case", case, "--counties", str(args.counties),
                              "--density", str(args.density)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results[case] = r
        print(f"{case:<18}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.1f}{r['peak_rss_mb']:>13.0f}{r['extent_rows']:>13,}"
              f"{r['transition_rows']:>13,}{r['rows']:>13,}{r['total_c_t'] / 1e6:>14.3f}")
    print("wall time is affected by other processes on the machine; CPU s = user + system time of the case; "
          "run-both excludes writing its input CSVs")
    if args.json:
        args.json.write_text(json.dumps({"baseline_rss_mb": base, "counties": args.counties,
                                         "density": args.density, "cases": results}, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
