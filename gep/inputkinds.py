"""Input kinds: what each input file is, how it is recognised and how it is checked.

An :class:`InputKind` names a kind (``landcover``, ``quantities``, ``monitoring`` ...),
the column signature that recognises a table by its header, and a checker that reads
the file exactly as a run reads it. The kinds of the reference data and the land
cover are declared here (:data:`BASE_KINDS`); every engine's step module declares
the kinds it reads (``INPUT_KINDS``), and ``gep validate`` (:mod:`gep.inputs_catalog`)
collects them, so adding an engine touches no central catalogue.

A step's config fields that name input files carry their kind in the field's
metadata (:func:`reads`), which is how a run config's files are checked by kind.

Inputs layer: core, reference data and the land-cover loader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel

from gep.coefficients import load_crosswalk, load_set, validate_crosswalk, validate_set
from gep.coefficients._rows import COLUMN_ALIASES, STANDARD_COLUMNS
from gep.coefficients.crosswalks import CROSSWALK_ALIASES
from gep.errors import InputError, Problem, fmt_amount, rename_columns
from gep.loaders import LANDCOVER_SPEC
from gep.regions import check_region_ids, load_registry
from gep.regions.registry import REGION_ALIASES
from gep.regions.rivers import EDGE_ALIASES, load_river_edges
from gep.tablespec import ROW, ColumnSpec, TableSpec, load_table, load_table_collect
from gep.validation import check_classes, check_landcover

INPUT_KIND_KEY = "input_kind"
"""Key of a config field's ``json_schema_extra`` that names the input kind of the file(s) it names."""


def reads(kind: str) -> dict[str, Any]:
    """``json_schema_extra`` for a config field that names input file(s) of ``kind``.

    ``Field(None, description=..., json_schema_extra=reads("quantities"))``
    """
    return {INPUT_KIND_KEY: kind}


def field_kinds(model: type[BaseModel]) -> dict[str, str]:
    """``{field name: input kind}`` of the fields of a config model that name input files."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and isinstance(extra.get(INPUT_KIND_KEY), str):
            out[name] = str(extra[INPUT_KIND_KEY])
    return out


@dataclass(frozen=True)
class Options:
    """Context shared by every file of one `gep validate` call."""

    registry: Any = None
    """A :class:`gep.regions.RegionRegistry` (``--regions``) or None (any region id accepted)."""
    crosswalk: pl.DataFrame | None = None
    crosswalk_name: str | None = None
    landcover: pl.DataFrame | None = None
    """Land cover from ``--landcover`` (region_id, year, class, area_ha) for transitions and carbon pools."""
    landcover_files: tuple[str, ...] = ()
    sheet: str | None = None
    indicators: pl.DataFrame | None = None
    """Indicator list of the run's function-value set (``[account] function_value_set``); None: the default set."""
    deep_config: bool = True
    """Run configs: also check the contents of every input file they name (not only that it exists)."""


Checker = Callable[[Path, str, Options], tuple[str, pl.DataFrame | None]]


@dataclass(frozen=True)
class ConfigCheck:
    """What a step's ``check_config(cfg, check)`` gets from ``gep validate RUN.toml`` once every file passed its own
    checks: the run section, a resolver of config paths (relative or ``demo:``), the registry, and the tables
    already read, by input kind (so a cross-file rule reads nothing twice)."""

    run: Any
    resolve: Callable[[str], Path]
    registry: Any = None
    tables: dict[str, list[pl.DataFrame]] = field(default_factory=dict)


@dataclass(frozen=True)
class InputKind:
    """One input kind: its name, the column signature used for detection, and its checker."""

    name: str
    title: str
    doc: str
    check: Checker
    spec: TableSpec | None = None
    """Columns used to recognise a table by its header (None: folders / TOML files only)."""
    signature: tuple[str, ...] = ()
    """At least one of these spec columns must be present for detection (empty: none needed)."""
    toml: bool = False


# ---------------------------------------------------------------------------
# helpers shared by the checkers of every layer


