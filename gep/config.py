"""Run configuration: the TOML file that describes a whole run (`gep run CONFIG.toml`).

Schema (docs/run_config.md): ``[run]`` and ``[inputs]`` are defined here; every
step section (``[account]``, ``[carbon]``, ...) is validated by the frozen
pydantic ``Config`` of its step module (:data:`gep.pipeline.STEPS`). The
resolved configuration, with every default filled in and every path made
absolute, is written to ``DIR/run.toml`` so that ``gep run DIR/run.toml``
repeats the run exactly.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gep.errors import InputError, Problem
from gep.inputkinds import reads
from gep.steps import step_config_models, step_sections
from gep.vocabulary import respell_section

SYNTHETIC_LABEL = "SYNTHETIC DEMO DATA — not official statistics / 合成演示数据，非官方统计"


class RunSection(BaseModel):
    """``[run]``: what the run is and where it writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field("gep run", description="title shown in the manifest and reports")
    regions: str | None = Field(
        None, description="region registry: 'sichuan', a path to a region table, or empty to accept any region id"
    , json_schema_extra=reads("regions"))
    synthetic: bool = Field(False, description="true when the inputs are synthetic (demo) data; labels every output")
    data_label: str | None = Field(None, description="label printed on every output (defaults to the synthetic label)")
    price_base_year: int | None = Field(None, description="constant-price base year (不变价), if any")
    out: str | None = Field(None, description="output directory (overridden by --out)")
    report: bool = Field(True, description="write report.xlsx and report.html")
    report_lang: str = Field("zh-en", description="report language: zh, en or zh-en")
    report_detail_rows: int = Field(
        25_000, ge=0, description="rows kept per detail sheet of report.xlsx (default 25,000, the report library's cap, "
        "so national runs write the workbook in seconds); 0 = all rows"
    )
    report_detail: Literal["capped", "full"] = Field(
        "capped", description="Excel detail: capped writes report.xlsx, the filing workbook (first 200 rows of each "
        "detail table); full also writes report_detail.xlsx with every table (the --detail option overrides it)"
    )
    csv_max_rows: int = Field(
        1_048_576, ge=0, description="tables with more rows than this are written as Parquet only, with a note in "
        "the manifest (default 1,048,576, Excel's row limit: a larger CSV cannot be opened in Excel or WPS); "
        "tables up to this size are written as CSV and Parquet"
    )


class InputsSection(BaseModel):
    """``[inputs]``: the land-cover tables and the crosswalk to ecosystem types."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    landcover: list[str] = Field(default_factory=list, description="land-cover tables (CSV/XLSX/Parquet)", json_schema_extra=reads("landcover"))
    sheet: str | None = Field(None, description="XLSX sheet name (first sheet when empty)")
    crosswalk: str | None = Field(
        None, description="crosswalk id (clcd, cnlucc, tnls, worldcover) or path; empty = classes not checked"
    , json_schema_extra=reads("crosswalk"))

    @field_validator("landcover", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class RunConfig(BaseModel):
    """A whole run: ``[run]``, ``[inputs]`` and the step sections (validated by each step)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run: RunSection = Field(default_factory=RunSection)
    inputs: InputsSection = Field(default_factory=InputsSection)
    steps: dict[str, BaseModel] = Field(default_factory=dict)
    source: str | None = None
    """Path of the TOML file the config came from (relative paths resolve against its folder)."""
    notes: tuple[str, ...] = ()
    """Old spellings met while reading (gep.vocabulary): the run warns OLD_SPELLING with each."""

    @property
    def base_dir(self) -> Path:
        return Path(self.source).resolve().parent if self.source else Path.cwd()

    def consistency_problems(self) -> list[Problem]:
        """Every rule between options of different keys and sections (``BAD_OPTION``), collected from the
        sections themselves: ``[inputs]`` here, each step's ``Config.consistency_problems``. The run checks
        them before reading anything, so the CLI, a TOML file and Python fail the same way."""
        problems: list[Problem] = []
        if self.inputs.sheet and not self.inputs.landcover:
            problems.append(Problem(
                "BAD_OPTION", "[inputs] sheet (--sheet) names the sheet of the land-cover workbook, but no land-cover "
                "table was given", column="inputs.sheet", value=self.inputs.sheet,
                expected="[inputs] landcover = [\"FILE.xlsx\"] (--landcover FILE.xlsx)"))
        for section in step_sections():
            step = self.steps.get(section)
            check = getattr(step, "consistency_problems", None)
            if check is not None:
                problems.extend(check(self.run, self.inputs, tuple(self.steps)))
        return problems


def _line_of(text: str, section: str | None, key: str | None) -> int | None:
    """Line number of ``key`` inside ``[section]`` of a TOML text (1-based), best effort."""
    lines = text.splitlines()
    start = 0
    if section:
        pat = re.compile(r"^\s*\[\[?\s*" + re.escape(section) + r"\s*\]\]?\s*(#.*)?$")
        for i, line in enumerate(lines):
            if pat.match(line):
                start = i
                if key is None:
                    return i + 1
                break
        else:
            return None
    if key:
        kp = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        for i in range(start, len(lines)):
            if i > start and section and lines[i].lstrip().startswith("["):
                break
            if kp.match(lines[i]):
                return i + 1
    return None


