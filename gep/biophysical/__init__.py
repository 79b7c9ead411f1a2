"""Biophysical models of regulating services (功能量) from rasters: docs/biophysical.md.

Layers (house style): :mod:`~gep.biophysical.kernels` pure per-pixel numpy functions;
:mod:`~gep.biophysical.zonal` exact, tiling-independent zonal sums;
:mod:`~gep.biophysical.engine` the tile driver on :mod:`gep.spatial`;
:mod:`~gep.biophysical.params` parameters from the ``biophysical_cn`` coefficient set;
:mod:`~gep.biophysical.step` the run step (``Config``, ``run_step``).
"""

from gep.biophysical.kernels import (
    carbon_oxygen,
    climate_regulation,
    ls_factor_local,
    nutrient_t,
    s_factor,
    sediment_volume_m3,
    slope_horn_deg,
    slope_length_exponent,
    soil_retention,
    water_conservation,
)
from gep.biophysical.zonal import ZonalAccumulator

__all__ = [
    "ZonalAccumulator",
    "carbon_oxygen",
    "climate_regulation",
    "ls_factor_local",
    "nutrient_t",
    "s_factor",
    "sediment_volume_m3",
    "slope_horn_deg",
    "slope_length_exponent",
    "soil_retention",
    "water_conservation",
]
