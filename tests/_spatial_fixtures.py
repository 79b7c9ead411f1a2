"""Tiny rasters and zone files written in the tests (hand-countable), for tests/test_spatial_*.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import rasterio
import shapely
from rasterio.transform import from_origin

UTM48 = "EPSG:32648"
X0, Y0, RES = 500000.0, 3400000.0, 10.0  # 10 m pixels: 1 pixel = 100 m² = 0.01 ha

LC2015 = np.array([[1, 1, 2, 2],
                   [1, 1, 2, 2],
                   [3, 3, 2, 2],
                   [3, 4, 2, 255]], dtype=np.uint8)
LC2020 = np.array([[1, 2, 2, 2],
                   [1, 1, 2, 2],
                   [3, 3, 5, 2],
                   [3, 4, 2, 2]], dtype=np.uint8)


def write_raster(path: Path, data: np.ndarray, *, crs: str | None = UTM48, x0: float = X0, y0: float = Y0,
                 res: float | tuple[float, float] = RES, nodata: float | None = 255, tiled: bool = False,
                 block: int = 256, compress: str | None = None) -> Path:
    rx, ry = (res, res) if isinstance(res, (int, float)) else res
    profile = dict(driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype=data.dtype.name,
                   transform=from_origin(x0, y0, rx, ry), nodata=nodata)
    if crs:
        profile["crs"] = crs
    if tiled:
        profile.update(tiled=True, blockxsize=block, blockysize=block)
    if compress:
        profile["compress"] = compress
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data, 1)
    return path


def write_zones(path: Path, ids: list, geoms: list, *, crs: str | None = UTM48, id_field: str = "CODE",
                driver: str | None = None, extra: dict | None = None, encoding: str | None = None) -> Path:
    fields = [id_field] + list((extra or {}).keys())
    data = [np.array(ids, dtype=object)] + [np.array(v, dtype=object) for v in (extra or {}).values()]
    geom_type = "MultiPolygon" if any(g is not None and g.geom_type == "MultiPolygon" for g in geoms) else "Polygon"
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object)
    kw = {"encoding": encoding} if encoding else {}
    pyogrio.raw.write(str(path), wkb, data, fields, crs=crs, geometry_type=geom_type, driver=driver, **kw)
    return path


def half_zones() -> tuple[list[str], list]:
    """Zone A = left two columns, zone B = right two columns of the 4 × 4 test raster."""
    return ["A", "B"], [shapely.box(X0, Y0 - 40, X0 + 20, Y0), shapely.box(X0 + 20, Y0 - 40, X0 + 40, Y0)]
