"""Tile driver of the biophysical models: rasters on one grid → per-zone quantities.

Reads windows with rasterio, converts declared units to the kernels' units
(gep.units where it can parse them, a fixed list for the RUSLE R and K factors),
checks values (located errors with file and pixel row/col), runs the kernels of
:mod:`gep.biophysical.kernels` and adds the pixels to exact per-(zone, ecosystem
type) sums (:mod:`gep.biophysical.zonal`). Tiles are mapped with
:func:`gep.spatial.runner.map_tiles` (inline, process pool or Dask); partial sums
are integers, so every scheduler and every tiling gives the same bytes.

Zones follow the pixel-centre rule (:func:`gep.spatial.zones.rasterize_zones`).
Rasters must share one grid (CRS, transform, size); gep never resamples — a raster
that differs is refused naming what differs (GRID_MISMATCH).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import rasterio
from pyproj import CRS, Geod

from gep.biophysical import kernels as K
from gep.biophysical.zonal import ZonalAccumulator
from gep.errors import InputError, Problem, UnitError
from gep.spatial.grid import Grid, Tile, check_same_grid, iter_tiles, row_pixel_area_m2
from gep.spatial.runner import INLINE, map_tiles
from gep.spatial.zones import ZoneSet, rasterize_zones
from gep.units import conversion_factor, parse_compound

QUANTITY_COLUMNS: tuple[str, ...] = ("region_id", "year", "service", "component", "quantity", "unit",
                                     "ecosystem_type")
"""The account's quantities contract (gep.account.inputs.QUANTITIES_SPEC)."""

ROLES: dict[str, str] = {
    "precipitation": "annual precipitation P, mm (or m, any length unit)",
    "et": "actual evapotranspiration ET, mm per year; 1 band (annual) or n bands (e.g. 12 months)",
    "temperature": "mean air temperature, °C, same bands as et (limits 气候调节 to periods above the threshold)",
    "dem": "elevation, m",
    "r_factor": "rainfall erosivity R, MJ·mm/(ha·h·yr)",
    "k_factor": "soil erodibility K, t·ha·h/(ha·MJ·mm)",
    "nep": "net ecosystem production (or NPP), g C/m2/yr",
    "landcover": "land-cover class codes (integers), mapped to ecosystem types by the classes table",
}

R_UNITS: dict[str, float] = {s: 1.0 for s in (
    "MJ·mm/(ha·h·yr)", "MJ*mm/(ha*h*yr)", "MJ mm ha-1 h-1 yr-1", "MJ·mm/(hm2·h·a)", "MJ·mm/(hm²·h·a)",
    "MJ·mm·ha-1·h-1·a-1", "MJ·mm/(ha·h·a)")}
"""Accepted spellings of the SI rainfall-erosivity unit (RUSLE, Renard et al. 1997)."""
K_UNITS: dict[str, float] = {s: 1.0 for s in (
    "t·ha·h/(ha·MJ·mm)", "t*ha*h/(ha*MJ*mm)", "t ha h ha-1 MJ-1 mm-1", "t·hm2·h/(hm2·MJ·mm)",
    "t·hm²·h/(hm²·MJ·mm)", "t·h/(MJ·mm)", "t·h·MJ-1·mm-1")}
"""Accepted spellings of the SI soil-erodibility unit."""
TEMPERATURE_UNITS: dict[str, float] = {"°C": 1.0, "degC": 1.0, "℃": 1.0, "C": 1.0}

# plausible ranges in the kernels' units: (low, high); outside → OUT_OF_RANGE located error
RANGES: dict[str, tuple[float, float]] = {
    "precipitation": (0.0, 20_000.0),
    "et": (0.0, 5_000.0),
    "temperature": (-80.0, 60.0),
    "dem": (-500.0, 9_000.0),
    "r_factor": (0.0, 100_000.0),
    "k_factor": (0.0, 1.0),
    "nep": (-5_000.0, 10_000.0),
}
CANONICAL: dict[str, str] = {"precipitation": "mm", "et": "mm", "dem": "m", "nep": "g C/m2/yr"}
MAX_LOCATED = 5
"""Located examples reported per (problem code, raster); the count covers all pixels."""


@dataclass(frozen=True)
class RasterInput:
    """One input raster: ``role`` (key of :data:`ROLES` or a generic quantity name), local ``path``,
    declared ``unit``, ``display`` (the name shown in messages)."""

    role: str
    path: str
    unit: str
    display: str