def years_summary(df: pl.DataFrame, col: str = "year") -> str:
    if col not in df.columns:
        return ""
    ys = sorted({int(y) for y in df[col].drop_nulls().to_list()})
    if not ys:
        return ""
    return f", years {ys[0]}" if len(ys) == 1 else f", years {ys[0]}–{ys[-1]} ({len(ys)})"


def regions_summary(df: pl.DataFrame, col: str = "region_id") -> str:
    if col not in df.columns or df[col].null_count() == df.height:
        return ""
    return f", {df[col].drop_nulls().n_unique()} regions"


def region_problems(df: pl.DataFrame, file: str, opts: Options, column: str = "region_id",
                     rows: str = ROW) -> list[Problem]:
    """UNKNOWN_REGION for ids of ``column`` not in the ``--regions`` registry (empty optional ids skipped)."""
    if opts.registry is None or column not in df.columns:
        return []

    sub = df.filter(pl.col(column).is_not_null())
    if sub.height == 0:
        return []
    return check_region_ids(sub, opts.registry, file=file, column=column, rows=rows)


def class_problems(df: pl.DataFrame, file: str, opts: Options, column: str) -> list[Problem]:
    """UNKNOWN_CLASS for values of ``column`` absent from the ``--crosswalk`` (problems name ``column``)."""
    if opts.crosswalk is None or column not in df.columns:
        return []

    sub = df.filter(pl.col(column).is_not_null()).select(pl.col(column).alias("class"), ROW)
    return [replace(p, column=column) for p in check_classes(sub, file, opts.crosswalk, opts.crosswalk_name)]


def raise_if(problems: Sequence[Problem]) -> None:
    if problems:
        raise InputError(problems)


def null_key_duplicates(path: Path, file: str, spec: TableSpec) -> list[Problem]:
    """DUPLICATE_KEY for rows equal on every key where some optional key cell is empty (reads ``path``)."""
    if not any(not spec.column(k).required for k in spec.keys):
        return []
    return null_key_duplicate_problems(load_table(path, spec, keep_rows=True, display_name=file), file, spec)


def null_key_duplicate_problems(df: pl.DataFrame, file: str, spec: TableSpec) -> list[Problem]:
    """DUPLICATE_KEY for rows of ``df`` (with ``_row``) equal on every key where some optional key cell is empty.

    The loader skips keys with an empty cell; an empty optional key (no region, no component)
    is still a key, so two such rows say the same thing twice (e.g. two price indices for 2010).
    """
    optional = [k for k in spec.keys if not spec.column(k).required]
    if not optional or ROW not in df.columns:
        return []
    keys = list(spec.keys)
    dup = (df.group_by(keys, maintain_order=True).agg(pl.col(ROW).sort().alias("rows"), pl.len().alias("n"))
           .filter((pl.col("n") > 1) & pl.any_horizontal([pl.col(k).is_null() for k in keys]))
           .sort(pl.col("rows").list.first()))
    problems = []
    for rec in dup.head(50).iter_rows(named=True):
        rows = rec["rows"]
        shown = ", ".join(f"{k}={rec[k] if rec[k] is not None else '(empty)'}" for k in keys)
        problems.append(Problem(
            "DUPLICATE_KEY", f"the same {' + '.join(keys)} appears {rec['n']} times (rows "
            + ", ".join(str(r) for r in rows[:10]) + "); empty cells count as a value",
            file=file, row=rows[1], column=keys[0], value=shown, expected=f"one row per {' + '.join(keys)}"))
    return problems


def spec_from_aliases(name: str, aliases: Mapping[str, Sequence[str]], required: Sequence[str]) -> TableSpec:
    return TableSpec(name=name, columns=tuple(
        ColumnSpec(name=c, required=c in required, allow_null=True, aliases=tuple(a for a in names if a != c))
        for c, names in aliases.items()))