def _show(value: Any) -> str | None:
    """A config value as the user wrote it (no Python reprs)."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def section_problems(model: type[BaseModel], section: str, exc: ValidationError, *, file: str | None = None,
                     text: str = "", code: str = "BAD_CONFIG", where: str | None = None,
                     noun: str = "key") -> list[Problem]:
    """The problems of a config section that failed validation, in plain words: an unknown key with the nearest
    known one ("did you mean 'methods'?") and every known key, a bad value with the key's description.

    Shared by run.toml (``[section] has no key …``, located by line) and the Python API (``where`` names the
    function, ``noun`` is "option"), so both say the same thing."""
    where = where or f"[{section}]"
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        key = loc[0] if loc else None
        fields = list(model.model_fields)
        if err["type"] == "extra_forbidden" and key is not None:
            near = difflib.get_close_matches(key, fields, n=1, cutoff=0.6)
            msg = f"{where} has no {noun} '{key}'" + (f"; did you mean '{near[0]}'?" if near else "")
            expected = "one of: " + ", ".join(fields)
        else:
            msg = f"{where} {'.'.join(loc)}: {_plain(err['msg'])}"
            field = model.model_fields.get(key or "")
            expected = field.description if field is not None and field.description else None
        out.append(Problem(code, msg, file=file, row=_line_of(text, section, key) if text else None,
                           column=".".join([section, *loc]), value=_show(err.get("input")), expected=expected))
    return out


def _plain(msg: str) -> str:
    """Pydantic's message in plain words for a county statistician."""
    return (msg.replace("Input should be", "the value should be")
            .replace("a valid integer", "a whole number")
            .replace("a valid number", "a number")
            .replace("a valid string", "text in quotes")
            .replace("a valid boolean", "true or false")
            .replace("a valid list", "a list in square brackets [...]"))


def parse_config(data: dict[str, Any], source: str | None = None, text: str = "") -> RunConfig:
    """Validate a config mapping; every problem is collected with its TOML line."""
    problems: list[Problem] = []
    file = source or "<config>"
    models = step_config_models()
    known = {"run", "inputs", *models}
    for section in data:
        if section not in known:
            problems.append(Problem(
                "BAD_CONFIG", f"unknown section [{section}]", file=file, row=_line_of(text, section, None),
                column=section, expected="one of: " + ", ".join(sorted(known)),
            ))

    def _validate(model: type[BaseModel], section: str, value: Any) -> BaseModel | None:
        try:
            return model.model_validate(value if value is not None else {})
        except ValidationError as exc:
            problems.extend(section_problems(model, section, exc, file=file, text=text))
            return None

    run = _validate(RunSection, "run", data.get("run"))
    inputs = _validate(InputsSection, "inputs", data.get("inputs"))
    steps: dict[str, BaseModel] = {}
    notes: list[str] = []
    for name, model in models.items():
        if name in data:
            section = data[name]
            if isinstance(section, dict):
                section, found = respell_section(name, section)
                notes += found
            cfg = _validate(model, name, section)
            if cfg is not None:
                steps[name] = cfg
    if problems:
        raise InputError(problems)
    assert isinstance(run, RunSection) and isinstance(inputs, InputsSection)
    config = RunConfig(run=run, inputs=inputs, steps=steps, source=source, notes=tuple(notes))
    located = []
    for p in config.consistency_problems():
        section, _, key = (p.column or "").partition(".")
        row = (_line_of(text, section, key or None) or _line_of(text, section, None)
               or next((n for sec in config.steps if (n := _line_of(text, sec, None))), None))
        located.append(replace(p, file=file, row=row))
    if located:
        raise InputError(located)
    return config


def load_config(path: str | Path) -> RunConfig:
    """Read and validate a run configuration TOML file."""
    p = Path(path)
    if not p.exists():
        raise InputError([Problem("FILE_NOT_FOUND", "the configuration file does not exist", file=str(path))])
    text = p.read_text(encoding="utf-8-sig")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError([Problem("BAD_CONFIG", f"the file is not valid TOML: {exc}", file=str(path),
                                  row=int(m.group(1)) if m else None)]) from exc
    return parse_config(data, source=str(p), text=text)


def merge_tomls(paths: list[Path]) -> tuple[dict[str, Any], str]:
    """Merge TOML fragments (later files add sections; a repeated section is an engine error)."""
    merged: dict[str, Any] = {}
    texts = []
    for p in paths:
        text = p.read_text(encoding="utf-8")
        texts.append(text)
        for k, v in tomllib.loads(text).items():
            if k in merged and isinstance(merged[k], dict) and isinstance(v, dict):
                merged[k] = {**merged[k], **v}
            else:
                merged[k] = v
    return merged, "\n".join(texts)


# ---------------------------------------------------------------------------
# deterministic TOML writer (tomllib reads only)


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def _toml_str(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{out}"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, Path):
        return _toml_str(str(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(x)}" for k, x in v.items()
                                if x is not None) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(data: dict[str, Any], header: str = "") -> str:
    """Write nested dicts as TOML deterministically (None values are left out)."""
    lines: list[str] = [header.rstrip()] if header else []

    def table(prefix: str, d: dict[str, Any]) -> None:
        scalars = [(k, v) for k, v in d.items() if v is not None and not isinstance(v, dict)
                   and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))]
        subtables = [(k, v) for k, v in d.items() if isinstance(v, dict)]
        arrays = [(k, v) for k, v in d.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if prefix:
            lines.append("")
            lines.append(f"[{prefix}]")
        for k, v in scalars:
            lines.append(f"{_toml_key(str(k))} = {_toml_value(v)}")
        for k, v in subtables:
            table(f"{prefix}.{_toml_key(str(k))}" if prefix else _toml_key(str(k)), v)
        for k, items in arrays:
            name = f"{prefix}.{_toml_key(str(k))}" if prefix else _toml_key(str(k))
            for item in items:
                lines.append("")
                lines.append(f"[[{name}]]")
                for kk, vv in item.items():
                    if vv is not None:
                        lines.append(f"{_toml_key(str(kk))} = {_toml_value(vv)}")

    table("", data)
    return "\n".join(lines).lstrip("\n") + "\n"
