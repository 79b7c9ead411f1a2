"""Benchmark: reports for a national-scale SYNTHETIC run (default 2,850 regions × 3 years).

Usage: python benchmarks/bench_reports.py [--regions 2850] [--detail] [--out benchmarks/out/reports]
Prints the wall and CPU time to write report.xlsx (the filing workbook: summary + one sheet per
county) and report.html, their sizes, and the table sizes; --detail also times report_detail.xlsx.
Boundaries are a synthetic grid (one square per region, some with an island).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from gep.reports import load_run, write_reports
from gep.reports.sample import make_sample_run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--regions", type=int, default=2850)
    ap.add_argument("--detail", action="store_true", help="also write report_detail.xlsx")
    ap.add_argument("--county-sheets", default=None,
                    help="county account sheets up to this many counties ('all': always; default: the library's)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/out/reports"))
    ap.add_argument("--methods", type=int, default=2, choices=(1, 2),
                    help="accounting methods (2 = six year x method map layers)")
    args = ap.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    t0 = time.perf_counter()
    methods = ("function_value", "equivalent_factor")[: args.methods]
    run, bounds, names = make_sample_run(args.out, n_regions=args.regions,
                                         years=(2015, 2020, 2025), methods=methods)
    t_make = time.perf_counter() - t0
    data = load_run(run, boundaries=bounds, region_names=names)
    cs = {} if args.county_sheets is None else {
        "county_sheets": None if args.county_sheets == "all" else int(args.county_sheets)}
    rows = {k: v.height for k, v in data.tables.items()}
    timings, cpu = {}, {}
    for fmt in ("xlsx", "html"):
        t, c = time.perf_counter(), time.process_time()
        write_reports(run, formats=[fmt], boundaries=bounds, region_names=names, **cs)
        timings[fmt], cpu[fmt] = time.perf_counter() - t, time.process_time() - c
    if args.detail:
        t, c = time.perf_counter(), time.process_time()
        write_reports(run, formats=["xlsx"], boundaries=bounds, region_names=names, detail="full", **cs)
        d_wall, d_cpu = time.perf_counter() - t, time.process_time() - c
    t = time.perf_counter()
    write_reports(run, boundaries=bounds, region_names=names, **cs)
    both = time.perf_counter() - t
    print(f"regions: {args.regions}; county sheets: {args.county_sheets or 'library default'}; "
          f"synthetic run written in {t_make:.2f} s")
    print("table rows: " + ", ".join(f"{k}={v:,}" for k, v in sorted(rows.items())))
    for fmt in ("xlsx", "html"):
        size = (run / f"report.{fmt}").stat().st_size
        print(f"report.{fmt}: {timings[fmt]:.2f} s wall, {cpu[fmt]:.2f} s CPU, {size / 1e6:.2f} MB")
    if args.detail:
        size = (run / "report_detail.xlsx").stat().st_size
        print(f"report.xlsx + report_detail.xlsx (--detail full): {d_wall:.2f} s wall, "
              f"{d_cpu:.2f} s CPU; report_detail.xlsx {size / 1e6:.2f} MB")
    print(f"both formats in one call: {both:.2f} s")
    page = (run / "report.html").read_text(encoding="utf-8")
    i = page.find('id="gep-map-data"')
    layer_bytes = len(page[i:page.index("</script>", i)].encode()) if i >= 0 else 0
    j = page.find('<svg id="gep-map"')
    map_bytes = len(page[j:page.index("</svg>", j)].encode()) if j >= 0 else 0
    shapes = page.count('class="region"')
    print(f"map: {shapes} shapes, SVG {map_bytes / 1e6:.2f} MB, "
          f"year x method layers JSON {layer_bytes / 1e6:.3f} MB")


if __name__ == "__main__":
    main()
