"""Parameters of the biophysical models from a coefficient set (default ``biophysical_cn``).

Tables: ``ecosystem_params`` (ecosystem_type, parameter: runoff_coefficient, usle_c,
usle_p, climate_surface) and ``parameters`` (bulk_density t/m3,
sedimentation_coefficient 1, soil_n_content / soil_p_content %, latent_heat MJ/kg,
ac_eer 1, humidifier kWh/m3). Every row used is returned with its id
(``<set>:<table>:<key>``), source and verification for the run's provenance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from gep.biophysical.engine import Params
from gep.coefficients import CoefficientSet, normalize_ecosystem_type
from gep.errors import InputError, Problem
from gep.tablespec import ROW, ColumnSpec, TableSpec, load_table
from gep.units import conversion_factor

DEFAULT_SET = "biophysical_cn"
TYPE_PARAMETERS: tuple[str, ...] = ("runoff_coefficient", "usle_c", "usle_p", "climate_surface")
SCALARS: dict[str, str] = {
    "bulk_density": "t/m3",
    "sedimentation_coefficient": "1",
    "soil_n_content": "1",
    "soil_p_content": "1",
    "latent_heat": "MJ/kg",
    "ac_eer": "1",
    "humidifier": "kWh/m3",
}
"""Scalar parameter → the unit the kernels use (the set's unit is converted with gep.units)."""

CLASSES_SPEC = TableSpec(
    name="land-cover classes",
    description="land-cover raster code → ecosystem type (one of the 14 Xie 2015 types, Chinese or English)",
    columns=(
        ColumnSpec(name="code", dtype="int", aliases=("代码", "value", "lucode", "class", "类别代码"),
                   description="integer code in the land-cover raster", nonnegative=True),
        ColumnSpec(name="ecosystem_type", aliases=("生态系统类型", "生态系统", "type"),
                   description="ecosystem type of the code"),
    ),
    keys=("code",),
)

USED_COLUMNS = ("coefficient_id", "parameter", "ecosystem_type", "value", "unit", "source", "verification")


def load_classes(path: str | Path, display: str | None = None) -> pl.DataFrame:
    """Classes table → code (Int64), ecosystem_type (canonical Chinese name); unknown types are located errors."""
    df = load_table(path, CLASSES_SPEC, keep_rows=True, display_name=display)
    canon = df.with_columns(normalize_ecosystem_type(pl.col("ecosystem_type")).alias("_t"))
    bad = canon.filter(pl.col("_t").is_null())
    if bad.height:
        from_file = display or str(path)
        raise InputError([Problem("UNKNOWN_ECOSYSTEM_TYPE", f"'{r['ecosystem_type']}' is not an ecosystem type",
                                  file=from_file, row=r[ROW], column="ecosystem_type", value=r["ecosystem_type"],
                                  expected="one of the 14 types (旱地, 水田, 针叶, ..., 水系, 冰川积雪) or their English codes")
                          for r in bad.iter_rows(named=True)])
    return canon.select(pl.col("code").cast(pl.Int64), pl.col("_t").alias("ecosystem_type")).sort("code")


def resolve(cset: CoefficientSet, classes: pl.DataFrame) -> tuple[Params, pl.DataFrame]:
    """Params for the types of ``classes`` and the set rows used (``USED_COLUMNS``)."""
    types = tuple(sorted(classes["ecosystem_type"].unique().to_list()))
    eco = cset.table("ecosystem_params")
    problems: list[Problem] = []
    lookups: dict[str, np.ndarray] = {}
    used: list[dict[str, object]] = []
    for par in TYPE_PARAMETERS:
        vals = np.full(len(types), np.nan)
        for i, t in enumerate(types):
            row = eco.filter((pl.col("ecosystem_type") == t) & (pl.col("parameter") == par))
            if not row.height:
                problems.append(Problem("MISSING_COEFFICIENT", f"coefficient set '{cset.id}' has no {par} for {t}",
                                        file=cset.path, column="ecosystem_params", value=f"{t}/{par}",
                                        expected=f"a row ecosystem_type = {t}, parameter = {par}"))
                continue
            r = row.row(0, named=True)
            vals[i] = float(r["value"])
            used.append({"coefficient_id": f"{cset.id}:ecosystem_params:{t}/{par}", "parameter": par,
                         "ecosystem_type": t, "value": r["value"], "unit": r["unit"], "source": r["source"],
                         "verification": r["verification"]})
        lookups[par] = vals
    scal = cset.table("parameters")
    scalars: dict[str, float] = {}
    for par, unit in SCALARS.items():
        row = scal.filter(pl.col("parameter") == par)
        if not row.height:
            problems.append(Problem("MISSING_COEFFICIENT", f"coefficient set '{cset.id}' has no parameter {par}",
                                    file=cset.path, column="parameters", value=par, expected=f"a row in {unit}"))
            continue
        r = row.row(0, named=True)
        scalars[par] = float(r["value"]) * conversion_factor(r["unit"], unit, context=f"{cset.id} parameters {par}")
        used.append({"coefficient_id": f"{cset.id}:parameters:{par}", "parameter": par, "ecosystem_type": None,
                     "value": r["value"], "unit": r["unit"], "source": r["source"], "verification": r["verification"]})
    for par in ("usle_c", "usle_p", "runoff_coefficient"):
        v = lookups.get(par)
        if v is not None and np.any((v < 0) | (v > 1)):
            problems.append(Problem("OUT_OF_RANGE", f"{par} outside 0..1 in coefficient set '{cset.id}'",
                                    file=cset.path, column=par, value=str(v[(v < 0) | (v > 1)][0]),
                                    expected="0 ≤ value ≤ 1"))
    if problems:
        raise InputError(problems)
    codes = classes["code"].to_numpy()
    class_to_type = np.full(int(codes.max()) + 1 if codes.size else 1, -1, dtype=np.int32)
    type_pos = {t: i for i, t in enumerate(types)}
    class_to_type[codes] = [type_pos[t] for t in classes["ecosystem_type"].to_list()]
    params = Params(
        type_names=types, class_to_type=class_to_type,
        runoff_coefficient=lookups["runoff_coefficient"], usle_c=lookups["usle_c"], usle_p=lookups["usle_p"],
        climate_surface=lookups["climate_surface"].astype(np.int8),
        bulk_density_t_per_m3=scalars["bulk_density"], sedimentation_coefficient=scalars["sedimentation_coefficient"],
        soil_n_fraction=scalars["soil_n_content"], soil_p_fraction=scalars["soil_p_content"],
        latent_heat_j_per_g=scalars["latent_heat"] * 1000.0,  # MJ/kg = kJ/g → J/g
        ac_eer=scalars["ac_eer"], humidifier_kwh_per_m3=scalars["humidifier"],
    )
    return params, pl.DataFrame(used, schema={"coefficient_id": pl.Utf8, "parameter": pl.Utf8,
                                              "ecosystem_type": pl.Utf8, "value": pl.Float64, "unit": pl.Utf8,
                                              "source": pl.Utf8, "verification": pl.Utf8})
