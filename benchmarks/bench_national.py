"""National-scale benchmark: gep vs plain Polars, pandas and DuckDB on the same synthetic data (not a test).

Input: ``bench_account.make_input`` (N counties × Y years × 14 land-cover classes, SYNTHETIC
areas, numpy seed 7). Every case computes the same thing — equivalent-factor values
(xie2015 equivalents × 3406.5 CNY), GEP totals per region and year, and the change of the
total between consecutive years plus first → last year (what the account's
change_decomposition needs) — and reports Σ total and Σ change, which must agree:

* ``gep``: gep.account equivalent_factor_services + gep_totals + change_decompositions (all pairs at once)
* ``gep-per-pair``: the same but change_decomposition called once per pair (the shipped
  behaviour before issue 16: the whole services table re-aggregated for every pair)
* ``gep-run``: the whole run without reports, from the extent in memory: the account step
  (services, gep, SEEA supply tables, extent account, change decomposition, identities checked)
  and the run folder written (Parquet, CSV up to ``[run] csv_max_rows``, manifest)
* ``polars-run``: the same tables as ``gep-run`` (services with its 14 columns in the engine's order, GEP by
  category, SEEA monetary supply, change decomposition, extent account) computed and written plainly in
  Polars, without identity checks, warnings or manifest: the plain-Polars equivalent of the run
* ``polars`` / ``pandas`` / ``duckdb``: only the arithmetic, written plainly

Sizes: ``--grid`` (default) runs the issue-16 grid in one go: 1×, 4× and 16× the counties at 3
years, and 3, 12, 26 and 48 years at 1×; ``--counties``/``--years`` give an explicit cross product.

Each case runs in its own subprocess (peak RSS = ru_maxrss of that case, input included).
Run: python benchmarks/bench_national.py [--grid | --counties 2844 --years 3 12 26 48] [--cases ...]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from bench_account import _cpu, make_input  # noqa: E402

CASES = ["polars", "gep", "gep-run", "polars-run", "gep-per-pair", "pandas", "duckdb"]
GRID = [(2844, 3), (4 * 2844, 3), (16 * 2844, 3), (2844, 12), (2844, 26), (2844, 48)]


def _pairs(years: list[int]) -> list[tuple[int, int]]:
    p = list(pairwise(years))
    return p + [(years[0], years[-1])] if len(years) > 2 else p


def _eq() -> pl.DataFrame:
    from gep.account.step import load_coefficient_set

    return load_coefficient_set("xie2015").tables["equivalents"]


def case_gep(extent: pl.DataFrame, per_pair: bool) -> dict:
    from gep.account.equivalent import equivalent_factor_services
    from gep.account.tables import change_decomposition, change_decompositions, gep_totals

    eq = _eq()
    pairs = _pairs(sorted(extent["year"].unique().to_list()))
    t0, c0 = time.perf_counter(), _cpu()
    services = equivalent_factor_services(extent, eq, 3406.5, encoded=True)  # as the account step holds it
    gep = gep_totals(services)
    if per_pair:
        ch = pl.concat([change_decomposition(services, extent, a, b) for a, b in pairs])
    else:
        ch = change_decompositions(services, extent, pairs)
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "total": float(gep["total_cny"].sum()),
            "change": float(ch["total_change_cny"].sum())}


def case_gep_run(extent: pl.DataFrame) -> dict:
    import tempfile

    from gep.config import parse_config
    from gep.pipeline import RunContext, run_steps, write_run

    with tempfile.TemporaryDirectory() as tmp:
        lc = Path(tmp) / "landcover.parquet"  # named in the config; the run takes the extent from memory
        extent.head(1).write_parquet(lc)
        # ids that are not GB/T 2260 codes, so 100000 is not read as the province of 100050
        extent = extent.with_columns(("c" + pl.col("region_id")).alias("region_id"))
        cfg = parse_config({"run": {"report": False, "synthetic": True}, "inputs": {"landcover": [str(lc)]},
                            "account": {"methods": ["equivalent_factor"], "equivalent_set": "xie2015"}})
        t0, c0 = time.perf_counter(), _cpu()
        ctx = RunContext(config=cfg, extent=extent, tables={"extent": extent})
        steps = run_steps(ctx)
        write_run(ctx, Path(tmp) / "run", Path(tmp) / "run", ["extent", *steps], "bench")
        size = sum(f.stat().st_size for f in (Path(tmp) / "run").rglob("*") if f.is_file())
    gep = ctx.tables["gep"]
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "total": float(gep["total_cny"].sum()),
            "change": float(ctx.tables["change_decomposition"]["total_change_cny"].sum()), "run_mb": size / 1e6}


def case_polars(extent: pl.DataFrame) -> dict:
    eq = _eq().select("ecosystem_type", pl.col("value").cast(pl.Float64))
    pairs = pl.DataFrame(_pairs(sorted(extent["year"].unique().to_list())), schema=["y0", "y1"], orient="row")
    t0, c0 = time.perf_counter(), _cpu()
    tot = (extent.join(eq, on="ecosystem_type").group_by("region_id", "year")
           .agg((pl.col("area_ha") * pl.col("value") * 3406.5).sum().alias("v")))
    ch = (pairs.join(tot.rename({"year": "y0", "v": "v0"}), on="y0")
          .join(tot.rename({"year": "y1", "v": "v1"}), on=["region_id", "y1"]))
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "total": float(tot["v"].sum()),
            "change": float((ch["v1"] - ch["v0"]).sum())}


def case_polars_run(extent: pl.DataFrame) -> dict:
    """The same tables as ``gep-run`` written plainly in Polars (no identity checks, no warnings, no manifest).

    Services (the 14 columns, sorted in the engine's order), GEP per region, year and method by category,
    the SEEA monetary supply table, the change decomposition (area and unit-value effects per ecosystem
    type, summed per region) and the extent account, each written as a zstd Parquet file and, up to
    1,048,576 rows (the run's default ``csv_max_rows``), as CSV.
    """
    import tempfile

    from gep.account.catalog import EQUIVALENT_FACTOR_SERVICES

    cats = {code: cat for code, (_zh, cat) in EQUIVALENT_FACTOR_SERVICES.items()}
    eq = _eq().select("ecosystem_type", "service", pl.col("value").cast(pl.Float64).alias("equivalent"),
                      pl.col("service").replace_strict(cats, default=None).alias("category"))
    years = sorted(extent["year"].unique().to_list())
    pairs = pl.DataFrame(_pairs(years), schema=["y0", "y1"], orient="row")
    t0, c0 = time.perf_counter(), _cpu()
    area = extent.group_by("region_id", "year", "ecosystem_type").agg(pl.col("area_ha").sum())
    services = (
        area.join(eq, on="ecosystem_type")
        .select("region_id", "year", "ecosystem_type", "category", "service", pl.lit("").alias("component"),
                (pl.col("area_ha") * pl.col("equivalent")).alias("quantity"),
                pl.lit("equivalent·hm2").alias("quantity_unit"), pl.lit(3406.5).alias("price"),
                pl.lit("CNY/hm2").alias("price_unit"), (pl.col("area_ha") * pl.col("equivalent") * 3406.5).alias("value_cny"),
                pl.lit("equivalent_factor").alias("method"),
                pl.format("xie2015:equivalents:{}/{}", "ecosystem_type", "service").alias("coefficient_id"),
                pl.lit(2010, pl.Int32).alias("price_year"))
        .sort("region_id", "year", "method", "category", "service", "component", "ecosystem_type", "coefficient_id")
    )
    gep = (services.group_by("region_id", "year", "method", "category").agg(pl.col("value_cny").sum())
           .pivot(on="category", index=["region_id", "year", "method"], values="value_cny")
           .with_columns(pl.sum_horizontal(pl.exclude("region_id", "year", "method")).alias("total_cny"))
           .sort("region_id", "year", "method"))
    monetary = (services.group_by("region_id", "year", "method", "category", "service", "ecosystem_type")
                .agg(pl.col("value_cny").sum()).sort("region_id", "year", "method", "category", "service", "ecosystem_type"))
    typed = (services.group_by("region_id", "year", "method", "ecosystem_type").agg(pl.col("value_cny").sum())
             .join(area, on=["region_id", "year", "ecosystem_type"]))
    a = typed.rename({"year": "y0", "value_cny": "v0", "area_ha": "a0"})
    b = typed.rename({"year": "y1", "value_cny": "v1", "area_ha": "a1"})
    r0, r1 = pl.col("v0") / pl.col("a0"), pl.col("v1") / pl.col("a1")
    u0, u1 = pl.when(pl.col("a0") > 0).then(r0).otherwise(r1), pl.when(pl.col("a1") > 0).then(r1).otherwise(r0)
    change = (pairs.join(a, on="y0").join(pairs.join(b, on="y1"), on=["y0", "y1", "region_id", "method", "ecosystem_type"],
                                          how="full", coalesce=True)
              .with_columns(pl.col("v0", "v1", "a0", "a1").fill_null(0.0))
              .group_by("region_id", "method", "y0", "y1")
              .agg(pl.col("v0").sum().alias("value_from_cny"), pl.col("v1").sum().alias("value_to_cny"),
                   ((pl.col("a1") - pl.col("a0")) * (u0 + u1) / 2).sum().alias("area_effect_cny"),
                   ((u1 - u0) * (pl.col("a0") + pl.col("a1")) / 2).sum().alias("unit_value_effect_cny"))
              .with_columns((pl.col("value_to_cny") - pl.col("value_from_cny")).alias("total_change_cny"))
              .sort("region_id", "method", "y0", "y1"))
    ext = area.group_by("region_id", "year", "ecosystem_type").agg(pl.col("area_ha").sum())
    extent_acc = (pairs.join(ext.rename({"year": "y0", "area_ha": "opening_ha"}), on="y0")
                  .join(ext.rename({"year": "y1", "area_ha": "closing_ha"}), on=["y1", "region_id", "ecosystem_type"])
                  .with_columns((pl.col("closing_ha") - pl.col("opening_ha")).alias("net_change_ha"))
                  .sort("region_id", "y0", "y1", "ecosystem_type"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, df in (("services", services), ("gep", gep), ("seea_monetary_supply", monetary),
                         ("change_decomposition", change), ("extent_account", extent_acc)):
            df.write_parquet(Path(tmp) / f"{name}.parquet", compression="zstd", statistics=False)
            if df.height <= 1_048_576:  # CSV too, as the run does up to its default csv_max_rows
                df.write_csv(Path(tmp) / f"{name}.csv")
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "total": float(gep["total_cny"].sum()),
            "change": float(change["total_change_cny"].sum()), "run_mb": size / 1e6}


def case_pandas(extent: pl.DataFrame) -> dict:
    import pandas as pd

    eq = _eq().select("ecosystem_type", pl.col("value").cast(pl.Float64)).to_pandas()
    ext = extent.to_pandas()
    pairs = pd.DataFrame(_pairs(sorted(extent["year"].unique().to_list())), columns=["y0", "y1"])
    t0, c0 = time.perf_counter(), _cpu()
    df = ext.merge(eq, on="ecosystem_type")
    df["v"] = df["area_ha"] * df["value"] * 3406.5
    tot = df.groupby(["region_id", "year"], as_index=False)["v"].sum()
    ch = (pairs.merge(tot.rename(columns={"year": "y0", "v": "v0"}), on="y0")
          .merge(tot.rename(columns={"year": "y1", "v": "v1"}), on=["region_id", "y1"]))
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "total": float(tot["v"].sum()),
            "change": float((ch["v1"] - ch["v0"]).sum())}


def case_duckdb(extent: pl.DataFrame) -> dict:
    import duckdb

    eq = _eq().select("ecosystem_type", pl.col("value").cast(pl.Float64))
    pairs = pl.DataFrame(_pairs(sorted(extent["year"].unique().to_list())), schema=["y0", "y1"], orient="row")
    con = duckdb.connect()
    t0, c0 = time.perf_counter(), _cpu()
    con.register("extent", extent.to_arrow())
    con.register("eq", eq.to_arrow())
    con.register("pairs", pairs.to_arrow())
    con.execute("create temp table tot as select region_id, year, sum(area_ha * value * 3406.5) v "
                "from extent join eq using (ecosystem_type) group by all")
    total = con.execute("select sum(v) from tot").fetchone()[0]
    change = con.execute("select sum(b.v - a.v) from pairs p join tot a on a.year = p.y0 "
                         "join tot b on b.year = p.y1 and b.region_id = a.region_id").fetchone()[0]
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0, "total": float(total), "change": float(change)}


def run_case(name: str, counties: int, years: int) -> dict:
    extent, _ = make_input(counties, years)
    if name == "gep-run":
        r = case_gep_run(extent)
    elif name == "polars-run":
        r = case_polars_run(extent)
    elif name.startswith("gep"):
        r = case_gep(extent, name == "gep-per-pair")
    else:
        r = {"polars": case_polars, "pandas": case_pandas, "duckdb": case_duckdb}[name](extent)
    r["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    r["rows"] = extent.height
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", action="store_true", help="the issue-16 grid (the default without --counties/--years)")
    ap.add_argument("--counties", type=int, nargs="+", default=None)
    ap.add_argument("--years", type=int, nargs="+", default=None)
    ap.add_argument("--cases", nargs="+", default=CASES)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--case", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.counties[0], args.years[0])))
        return
    print(f"{'counties':>8}{'years':>6}{'rows':>11}  {'case':<13}{'wall s':>8}{'CPU s':>7}{'RSS MB':>8}"
          f"{'× polars':>9}{'× CPU':>7}{'Σ total 1e12':>16}{'Σ change 1e12':>15}{'equal':>6}{'run MB':>8}", flush=True)
    if args.counties or args.years:
        sizes = [(n, y) for n in (args.counties or [2844]) for y in (args.years or [3, 12, 26, 48])]
    else:
        sizes = GRID
    for n, y in sizes:
        ref = None
        for case in args.cases:
            try:
                out = subprocess.run([sys.executable, __file__, "--case", case, "--counties", str(n),
                                      "--years", str(y)], capture_output=True, text=True, check=True,
                                     timeout=args.timeout)
            except subprocess.TimeoutExpired:
                print(f"{n:>8}{y:>6}{'':>11}  {case:<13} did not finish in {args.timeout:.0f} s", flush=True)
                continue
            except subprocess.CalledProcessError as exc:
                print(f"{n:>8}{y:>6}{'':>11}  {case:<13} failed (exit {exc.returncode}): "
                      f"{(exc.stderr or '').strip().splitlines()[-1:]}", flush=True)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if case == "polars":
                ref = r
            ratio = f"{r['seconds'] / ref['seconds']:>9.1f}{r['cpu'] / max(ref['cpu'], 1e-3):>7.1f}" if ref \
                else f"{'':>9}{'':>7}"
            equal = ("yes" if abs(r["total"] - ref["total"]) <= 1e-12 * abs(ref["total"])
                     and abs(r["change"] - ref["change"]) <= 1e-9 * abs(ref["total"]) else "NO") if ref else ""
            run_mb = f"{r['run_mb']:>8.0f}" if "run_mb" in r else ""
            print(f"{n:>8}{y:>6}{r['rows']:>11,}  {case:<13}{r['seconds']:>8.2f}{r['cpu']:>7.1f}{r['rss_mb']:>8.0f}"
                  f"{ratio}{r['total'] / 1e12:>16.6f}{r['change'] / 1e12:>15.6f}{equal:>6}{run_mb}", flush=True)
    print("× polars / × CPU: wall and CPU time over the plain-Polars case of the same size (wall times are noisy on "
          "shared cores); equal: Σ total and Σ change equal to plain Polars' (relative 1e-12, 1e-9 of the total)")


if __name__ == "__main__":
    main()