def invert_aliases(aliases: dict[str, str], canon: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {c: [] for c in canon}
    for alias, c in aliases.items():
        if c in out:
            out[c].append(alias)
    return out


# ---------------------------------------------------------------------------
# land cover and reference data


def _check_landcover(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:

    headers: dict[str, str] = {}
    df, problems = load_table_collect(path, LANDCOVER_SPEC, sheet=opts.sheet, keep_rows=True, display_name=file,
                                      headers=headers)
    warnings: list[Problem] = []
    if df is not None:  # one pass, as load_landcover: bad cells do not hide unknown regions and classes
        problems += rename_columns(check_landcover(df, file, registry=opts.registry, crosswalk=opts.crosswalk,
                                                   warnings=warnings), headers)
    raise_if(problems)
    assert df is not None
    years = ", ".join(str(y) for y in df["year"].unique().sort().to_list())
    summary = (f"{df.height} rows, {df['region_id'].n_unique()} regions, years {years}, "
               f"{df['class'].n_unique()} classes, {fmt_amount(df['area_ha'].sum())} ha")
    for w in warnings:
        summary += "\n  warning: " + w.render()
    return summary, df


def _check_coefficients(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:

    target = path.parent if path.name == "set.toml" else path
    raise_if(validate_set(target))
    cset = load_set(target)
    m = cset.manifest
    rows = sum(t.height for t in cset.tables.values())
    return (f"coefficient set '{m.id}' {m.version} ({m.method_family}), tables "
            + ", ".join(cset.tables) + f", {rows} rows, verification {m.verification}"), None


def _check_crosswalk(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:

    raise_if(validate_crosswalk(path))
    cw = load_crosswalk(path)
    none = cw["ecosystem_type"].null_count()
    return (f"{cw.height} classes → {cw['ecosystem_type'].drop_nulls().n_unique()} ecosystem types, "
            f"{none} without service value"), cw


def _check_regions(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:

    reg = load_registry(path, sheet=opts.sheet) if path.is_file() else load_registry(str(path))
    area = reg.counties["area_km2"].sum() if "area_km2" in reg.counties.columns else None
    tail = f", {area:,.1f} km2" if area else ", no areas"
    return f"{reg.counties.height} regions, {reg.prefectures.height} prefectures{tail}", reg.counties


def _check_rivers(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:

    known = set(opts.registry.all_ids()) if opts.registry is not None else None
    df = load_river_edges(path, known_ids=known)
    return f"{df.height} upstream→downstream edges on {df['river'].n_unique()} rivers", df


def _crosswalk_spec() -> TableSpec:

    names = invert_aliases({**COLUMN_ALIASES, **CROSSWALK_ALIASES},
                    ("class", "ecosystem_type", "code", "class_name_en", "class_name_zh", "aliases", "verification"))
    return spec_from_aliases("crosswalk", names, ("class", "ecosystem_type"))


def _coefficients_spec() -> TableSpec:

    names = invert_aliases(COLUMN_ALIASES, (*STANDARD_COLUMNS, "ecosystem_type", "service", "table"))
    return spec_from_aliases("coefficients", names, ("value", "unit", "source", "verification"))


def _regions_spec() -> TableSpec:

    return spec_from_aliases("regions", {**REGION_ALIASES, "area": ["面积", "area_km2", "面积(km2)"]},
                              ("region_id", "name_zh"))


def _rivers_spec() -> TableSpec:

    return spec_from_aliases("river edges", EDGE_ALIASES, ("river", "upstream_id", "downstream_id"))


BASE_KINDS: tuple[InputKind, ...] = (
    InputKind("landcover", "land cover (region, year, class, area)", "docs/input_tables.md",
              _check_landcover, LANDCOVER_SPEC),
)
"""Kinds every run may read before its steps (land cover)."""

REFERENCE_KINDS: tuple[InputKind, ...] = (
    InputKind("coefficients", "coefficient set (folder, set.toml or one table)", "docs/coefficients.md",
              _check_coefficients, _coefficients_spec(), signature=("verification",)),
    InputKind("crosswalk", "crosswalk land-cover class → ecosystem type", "docs/coefficients.md",
              _check_crosswalk, _crosswalk_spec()),
    InputKind("regions", "region table (custom region set)", "docs/regions.md", _check_regions, _regions_spec()),
    InputKind("rivers", "river graph edges (upstream → downstream)", "docs/regions.md",
              _check_rivers, _rivers_spec()),
)
"""Kinds of the reference data (coefficient sets, crosswalks, region registries, river graphs)."""
