"""Benchmark of the four biophysical models on SYNTHETIC rasters (not a test).

Input: N × N pixels (default 10,000; ``--size 4000`` for a quick run) on a projected 30 m grid
(EPSG:32648): land cover (uint8), precipitation, ET, DEM, R, K, NEP (float32, tiled GeoTIFF,
512 × 512 blocks, no compression), all generated from seeded noise; 2,000 Voronoi zones
(shapely, seed 11) rasterized per tile by the pixel-centre rule. All four models run
(水源涵养, 土壤保持 with Horn slope + local LS, 固碳释氧, 气候调节).

Each case runs in its own subprocess so its peak resident memory (ru_maxrss, self and
children) belongs to that case alone:

* ``inline``: one process, tiles one after another;
* ``processes``: gep.spatial process pool (``--workers``, default 2);
* ``dask``: a dask.distributed LocalCluster with ``--workers`` worker processes, 1 thread each.

Mpixels/s = N² / wall time of ``engine.run`` (reading, models, zonal sums; not the raster
generation). The three cases must give byte-identical quantities (checked).

Run: python benchmarks/bench_biophysical.py [--size 10000] [--zones 2000] [--tile 1024] [--workers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_inputs(folder: Path, n: int, n_zones: int) -> None:
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    x0, y0, res = 300_000.0, 3_600_000.0, 30.0
    prof = {"driver": "GTiff", "width": n, "height": n, "count": 1, "crs": "EPSG:32648",
            "transform": from_origin(x0, y0, res, res), "tiled": True, "blockxsize": 512, "blockysize": 512}
    rng = np.random.default_rng(5)
    specs = {
        "landcover": ("uint8", 255, lambda h, w: rng.integers(1, 15, (h, w), dtype=np.uint8)),
        "precipitation": ("float32", -9999.0, lambda h, w: rng.uniform(600, 1400, (h, w)).astype(np.float32)),
        "et": ("float32", -9999.0, lambda h, w: rng.uniform(300, 800, (h, w)).astype(np.float32)),
        "dem": ("float32", -9999.0, None),
        "r_factor": ("float32", -9999.0, lambda h, w: rng.uniform(1500, 5000, (h, w)).astype(np.float32)),
        "k_factor": ("float32", -9999.0, lambda h, w: rng.uniform(0.01, 0.05, (h, w)).astype(np.float32)),
        "nep": ("float32", -9999.0, lambda h, w: rng.uniform(-20, 400, (h, w)).astype(np.float32)),
    }
    strip = 1024
    for name, (dtype, nodata, gen) in specs.items():
        with rasterio.open(folder / f"{name}.tif", "w", dtype=dtype, nodata=nodata, **prof) as ds:
            for r0 in range(0, n, strip):
                h = min(strip, n - r0)
                if gen is None:  # DEM: smooth hills, 500-3500 m
                    yy, xx = np.mgrid[r0:r0 + h, 0:n].astype(np.float32)
                    arr = (2000 + 1000 * np.sin(xx / 150) * np.cos(yy / 210) + rng.normal(0, 3, (h, n))).astype(
                        np.float32)
                else:
                    arr = gen(h, n)
                ds.write(arr, 1, window=rasterio.windows.Window(0, r0, n, h))
    pts = shapely.points(rng.uniform(x0, x0 + n * res, n_zones), rng.uniform(y0 - n * res, y0, n_zones))
    box = shapely.box(x0, y0 - n * res, x0 + n * res, y0)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=box))
    cells = shapely.intersection(cells, box)
    (folder / "zones.wkb").write_bytes(b"".join(len(w).to_bytes(4, "little") + w for w in shapely.to_wkb(cells)))
    (folder / "classes.csv").write_text(
        "code,ecosystem_type\n" + "".join(f"{i},{t}\n" for i, t in enumerate(
            ["旱地", "水田", "针叶", "针阔混交", "阔叶", "灌木", "草原", "灌草丛", "草甸", "湿地", "荒漠", "裸地", "水系",
             "冰川积雪"], start=1)), encoding="utf-8")


def run_case(folder: Path, case: str, tile: int, workers: int) -> dict[str, object]:
    import shapely

    from gep.biophysical import engine as E
    from gep.biophysical import params as PR
    from gep.coefficients import load_set
    from gep.spatial.zones import ZoneSet

    raw = (folder / "zones.wkb").read_bytes()
    wkbs, i = [], 0
    while i < len(raw):
        k = int.from_bytes(raw[i:i + 4], "little")
        wkbs.append(raw[i + 4:i + 4 + k])
        i += 4 + k
    geoms = shapely.from_wkb(wkbs)
    units = {"landcover": "", "precipitation": "mm", "et": "mm", "dem": "m", "r_factor": "MJ·mm/(ha·h·yr)",
             "k_factor": "t·ha·h/(ha·MJ·mm)", "nep": "g C/m2/yr"}
    rasters = {r: E.RasterInput(r, str(folder / f"{r}.tif"), u, f"{r}.tif") for r, u in units.items()}
    params, _ = PR.resolve(load_set("biophysical_cn"), PR.load_classes(folder / "classes.csv"))
    grid, _, _ = E.open_grid(rasters["landcover"])
    zones = ZoneSet([f"z{j:04d}" for j in range(len(geoms))], np.asarray(geoms, dtype=object), grid.crs_wkt)
    client = cluster = None
    scheduler: object = "inline"
    if case == "processes":
        scheduler = "processes"
    elif case == "dask":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
        scheduler = client
    t0 = time.perf_counter()
    res = E.run(rasters, params, E.Options(slope_length_m=60.0), 2020, zones=zones, tile_size=tile,
                scheduler=scheduler, workers=workers)
    wall = time.perf_counter() - t0
    if client is not None:
        client.close()
        cluster.close()  # type: ignore[union-attr]
    digest = hashlib.sha256(res.quantities.write_csv(float_precision=None).encode()).hexdigest()[:16]
    return {"case": case, "wall_s": round(wall, 2), "mpix_per_s": round(grid.width * grid.height / wall / 1e6, 2),
            "rows": res.quantities.height, "sha256_16": digest,
            "peak_rss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "peak_rss_children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--zones", type=int, default=2000)
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cases", default="inline,processes,dask")
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        print(json.dumps(run_case(Path(a.folder), a.case, a.tile, a.workers)))
        return
    with tempfile.TemporaryDirectory(prefix="gep-bench-bio-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_inputs(folder, a.size, a.zones)
        print(f"inputs: {a.size} × {a.size} px, 7 rasters, {a.zones} zones, generated in "
              f"{time.perf_counter() - t0:.1f} s", flush=True)
        results = []
        for case in a.cases.split(","):
            out = subprocess.run([sys.executable, __file__, "--case", case, "--folder", str(folder), "--tile",
                                  str(a.tile), "--workers", str(a.workers)], capture_output=True, text=True,
                                 cwd=ROOT, check=False)
            if out.returncode:
                print(f"{case}: failed\n{out.stderr[-2000:]}", flush=True)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            results.append(r)
            print(json.dumps(r), flush=True)
        digests = {r["sha256_16"] for r in results}
        print("identical quantities across cases:", len(digests) == 1)


if __name__ == "__main__":
    main()
