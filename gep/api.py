"""The Python API: ``gep.account``, ``gep.carbon``, ``gep.compensate``, ``gep.run``, ``gep.validate``.

For notebooks and scripts (walk-through: docs/python.md). Every function builds the same
run configuration the CLI builds and runs it through the same pipeline, so inputs are
checked the same way and bad input raises the same :class:`gep.errors.InputError` with
the same problem codes and locations (file, spreadsheet row with the header as row 1,
column). An input may be a path, a ``demo:NAME`` of the embedded synthetic data, or a
Polars or pandas DataFrame: a DataFrame is checked as the CSV file it would be, and
problems name it as ``<DataFrame quantities>`` with the row of that CSV (DataFrame row
``i`` is row ``i + 2``).

A :class:`Result` holds every output table as a Polars DataFrame and the run's manifest
(inputs with sha256, coefficient sets, warnings). ``out=`` also keeps the run directory
(tables, manifest.json, run.toml and, with ``report=True``, the reports); without it
nothing is left on disk.

CLI layer: imports the run and the reports; ``import gep`` loads this module only when
one of these names is first used.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ValidationError

from gep.coefficients import load_crosswalk
from gep.config import InputsSection, RunConfig, RunSection, load_config, parse_config, section_problems
from gep.context import ProgressCallback
from gep.errors import InputError, Problem
from gep.inputs_catalog import AUTO, Checked, Options, validate_pairs
from gep.pipeline import execute
from gep.regions import load_registry
from gep.reports import write_run_reports
from gep.steps import step_config_models
from gep.vocabulary import respell_section

Table = Any
"""A path (str or Path), ``demo:NAME``, a ``polars.DataFrame`` or a ``pandas.DataFrame``."""

_DATAFRAME = "<DataFrame {name}>"


@dataclass(frozen=True)
class Result:
    """What a run produced: every output table as a Polars DataFrame, and the manifest.

    ``result["gep"]`` or ``result.tables["gep"]``; ``result.manifest["inputs"]`` lists every input
    with its sha256; ``result.warnings`` the run's warnings as :class:`gep.errors.Problem`;
    ``result.out`` the run directory when ``out=`` was given (else None).
    """

    tables: dict[str, pl.DataFrame]
    manifest: dict[str, Any]
    warnings: list[Problem] = field(default_factory=list)
    out: Path | None = None

    def __getitem__(self, name: str) -> pl.DataFrame:
        if name not in self.tables:
            raise KeyError(f"no table {name!r}; this run has: {', '.join(sorted(self.tables))}")
        return self.tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.tables))

    @property
    def synthetic(self) -> bool:
        """True when the inputs were synthetic (the demo or `gep init` example rows)."""
        return bool(self.manifest.get("synthetic"))

    def __repr__(self) -> str:
        names = ", ".join(f"{n} ({self.tables[n].height} rows)" for n in sorted(self.tables))
        label = " SYNTHETIC" if self.synthetic else ""
        return f"<gep.Result{label}: {names}>"


def _is_frame(value: Any) -> bool:
    if isinstance(value, pl.DataFrame):
        return True
    mod = type(value).__module__
    return mod.startswith("pandas") and type(value).__name__ == "DataFrame"


def _as_polars(value: Any) -> pl.DataFrame:
    return value if isinstance(value, pl.DataFrame) else pl.from_pandas(value)


class _Frames:
    """DataFrames given as inputs, written as CSV into a scratch folder (the run config's folder) so the run
    reads and checks them exactly as it reads files; problems are renamed back to the DataFrame."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: dict[str, str] = {}
        """scratch file path (as problems name it) → display name."""

    def put(self, value: Any, name: str) -> Any:
        """``value`` itself, or for a DataFrame the CSV file name written for it (relative to the folder)."""
        if isinstance(value, (list, tuple)):
            return [self.put(v, f"{name}_{i + 1}" if len(value) > 1 else name) for i, v in enumerate(value)]
        if not _is_frame(value):
            return str(value) if isinstance(value, Path) else value
        file = f"{name}.csv"
        _as_polars(value).write_csv(self.folder / file)
        display = _DATAFRAME.format(name=name)
        for shown in (file, str(self.folder / file), str((self.folder / file).resolve())):
            self.names[shown] = display
        return file

    def rename(self, problems: Sequence[Problem]) -> list[Problem]:
        out = []
        for p in problems:
            file = p.file
            if file is not None:
                for shown in sorted(self.names, key=len, reverse=True):  # full paths before bare names
                    file = file.replace(shown, self.names[shown])
            out.append(replace(p, file=file))
        return out


def _section(model: type[BaseModel], section: str, values: Mapping[str, Any], frames: _Frames) -> BaseModel:
    """A step's config section from keyword arguments (DataFrames written through ``frames``)."""
    data = {k: frames.put(v, k) for k, v in values.items() if v is not None}
    try:
        return model.model_validate(data)
    except ValidationError as exc:  # the same words as run.toml's checks, for keyword arguments
        raise InputError(section_problems(model, section, exc, code="BAD_OPTION", where=f"gep.{section}()",
                                          noun="option")) from None


def _run_config(steps: Mapping[str, Mapping[str, Any]], frames: _Frames, *, landcover: Any = None,
                crosswalk: str | None = None, regions: Any = None, synthetic: bool = False,
                price_base_year: int | None = None, title: str = "gep (Python)", sheet: str | None = None,
                report: bool = False) -> RunConfig:
    models = step_config_models()
    notes: list[str] = []
    respelled = {}
    for s, v in steps.items():
        respelled[s], found = respell_section(s, v)
        notes += found
    built = {s: _section(models[s], s, v, frames) for s, v in respelled.items()}
    inputs = InputsSection(landcover=frames.put(landcover, "landcover") if landcover is not None else [],
                           crosswalk=crosswalk, sheet=sheet)
    run = RunSection(title=title, regions=frames.put(regions, "regions"), synthetic=synthetic,
                     price_base_year=price_base_year, report=report)
    # the scratch folder is the config's folder, so DataFrame files resolve as relative paths do
    return RunConfig(run=run, inputs=inputs, steps=built, source=str(frames.folder / "run.toml"), notes=tuple(notes))


def _execute(config: RunConfig, out: str | Path | None, frames: _Frames | None,
             progress: ProgressCallback | None, command: str) -> Result:
    reporter = write_run_reports if config.run.report else None
    try:
        if out is not None:
            run_dir = execute(config, out, command, reporter=reporter, progress=progress)
            return _read_result(run_dir, keep=True)
        with tempfile.TemporaryDirectory(prefix="gep-api-") as scratch:
            run_dir = execute(config, Path(scratch) / "run", command, reporter=None, progress=progress)
            return _read_result(run_dir, keep=False)
    except InputError as exc:
        if frames is None:
            raise
        raise type(exc)(frames.rename(exc.problems)) from None


def _read_result(run_dir: Path, keep: bool) -> Result:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    tables = {rec["name"]: pl.read_parquet(run_dir / "tables" / f"{rec['name']}.parquet")
              for rec in manifest["tables"]}
    warnings = [Problem(**{k: w.get(k) for k in ("code", "message", "file", "row", "column", "value", "expected")})
                for w in manifest.get("warnings", [])]
    return Result(tables=tables, manifest=manifest, warnings=warnings, out=run_dir if keep else None)


def _with_frames(build: Callable[[_Frames], RunConfig], out: str | Path | None,
                 progress: ProgressCallback | None, command: str) -> Result:
    with tempfile.TemporaryDirectory(prefix="gep-api-inputs-") as folder:
        frames = _Frames(Path(folder))
        try:
            config = build(frames)
        except InputError as exc:
            raise type(exc)(frames.rename(exc.problems)) from None
        return _execute(config, out, frames, progress, command)


def account(landcover: Table = None, *, methods: Sequence[str] = ("function_value", "equivalent_factor"),
            crosswalk: str | None = None, regions: Table = None, synthetic: bool = False,
            price_base_year: int | None = None, carbon: Mapping[str, Any] | None = None,
            out: str | Path | None = None, report: bool = False, progress: ProgressCallback | None = None,
            **options: Any) -> Result:
    """County GEP accounts (``gep account``): services, gep, SEEA tables; methods ``function_value`` and/or
    ``equivalent_factor`` (each with its own totals). ``options`` are the keys of ``[account]``
    (docs/run_config.md): ``quantities``, ``statistics``, ``prices``, ``emissions``, ``socio``, ``price_index``,
    ``equivalent_overrides`` …, each a path or a DataFrame. ``carbon=`` adds a ``[carbon]`` section (its keys)
    so carbon sequestration is counted from the carbon step. Method: docs/account.md."""
    steps: dict[str, Mapping[str, Any]] = {"account": {"methods": list(methods), **options}}
    if carbon is not None:
        steps = {"carbon": carbon, **steps}
    return _with_frames(lambda f: _run_config(steps, f, landcover=landcover, crosswalk=crosswalk, regions=regions,
                                              synthetic=synthetic, price_base_year=price_base_year,
                                              title="gep.account", report=report),
                        out, progress, "gep.account (Python)")


def carbon(landcover: Table, *, crosswalk: str | None = None, regions: Table = None, synthetic: bool = False,
           price_base_year: int | None = None, out: str | Path | None = None, report: bool = False,
           progress: ProgressCallback | None = None, **options: Any) -> Result:
    """Carbon stocks, sequestration and their value (``gep carbon``): ``carbon_stock`` (t C) and ``carbon_flux``
    (t C, t CO2e, CNY). ``options`` are the keys of ``[carbon]``: ``method``, ``transitions``, ``coefficients``,
    ``price_per_tco2`` … Method: docs/carbon.md (InVEST carbon model, IPCC Tier 1)."""
    return _with_frames(lambda f: _run_config({"carbon": options}, f, landcover=landcover, crosswalk=crosswalk,
                                              regions=regions, synthetic=synthetic,
                                              price_base_year=price_base_year, title="gep.carbon", report=report),
                        out, progress, "gep.carbon (Python)")


def compensate(agreements: Sequence[str | Path], monitoring: Table, *, regions: Table = "sichuan",
               synthetic: bool = False, out: str | Path | None = None, report: bool = False,
               progress: ProgressCallback | None = None, **options: Any) -> Result:
    """Ecological compensation settlement (``gep compensate``): ``compensation_ledger`` and
    ``compensation_net`` in exact yuan. ``agreements`` are agreement TOML files; ``monitoring`` one table or a
    list; ``options`` the other keys of ``[compensation]``. Method: docs/compensation.md."""
    monitoring_list = monitoring if isinstance(monitoring, (list, tuple)) else [monitoring]
    section = {"agreements": [str(a) for a in agreements], "monitoring": list(monitoring_list), **options}
    return _with_frames(lambda f: _run_config({"compensation": section}, f, regions=regions, synthetic=synthetic,
                                              title="gep.compensate", report=report),
                        out, progress, "gep.compensate (Python)")


def run(config: str | Path | Mapping[str, Any] | RunConfig, *, out: str | Path | None = None,
        progress: ProgressCallback | None = None) -> Result:
    """A whole run described by a configuration (``gep run``): a TOML path, a mapping of its sections, or a
    :class:`gep.config.RunConfig`. ``out`` defaults to nothing on disk (the config's ``[run] out`` is used
    only by the CLI); with ``out=`` reports are written when the config asks for them. Schema:
    docs/run_config.md."""
    if isinstance(config, RunConfig):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = parse_config(dict(config), source=None)
    else:
        cfg = load_config(config)
    if out is None and cfg.run.report:
        cfg = cfg.model_copy(update={"run": cfg.run.model_copy(update={"report": False})})
    return _execute(cfg, out, None, progress, "gep.run (Python)")


def validate(*inputs: Table, kind: str = AUTO, regions: str | None = None, crosswalk: str | None = None,
             sheet: str | None = None) -> list[Checked]:
    """Check input files or DataFrames as ``gep validate`` does, without computing anything.

    Returns one :class:`gep.inputs_catalog.Checked` per input (``.kind``, ``.summary``, ``.line()``);
    raises :class:`gep.errors.InputError` with every problem of every input (DataFrames named
    ``<DataFrame N>``, rows as in their CSV). ``kind`` as ``--kind`` (default: detected from the header)."""
    registry = None
    cw = None
    with tempfile.TemporaryDirectory(prefix="gep-api-validate-") as folder:
        frames = _Frames(Path(folder))
        files = [str(Path(folder) / f) if _is_frame(v) else str(v)
                 for f, v in ((frames.put(v, f"table{i + 1}"), v) for i, v in enumerate(inputs))]
        if regions:
            registry = load_registry(regions)
        if crosswalk:
            cw = load_crosswalk(crosswalk)
        opts = Options(registry=registry, crosswalk=cw, crosswalk_name=crosswalk, sheet=sheet)
        report = validate_pairs([(f, kind) for f in files], opts)
        if report.problems:
            raise InputError(frames.rename(report.problems))
        return [replace(c, file=frames.rename([Problem("", "", file=c.file)])[0].file or c.file)
                for c in report.checked]


__all__ = ["Result", "account", "carbon", "compensate", "run", "validate"]
