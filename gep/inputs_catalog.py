"""Catalogue of every input kind gep reads: detection and validation for `gep validate`.

Each kind names the reader (or validator) of the module that owns it, so `gep
validate` checks a file exactly as a run would read it: land cover
(:mod:`gep.loaders`), land-cover transitions and carbon tables (:mod:`gep.carbon`),
GEP-account tables (:mod:`gep.account.inputs`), monitoring data and agreements
(:mod:`gep.compensation`), coefficient sets and crosswalks (:mod:`gep.coefficients`),
region tables and river graphs (:mod:`gep.regions`) and run configurations
(:mod:`gep.config`). No calculation happens here.

Detection (``kind="auto"``): a folder or a ``.toml`` file is recognised by what it
holds (``set.toml`` / ``[[tables]]`` → coefficient set; ``method`` + ``[[parties]]`` /
``[[sections]]`` → agreement; ``[run]``, ``[inputs]`` or a step section → run config);
a table by its header: a kind matches when the loader of that kind finds every
required column (English name or Chinese alias, units in the name allowed) and its
signature column; among matches the kind that explains the most header columns
wins; a tie is reported as ``AMBIGUOUS_KIND`` naming the kinds, nothing at all as
``UNKNOWN_KIND`` naming the closest kinds and their missing columns.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from gep.errors import InputError, Problem, ProblemCollector
from gep.loaders import METADATA_COLUMNS, ROW, ColumnSpec, TableSpec, read_raw

AUTO = "auto"


# ---------------------------------------------------------------------------
# options and results


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
    deep_config: bool = True
    """Run configs: also check the contents of every input file they name (not only that it exists)."""


@dataclass(frozen=True)
class Detection:
    """What a file was taken for, and why (shown in the OK line)."""

    kind: str | None
    how: str
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checked:
    """One file that passed: its kind, how the kind was found, and a one-line summary."""

    file: str
    kind: str
    how: str
    summary: str
    table: pl.DataFrame | None = field(default=None, compare=False)

    def line(self) -> str:
        return f"OK {self.file} ({self.how}): {self.summary}"


Checker = Callable[[Path, str, Options], tuple[str, pl.DataFrame | None]]


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
# small helpers


def _years(df: pl.DataFrame, col: str = "year") -> str:
    if col not in df.columns:
        return ""
    ys = sorted({int(y) for y in df[col].drop_nulls().to_list()})
    if not ys:
        return ""
    return f", years {ys[0]}" if len(ys) == 1 else f", years {ys[0]}–{ys[-1]} ({len(ys)})"


def _regions(df: pl.DataFrame, col: str = "region_id") -> str:
    if col not in df.columns or df[col].null_count() == df.height:
        return ""
    return f", {df[col].drop_nulls().n_unique()} regions"


def _region_problems(df: pl.DataFrame, file: str, opts: Options, column: str = "region_id",
                     rows: str = ROW) -> list[Problem]:
    """UNKNOWN_REGION for ids of ``column`` not in the ``--regions`` registry (empty optional ids skipped)."""
    if opts.registry is None or column not in df.columns:
        return []
    from gep.regions import check_region_ids

    sub = df.filter(pl.col(column).is_not_null())
    if sub.height == 0:
        return []
    return check_region_ids(sub, opts.registry, file=file, column=column, rows=rows)


def _class_problems(df: pl.DataFrame, file: str, opts: Options, column: str) -> list[Problem]:
    """UNKNOWN_CLASS for values of ``column`` absent from the ``--crosswalk`` (problems name ``column``)."""
    if opts.crosswalk is None or column not in df.columns:
        return []
    from gep.validation import check_classes

    sub = df.filter(pl.col(column).is_not_null()).select(pl.col(column).alias("class"), ROW)
    return [replace(p, column=column) for p in check_classes(sub, file, opts.crosswalk, opts.crosswalk_name)]


def _raise(problems: Sequence[Problem]) -> None:
    if problems:
        raise InputError(problems)


# ---------------------------------------------------------------------------
# checkers: each calls the reader of the module that owns the kind


def _check_landcover(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.loaders import LANDCOVER_SPEC, load_table
    from gep.validation import check_landcover

    df = load_table(path, LANDCOVER_SPEC, sheet=opts.sheet, keep_rows=True, display_name=file)
    warnings: list[Problem] = []
    _raise(check_landcover(df, file, registry=opts.registry, crosswalk=opts.crosswalk, warnings=warnings))
    years = ", ".join(str(y) for y in df["year"].unique().sort().to_list())
    summary = (f"{df.height} rows, {df['region_id'].n_unique()} regions, years {years}, "
               f"{df['class'].n_unique()} classes, {df['area_ha'].sum():,.2f} ha")
    for w in warnings:
        summary += "\n  warning: " + w.render()
    return summary, df


def _check_transitions(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.carbon.transitions import load_transitions, reconcile

    df = load_transitions(path, display_name=file)
    problems = _region_problems(df, file, opts)
    problems += _class_problems(df, file, opts, "class_from") + _class_problems(df, file, opts, "class_to")
    _raise(problems)
    periods = df.select("year_from", "year_to").unique().sort("year_from", "year_to")
    summary = (f"{df.height} rows{_regions(df)}, periods "
               + ", ".join(f"{a}→{b}" for a, b in periods.iter_rows())
               + f", {df['area_ha'].sum():,.2f} ha")
    if opts.landcover is not None:
        reconcile(opts.landcover, df, file=file, extent_file=", ".join(opts.landcover_files) or "land cover")
        summary += "; opening and closing areas reconcile with the land cover (tolerance 0.01 ha)"
    else:
        summary += "; not reconciled (give --landcover to check opening/closing areas)"
    return summary, df


def _null_key_duplicates(path: Path, file: str, spec: TableSpec) -> list[Problem]:
    """DUPLICATE_KEY for rows equal on every key where some optional key cell is empty.

    The loader skips keys with an empty cell; an empty optional key (no region, no component)
    is still a key, so two such rows say the same thing twice (e.g. two price indices for 2010).
    """
    optional = [k for k in spec.keys if not spec.column(k).required]
    if not optional:
        return []
    from gep.loaders import load_table

    df = load_table(path, spec, keep_rows=True, display_name=file)
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


def _account_checker(reader_name: str, what: str, spec: TableSpec) -> Checker:
    def check(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
        from gep.account import inputs as I

        reader = getattr(I, reader_name)
        df = reader(path, file)
        problems = _null_key_duplicates(path, file, spec)
        if "source_row" in df.columns:
            problems += _region_problems(df, file, opts, rows="source_row")
        _raise(problems)
        extra = ""
        if "service" in df.columns:
            extra = f", {df['service'].n_unique()} services"
        elif "crop" in df.columns:
            extra = f", {df['crop'].n_unique()} crops"
        elif "factor" in df.columns:
            extra = ", factors " + ", ".join(sorted(set(df["factor"].drop_nulls().to_list())))
        return f"{df.height} {what}{_regions(df)}{_years(df)}{extra}", df

    return check


def _check_socio(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.account.inputs import SOCIO_SPEC, read_socio
    from gep.loaders import load_table

    df = read_socio(path, file)
    if opts.registry is not None:  # read_socio drops the row numbers; read them once more for locations
        rows = load_table(path, SOCIO_SPEC, keep_rows=True, display_name=file).select("region_id", ROW)
        _raise(_region_problems(rows, file, opts))
    have = [c for c in ("population", "gdp_cny") if df[c].null_count() < df.height]
    return f"{df.height} rows{_regions(df)}{_years(df)}, columns {', '.join(have) or 'none filled'}", df


def _check_invest_pools(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.carbon.params import invest_densities, load_invest_table

    df = load_invest_table(path, display_name=file)
    summary = f"{df.height} land-cover codes with c_above, c_below, c_soil, c_dead (t C/ha)"
    if opts.landcover is not None:
        invest_densities(opts.landcover.select("class").unique(), df, file)
        summary += "; every class of the land cover has a row"
    return summary, df


def _carbon_checker(loader_name: str, what: str) -> Checker:
    def check(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
        from gep.carbon import gainloss as GL

        df = getattr(GL, loader_name)(path, display_name=file)
        problems = _region_problems(df, file, opts) if ROW in df.columns else []
        if ROW in df.columns:
            problems += _class_problems(df, file, opts, "class")
        _raise(problems)
        return f"{df.height} {what}{_regions(df)}{_years(df)}", df

    return check


def _check_monitoring(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.compensation.monitoring import read_monitoring

    df = read_monitoring(path, sheet=opts.sheet, display_name=file)
    months = df["month"].drop_nulls().sort()
    span = f", months {months[0]}–{months[-1]}" if months.len() else ""
    flows = df["flow_m3s"].drop_nulls().len()
    return (f"{df.height} samples, {df['section_id'].n_unique()} sections, indicators "
            + ", ".join(sorted(set(df["indicator"].to_list()))) + f"{span}, {flows} with flow"), df


def _check_agreement(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.compensation.agreement import load_agreement

    known = set(opts.registry.all_ids()) if opts.registry is not None else None
    a = load_agreement(path, known_regions=known)
    unv = a.unverified()
    summary = (f"agreement '{a.id}', method {a.method}, {len(a.parties)} parties, {len(a.sections)} sections, "
               f"{len(a.indicators)} indicators, {a.period} {a.start[0]}-{a.start[1]:02d}…{a.end[0]}-{a.end[1]:02d}")
    if unv:
        summary += f"; {len(unv)} parameter(s) flagged unverified"
    return summary, pl.DataFrame({"agreement_id": [a.id], "file": [file]})


_PATH_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".pq", ".toml", ".json", ".geojson")


def config_paths(data: dict[str, Any], section: str = "") -> list[tuple[str, str, str]]:
    """(section, key, value) of every string in a config that names an input file: ``demo:NAME`` or a
    value ending in a table/TOML suffix. ``[run] out`` (the output folder) is not an input."""
    out: list[tuple[str, str, str]] = []
    for key, v in data.items():
        if isinstance(v, dict):
            out += config_paths(v, f"{section}.{key}" if section else str(key))
            continue
        for item in v if isinstance(v, list) else [v]:
            if not isinstance(item, str) or (section == "run" and key == "out"):
                continue
            if item.startswith("demo:") or item.lower().endswith(_PATH_SUFFIXES):
                out.append((section, str(key), item))
    return out


CONFIG_INPUT_KINDS: dict[tuple[str, str], str] = {
    ("run", "regions"): "regions",
    ("inputs", "landcover"): "landcover",
    ("inputs", "crosswalk"): "crosswalk",
    ("account", "quantities"): "quantities",
    ("account", "statistics"): "statistics",
    ("account", "prices"): "prices",
    ("account", "rates"): "rates",
    ("account", "grain"): "grain",
    ("account", "adjustments"): "adjustments",
    ("account", "price_index"): "price-index",
    ("account", "socio"): "socio",
    ("account", "emissions"): "emissions",
    ("carbon", "transitions"): "transitions",
    ("carbon", "rates"): "carbon-rates",
    ("carbon", "forest_inventory"): "forest-inventory",
    ("carbon", "grassland_management"): "grassland-management",
    ("compensation", "agreements"): "agreement",
    ("compensation", "monitoring"): "monitoring",
}
"""Kind of each input a run config names (section, key); other named files are only checked to exist."""


def _config_input_kind(section: str, key: str, value: str) -> str | None:
    if (section, key) == ("carbon", "coefficients"):  # an InVEST pool table, or a set folder's set.toml
        return "coefficients" if value.endswith("set.toml") else "carbon-pools"
    return CONFIG_INPUT_KINDS.get((section, key))


def _resolve_config_path(value: str, base: Path) -> Path:
    target = resolve_input(value).expanduser()
    return target if target.is_absolute() else base / target


def _check_config(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    """The config schema (gep.config.load_config), then every input file it names: it must exist
    (relative paths from the config's folder, ``demo:NAME`` from the embedded demo data) and pass the
    checks of its kind (:data:`CONFIG_INPUT_KINDS`) with the config's registry, crosswalk and land cover."""
    from gep.config import _line_of, load_config

    cfg = load_config(path)
    text = path.read_text(encoding="utf-8-sig")
    refs = config_paths(tomllib.loads(text))
    problems: list[Problem] = []
    present: list[tuple[str, str, str, Path]] = []
    for section, key, value in refs:
        target = _resolve_config_path(value, path.parent)
        if not target.exists():
            problems.append(Problem(
                "FILE_NOT_FOUND", f"[{section}] {key} names a file that does not exist", file=file,
                row=_line_of(text, section or None, key), column=f"{section}.{key}" if section else key, value=value,
                expected=f"an existing file (looked for {target}); relative paths start at the config's folder"))
        else:
            present.append((section, key, value, target))
    _raise(problems)
    steps = ", ".join(cfg.steps) or "extent only"
    lc = len(cfg.inputs.landcover)
    head = (f"run config '{cfg.run.title}', regions {cfg.run.regions or 'any id'}, {lc} land-cover file(s), "
            f"steps: {steps}")
    if not opts.deep_config:
        return f"{head}; {len(refs)} input file(s) named, all present (contents not checked)", None
    sub_opts, problems = _config_options(cfg, path.parent, opts)
    _raise(problems)
    items = []
    unchecked = []
    for section, key, value, target in present:
        kind = _config_input_kind(section, key, value)
        if kind is None:
            unchecked.append(f"{section}.{key}")
        else:
            items.append((str(target), kind))
    sub_opts = replace(sub_opts, deep_config=False)
    comp = cfg.steps.get("compensation")
    free = comp is not None and not getattr(comp, "check_regions", True)  # the run accepts any party id then
    subs = [validate_pairs([it for it in items if it[1] == "agreement"], replace(sub_opts, registry=None)),
            validate_pairs([it for it in items if it[1] != "agreement"], sub_opts)] if free else [
        validate_pairs(items, sub_opts)]
    _raise([p for r in subs for p in r.problems])
    kinds_seen = sorted({c.kind for r in subs for c in r.checked})
    tail = f"; {len(items)} input file(s) valid ({', '.join(kinds_seen)})" if items else "; no input files named"
    if unchecked:
        tail += f"; present but not checked here: {', '.join(sorted(set(unchecked)))}"
    return head + tail, None


def _config_options(cfg: Any, base: Path, opts: Options) -> tuple[Options, list[Problem]]:
    """Registry, crosswalk and land cover of a run config (command-line options win), as a run would load them."""
    problems: list[Problem] = []
    registry = opts.registry
    if registry is None and cfg.run.regions:
        from gep.regions import list_registries, load_registry

        name = cfg.run.regions
        ref = name if name in list_registries() else str(_resolve_config_path(name, base))
        try:
            registry = load_registry(ref)
        except InputError as exc:
            problems.extend(exc.problems)
    crosswalk, cw_name = opts.crosswalk, opts.crosswalk_name
    if crosswalk is None and cfg.inputs.crosswalk:
        from gep.coefficients import list_crosswalks, load_crosswalk

        name = cfg.inputs.crosswalk
        cw_name = name
        try:
            crosswalk = load_crosswalk(name if name in list_crosswalks() else _resolve_config_path(name, base))
        except InputError as exc:
            problems.extend(exc.problems)
    landcover, lc_files = opts.landcover, opts.landcover_files
    if landcover is None and cfg.inputs.landcover:
        from gep.loaders import load_landcover

        lc_files = tuple(cfg.inputs.landcover)
        try:
            landcover = load_landcover([_resolve_config_path(v, base) for v in lc_files], registry=registry,
                                       crosswalk=crosswalk, sheet=cfg.inputs.sheet)
        except InputError as exc:
            problems.extend(exc.problems)
    return replace(opts, registry=registry, crosswalk=crosswalk, crosswalk_name=cw_name, landcover=landcover,
                   landcover_files=lc_files, sheet=cfg.inputs.sheet), problems


def _check_coefficients(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.coefficients import load_set, validate_set

    target = path.parent if path.name == "set.toml" else path
    _raise(validate_set(target))
    cset = load_set(target)
    m = cset.manifest
    rows = sum(t.height for t in cset.tables.values())
    return (f"coefficient set '{m.id}' {m.version} ({m.method_family}), tables "
            + ", ".join(cset.tables) + f", {rows} rows, verification {m.verification}"), None


def _check_crosswalk(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.coefficients import load_crosswalk, validate_crosswalk

    _raise(validate_crosswalk(path))
    cw = load_crosswalk(path)
    none = cw["ecosystem_type"].null_count()
    return (f"{cw.height} classes → {cw['ecosystem_type'].drop_nulls().n_unique()} ecosystem types, "
            f"{none} without service value"), cw


def _check_regions(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.regions import load_registry

    reg = load_registry(path, sheet=opts.sheet) if path.is_file() else load_registry(str(path))
    area = reg.counties["area_km2"].sum() if "area_km2" in reg.counties.columns else None
    tail = f", {area:,.1f} km2" if area else ", no areas"
    return f"{reg.counties.height} regions, {reg.prefectures.height} prefectures{tail}", reg.counties


def _check_rivers(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    from gep.regions.rivers import load_river_edges

    known = set(opts.registry.all_ids()) if opts.registry is not None else None
    df = load_river_edges(path, known_ids=known)
    return f"{df.height} upstream→downstream edges on {df['river'].n_unique()} rivers", df


# ---------------------------------------------------------------------------
# detection specs for kinds whose modules use alias dictionaries instead of a TableSpec


def _spec_from_aliases(name: str, aliases: Mapping[str, Sequence[str]], required: Sequence[str]) -> TableSpec:
    return TableSpec(name=name, columns=tuple(
        ColumnSpec(name=c, required=c in required, allow_null=True, aliases=tuple(a for a in names if a != c))
        for c, names in aliases.items()))


def _invert(aliases: dict[str, str], canon: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {c: [] for c in canon}
    for alias, c in aliases.items():
        if c in out:
            out[c].append(alias)
    return out


def _monitoring_spec() -> TableSpec:
    from gep.compensation.monitoring import ALIASES, REQUIRED

    return _spec_from_aliases("monitoring", ALIASES, REQUIRED)


def _crosswalk_spec() -> TableSpec:
    from gep.coefficients._rows import COLUMN_ALIASES
    from gep.coefficients.crosswalks import CROSSWALK_ALIASES

    names = _invert({**COLUMN_ALIASES, **CROSSWALK_ALIASES},
                    ("class", "ecosystem_type", "code", "class_name_en", "class_name_zh", "aliases", "verification"))
    return _spec_from_aliases("crosswalk", names, ("class", "ecosystem_type"))


def _coefficients_spec() -> TableSpec:
    from gep.coefficients._rows import COLUMN_ALIASES, STANDARD_COLUMNS

    names = _invert(COLUMN_ALIASES, (*STANDARD_COLUMNS, "ecosystem_type", "service", "table"))
    return _spec_from_aliases("coefficients", names, ("value", "unit", "source", "verification"))


def _regions_spec() -> TableSpec:
    from gep.regions.registry import REGION_ALIASES

    return _spec_from_aliases("regions", {**REGION_ALIASES, "area": ["面积", "area_km2", "面积(km2)"]},
                              ("region_id", "name_zh"))


def _rivers_spec() -> TableSpec:
    from gep.regions.rivers import EDGE_ALIASES

    return _spec_from_aliases("river edges", EDGE_ALIASES, ("river", "upstream_id", "downstream_id"))


def _invest_spec() -> TableSpec:
    from gep.carbon.params import POOLS

    return TableSpec(name="InVEST carbon pools", columns=(
        ColumnSpec(name="lucode"), ColumnSpec(name="lulc_name", required=False),
        *(ColumnSpec(name=p) for p in POOLS)))


# ---------------------------------------------------------------------------
# the catalogue


def _kinds() -> dict[str, InputKind]:
    from gep.account import inputs as AI
    from gep.carbon import gainloss as GL
    from gep.carbon.transitions import TRANSITIONS_SPEC
    from gep.loaders import LANDCOVER_SPEC

    kinds = [
        InputKind("landcover", "land cover (region, year, class, area)", "docs/input_tables.md",
                  _check_landcover, LANDCOVER_SPEC),
        InputKind("transitions", "land-cover transitions (class_from → class_to, area)", "docs/carbon.md",
                  _check_transitions, TRANSITIONS_SPEC),
        InputKind("quantities", "physical quantities (功能量)", "docs/account.md",
                  _account_checker("read_quantities", "quantity rows", AI.QUANTITIES_SPEC), AI.QUANTITIES_SPEC),
        InputKind("statistics", "values given directly (价值量)", "docs/account.md",
                  _account_checker("read_statistics", "value rows", AI.STATISTICS_SPEC), AI.STATISTICS_SPEC),
        InputKind("prices", "unit prices (价格)", "docs/account.md",
                  _account_checker("read_prices", "prices", AI.PRICES_SPEC), AI.PRICES_SPEC),
        InputKind("rates", "per-area rates by ecosystem type (account)", "docs/account.md",
                  _account_checker("read_rates", "rates", AI.RATES_SPEC), AI.RATES_SPEC),
        InputKind("grain", "grain statistics for the standard equivalent", "docs/account.md",
                  _account_checker("read_grain", "crop rows", AI.GRAIN_SPEC), AI.GRAIN_SPEC),
        InputKind("adjustments", "regional adjustment ratios (npp, precipitation, soil)", "docs/account.md",
                  _account_checker("read_adjustments", "ratios", AI.ADJUSTMENTS_SPEC), AI.ADJUSTMENTS_SPEC),
        InputKind("price-index", "price index by year", "docs/account.md",
                  _account_checker("read_price_index", "index rows", AI.PRICE_INDEX_SPEC), AI.PRICE_INDEX_SPEC),
        InputKind("emissions", "pollutant emissions (环境统计) capping air and water purification", "docs/account.md",
                  _account_checker("read_emissions", "emission rows", AI.EMISSIONS_SPEC), AI.EMISSIONS_SPEC,
                  signature=("pollutant",)),
        InputKind("socio", "population and GDP", "docs/account.md", _check_socio, AI.SOCIO_SPEC,
                  signature=("population", "gdp_cny")),
        InputKind("carbon-pools", "InVEST carbon pool table (lucode, c_above, c_below, c_soil, c_dead)",
                  "docs/carbon.md", _check_invest_pools, _invest_spec()),
        InputKind("carbon-rates", "carbon sequestration rates (t C/ha/yr)", "docs/carbon.md",
                  _carbon_checker("load_rates", "rates"), GL.RATES_SPEC),
        InputKind("forest-inventory", "forest inventory for the IPCC gain-loss method", "docs/carbon.md",
                  _carbon_checker("load_forest_inventory", "rows"), GL.FOREST_SPEC,
                  signature=tuple(c.name for c in GL.FOREST_SPEC.columns if c.name not in
                                  ("region_id", "year", "class", "area_ha"))),
        InputKind("grassland-management", "grassland management change (IPCC stock-change factors)",
                  "docs/carbon.md", _carbon_checker("load_grassland_management", "rows"), GL.GRASSLAND_SPEC),
        InputKind("monitoring", "water-quality monitoring samples", "docs/compensation.md",
                  _check_monitoring, _monitoring_spec()),
        InputKind("agreement", "compensation agreement (TOML)", "docs/compensation.md", _check_agreement, toml=True),
        InputKind("config", "run configuration (TOML)", "docs/run_config.md", _check_config, toml=True),
        InputKind("coefficients", "coefficient set (folder, set.toml or one table)", "docs/coefficients.md",
                  _check_coefficients, _coefficients_spec(), signature=("verification",)),
        InputKind("crosswalk", "crosswalk land-cover class → ecosystem type", "docs/coefficients.md",
                  _check_crosswalk, _crosswalk_spec()),
        InputKind("regions", "region table (custom region set)", "docs/regions.md", _check_regions, _regions_spec()),
        InputKind("rivers", "river graph edges (upstream → downstream)", "docs/regions.md",
                  _check_rivers, _rivers_spec()),
    ]
    return {k.name: k for k in kinds}


_KINDS: dict[str, InputKind] | None = None


def kinds() -> dict[str, InputKind]:
    """Every input kind gep reads, by name (built once)."""
    global _KINDS
    if _KINDS is None:
        _KINDS = _kinds()
    return _KINDS


KIND_NAMES: tuple[str, ...] = (
    "landcover", "transitions", "quantities", "statistics", "prices", "rates", "grain", "adjustments",
    "price-index", "emissions", "socio", "carbon-pools", "carbon-rates", "forest-inventory", "grassland-management",
    "monitoring", "agreement", "config", "coefficients", "crosswalk", "regions", "rivers",
)
"""Names accepted by ``--kind`` (besides ``auto``); same order as :func:`kinds`."""


# ---------------------------------------------------------------------------
# detection


@dataclass(frozen=True)
class HeaderMatch:
    """How well one kind's columns fit a header."""

    kind: str
    found: tuple[str, ...]
    """Headers the kind's loader would use, in header order."""
    missing: tuple[str, ...]
    """Required columns (canonical names) not found."""
    signature_ok: bool

    @property
    def complete(self) -> bool:
        return not self.missing and self.signature_ok


def match_header(headers: Sequence[str], kind: InputKind) -> HeaderMatch:
    """Match a header against one kind with the same column matching the loaders use."""
    from gep.loaders import (
        _match_columns,  # the loader's own matching, so detection and reading agree
    )

    assert kind.spec is not None
    pc = ProblemCollector()
    found, _unit = _match_columns(list(headers), kind.spec, "<header>", pc)
    missing = tuple(p.column or "" for p in pc.problems if p.code == "MISSING_COLUMN")
    sig = not kind.signature or any(s in found for s in kind.signature)
    used = {m.header for m in found.values()}
    return HeaderMatch(kind.name, tuple(h for h in headers if h in used), missing, sig)


def detect_header(headers: Sequence[str]) -> tuple[list[HeaderMatch], list[HeaderMatch]]:
    """(best complete matches, all matches sorted by fit). Best = most header columns explained."""
    table_kinds = [k for k in kinds().values() if k.spec is not None]
    matches = [match_header(headers, k) for k in table_kinds]
    complete = [m for m in matches if m.complete]
    if not complete:
        ranked = sorted(matches, key=lambda m: (-len(m.found), len(m.missing) + (not m.signature_ok)))
        return [], ranked
    top = max(len(m.found) for m in complete)
    best = [m for m in complete if len(m.found) == top]
    return best, sorted(complete, key=lambda m: -len(m.found))


_TOML_AGREEMENT = re.compile(r"^\s*\[\[\s*(parties|sections|indicators)\s*\]\]", re.MULTILINE)
_TOML_SET = re.compile(r"^\s*(\[\[\s*tables\s*\]\]|method_family\s*=)", re.MULTILINE)


def _config_sections() -> set[str]:
    from gep.pipeline import step_config_models

    return {"run", "inputs", *step_config_models()}


def detect_toml(path: Path, text: str) -> Detection:
    """Agreement, run config or coefficient set, from the keys (or, if unparseable, the text)."""
    if path.name == "set.toml":
        return Detection("coefficients", "detected: coefficients from the file name set.toml")
    try:
        data = tomllib.loads(text)
        keys = set(data)
        # [[parties]] / [[sections]] are agreement tables only; a top-level 'method' too (configs nest theirs)
        agreement = bool(keys & {"parties", "sections", "indicators"}) or "method" in keys
        cset = "tables" in keys or "method_family" in keys
        config_keys = sorted(keys & _config_sections())
    except tomllib.TOMLDecodeError:
        agreement = bool(_TOML_AGREEMENT.search(text))
        cset = bool(_TOML_SET.search(text))
        config_keys = sorted(s for s in _config_sections()
                             if re.search(r"^\s*\[\s*" + re.escape(s) + r"\s*\]", text, re.MULTILINE))
    hits: list[tuple[str, str]] = []
    if agreement:
        hits.append(("agreement", "[[parties]] / [[sections]] / method"))
    if cset:
        hits.append(("coefficients", "[[tables]] / method_family"))
    if config_keys:
        hits.append(("config", "sections " + ", ".join(f"[{k}]" for k in config_keys)))
    if len(hits) == 1:
        return Detection(hits[0][0], f"detected: {hits[0][0]} from .toml keys {hits[0][1]}")
    if not hits:
        return Detection(None, "a .toml file that is neither an agreement, a run config nor a set.toml")
    return Detection(None, "a .toml file that looks like " + " and ".join(f"{k} ({why})" for k, why in hits),
                     tuple(k for k, _ in hits))


def _builtin_kind(path: Path) -> str | None:
    """'coefficients', 'crosswalk' or 'regions' when ``path`` is not a file but the id of a built-in."""
    if path.exists() or len(path.parts) != 1:
        return None
    from gep.coefficients import list_crosswalks, list_sets
    from gep.regions import list_registries

    name = str(path)
    for kind, names in (("coefficients", list_sets()), ("crosswalk", list_crosswalks()), ("regions", list_registries())):
        if name in names:
            return kind
    return None


def resolve_input(name: str) -> Path:
    """``demo:NAME`` → the embedded demo file (as in run configs); anything else unchanged."""
    if name.startswith("demo:"):
        from gep.pipeline import demo_data_dir

        return demo_data_dir() / name[len("demo:"):]
    return Path(name)


def detect(path: Path, file: str, sheet: str | None = None) -> Detection:
    """Detect the kind of one input; raises InputError when it cannot be read or told apart."""
    builtin = _builtin_kind(path)
    if builtin is not None:
        label = {"coefficients": "coefficient set", "crosswalk": "crosswalk", "regions": "region registry"}[builtin]
        return Detection(builtin, f"detected: {builtin}, the name of a built-in {label}")
    if path.is_dir():
        if (path / "set.toml").is_file():
            return Detection("coefficients", "detected: coefficients from a folder with set.toml")
        if (path / "counties.csv").is_file():
            return Detection("regions", "detected: regions from a registry folder with counties.csv")
        raise InputError([Problem("UNKNOWN_KIND", "this folder is neither a coefficient set nor a region registry",
                                  file=file, expected="a folder with set.toml or counties.csv, or --kind")])
    if not path.exists():
        raise InputError([Problem("FILE_NOT_FOUND", "the file does not exist", file=file,
                                  expected="a path to a CSV, XLSX, Parquet or TOML file")])
    if path.suffix.lower() == ".toml":
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        d = detect_toml(path, text)
        if d.kind is None:
            code = "AMBIGUOUS_KIND" if d.candidates else "UNKNOWN_KIND"
            raise InputError([Problem(code, f"cannot tell which input this is: {d.how}", file=file,
                                      value=", ".join(d.candidates) or None,
                                      expected="--kind agreement, --kind config or --kind coefficients")])
        return d
    raw = read_raw(path, sheet=sheet, display_name=file)
    headers = [h for h in raw.df.columns]
    best, ranked = detect_header(headers)
    if len(best) == 1:
        m = best[0]
        return Detection(m.kind, f"detected: {m.kind} from columns {', '.join(m.found)}")
    if len(best) > 1:
        names = tuple(m.kind for m in best)
        detail = "; ".join(f"{m.kind} ({', '.join(m.found)})" for m in best)
        raise InputError([Problem(
            "AMBIGUOUS_KIND", f"the columns fit more than one kind of input: {detail}", file=raw.file, row=1,
            value=", ".join(names), expected="--kind " + " or --kind ".join(names))])
    near = [m for m in ranked if m.found][:3]
    cat = kinds()
    hint = "; ".join(f"{m.kind} lacks {', '.join(m.missing) or 'one of ' + ', '.join(cat[m.kind].signature)}"
                     for m in near)
    shown = ", ".join(h for h in headers if h.strip().lower() not in METADATA_COLUMNS)
    raise InputError([Problem(
        "UNKNOWN_KIND", "cannot tell which input this is from its columns" + (f" (closest: {hint})" if hint else ""),
        file=raw.file, row=1, value=shown, expected="the columns of one input kind (docs/input_tables.md), or --kind")])


# ---------------------------------------------------------------------------
# validation of many files


@dataclass
class Report:
    """Outcome of :func:`validate_files`: the files that passed and every problem found."""

    checked: list[Checked] = field(default_factory=list)
    failed: list[tuple[str, str, int]] = field(default_factory=list)
    """(file, how the kind was chosen, number of problems) of files with problems."""
    problems: list[Problem] = field(default_factory=list)


def validate_files(files: Sequence[str | Path], kind: str = AUTO, opts: Options | None = None) -> Report:
    """Check every file as the kind given (or detected); collect every problem of every file.

    Cross-file checks: a region + year + class in two land-cover files, an agreement id
    used by two agreement files (DUPLICATE_KEY).
    """
    return validate_pairs([(str(f), kind) for f in files], opts)


def validate_pairs(items: Sequence[tuple[str, str]], opts: Options | None = None) -> Report:
    """Like :func:`validate_files` with a kind (or ``auto``) per file: ``[(file, kind), ...]``."""
    opts = opts or Options()
    catalogue = kinds()
    rep = Report()
    for file, kind in items:
        if kind != AUTO and kind not in catalogue:
            raise ValueError(f"unknown kind {kind!r}")
        path = resolve_input(file)
        det = Detection(kind, f"kind: {kind}, as given by --kind") if kind != AUTO else Detection(None, "kind not detected")
        try:
            if kind == AUTO:
                det = detect(path, file, opts.sheet)
            elif not path.exists() and _builtin_kind(path) != kind:
                raise InputError([Problem("FILE_NOT_FOUND", "the file does not exist", file=file,
                                          expected="a path to an input file")])
            assert det.kind is not None
            summary, table = catalogue[det.kind].check(path, file, opts)
            rep.checked.append(Checked(file, det.kind, det.how, summary, table))
        except InputError as exc:
            found = list(exc.problems)
            if det.kind is not None:
                found += _raw_region_problems(path, file, catalogue[det.kind], opts, found)
            rep.problems.extend(found)
            rep.failed.append((file, det.how, len(found)))
    rep.problems.extend(_cross_file(rep.checked))
    return rep


def _raw_region_problems(path: Path, file: str, kind: InputKind, opts: Options,
                         already: list[Problem]) -> list[Problem]:
    """Region ids checked on the raw cells when the reader stopped early (bad numbers etc.),
    so one run lists unknown regions too. Nothing when no registry, no region column, or already checked."""
    if opts.registry is None or kind.spec is None or any(p.code == "UNKNOWN_REGION" for p in already):
        return []
    if not any(c.name == "region_id" for c in kind.spec.columns) or not path.is_file():
        return []
    from gep.loaders import _match_columns

    try:
        raw = read_raw(path, sheet=opts.sheet, display_name=file)
    except InputError:
        return []
    found, _ = _match_columns(list(raw.df.columns), kind.spec, raw.file, ProblemCollector())
    if "region_id" not in found:
        return []
    header = found["region_id"].header
    df = raw.df.select(pl.col(header).alias("region_id")).with_columns(raw.rows.alias(ROW))
    return [replace(p, column=header) for p in _region_problems(df, raw.file, opts)]


def _cross_file(checked: list[Checked]) -> list[Problem]:
    problems: list[Problem] = []
    lc = [c for c in checked if c.kind == "landcover" and c.table is not None]
    if len(lc) > 1:
        from gep.validation import check_duplicates_across_files

        problems.extend(check_duplicates_across_files([(c.file, c.table) for c in lc if c.table is not None]))
    ag = [c for c in checked if c.kind == "agreement" and c.table is not None]
    seen: dict[str, str] = {}
    for c in ag:
        assert c.table is not None
        aid = str(c.table["agreement_id"][0])
        if aid in seen:
            problems.append(Problem("DUPLICATE_KEY", f"agreement id '{aid}' is also used by {seen[aid]}",
                                    file=c.file, column="id", value=aid, expected="a different id per agreement"))
        else:
            seen[aid] = c.file
    return problems


def describe_kinds() -> pl.DataFrame:
    """``kind, title, documented_in, columns`` (required columns with their first Chinese alias)."""
    rows = []
    for k in kinds().values():
        cols = ""
        if k.spec is not None:
            parts = []
            for c in k.spec.columns:
                if not c.required:
                    continue
                zh = next((a for a in c.aliases if not a.isascii()), None)
                parts.append(f"{c.name} ({zh})" if zh else c.name)
            cols = ", ".join(parts)
        rows.append({"kind": k.name, "title": k.title, "documented_in": k.doc, "columns": cols or "TOML"})
    return pl.DataFrame(rows)


__all__ = [
    "AUTO",
    "CONFIG_INPUT_KINDS",
    "KIND_NAMES",
    "Checked",
    "Detection",
    "HeaderMatch",
    "InputKind",
    "Options",
    "Report",
    "config_paths",
    "describe_kinds",
    "detect",
    "detect_header",
    "detect_toml",
    "kinds",
    "match_header",
    "resolve_input",
    "validate_files",
    "validate_pairs",
]
