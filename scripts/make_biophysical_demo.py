"""Write the SYNTHETIC demo rasters of the biophysical models (gep/demo_data/rasters/biophysical/).

Three zones carry the codes of 汶川县 (513221), 理县 (513222) and 茂县 (513223), but their
shapes are invented rectangles on a 0.006° CGCS2000 (EPSG:4490) grid near 103.0–103.6 °E,
31.2–31.7 °N; every value (precipitation, ET, DEM, R, K, NEP, land cover) is generated
from smooth fields plus seeded noise. Nothing here is observed data: files are named
``*_synthetic.tif`` and tagged ``data_status=synthetic``.

Run: python scripts/make_biophysical_demo.py  (deterministic; same bytes every run)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

OUT = Path(__file__).resolve().parents[1] / "gep" / "demo_data" / "rasters" / "biophysical"
W, H, RES = 100, 80, 0.006
X0, Y0 = 103.0, 31.7
LABEL = "SYNTHETIC demo data (合成演示数据，非观测数据) - gep scripts/make_biophysical_demo.py"

CLASSES = [  # code, ecosystem type (the 14 Xie 2015 types)
    (1, "旱地"), (2, "水田"), (3, "针叶"), (4, "针阔混交"), (5, "阔叶"), (6, "灌木"), (7, "草原"),
    (8, "灌草丛"), (9, "草甸"), (10, "湿地"), (11, "荒漠"), (12, "裸地"), (13, "水系"), (14, "冰川积雪"),
]


def _write(out: Path, name: str, arr: np.ndarray, dtype: str, nodata: float | int | None, unit: str) -> None:
    path = out / f"{name}_synthetic.tif"
    kw = {"predictor": 3} if dtype.startswith("float") else {"predictor": 2}
    with rasterio.open(path, "w", driver="GTiff", width=W, height=H, count=1, dtype=dtype, crs="EPSG:4490",
                       transform=from_origin(X0, Y0, RES, RES), nodata=nodata, compress="deflate", **kw) as ds:
        ds.write(arr.astype(dtype), 1)
        ds.update_tags(data_status="synthetic", label=LABEL, unit=unit)


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20260101)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float64)
    # zones: three invented rectangles (codes of real counties, shapes NOT real), 0 = outside
    zones = np.zeros((H, W), dtype=np.int32)
    zones[5:75, 3:35] = 513222
    zones[5:45, 35:97] = 513223
    zones[45:78, 35:97] = 513221
    _write(out, "zones", zones, "int32", 0, "region code")
    # DEM: a valley running NE with ridges, 1300-4500 m
    dem = 2600 + 900 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + 12 * (yy - xx) + rng.normal(0, 15, (H, W))
    dem = np.clip(dem, 1300, 4500)
    _write(out, "dem_m", dem, "float32", -9999.0, "m")
    # land cover from elevation bands
    lc = np.select([dem < 1800, dem < 2200, dem < 2700, dem < 3200, dem < 3700, dem < 4100],
                   [1, 5, 4, 3, 6, 9], default=12).astype(np.uint8)
    lc[(dem < 1900) & (np.abs(np.sin(xx / 9.0)) < 0.08)] = 13  # a river on the valley floor
    lc[(dem < 1700) & (xx > 60)] = 2
    lc[dem > 4350] = 14
    _write(out, "landcover", lc, "uint8", 255, "class code (see landcover_classes_synthetic.csv)")
    # precipitation 750-1350 mm, more at altitude; ET 350-800 mm
    p = 750 + 0.18 * (dem - 1300) + rng.normal(0, 20, (H, W))
    _write(out, "precipitation_mm", p, "float32", -9999.0, "mm")
    et = np.clip(800 - 0.12 * (dem - 1300) + rng.normal(0, 15, (H, W)), 250, 900)
    _write(out, "et_mm", et, "float32", -9999.0, "mm")
    # RUSLE R (MJ·mm/(ha·h·yr)) and K (t·ha·h/(ha·MJ·mm))
    r = 1800 + 1.1 * p + rng.normal(0, 40, (H, W))
    _write(out, "r_factor", r, "float32", -9999.0, "MJ·mm/(ha·h·yr)")
    k = np.clip(0.028 + 0.006 * np.sin(yy / 7.0) + rng.normal(0, 0.002, (H, W)), 0.01, 0.05)
    _write(out, "k_factor", k, "float32", -9999.0, "t·ha·h/(ha·MJ·mm)")
    # NEP g C/m2/yr: forests high, bare/glacier ~0, a few small sources
    nep = np.select([lc == 3, lc == 4, lc == 5, lc == 6, lc == 9, lc == 1, lc == 2],
                    [260.0, 300.0, 320.0, 150.0, 90.0, 40.0, 60.0], default=0.0) + rng.normal(0, 10, (H, W))
    _write(out, "nep_gc_m2", nep, "float32", -9999.0, "g C/m2/yr")
    with (out / "landcover_classes_synthetic.csv").open("w", encoding="utf-8") as f:
        f.write("code,ecosystem_type\n")
        for code, t in CLASSES:
            f.write(f"{code},{t}\n")


if __name__ == "__main__":
    main()