@dataclass(frozen=True)
class GenericQuantity:
    """A raster summed by zone into quantities rows (InVEST output, sand-fixation map ...).

    ``unit`` is per pixel: a total (``t``, ``m3``) or a density (``t/ha``, ``m3/hm2``) multiplied by the
    pixel area; the rows get ``service``/``component`` and ``out_unit``.
    """

    raster: RasterInput
    service: str
    component: str
    out_unit: str


@dataclass(frozen=True)
class Params:
    """Parameters of a run resolved from the coefficient set (kernels' units)."""

    type_names: tuple[str, ...]
    """Ecosystem types, index = type index used in the lookups."""
    class_to_type: npt.NDArray[np.int32]
    """Land-cover code → type index (−1 = code not in the classes table)."""
    runoff_coefficient: npt.NDArray[np.float64]
    usle_c: npt.NDArray[np.float64]
    usle_p: npt.NDArray[np.float64]
    climate_surface: npt.NDArray[np.int8]
    bulk_density_t_per_m3: float
    sedimentation_coefficient: float
    soil_n_fraction: float
    soil_p_fraction: float
    latent_heat_j_per_g: float
    ac_eer: float
    humidifier_kwh_per_m3: float


@dataclass(frozen=True)
class Options:
    """Model options of a run (see the step's Config)."""

    s_formula: K.SFormula = "liu1994"
    slope_length_m: float | None = None
    l_max: float | None = None
    o2_method: K.O2Method = "dry_matter"
    carbon_basis: str = "nep"
    ac_threshold_c: float = 26.0
    negative_water: str = "clip"
    allow_nodata: bool = False


@dataclass
class Job:
    """Everything a tile needs (picklable: it travels to process-pool and Dask workers)."""

    grid: Grid
    rasters: dict[str, RasterInput]
    generic: list[GenericQuantity]
    params: Params
    options: Options
    zones: ZoneSet | None
    zone_raster: RasterInput | None
    zone_codes: npt.NDArray[np.int64] | None
    zone_count: int
    factors: dict[str, float]
    generic_factors: dict[str, tuple[float, bool]]
    models: tuple[str, ...]
    names: tuple[str, ...]
    keep_pixels: bool = False


@dataclass
class TileResult:
    acc: ZonalAccumulator
    problems: dict[tuple[str, str], list[Problem]]
    counts: dict[tuple[str, str], int]
    pixels: dict[str, npt.NDArray[np.float64]] | None = None


# ---------------------------------------------------------------------------- units


def unit_factor(role: str, unit: str, display: str) -> float:
    """Factor from the declared ``unit`` of a raster to the kernel unit of its ``role``."""
    u = unit.strip()
    if role == "r_factor" or role == "k_factor":
        table = R_UNITS if role == "r_factor" else K_UNITS
        key = u.replace(" ", "") if u.replace(" ", "") in table else u
        if key in table:
            return table[key]
        raise UnitError([Problem("UNKNOWN_UNIT", f"unit '{unit}' of the {role} raster is not one gep knows",
                                 file=display, column=role, value=unit,
                                 expected="the SI unit " + next(iter(table)) + " (convert US customary units "
                                 "first: R × 17.02, K × 0.1317, Renard et al. 1997)")])
    if role == "temperature":
        if u in TEMPERATURE_UNITS:
            return TEMPERATURE_UNITS[u]
        raise UnitError([Problem("UNKNOWN_UNIT", f"unit '{unit}' of the temperature raster is not °C", file=display,
                                 column=role, value=unit, expected="°C (degC)")])
    if role == "landcover":
        return 1.0
    target = CANONICAL[role]
    try:
        if role == "nep" and not parse_compound(u).denominators[1:]:
            return conversion_factor(u, "g C/m2", context=f"{display} ({role})")  # per year implied
        return conversion_factor(u, target, context=f"{display} ({role})")
    except UnitError as exc:
        raise UnitError([Problem(p.code, p.message, file=display, column=role, value=unit,
                                 expected=f"a unit convertible to {target}") for p in exc.problems]) from exc


def generic_factor(q: GenericQuantity) -> tuple[float, bool]:
    """(factor, per_area): per-pixel value × factor [× pixel area in ha when per_area] = value in out_unit."""
    cu = parse_compound(q.raster.unit, context=q.raster.display)
    if cu.denominators and cu.denominators[0].dimension == "area":
        num = cu.numerator.text
        per_ha = conversion_factor(q.raster.unit, f"{num}/ha", context=q.raster.display)
        return per_ha * conversion_factor(num, q.out_unit, context=q.raster.display), True
    return conversion_factor(q.raster.unit, q.out_unit, context=q.raster.display), False


