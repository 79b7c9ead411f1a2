"""Benchmark of gep.spatial raster extent vs exactextract and rasterstats (not a test).

Input (SYNTHETIC, written once into --data): a SIZE × SIZE uint8 land-cover raster, classes 1–10 drawn
uniformly at random (seed 42), 30 m in EPSG:32650, tiled 512 × 512 uncompressed GeoTIFF (as
docs/engineering.md §3.1), and N Voronoi zones (seed 7) clipped to the raster, as a GeoPackage.

Each case runs in its own subprocess so its peak RSS (ru_maxrss) is its own:

* ``disk-read``: rasterio reads every 1024 × 1024 window of band 1 (the I/O floor);
* ``gep-centre-pool`` / ``gep-centre-inline``: gep.spatial.extent.raster_extent, pixel-centre rule,
  local process pool (all cores) / one process;
* ``gep-fraction-pool``: coverage-fraction rule, process pool;
* ``exactextract``: exact_extract(["unique", "frac", "count"]) (feature-sequential default);
* ``rasterstats``: zonal_stats(categorical=True) (pixel-centre rule).

Agreement on per-zone class pixel counts: gep centre vs rasterstats (same GDAL centre rule, expected
identical), gep fraction vs exactextract (same coverage fractions), gep centre vs exactextract.

Run: python benchmarks/bench_extent.py [--size 10000] [--zones 2000] [--data DIR] [--cases a,b,...]
Needs the 'bench' extra (exactextract, rasterstats) for the comparison cases.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

CASES = ["disk-read", "gep-centre-pool", "gep-centre-inline", "gep-fraction-pool", "exactextract", "rasterstats"]
RES = 30.0
X0, Y0 = 300000.0, 3500000.0


def make_data(d: Path, size: int, n_zones: int) -> tuple[Path, Path]:
    import pyogrio
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    d.mkdir(parents=True, exist_ok=True)
    tif, gpkg = d / f"lc_{size}.tif", d / f"zones_{size}_{n_zones}.gpkg"
    if not tif.exists():
        rng = np.random.default_rng(42)
        with rasterio.open(tif, "w", driver="GTiff", width=size, height=size, count=1, dtype="uint8",
                           crs="EPSG:32650", transform=from_origin(X0, Y0, RES, RES), nodata=0, tiled=True,
                           blockxsize=512, blockysize=512) as ds:
            for r in range(0, size, 512):
                h = min(512, size - r)
                ds.write(rng.integers(1, 11, size=(h, size), dtype=np.uint8), 1,
                         window=rasterio.windows.Window(0, r, size, h))
    if not gpkg.exists():
        rng = np.random.default_rng(7)
        ext = size * RES
        pts = shapely.multipoints(np.column_stack([X0 + rng.random(n_zones) * ext, Y0 - rng.random(n_zones) * ext]))
        box = shapely.box(X0, Y0 - ext, X0 + ext, Y0)
        cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box))
        cells = shapely.intersection(cells, box)
        ids = np.array([f"Z{i:05d}" for i in range(len(cells))], dtype=object)
        pyogrio.raw.write(str(gpkg), shapely.to_wkb(cells), [ids], ["zid"], crs="EPSG:32650", geometry_type="Polygon")
    return tif, gpkg


def _features(gpkg: Path) -> list[dict]:
    import shapely
    from gep.spatial.io import load_zone_file

    z = load_zone_file(gpkg, "zid")
    return [{"type": "Feature", "properties": {"zid": i}, "geometry": shapely.geometry.mapping(g)}
            for i, g in zip(z.ids, z.geoms)]


def run_case(case: str, tif: Path, gpkg: Path, out: Path) -> dict:
    counts: dict[str, float] = {}
    t0 = time.perf_counter()
    if case == "disk-read":
        import rasterio
        from rasterio.windows import Window

        total = 0
        with rasterio.open(tif) as ds:
            for r in range(0, ds.height, 1024):
                for c in range(0, ds.width, 1024):
                    a = ds.read(1, window=Window(c, r, min(1024, ds.width - c), min(1024, ds.height - r)))
                    total += int(a[0, 0])
    elif case.startswith("gep-"):
        from gep.spatial.extent import raster_extent
        from gep.spatial.io import load_zone_file

        zones = load_zone_file(gpkg, "zid")
        res = raster_extent({2020: tif}, zones, coverage="fraction" if "fraction" in case else "centre",
                            scheduler="processes" if case.endswith("pool") else "inline")
        px_ha = RES * RES / 1e4
        for r, c, a in res.extent.select("region_id", "class", "area_ha").iter_rows():
            counts[f"{r}|{c}"] = a / px_ha
    elif case == "exactextract":
        from exactextract import exact_extract

        feats = _features(gpkg)
        t0 = time.perf_counter()  # vector preparation not timed (gep's timing includes reading the GPKG)
        for f in exact_extract(str(tif), feats, ["unique", "frac", "count"], include_cols=["zid"], output="geojson"):
            p = f["properties"]
            for v, fr in zip(p["unique"], p["frac"]):
                counts[f"{p['zid']}|{int(v)}"] = float(fr) * float(p["count"])
    elif case == "rasterstats":
        from rasterstats import zonal_stats

        feats = _features(gpkg)
        t0 = time.perf_counter()
        for f, st in zip(feats, zonal_stats(feats, str(tif), categorical=True, nodata=0)):
            for v, n in st.items():
                counts[f"{f['properties']['zid']}|{int(v)}"] = float(n)
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - t0
    rss_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                 resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    out.write_text(json.dumps(counts))
    return {"case": case, "seconds": seconds, "peak_rss_mb": rss_mb}


def agreement(a: dict[str, float], b: dict[str, float]) -> float:
    keys = set(a) | set(b)
    total = sum(b.values()) or 1.0
    return sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys) / total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--zones", type=int, default=2_000)
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "gep-bench-extent")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--case", help=argparse.SUPPRESS)
    args = ap.parse_args()
    tif, gpkg = make_data(args.data, args.size, args.zones)
    if args.case:  # child process
        print(json.dumps(run_case(args.case, tif, gpkg, args.data / f"counts_{args.case}.json")))
        return
    px = args.size * args.size
    rows = []
    for case in args.cases.split(","):
        proc = subprocess.run([sys.executable, __file__, "--size", str(args.size), "--zones", str(args.zones),
                               "--data", str(args.data), "--case", case], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{case}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    base = next((r["seconds"] for r in rows if r["case"] == "disk-read"), None)
    ref = next((r["seconds"] for r in rows if r["case"] == "gep-centre-pool"), None)
    print(f"raster {args.size} × {args.size} = {px / 1e6:.0f} Mpx, {args.zones} Voronoi zones, {os.cpu_count()} CPUs")
    print(f"{'case':<20}{'seconds':>9}{'Mpx/s':>9}{'peak RSS MB':>13}{'× disk read':>13}{'× gep pool':>12}")
    for r in rows:
        print(f"{r['case']:<20}{r['seconds']:>9.2f}{px / 1e6 / r['seconds']:>9.1f}{r['peak_rss_mb']:>13.0f}"
              f"{(r['seconds'] / base) if base else float('nan'):>13.2f}{(r['seconds'] / ref) if ref else float('nan'):>12.2f}")
    loaded = {r["case"]: json.loads((args.data / f"counts_{r['case']}.json").read_text()) for r in rows
              if r["case"] != "disk-read"}
    for a, b in (("gep-centre-pool", "rasterstats"), ("gep-fraction-pool", "exactextract"),
                 ("gep-centre-pool", "exactextract"), ("gep-centre-pool", "gep-centre-inline")):
        if a in loaded and b in loaded:
            print(f"agreement {a} vs {b}: Σ|diff| / total = {agreement(loaded[a], loaded[b]):.3e}")


if __name__ == "__main__":
    main()
