"""Benchmark of Monte Carlo uncertainty and sensitivity at national scale (not a test).

Input: 2,844 counties × 1 year × 14 land-cover classes (one per Xie 2015 ecosystem type),
SYNTHETIC areas (numpy seed 7); coefficient sets xie2015 (155 coefficients) and
carbon_default pools (56), every coefficient ±20 % uniform (the built-in sets carry no ranges).

Cases (each in its own subprocess so that the peak resident memory, ru_maxrss, is its own):

* ``mc-equivalent``: linear form from the engine + 10,000 draws → uncertainty table
  (2,844 × 12 outputs + region 'all'), exact percentiles;
* ``mc-function``: the same for function value from area × the function_value_cn rates × prices
  (no county statistics or quantities; 78 rates + 20 prices);
* ``mc-carbon``: the same for carbon stock by pool (5 outputs);
* ``sensitivity``: OAT tornado + Sobol (N = 1024, 155 inputs → 160k evaluations) of the national total.

Run: python benchmarks/bench_uncertainty.py [--counties 2844] [--draws 10000] [--memory-mb 256]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

TYPES = ["旱地", "水田", "针叶", "针阔混交", "阔叶", "灌木", "草原", "灌草丛", "草甸", "湿地", "荒漠", "裸地", "水系", "冰川积雪"]


def make_extent(counties: int, years: int) -> pl.DataFrame:
    """Synthetic extent (region_id, year, class, ecosystem_type, area_ha)."""
    rng = np.random.default_rng(7)
    ids = [f"{100000 + i:06d}" for i in range(counties)]
    yrs = list(range(2025 - years + 1, 2026))
    n = counties * years * len(TYPES)
    return pl.DataFrame({
        "region_id": np.repeat(ids, years * len(TYPES)),
        "year": np.tile(np.repeat(yrs, len(TYPES)), counties).astype(np.int32),
        "class": np.tile(TYPES, counties * years),
        "area_ha": rng.uniform(0.0, 5000.0, n),
    }).with_columns(pl.col("class").alias("ecosystem_type"))


def run_case(case: str, counties: int, years: int, draws: int, memory_mb: float) -> dict[str, object]:
    from gep.coefficients import load_set

    from gep.tuning.distributions import declare_uncertainty, set_coefficients
    from gep.tuning.linear import (
        carbon_stock_model,
        check_against_engine,
        equivalent_factor_model,
        function_value_model_from,
    )
    from gep.tuning.montecarlo import monte_carlo
    from gep.tuning.sensitivity import OutputSelector, one_at_a_time, output_form, sobol

    extent = make_extent(counties, years)
    t0 = time.perf_counter()
    if case == "mc-carbon":
        cset = load_set("carbon_default")
        model = carbon_stock_model(extent, cset)
    elif case == "mc-function":
        cset = load_set("function_value_cn")
        model = function_value_model_from(cset, extent=extent)
    else:
        cset = load_set("xie2015")
        model = equivalent_factor_model(extent, cset)
    check_against_engine(model)
    spec = declare_uncertainty(set_coefficients(cset), default_range_pct=20, default_for=["all"])
    t1 = time.perf_counter()
    rows = 0
    if case.startswith("mc"):
        table = monte_carlo(model, spec, draws, seed=1, memory_mb=memory_mb)
        rows = table.height
    else:
        form = output_form(model, OutputSelector(model.method))
        rows = one_at_a_time(model, form, spec).height + sobol(model, form, spec, 1024, seed=1).height
    t2 = time.perf_counter()
    return {"case": case, "counties": counties, "years": years, "draws": draws if case.startswith("mc") else 1024,
            "rows_out": rows, "build_s": round(t1 - t0, 2), "analysis_s": round(t2 - t1, 2),
            "wall_s": round(t2 - t0, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--counties", type=int, default=2844)
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--memory-mb", type=float, default=256.0)
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.counties, args.years, args.draws, args.memory_mb)))
        return
    results = []
    for case in ("mc-equivalent", "mc-function", "mc-carbon", "sensitivity"):
        out = subprocess.run([sys.executable, __file__, "--case", case, "--counties", str(args.counties),
                              "--years", str(args.years), "--draws", str(args.draws),
                              "--memory-mb", str(args.memory_mb)], check=True, capture_output=True, text=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(res)
        print(json.dumps(res, ensure_ascii=False))
    outdir = Path(__file__).resolve().parent / "out"
    outdir.mkdir(exist_ok=True)
    (outdir / "bench_uncertainty.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
