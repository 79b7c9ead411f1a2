"""Catalogue of every input kind gep reads: detection and validation for `gep validate`.

The kinds are collected, not listed here: the land cover and the reference data
from :mod:`gep.inputkinds`, and every step module's ``INPUT_KINDS`` (:mod:`gep.steps`),
each with the reader of the module that owns it, so `gep validate` checks a file
exactly as a run would read it. Which config key names which kind is read off the
config models' field metadata (:func:`gep.inputkinds.reads`). No calculation happens here.

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
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel

from gep.coefficients import (
    list_crosswalks,
    list_sets,
    load_crosswalk,
    load_set,
)
from gep.config import InputsSection, RunSection, _line_of, load_config
from gep.context import demo_data_dir
from gep.errors import InputError, Problem, ProblemCollector
from gep.inputkinds import (
    BASE_KINDS,
    REFERENCE_KINDS,
    ConfigCheck,
    InputKind,
    Options,
    field_kinds,
    raise_if,
    region_problems,
)
from gep.loaders import load_landcover
from gep.readers import read_raw, source_path
from gep.regions import list_registries, load_registry
from gep.steps import STEPS, step_config_models
from gep.tablespec import (
    METADATA_COLUMNS,
    ROW,
    match_columns,
)
from gep.validation import check_duplicates_across_files

AUTO = "auto"


# ---------------------------------------------------------------------------
# options and results


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





# ---------------------------------------------------------------------------
# small helpers







# ---------------------------------------------------------------------------
# checkers: each calls the reader of the module that owns the kind











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



def config_input_kinds() -> dict[tuple[str, str], str]:
    """Kind of each input a run config names, by (section, key), read off the config models'
    field metadata (:func:`gep.inputkinds.reads`); other named files are only checked to exist."""
    models: dict[str, type[BaseModel]] = {"run": RunSection, "inputs": InputsSection, **step_config_models()}
    return {(section, name): kind for section, model in models.items() for name, kind in field_kinds(model).items()}


def _config_input_kind(section: str, key: str, value: str) -> str | None:
    kind = config_input_kinds().get((section, key))
    if kind is not None and value.endswith("set.toml"):  # a set folder's set.toml where a table may stand
        return "coefficients"
    return kind



def _resolve_config_path(value: str, base: Path) -> Path:
    target = resolve_input(value).expanduser()
    return target if target.is_absolute() else base / target


def _check_config(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    """The config schema (gep.config.load_config), then every input file it names: it must exist
    (relative paths from the config's folder, ``demo:NAME`` from the embedded demo data) and pass the
    checks of its kind (:data:`config_input_kinds()`) with the config's registry, crosswalk and land cover."""

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
    raise_if(problems)
    steps = ", ".join(cfg.steps) or "extent only"
    lc = len(cfg.inputs.landcover)
    head = (f"run config '{cfg.run.title}', regions {cfg.run.regions or 'any id'}, {lc} land-cover file(s), "
            f"steps: {steps}")
    if not opts.deep_config:
        return f"{head}; {len(refs)} input file(s) named, all present (contents not checked)", None
    sub_opts, problems = _config_options(cfg, path.parent, opts)
    raise_if(problems)
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
    raise_if([p for r in subs for p in r.problems])
    # cross-file checks a step declares (check_config in its step module): what its run would refuse
    tables: dict[str, list[pl.DataFrame]] = {}
    for c in (c for r in subs for c in r.checked if c.table is not None):
        tables.setdefault(c.kind, []).append(c.table)
    check = ConfigCheck(run=cfg.run, resolve=lambda v: _resolve_config_path(v, path.parent),
                        registry=sub_opts.registry, tables=tables)
    for name, module in STEPS:
        step_check = getattr(module, "check_config", None)
        if name in cfg.steps and step_check is not None:
            raise_if([_at_config_key(p, file, text) for p in step_check(cfg.steps[name], check)])
    kinds_seen = sorted({c.kind for r in subs for c in r.checked})
    tail = f"; {len(items)} input file(s) valid ({', '.join(kinds_seen)})" if items else "; no input files named"
    if unchecked:
        tail += f"; present but not checked here: {', '.join(sorted(set(unchecked)))}"
    return head + tail, None


def _at_config_key(p: Problem, file: str, text: str) -> Problem:
    """A problem about a config key (no file of its own, column ``section.key``) located at that key's line."""
    if p.file is not None or not p.column or "." not in p.column:
        return p
    section, _, key = p.column.partition(".")
    return replace(p, file=file, row=_line_of(text, section, key))


def _config_options(cfg: Any, base: Path, opts: Options) -> tuple[Options, list[Problem]]:
    """Registry, crosswalk and land cover of a run config (command-line options win), as a run would load them."""
    problems: list[Problem] = []
    registry = opts.registry
    if registry is None and cfg.run.regions:

        name = cfg.run.regions
        ref = name if name in list_registries() else str(_resolve_config_path(name, base))
        try:
            registry = load_registry(ref)
        except InputError as exc:
            problems.extend(exc.problems)
    crosswalk, cw_name = opts.crosswalk, opts.crosswalk_name
    if crosswalk is None and cfg.inputs.crosswalk:

        name = cfg.inputs.crosswalk
        cw_name = name
        try:
            crosswalk = load_crosswalk(name if name in list_crosswalks() else _resolve_config_path(name, base))
        except InputError as exc:
            problems.extend(exc.problems)
    landcover, lc_files = opts.landcover, opts.landcover_files
    if landcover is None and cfg.inputs.landcover:

        lc_files = tuple(cfg.inputs.landcover)
        try:
            landcover = load_landcover([_resolve_config_path(v, base) for v in lc_files], registry=registry,
                                       crosswalk=crosswalk, sheet=cfg.inputs.sheet)
        except InputError as exc:
            problems.extend(exc.problems)
    indicators = opts.indicators
    fv_set = getattr(cfg.steps.get("account"), "function_value_set", None)
    if indicators is None and fv_set:  # units are checked against the indicators the run will use
        try:
            indicators = load_set(fv_set if fv_set in list_sets() else str(_resolve_config_path(fv_set, base))
                                  ).tables.get("indicators")
        except InputError as exc:
            problems.extend(exc.problems)
    return replace(opts, registry=registry, crosswalk=crosswalk, crosswalk_name=cw_name, landcover=landcover,
                   landcover_files=lc_files, sheet=cfg.inputs.sheet, indicators=indicators), problems






# ---------------------------------------------------------------------------
# detection specs for kinds whose modules use alias dictionaries instead of a TableSpec










# ---------------------------------------------------------------------------
# the catalogue



_CONFIG_KIND = InputKind("config", "run configuration (TOML)", "docs/run_config.md", None, toml=True)  # type: ignore[arg-type]


def kinds() -> dict[str, InputKind]:
    """Every input kind gep reads, by name: the land cover, each step's ``INPUT_KINDS`` in run
    order, run configs, then the reference data. Collected, never listed here."""
    found: list[InputKind] = [*BASE_KINDS]
    for _, module in STEPS:
        found += [k for k in module.INPUT_KINDS if k.name not in {f.name for f in found}]
    found += [replace(_CONFIG_KIND, check=_check_config), *REFERENCE_KINDS]
    return {k.name: k for k in found}


KIND_NAMES: tuple[str, ...] = tuple(kinds())
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

    assert kind.spec is not None
    pc = ProblemCollector()
    found, _unit = match_columns(list(headers), kind.spec, "<header>", pc)
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

    name = str(path)
    for kind, names in (("coefficients", list_sets()), ("crosswalk", list_crosswalks()), ("regions", list_registries())):
        if name in names:
            return kind
    return None


def resolve_input(name: str) -> Path:
    """``demo:NAME`` → the embedded demo file (as in run configs); anything else unchanged."""
    if name.startswith("demo:"):

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
    if not source_path(path).exists():  # lc.xlsx#2020 names a sheet of lc.xlsx
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
            elif not source_path(path).exists() and _builtin_kind(path) != kind:
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

    try:
        raw = read_raw(path, sheet=opts.sheet, display_name=file)
    except InputError:
        return []
    found, _ = match_columns(list(raw.df.columns), kind.spec, raw.file, ProblemCollector())
    if "region_id" not in found:
        return []
    header = found["region_id"].header
    df = raw.df.select(pl.col(header).alias("region_id")).with_columns(raw.rows.alias(ROW))
    return [replace(p, column=header) for p in region_problems(df, raw.file, opts)]


def _cross_file(checked: list[Checked]) -> list[Problem]:
    problems: list[Problem] = []
    lc = [c for c in checked if c.kind == "landcover" and c.table is not None]
    if len(lc) > 1:

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
    "config_input_kinds",
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
