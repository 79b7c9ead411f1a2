"""Benchmark of the GEP accounts on a synthetic national input (not a test).

Input: 2,844 counties × 26 years (2000–2025) × 14 land-cover classes (one per Xie 2015
ecosystem type) = 1,035,216 extent rows, SYNTHETIC areas (numpy seed 7), plus
statistics rows (5 provisioning/cultural services per county and year).

Each case runs in its own subprocess so that the peak resident memory
(resource.getrusage ru_maxrss, which includes Polars' Rust allocations that
tracemalloc cannot see) belongs to that case alone:

* ``polars-equivalent``: gep.account equivalent_factor_services + gep_totals (xie2015 set)
* ``polars-function``: gep.account function_value_services (set rates and prices + statistics) + gep_totals
* ``polars-extent``: gep.account gross extent flows: transitions (each class keeps 90 % and gives
  10 % to the next class, per period) → type_flows + extent_account (gross) + extent_change_matrix;
  its extent is built from those transitions so that they reconcile (reported apart, after the table)
* ``plain-equivalent`` / ``plain-function``: only the arithmetic (values and totals), written plainly in Polars
* ``pandas-equivalent`` / ``pandas-function``: the same plain arithmetic in pandas
  (merge + groupby). pandas is not a dependency: it is used if importable, otherwise
  ``--install-pandas`` installs it with pip into a private folder (``$TMPDIR/gep-bench-pandas``) first, else those cases are skipped.

Run: python benchmarks/bench_account.py [--counties 2844] [--years 26] [--install-pandas]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
PANDAS_DIR = Path(tempfile.gettempdir()) / "gep-bench-pandas"
TYPES = ["旱地", "水田", "针叶", "针阔混交", "阔叶", "灌木", "草原", "灌草丛", "草甸", "湿地", "荒漠", "裸地", "水系", "冰川积雪"]
STAT_SERVICES = ["agricultural_products", "forestry_products", "livestock_products", "fishery_products", "recreation"]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_input(counties: int, years: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Synthetic extent (region_id, year, class, ecosystem_type, area_ha) and statistics (万元)."""
    rng = np.random.default_rng(7)
    ids = [f"{100000 + i:06d}" for i in range(counties)]
    yrs = list(range(2000, 2000 + years))
    n = counties * years * len(TYPES)
    extent = pl.DataFrame(
        {
            "region_id": np.repeat(ids, years * len(TYPES)),
            "year": np.tile(np.repeat(yrs, len(TYPES)), counties).astype(np.int32),
            "class": np.tile(TYPES, counties * years),
            "area_ha": rng.uniform(0.0, 5000.0, n),
        }
    ).with_columns(pl.col("class").alias("ecosystem_type"))
    m = counties * years * len(STAT_SERVICES)
    stats = pl.DataFrame(
        {
            "region_id": np.repeat(ids, years * len(STAT_SERVICES)),
            "year": np.tile(np.repeat(yrs, len(STAT_SERVICES)), counties).astype(np.int32),
            "service": np.tile(STAT_SERVICES, counties * years),
            "component": [""] * m,
            "value": rng.uniform(0.0, 1e5, m),
            "unit": ["万元"] * m,
        }
    )
    return extent, stats