# ---------------------------------------------------------------------------- grid


def open_grid(r: RasterInput) -> tuple[Grid, int, float | None]:
    """(grid, band count, nodata) of a raster; InputError NOT_A_RASTER when rasterio cannot open it."""
    try:
        with rasterio.open(r.path) as ds:
            return Grid.from_dataset(ds), ds.count, ds.nodata
    except rasterio.errors.RasterioIOError as exc:
        raise InputError([Problem("NOT_A_RASTER", f"cannot open the {r.role} raster: {exc}", file=r.display,
                                  column=r.role, expected="a GeoTIFF (or any raster GDAL reads)")]) from exc


def pixel_dims_m(grid: Grid, row_off: int, height: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(dx, dy) [m] of the pixels of rows row_off..row_off+height−1, shape (height, 1) each.

    Geographic grids: geodesic lengths on the CRS's ellipsoid (pyproj.Geod) along the row's centre
    parallel (dx) and along a meridian across the row (dy). Projected: |a|, |e| × linear unit.
    """
    crs = CRS.from_wkt(grid.crs_wkt)
    a, _, c, _, e, f = grid.transform
    if crs.is_geographic:
        ell = crs.ellipsoid
        geod = Geod(a=ell.semi_major_metre, rf=ell.inverse_flattening) if ell is not None else Geod(ellps="WGS84")
        rows = np.arange(row_off, row_off + height, dtype=np.float64)
        lat_c = f + e * (rows + 0.5)
        _, _, dx = geod.inv(np.full(height, c), lat_c, np.full(height, c + a), lat_c)
        _, _, dy = geod.inv(np.full(height, c), f + e * rows, np.full(height, c), f + e * (rows + 1))
        return np.asarray(dx, dtype=np.float64).reshape(-1, 1), np.asarray(dy, dtype=np.float64).reshape(-1, 1)
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    return (np.full((height, 1), abs(a) * unit), np.full((height, 1), abs(e) * unit))


# ---------------------------------------------------------------------------- reading


def _read(r: RasterInput, tile: Tile, halo: int = 0, bands: bool = False) -> npt.NDArray[np.float64]:
    """Window of a raster as float64 with nodata → NaN; with ``halo`` the window grows by that many pixels,
    edge-replicated at the raster border; with ``bands`` all bands (bands, rows, cols)."""
    with rasterio.open(r.path) as ds:
        r0, c0 = tile.row_off - halo, tile.col_off - halo
        r1, c1 = tile.row_off + tile.height + halo, tile.col_off + tile.width + halo
        rr0, cc0, rr1, cc1 = max(r0, 0), max(c0, 0), min(r1, ds.height), min(c1, ds.width)
        win = rasterio.windows.Window(cc0, rr0, cc1 - cc0, rr1 - rr0)
        data = ds.read(None if bands else 1, window=win).astype(np.float64)
        nod = ds.nodata
    if nod is not None:
        data[data == nod] = np.nan
    if halo:
        pad = ((rr0 - r0, r1 - rr1), (cc0 - c0, c1 - cc1))
        data = np.pad(data, ((0, 0), *pad) if bands else pad, mode="edge")
    return data


def _locate(problems: dict[tuple[str, str], list[Problem]], counts: dict[tuple[str, str], int], code: str,
            r: RasterInput, mask: npt.NDArray[np.bool_], values: npt.NDArray[np.float64], tile: Tile,
            message: str, expected: str) -> None:
    """Record pixels of ``mask`` as located problems (first MAX_LOCATED of the tile) and count them all."""
    if not mask.any():
        return
    key = (code, r.display)
    counts[key] = counts.get(key, 0) + int(mask.sum())
    found = problems.setdefault(key, [])
    rows, cols = np.nonzero(mask if mask.ndim == 2 else mask.any(axis=0))
    for rr, cc in zip(rows[: MAX_LOCATED - len(found)], cols[: MAX_LOCATED - len(found)], strict=False):
        v = values[rr, cc] if values.ndim == 2 else values[:, rr, cc]
        shown = f"{float(np.nanmin(v)):g}" if np.ndim(v) else ("nodata" if np.isnan(v) else f"{float(v):g}")
        found.append(Problem(code, f"{message} at pixel row {tile.row_off + rr}, col {tile.col_off + cc} "
                             "(0-based)", file=r.display, column=r.role, value=shown, expected=expected))


# ---------------------------------------------------------------------------- one tile


def run_tile(tile: Tile, job: Job) -> TileResult:
    """All models on one tile → partial per-(zone, type) sums, located problems, optional pixel arrays.

    Pure with respect to its inputs: it reads windows and returns values, it writes nothing.
    """
    problems: dict[tuple[str, str], list[Problem]] = {}
    counts: dict[tuple[str, str], int] = {}
    p, opt = job.params, job.options
    n_types = len(p.type_names)
    # zones
    if job.zones is not None:
        zone_idx = rasterize_zones(job.zones, job.grid, tile).astype(np.int64) - 1
    else:
        assert job.zone_raster is not None and job.zone_codes is not None
        zr = _read(job.zone_raster, tile)
        zr = np.where(np.isnan(zr) | (zr == 0), -1, zr).astype(np.int64)  # 0 = outside every zone
        pos = np.searchsorted(job.zone_codes, zr)
        pos = np.minimum(pos, len(job.zone_codes) - 1)
        zone_idx = np.where(job.zone_codes[pos] == zr, pos, -1)
    inzone = zone_idx >= 0
    # land cover → ecosystem type
    lc_r = job.rasters["landcover"]
    lc = _read(lc_r, tile)
    lc_ok = ~np.isnan(lc)
    codes = np.where(lc_ok, lc, -1).astype(np.int64)
    in_table = (codes >= 0) & (codes < len(p.class_to_type))
    type_idx = np.where(in_table, p.class_to_type[np.clip(codes, 0, len(p.class_to_type) - 1)], -1)
    _locate(problems, counts, "UNKNOWN_CLASS", lc_r, inzone & lc_ok & (type_idx < 0), lc, tile,
            "land-cover code not in the classes table", "a code listed in the classes table (code, ecosystem_type)")
    lc_missing = inzone & ~lc_ok
    if lc_missing.any():
        if opt.allow_nodata:
            counts[("NODATA_SKIPPED", lc_r.display)] = counts.get(("NODATA_SKIPPED", lc_r.display), 0) + int(
                lc_missing.sum())
        else:
            _locate(problems, counts, "NODATA_IN_ZONE", lc_r, lc_missing, lc, tile, "landcover is nodata inside a zone",
                    "a land-cover code on every pixel inside the zones (or allow_nodata = true to skip such pixels)")
    valid = inzone & (type_idx >= 0)
    area_m2 = row_pixel_area_m2(job.grid, tile.row_off, tile.height).reshape(-1, 1)
    area = np.broadcast_to(area_m2, valid.shape)
    t = np.maximum(type_idx, 0)

    data: dict[str, npt.NDArray[np.float64]] = {}
    for role, r in job.rasters.items():
        if role in ("landcover", "dem"):
            continue
        arr = _read(r, tile, bands=role in ("et", "temperature")) * job.factors[role]
        data[role] = arr
    dem = None
    if "dem" in job.rasters:
        dem = _read(job.rasters["dem"], tile, halo=1) * job.factors["dem"]
    # nodata and range checks on in-zone pixels
    usable = valid.copy()
    checked = dict(data)
    if dem is not None:
        checked["dem"] = dem[1:-1, 1:-1]
    for role, arr in checked.items():
        r = job.rasters[role]
        nan = np.isnan(arr) if arr.ndim == 2 else np.isnan(arr).any(axis=0)
        nan &= inzone
        if nan.any():
            if opt.allow_nodata:
                counts[("NODATA_SKIPPED", r.display)] = counts.get(("NODATA_SKIPPED", r.display), 0) + int(nan.sum())
            else:
                _locate(problems, counts, "NODATA_IN_ZONE", r, nan, arr, tile, f"{role} is nodata inside a zone",
                        "a value on every pixel inside the zones (or allow_nodata = true to skip such pixels)")
            usable &= ~nan
        lo, hi = RANGES[role]
        with np.errstate(invalid="ignore"):
            bad = (arr < lo) | (arr > hi)
        bad = (bad if arr.ndim == 2 else bad.any(axis=0)) & inzone
        _locate(problems, counts, "OUT_OF_RANGE", r, bad, arr, tile,
                f"{role} outside the plausible range {lo:g}..{hi:g} {CANONICAL.get(role, '')} (after unit conversion)",
                f"{lo:g} ≤ value ≤ {hi:g}; check the unit declared for this raster")
    valid = usable
    zt = np.where(valid, zone_idx * n_types + t, -1)
    values: dict[str, npt.NDArray[Any]] = {"area_m2": area, "pixels": valid}
    pix: dict[str, npt.NDArray[np.float64]] = {}

    keep = job.keep_pixels
    et_annual = None
    if "et" in data:
        et_annual = data["et"].sum(axis=0) if data["et"].ndim == 3 else data["et"]
    # only what cannot be derived from other totals is summed per pixel; linear by-products (sediment, N, P,
    # CO2, O2, actual erosion) are derived from the exact totals in _tables
    if "water_conservation" in job.models:
        assert et_annual is not None
        wb = K.water_conservation(data["precipitation"], et_annual, p.runoff_coefficient[t], area)
        q = wb.conservation_m3
        values["water_m3"] = np.maximum(q, 0.0) if opt.negative_water == "clip" else q
        values["water_negative_m3"] = np.minimum(q, 0.0)
        values["water_negative_pixels"] = wb.negative
        if keep:
            pix["water_conservation_m3"] = np.where(valid, values["water_m3"], np.nan)
    if "soil_retention" in job.models:
        assert dem is not None
        dx, dy = pixel_dims_m(job.grid, tile.row_off, tile.height)
        slope = K.slope_horn_deg(dem, dx, dy)
        lam = opt.slope_length_m if opt.slope_length_m is not None else dx
        ls = K.ls_factor_local(slope, lam, opt.s_formula, opt.l_max)
        sr = K.soil_retention(data["r_factor"], data["k_factor"], ls, p.usle_c[t], p.usle_p[t], area)
        values["soil_potential_t"] = sr.potential_t
        values["soil_retention_t"] = sr.retention_t
        if keep:
            pix["soil_retention_t"] = np.where(valid, sr.retention_t, np.nan)
    if "carbon_oxygen" in job.models:
        values["carbon_t_c"] = data["nep"] * area * K.G_PER_M2_TO_T
        values["nep_negative_pixels"] = data["nep"] < 0
        if keep:
            co = K.carbon_oxygen(data["nep"], area, opt.o2_method)
            pix["co2_t"] = np.where(valid, co.co2_t, np.nan)
    if "climate_regulation" in job.models:
        assert "et" in data
        cs = p.climate_surface[t]
        cr = K.climate_regulation(np.nan_to_num(data["et"]), area, cs == 1, cs == 2, p.latent_heat_j_per_g, p.ac_eer,
                                  p.humidifier_kwh_per_m3, data.get("temperature"), opt.ac_threshold_c)
        values["climate_vegetation_kwh"] = cr.vegetation_kwh
        values["climate_water_kwh"] = cr.water_surface_kwh
        if keep:
            pix["climate_regulation_kwh"] = np.where(valid, cr.vegetation_kwh + cr.water_surface_kwh, np.nan)
    for g in job.generic:
        arr = _read(g.raster, tile)
        nan = np.isnan(arr) & valid
        if nan.any() and not opt.allow_nodata:
            _locate(problems, counts, "NODATA_IN_ZONE", g.raster, nan, arr, tile, "nodata inside a zone",
                    "a value on every pixel inside the zones (or allow_nodata = true)")
        fac, per_area = job.generic_factors[g.raster.role]
        v = np.nan_to_num(arr) * fac
        if per_area:
            v = v * area / K.M2_PER_HA
        values[f"generic:{g.raster.role}"] = v
    acc = ZonalAccumulator(max(1, job.zone_count) * n_types, job.names)
    acc.add(zt, values, valid)
    return TileResult(acc.sparsify(), problems, counts, pix if job.keep_pixels else None)


# ---------------------------------------------------------------------------- whole run

MODEL_INPUTS: dict[str, tuple[str, ...]] = {
    "water_conservation": ("precipitation", "et", "landcover"),
    "soil_retention": ("dem", "r_factor", "k_factor", "landcover"),
    "carbon_oxygen": ("nep", "landcover"),
    "climate_regulation": ("et", "landcover"),
}
MODEL_NAMES: dict[str, tuple[str, ...]] = {
    "water_conservation": ("water_m3", "water_negative_m3", "water_negative_pixels"),
    "soil_retention": ("soil_potential_t", "soil_retention_t"),
    "carbon_oxygen": ("carbon_t_c", "nep_negative_pixels"),
    "climate_regulation": ("climate_vegetation_kwh", "climate_water_kwh"),
}


@dataclass(frozen=True)
class BiophysicalResult:
    """Quantities rows for the account, the per-zone detail and the problems worth a warning."""

    quantities: pl.DataFrame
    detail: pl.DataFrame
    warnings: list[Problem]
    pixels: dict[str, npt.NDArray[np.float64]] | None = None


def models_for(rasters: dict[str, RasterInput]) -> tuple[str, ...]:
    """The models whose inputs are all present (climate regulation whenever ET is given)."""
    return tuple(m for m, need in MODEL_INPUTS.items() if all(r in rasters for r in need))


def _zone_codes(tile: Tile, zr: RasterInput) -> npt.NDArray[np.int64]:
    arr = _read(zr, tile)
    return np.unique(arr[~np.isnan(arr) & (arr != 0)]).astype(np.int64)


def prepare(rasters: dict[str, RasterInput], generic: Sequence[GenericQuantity], *,
            zone_raster: RasterInput | None = None) -> tuple[Grid, dict[str, float], dict[str, tuple[float, bool]]]:
    """Check grids, bands and units of every raster before any pixel is computed (all problems at once)."""
    problems: list[Problem] = []
    grids: dict[str, Grid] = {}
    bands: dict[str, int] = {}
    all_r = list(rasters.values()) + [g.raster for g in generic] + ([zone_raster] if zone_raster else [])
    for r in all_r:
        try:
            g, n, _nod = open_grid(r)
            grids[r.display] = g
            bands[r.role] = n
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    try:
        check_same_grid(grids, purpose="the biophysical models")
    except InputError as exc:
        problems.extend(exc.problems)
    for role, n in bands.items():
        if role not in ("et", "temperature") and n != 1 and role in rasters:
            problems.append(Problem("BAD_RASTER", f"the {role} raster has {n} bands; gep reads one", file=rasters[role].display,
                                    column=role, value=str(n), expected="a single-band raster"))
    if "temperature" in rasters and bands.get("temperature") != bands.get("et"):
        problems.append(Problem("BAD_RASTER", "temperature and ET must have the same bands (periods)",
                                file=rasters["temperature"].display, column="temperature",
                                value=f"{bands.get('temperature')} vs {bands.get('et')} bands",
                                expected="one temperature band per ET band (e.g. 12 months each)"))
    factors: dict[str, float] = {}
    for role, r in rasters.items():
        try:
            factors[role] = unit_factor(role, r.unit, r.display)
        except (UnitError, KeyError) as exc:
            if isinstance(exc, UnitError):
                problems.extend(exc.problems)
            else:
                problems.append(Problem("UNKNOWN_ROLE", f"'{role}' is not a raster gep's models read", file=r.display,
                                        value=role, expected="one of " + ", ".join(ROLES)))
    gfac: dict[str, tuple[float, bool]] = {}
    for g in generic:
        try:
            gfac[g.raster.role] = generic_factor(g)
        except UnitError as exc:
            problems.extend(Problem(p.code, p.message, file=g.raster.display, column=g.raster.role, value=p.value,
                                    expected=p.expected) for p in exc.problems)
    if problems:
        raise InputError(problems)
    return next(iter(grids.values())), factors, gfac


def run(rasters: dict[str, RasterInput], params: Params, options: Options, year: int, *,
        zones: ZoneSet | None = None, zone_raster: RasterInput | None = None,
        generic: Sequence[GenericQuantity] = (), tile_size: int = 1024, scheduler: Any = INLINE,
        workers: int | None = None, keep_pixels: bool = False) -> BiophysicalResult:
    """Run every model whose inputs are given over all tiles; zones from polygons (in the grid CRS) or a raster.

    Raises InputError with every located problem (nothing is returned, nothing written). Warnings
    (negative water balances set to 0, negative NEP, skipped nodata) come back in the result.
    """
    if (zones is None) == (zone_raster is None):
        raise InputError([Problem("BAD_CONFIG", "give zones as polygons or as a zone raster (one of them)",
                                  column="zones", expected="a polygon file with a region id column, or a raster")])
    models = models_for(rasters)
    if not models and not generic:
        raise InputError([Problem("BAD_CONFIG", "no model has all its rasters", column="rasters",
                                  value=", ".join(sorted(rasters)) or "none",
                                  expected="; ".join(f"{m}: {', '.join(n)}" for m, n in MODEL_INPUTS.items()))])
    if "landcover" not in rasters:
        raise InputError([Problem("BAD_CONFIG", "the land-cover raster is required (ecosystem types)",
                                  column="landcover", expected="a raster of land-cover codes")])
    grid, factors, gfac = prepare(rasters, generic, zone_raster=zone_raster)
    tiles = list(iter_tiles(grid, tile_size, tile_size))
    if zone_raster is not None:
        parts = map_tiles(_zone_codes, tiles, zone_raster, scheduler=scheduler, workers=workers)
        codes = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64)
        zone_ids = [str(int(c)) for c in codes]
    else:
        assert zones is not None
        codes = None
        zone_ids = list(zones.ids)
    names = tuple(n for m in models for n in MODEL_NAMES[m]) + ("area_m2", "pixels") + tuple(
        f"generic:{g.raster.role}" for g in generic)
    job = Job(grid, dict(rasters), list(generic), params, options, zones, zone_raster, codes, len(zone_ids),
              factors, gfac, models, names, keep_pixels)
    results = map_tiles(run_tile, tiles, job, scheduler=scheduler, workers=workers)
    n_types = len(params.type_names)
    acc = ZonalAccumulator(max(1, len(zone_ids)) * n_types, names)
    located: dict[tuple[str, str], list[Problem]] = {}
    counts: dict[tuple[str, str], int] = {}
    for res in results:  # tile-index order
        acc.merge(res.acc)
        for k, v in res.problems.items():
            located.setdefault(k, []).extend(v)
        for k, n in res.counts.items():
            counts[k] = counts.get(k, 0) + n
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for (code, file), n in sorted(counts.items()):
        if code == "NODATA_SKIPPED":
            warnings.append(Problem("NODATA_SKIPPED", f"{n} pixels inside the zones are nodata and were skipped "
                                    "(allow_nodata = true): their quantities are missing, not zero", file=file,
                                    value=str(n)))
            continue
        shown = located.get((code, file), [])[:MAX_LOCATED]
        errors.extend(shown)
        if n > len(shown):
            errors.append(Problem(code, f"{n} pixels in total have this problem (first {len(shown)} shown)", file=file,
                                  value=str(n)))
    if errors:
        raise InputError(errors)
    pixels = None
    if keep_pixels:
        pixels = {}
        for name in results[0].pixels or {}:
            full = np.full(grid.shape, np.nan)
            for tile, res in zip(sorted(tiles, key=lambda t: t.index), results, strict=True):
                assert res.pixels is not None
                full[tile.slices] = res.pixels[name]
            pixels[name] = full
    totals = derived(acc.totals(), params, options)
    detail, quantities, w = _tables(totals, zone_ids, params.type_names, models, generic, year, options)
    return BiophysicalResult(quantities, detail, warnings + w, pixels)


def derived(totals: dict[str, npt.NDArray[np.float64]], params: Params,
            options: Options) -> dict[str, npt.NDArray[np.float64]]:
    """Totals that are linear in summed ones: raw balance, actual erosion, sediment, N, P, CO2, O2.

    Exact totals × constants, so the derived values do not depend on the tiling either.
    """
    out = dict(totals)
    if "water_m3" in totals:
        out["water_raw_m3"] = (totals["water_m3"] + totals["water_negative_m3"] if options.negative_water == "clip"
                               else totals["water_m3"])
    if "soil_retention_t" in totals:
        ret = totals["soil_retention_t"]
        out["soil_actual_t"] = totals["soil_potential_t"] - ret
        out["sediment_m3"] = K.sediment_volume_m3(ret, params.bulk_density_t_per_m3, params.sedimentation_coefficient)
        out["soil_n_t"] = K.nutrient_t(ret, params.soil_n_fraction)
        out["soil_p_t"] = K.nutrient_t(ret, params.soil_p_fraction)
    if "carbon_t_c" in totals:
        c = totals["carbon_t_c"]
        out["co2_t"] = c * K.C_TO_CO2
        out["o2_t"] = out["co2_t"] * (1.20 / 1.63) if options.o2_method == "dry_matter" else c * K.C_TO_O2
    return out


def _tables(totals: dict[str, npt.NDArray[np.float64]], zone_ids: list[str], type_names: tuple[str, ...],
            models: tuple[str, ...], generic: Sequence[GenericQuantity], year: int,
            options: Options) -> tuple[pl.DataFrame, pl.DataFrame, list[Problem]]:
    n_types = len(type_names)
    n = max(1, len(zone_ids)) * n_types
    zi = np.arange(n) // n_types
    ti = np.arange(n) % n_types
    detail = pl.DataFrame({
        "region_id": [zone_ids[i] if zone_ids else "" for i in zi],
        "year": [year] * n,
        "ecosystem_type": [type_names[i] for i in ti],
        **{k.replace("generic:", "generic_"): v for k, v in totals.items()},
    }).with_columns(pl.col("year").cast(pl.Int32), pl.col("pixels").cast(pl.Int64)).filter(pl.col("pixels") > 0)
    rows: list[pl.DataFrame] = []

    def add(service: str, component: str, col: str, unit: str, model: str) -> None:
        rows.append(detail.select(
            "region_id", "year", pl.lit(service).alias("service"), pl.lit(component).alias("component"),
            pl.col(col).alias("quantity"), pl.lit(unit).alias("unit"), "ecosystem_type",
            pl.lit(model).alias("model")))

    if "water_conservation" in models:
        add("water_conservation", "", "water_m3", "m3", "water balance Q = P − R − ET (Ouyang et al. 2013)")
    if "soil_retention" in models:
        add("soil_retention", "", "soil_retention_t", "t",
            f"RUSLE R·K·LS·(1 − C·P), local LS (S {options.s_formula})")
    if "carbon_oxygen" in models:
        add("carbon_sequestration", "co2", "co2_t", "t CO2", f"{options.carbon_basis.upper()} × 44/12")
        add("oxygen_release", "o2", "o2_t", "t", f"O2 by {options.o2_method.replace('_', ' ')} stoichiometry")
    if "climate_regulation" in models:
        add("climate_regulation", "vegetation", "climate_vegetation_kwh", "kWh", "ET × latent heat / EER")
        add("climate_regulation", "water_surface", "climate_water_kwh", "kWh", "evaporation × latent heat + humidifier")
    for g in generic:
        add(g.service, g.component, f"generic_{g.raster.role}", g.out_unit, f"zonal sum of {g.raster.display}")
    quantities = (pl.concat(rows) if rows else pl.DataFrame(schema={c: pl.Utf8 for c in (*QUANTITY_COLUMNS, "model")}))
    quantities = quantities.sort(["region_id", "year", "service", "component", "ecosystem_type"])
    warnings: list[Problem] = []
    if "water_negative_pixels" in detail.columns:
        neg = detail.group_by("region_id").agg(pl.col("water_negative_pixels").sum(), pl.col("water_negative_m3").sum(),
                                               pl.col("pixels").sum()).filter(pl.col("water_negative_pixels") > 0)
        for r in neg.sort("region_id").iter_rows(named=True):
            what = "set to 0 in the GEP quantity" if options.negative_water == "clip" else "kept (negative_water = keep)"
            warnings.append(Problem(
                "NEGATIVE_WATER_BALANCE",
                f"region {r['region_id']}: {int(r['water_negative_pixels'])} of {int(r['pixels'])} pixels have "
                f"P − R − ET < 0 (total {r['water_negative_m3']:.6g} m3), {what}", column="water_conservation",
                value=str(int(r["water_negative_pixels"]))))
    if "nep_negative_pixels" in detail.columns:
        neg = detail.group_by("region_id").agg(pl.col("nep_negative_pixels").sum()).filter(
            pl.col("nep_negative_pixels") > 0)
        for r in neg.sort("region_id").iter_rows(named=True):
            warnings.append(Problem(
                "NEGATIVE_NEP", f"region {r['region_id']}: {int(r['nep_negative_pixels'])} pixels are net carbon "
                "sources (NEP < 0); they are netted against the sinks (net sequestration)", column="nep",
                value=str(int(r["nep_negative_pixels"]))))
    return detail, quantities, warnings


def write_pixels(pixels: dict[str, npt.NDArray[np.float64]], grid: Grid, out_dir: Path, *, synthetic: bool) -> list[Path]:
    """Per-pixel GeoTIFF of each service (float64, nodata NaN), written to a temp dir then moved (atomic per file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, arr in sorted(pixels.items()):
        target = out_dir / f"{name}.tif"
        fd, tmp = tempfile.mkstemp(suffix=".tif", dir=out_dir)
        os.close(fd)
        with rasterio.open(tmp, "w", driver="GTiff", height=grid.height, width=grid.width, count=1, dtype="float64",
                           crs=grid.crs_wkt or None, transform=grid.affine, nodata=np.nan, compress="deflate") as ds:
            ds.write(arr, 1)
            ds.update_tags(quantity=name, producer="gep.biophysical",
                           data_status="synthetic" if synthetic else "")
        os.replace(tmp, target)
        written.append(target)
    return written
