"""Dask: tiles sent to a LocalCluster give byte-identical CSV tables to the in-process run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from gep.spatial import ZoneSet
from gep.spatial.extent import raster_extent
from click.testing import CliRunner

from gep.cli.main import main
from tests._spatial_fixtures import UTM48, X0, Y0, write_raster, write_zones

import distributed


def test_dask_cluster_gives_identical_tables(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    a = rng.integers(1, 10, size=(400, 300), dtype=np.uint8)
    a[:20, :20] = 255
    b = np.where(rng.random(a.shape) < 0.2, rng.integers(1, 10, size=a.shape), a).astype(np.uint8)
    p0 = write_raster(tmp_path / "a.tif", a, tiled=True, block=64)
    p1 = write_raster(tmp_path / "b.tif", b, tiled=True, block=64)
    geoms = [shapely.Point(X0 + x, Y0 - y).buffer(r) for x, y, r in
             [(700, 800, 650), (2200, 1500, 900), (1200, 3000, 1000), (2500, 3500, 400)]]
    z = ZoneSet(["510101", "510102", "510103", "510104"], np.array(geoms), UTM48)
    rasters = {2015: p0, 2020: p1}
    inline = {cov: raster_extent(rasters, z, coverage=cov, scheduler="inline", tile_size=64)
              for cov in ("centre", "fraction")}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        for cov, ref in inline.items():
            # both the address (as --scheduler ADDRESS) and another tiling of the work
            got = raster_extent(rasters, z, coverage=cov, scheduler=cluster.scheduler_address, tile_size=64)
            for name in ("extent", "transitions", "coverage"):
                assert getattr(got, name).write_csv().encode() == getattr(ref, name).write_csv().encode()
            assert ref.extent.height > 10 and ref.transitions.height > 10
        # the command itself: --scheduler ADDRESS writes the same CSV bytes as --scheduler inline
        zfile = write_zones(tmp_path / "zones.gpkg", z.ids, list(z.geoms))
        outs = {}
        for sched in ("inline", cluster.scheduler_address):
            out = tmp_path / ("out_inline" if sched == "inline" else "out_dask")
            res = CliRunner().invoke(main, ["extent", "--landcover-raster", f"2015={p0}", "--landcover-raster",
                                            f"2020={p1}", "--zones", str(zfile), "--zone-id", "CODE",
                                            "--tile-size", "64", "--scheduler", sched, "--out", str(out)])
            assert res.exit_code == 0, res.output
            outs[sched] = {n: (out / "tables" / f"{n}.csv").read_bytes()
                           for n in ("extent", "transitions", "extent_coverage")}
        assert outs["inline"] == outs[cluster.scheduler_address]