def make_flow_input(counties: int, years: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Synthetic extent and transitions that reconcile: per period each class keeps 90 % and passes 10 % to the next class."""
    rng = np.random.default_rng(7)
    k = len(TYPES)
    ids = np.array([f"{100000 + i:06d}" for i in range(counties)])
    area = np.empty((years, counties, k))
    area[0] = rng.uniform(0.0, 5000.0, (counties, k))
    for t in range(1, years):
        area[t] = 0.9 * area[t - 1] + 0.1 * np.roll(area[t - 1], 1, axis=1)
    yrs = np.arange(2000, 2000 + years, dtype=np.int32)
    extent = pl.DataFrame({
        "region_id": np.tile(np.repeat(ids, k), years),
        "year": np.repeat(yrs, counties * k),
        "class": np.tile(TYPES, counties * years),
        "area_ha": area.reshape(-1),
    }).with_columns(pl.col("class").alias("ecosystem_type"))
    frm = area[:-1]  # (years-1, counties, k)
    n = (years - 1) * counties * k
    cls = np.tile(TYPES, (years - 1) * counties)
    nxt = np.tile(np.roll(np.array(TYPES), -1), (years - 1) * counties)
    base = {"region_id": np.tile(np.repeat(ids, k), years - 1), "year_from": np.repeat(yrs[:-1], counties * k),
            "year_to": np.repeat(yrs[1:], counties * k)}
    stay = pl.DataFrame({**base, "class_from": cls, "class_to": cls, "area_ha": 0.9 * frm.reshape(-1)})
    move = pl.DataFrame({**base, "class_from": cls, "class_to": nxt, "area_ha": 0.1 * frm.reshape(-1)})
    assert stay.height == n
    return extent, pl.concat([stay, move])


def case_extent(extent: pl.DataFrame, transitions: pl.DataFrame) -> dict[str, float]:
    from gep.account.extent_flows import extent_change_matrix, type_flows
    from gep.account.tables import extent_account

    c0 = _cpu()
    t0 = time.perf_counter()
    flows = type_flows(extent, transitions)
    acc = extent_account(extent, flows)
    matrix = extent_change_matrix(flows, extent)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0, "service_rows": matrix.height,
            "gep_rows": acc.height, "total_cny": float(acc["additions_ha"].sum())}


def _sets() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    from gep.account.step import fv_parameters, load_coefficient_set

    eq = load_coefficient_set("xie2015").tables["equivalents"]
    ind, prices, rates = fv_parameters(load_coefficient_set("function_value_cn"))
    return eq, ind, prices, rates


def case_polars(kind: str, extent: pl.DataFrame, stats: pl.DataFrame) -> dict[str, float]:
    from gep.account.equivalent import equivalent_factor_services
    from gep.account.function_value import function_value_services
    from gep.account.tables import gep_totals

    eq, ind, prices, rates = _sets()
    c0 = _cpu()
    t0 = time.perf_counter()
    if kind == "equivalent":
        services = equivalent_factor_services(extent, eq, 3406.5)
    else:
        services = function_value_services(ind, prices, extent=extent, rates=rates, statistics=stats)
    gep = gep_totals(services)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0, "service_rows": services.height,
            "gep_rows": gep.height,
            "total_cny": float(gep["total_cny"].sum())}


def case_pandas(kind: str, extent: pl.DataFrame, stats: pl.DataFrame) -> dict[str, float]:
    import pandas as pd

    eq, ind, prices, rates = _sets()
    ext = extent.to_pandas()
    c0 = _cpu()
    t0 = time.perf_counter()
    if kind == "equivalent":
        e = eq.select("ecosystem_type", "service", "category", pl.col("value").cast(pl.Float64)).to_pandas()
        df = ext.merge(e, on="ecosystem_type")
        df["value_cny"] = df["area_ha"] * df["value"] * 3406.5
    else:
        # plain pandas: area × rate (all set rates are per hm2 = ha) × price × unit factor (all 1 here)
        r = rates.to_pandas()[["ecosystem_type", "service", "component", "rate"]]
        p = prices.to_pandas()[["service", "component", "price"]]
        c = ind.to_pandas()
        q = ext.merge(r, on="ecosystem_type")
        q["quantity"] = q["area_ha"] * q["rate"]
        exact = q.merge(p, on=["service", "component"])
        # a quantity without component is priced once per component of its service (soil: sediment, N, P)
        no_generic = ~p["service"].isin(p.loc[p["component"] == "", "service"])
        shared = q[q["component"] == ""].drop(columns="component").merge(p[no_generic], on="service")
        df = pd.concat([exact, shared]).merge(c, on="service")
        df["value_cny"] = df["quantity"] * df["price"]
        st = stats.to_pandas().merge(c, on="service")
        st["value_cny"] = st["value"] * 1e4  # 万元 → CNY
        df = pd.concat([df[["region_id", "year", "category", "value_cny"]],
                        st[["region_id", "year", "category", "value_cny"]]])
    gep = df.groupby(["region_id", "year", "category"], sort=True)["value_cny"].sum().unstack(fill_value=0.0)
    gep["total_cny"] = gep.sum(axis=1)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0, "service_rows": len(df),
            "gep_rows": len(gep),
            "total_cny": float(gep["total_cny"].sum())}


def case_plain(kind: str, extent: pl.DataFrame, stats: pl.DataFrame) -> dict[str, float]:
    """The pandas arithmetic written the same plain way in Polars (no provenance ids, sort or identity checks)."""
    eq, ind, prices, rates = _sets()
    c0 = _cpu()
    t0 = time.perf_counter()
    if kind == "equivalent":
        e = eq.select("ecosystem_type", "service", "category", pl.col("value").cast(pl.Float64))
        df = extent.join(e, on="ecosystem_type").with_columns(
            (pl.col("area_ha") * pl.col("value") * 3406.5).alias("value_cny"))
    else:
        r = rates.select("ecosystem_type", "service", "component", "rate")
        p = prices.select("service", "component", "price")
        q = extent.join(r, on="ecosystem_type").with_columns((pl.col("area_ha") * pl.col("rate")).alias("quantity"))
        exact = q.join(p, on=["service", "component"])
        generic = p.filter(pl.col("component") == "").select("service").unique()
        shared = (q.filter(pl.col("component") == "").drop("component")
                  .join(p.join(generic, on="service", how="anti"), on="service"))
        df = pl.concat([exact, shared.select(exact.columns)]).join(ind, on="service").with_columns(
            (pl.col("quantity") * pl.col("price")).alias("value_cny"))
        st = stats.join(ind, on="service").with_columns((pl.col("value") * 1e4).alias("value_cny"))
        df = pl.concat([df.select("region_id", "year", "category", "value_cny"),
                        st.select("region_id", "year", "category", "value_cny")])
    gep = (df.group_by(["region_id", "year", "category"]).agg(pl.col("value_cny").sum())
           .pivot(on="category", index=["region_id", "year"], values="value_cny").fill_null(0.0))
    gep = gep.with_columns(pl.sum_horizontal(pl.exclude("region_id", "year")).alias("total_cny"))
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": _cpu() - c0, "service_rows": df.height,
            "gep_rows": gep.height, "total_cny": float(gep["total_cny"].sum())}


def run_case(name: str, counties: int, years: int) -> dict[str, float]:
    engine, kind = name.split("-")
    if kind == "extent":
        extent, transitions = make_flow_input(counties, years)
        res = case_extent(extent, transitions)
        res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        res["extent_rows"] = extent.height
        res["transition_rows"] = transitions.height
        return res
    extent, stats = make_input(counties, years)
    res = {"polars": case_polars, "plain": case_plain, "pandas": case_pandas}[engine](kind, extent, stats)
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    res["extent_rows"] = extent.height
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counties", type=int, default=2844)
    ap.add_argument("--years", type=int, default=26)
    ap.add_argument("--install-pandas", action="store_true")
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.counties, args.years)))
        return
    env = dict(os.environ)
    have_pandas = importlib.util.find_spec("pandas") is not None
    if not have_pandas and args.install_pandas and not PANDAS_DIR.exists():
        # a private target folder, so the project's environment is left untouched
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(PANDAS_DIR), "pandas"], check=True)
        have_pandas = True
    if PANDAS_DIR.exists():
        env["PYTHONPATH"] = os.pathsep.join([p for p in (env.get("PYTHONPATH"), str(PANDAS_DIR)) if p])
        have_pandas = True
    cases = ["polars-equivalent", "polars-function", "plain-equivalent", "plain-function"]
    cases += ["pandas-equivalent", "pandas-function"] if have_pandas else []
    # baseline: the memory of building the input alone
    code = (f"import resource,sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
            f"from bench_account import make_input; make_input({args.counties}, {args.years}); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)")
    base = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    print(f"input: {args.counties} counties × {args.years} years × {len(TYPES)} classes; "
          f"peak RSS of building the input alone: {float(base.stdout):.0f} MB")
    print(f"{'case':<20}{'wall s':>10}{'CPU s':>8}{'peak RSS MB':>14}{'service rows':>15}{'GEP rows':>10}{'Σ total (1e12 CNY)':>20}")
    for case in cases:
        out = subprocess.run([sys.executable, __file__, "--case", case, "--counties", str(args.counties),
                              "--years", str(args.years)], capture_output=True, text=True, check=True, env=env)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{case:<20}{r['seconds']:>10.2f}{r['cpu_seconds']:>8.1f}{r['peak_rss_mb']:>14.0f}{r['service_rows']:>15,}{r['gep_rows']:>10,}"
              f"{r['total_cny'] / 1e12:>20.4f}")
    out = subprocess.run([sys.executable, __file__, "--case", "polars-extent", "--counties", str(args.counties),
                          "--years", str(args.years)], capture_output=True, text=True, check=True, env=env)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"polars-extent (gross extent account + type change matrix from {r['transition_rows']:,} transition rows): "
          f"{r['seconds']:.2f} s wall, {r['cpu_seconds']:.1f} s CPU, peak RSS {r['peak_rss_mb']:.0f} MB; "
          f"{r['gep_rows']:,} account rows, {r['service_rows']:,} matrix cells, Σ additions {r['total_cny']:.6g} ha")
    print("wall time is affected by other processes on the machine; CPU s = user + system time of the case")
    if not have_pandas:
        print("pandas is not installed: pandas comparison skipped (run with --install-pandas)")


if __name__ == "__main__":
    main()
