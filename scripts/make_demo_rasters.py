"""Write the SYNTHETIC land-cover raster pair of the demo: gep/demo_data/rasters/synthetic_clcd_{2015,2020}.tif.

合成演示数据，非官方统计 — invented land cover, NOT a real map. Three Ya'an counties (雨城区 511802,
名山区 511803, 芦山县 511826), EPSG:4326 at 0.001° (≈ 100 m), CLCD class codes 1–9, nodata 0 outside the
counties, DEFLATE-compressed 256 × 256 tiles. Forest dominates the mountainous west, cropland the
east; 2020 = 2015 with cropland → impervious growth around the county seats and some cropland → forest
(Grain for Green). Deterministic (seed 2020): rerunning writes the same pixels.

Usage: python scripts/make_demo_rasters.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio import features
from rasterio.transform import from_origin
from scipy.ndimage import gaussian_filter

from gep.regions import load_registry
from gep.spatial.io import registry_zones

COUNTIES = ["511802", "511803", "511826"]
RES_DEG = 0.001
SEED = 2020
TAGS = {"DATA_STATUS": "synthetic", "GEP_LABEL": "合成演示数据，非官方统计 (synthetic demo data, not official statistics)",
        "CLASS_SCHEME": "CLCD codes (1 Cropland, 2 Forest, 3 Shrub, 4 Grassland, 5 Water, 6 Snow/Ice, 7 Barren, "
        "8 Impervious, 9 Wetland)", "GENERATOR": "scripts/make_demo_rasters.py"}


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    z = gaussian_filter(rng.standard_normal(shape), sigma)
    return (z - z.mean()) / z.std()


def make(out_dir: Path) -> list[Path]:
    zones = registry_zones(load_registry("sichuan"))
    keep = [zones.ids.index(c) for c in COUNTIES]
    geoms = zones.geoms[keep]
    xmin, ymin, xmax, ymax = np.array([g.bounds for g in geoms]).T
    x0, y0 = np.floor(xmin.min() / RES_DEG) * RES_DEG, np.ceil(ymax.max() / RES_DEG) * RES_DEG
    w = int(np.ceil((xmax.max() - x0) / RES_DEG))
    h = int(np.ceil((y0 - ymin.min()) / RES_DEG))
    transform = from_origin(x0, y0, RES_DEG, RES_DEG)
    inside = features.rasterize([(g, 1) for g in geoms], out_shape=(h, w), transform=transform, fill=0, dtype=np.uint8)
    rng = np.random.default_rng(SEED)
    east = np.linspace(-1.5, 1.5, w)[None, :].repeat(h, axis=0)  # lowland to the east
    relief = smooth_noise(rng, (h, w), 25) - east  # high = mountain
    lc = np.full((h, w), 2, dtype=np.uint8)  # forest
    lc[relief < -0.6] = 1  # cropland in the lowlands
    lc[(relief >= 1.6)] = 4  # alpine grassland
    lc[(relief >= 2.3)] = 7  # barren summits
    shrub = smooth_noise(rng, (h, w), 6) > 1.2
    lc[shrub & (lc == 2)] = 3
    river = np.abs(smooth_noise(rng, (h, w), 40)) < 0.03
    lc[river] = 5
    towns = [(103.04, 29.98), (103.11, 30.08), (102.92, 30.15)]  # near the county seats
    yy, xx = np.mgrid[0:h, 0:w]
    lon, lat = x0 + (xx + 0.5) * RES_DEG, y0 - (yy + 0.5) * RES_DEG
    dist = np.min([np.hypot(lon - a, lat - b) for a, b in towns], axis=0)
    lc[(dist < 0.012) & (lc != 5)] = 8
    lc2020 = lc.copy()
    grow = (dist < 0.02) & (lc == 1) & (smooth_noise(rng, (h, w), 2) > -0.3)
    lc2020[grow] = 8
    green = (lc == 1) & (relief > -0.75) & (smooth_noise(rng, (h, w), 4) > 0.8)
    lc2020[green] = 2
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for year, arr in ((2015, lc), (2020, lc2020)):
        arr = np.where(inside == 1, arr, 0).astype(np.uint8)
        path = out_dir / f"synthetic_clcd_{year}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="uint8", crs="EPSG:4326",
                           transform=transform, nodata=0, tiled=True, blockxsize=256, blockysize=256,
                           compress="deflate", predictor=2) as ds:
            ds.write(arr, 1)
            ds.update_tags(YEAR=str(year), **TAGS)
            ds.update_tags(1, DESCRIPTION=f"synthetic land cover {year}")
        written.append(path)
    return written


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "gep" / "demo_data" / "rasters"
    for p in make(out):
        print(p, p.stat().st_size, "bytes")
