"""The run pipeline: inputs → steps → one run directory, written atomically.

``execute(config, out_dir)`` loads the region registry and the land-cover
extent, runs every step whose section is in the config (:data:`STEPS`), and
writes ``tables/*.parquet`` (+ ``*.csv`` up to ``[run] csv_max_rows`` rows), ``manifest.json``, ``run.toml`` and the
reports into a temporary sibling directory that replaces ``out_dir`` only when
everything succeeded. On an input error nothing is written.
"""

from __future__ import annotations

import contextvars
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import polars as pl

from gep import __version__
from gep.coefficients import load_crosswalk
from gep.config import SYNTHETIC_LABEL, RunConfig, dumps_toml, merge_tomls, parse_config
from gep.context import DEMO_SCHEME, ProgressCallback, demo_data_dir, names_demo, no_progress
from gep.errors import InputError, Problem, os_error_reason
from gep.extent import build_extent
from gep.loaders import load_landcover
from gep.readers import collect_read_notes, source_path
from gep.regions import load_registry
from gep.steps import STEPS, step_sections

Reporter = Callable[[Path, str, int, str], object]
"""Writes the reports of a finished run directory: ``(run_dir, lang, detail_rows, detail)``."""

LAST_RUN_WARNINGS: contextvars.ContextVar[list[Problem] | None] = contextvars.ContextVar(
    "gep_last_run_warnings", default=None)
"""Warnings of the last :func:`execute` in this context (the CLI prints them after the command)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class RunContext:
    """What a step sees: resolved inputs, registry, extent, and where to put its tables."""

    config: RunConfig
    registry: Any = None
    extent: pl.DataFrame | None = None
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    coefficient_sets: list[dict[str, Any]] = field(default_factory=list)
    coefficient_rows: list[pl.DataFrame] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    resolved_paths: dict[str, str] = field(default_factory=dict)
    progress: ProgressCallback = no_progress

    @property
    def synthetic(self) -> bool:
        return self.config.run.synthetic

    @property
    def price_base_year(self) -> int | None:
        return self.config.run.price_base_year

    def resolve(self, path: str) -> Path:
        """Resolve ``demo:NAME`` and paths relative to the config file's folder."""
        if path.startswith(DEMO_SCHEME):
            return demo_data_dir() / path[len(DEMO_SCHEME):]
        p = Path(path).expanduser()
        if not p.is_absolute():
            p = self.config.base_dir / p
        return p

    def read_input(self, path: str, role: str) -> Path:
        """Resolve an input path and record it (with sha256) in the manifest."""
        p = self.resolve(path)
        if not source_path(p).exists():  # lc.xlsx#2020 names a sheet of lc.xlsx
            raise InputError([Problem("FILE_NOT_FOUND", f"the {role} file does not exist", file=str(path),
                                      expected=f"an existing file ({p})")])
        written = path if path.startswith(DEMO_SCHEME) else str(p.resolve())
        self.resolved_paths[path] = written
        if not any(i["path"] == written and i["role"] == role for i in self.inputs):
            self.inputs.append({"role": role, "path": written, "sha256": sha256_file(source_path(p)),
                                "bytes": source_path(p).stat().st_size})
            if not self.synthetic and not path.startswith(DEMO_SCHEME):
                rows = synthetic_rows(source_path(p))
                if rows:
                    self.warnings.append(Problem(
                        "SYNTHETIC_ROWS", f"{rows} row{'s' if rows != 1 else ''} of this {role} table are labelled "
                        "data_status = synthetic (example rows of gep init or demo data), but the run is not "
                        "labelled synthetic", file=path, column="data_status", value="synthetic",
                        expected="your own figures in place of the example rows, or [run] synthetic = true"))
        return p

    def record_coefficient_set(self, cset: Any) -> None:
        """Record a coefficient set used by a step (manifest + coefficients_used table)."""
        m = cset.manifest
        ident = {"id": m.id, "version": m.version}
        if any(s["id"] == m.id and s["version"] == m.version for s in self.coefficient_sets):
            return
        entry: dict[str, Any] = {
            **ident,
            "title": getattr(m, "title", None),
            "method_family": getattr(m, "method_family", None),
            "price_year": getattr(m, "price_year", None),
            "verification": getattr(m, "verification", None),
            "citation": getattr(m, "citation", None),
        }
        for extra in ("base_id", "base_version", "overrides", "fingerprint"):
            val = getattr(m, extra, None)
            if val is None and hasattr(cset, extra):
                val = getattr(cset, extra)
                val = val() if callable(val) else val
            if val is not None:
                entry[extra] = val if isinstance(val, (str, int, float, list, dict)) else str(val)
        self.coefficient_sets.append(entry)
        for tname, table in sorted(cset.tables.items()):
            keys = cset.keys(tname) if hasattr(cset, "keys") else None
            self.coefficient_rows.append(coefficient_rows_table(m.id, m.version, tname, table, keys))


def coefficient_rows_table(set_id: str, version: str, table_name: str, table: pl.DataFrame,
                           keys: list[str] | None = None) -> pl.DataFrame:
    """Rows of one coefficient table in the uniform shape of ``coefficients_used.csv``."""
    meta = {"value", "unit", "price_year", "source", "verification", "low", "high", "distribution", "note"}
    if keys is None:
        keys = [c for c in table.columns if c not in meta]
    key_expr = (pl.concat_str([pl.col(k).cast(pl.Utf8).fill_null("") for k in keys], separator=" | ")
                if keys else pl.lit(""))

    def col(name: str, dtype: type[pl.DataType]) -> pl.Expr:
        return pl.col(name).cast(dtype) if name in table.columns else pl.lit(None, dtype)

    return table.select(
        pl.lit(set_id).alias("set_id"),
        pl.lit(version).alias("set_version"),
        pl.lit(table_name).alias("table"),
        pl.lit(" | ".join(keys)).alias("key_columns"),
        key_expr.alias("key"),
        col("value", pl.Float64).alias("value"),
        col("unit", pl.Utf8).alias("unit"),
        col("price_year", pl.Int64).alias("price_year"),
        col("source", pl.Utf8).alias("source"),
        col("verification", pl.Utf8).alias("verification"),
        col("low", pl.Float64).alias("low"),
        col("high", pl.Float64).alias("high"),
        col("distribution", pl.Utf8).alias("distribution"),
        # declared fields a reader needs next to the value (e.g. soil_depth_cm of c_soil: 0-30 or 0-100 cm)
        pl.concat_str([pl.lit("soil depth "), col("soil_depth_cm", pl.Utf8), pl.lit(" cm")])
        .alias("soil_depth") if "soil_depth_cm" in table.columns else pl.lit(None, pl.Utf8).alias("soil_depth"),
        col("note", pl.Utf8).alias("note"),
    )


def synthetic_rows(path: Path) -> int:
    """Rows of a CSV or Parquet table whose ``data_status`` is ``synthetic`` (0 for other files, or a table without
    that column or that gep cannot scan here: reading and checking it is the loaders' job)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
        elif suffix in (".parquet", ".pq"):
            frame = pl.scan_parquet(path)
        else:
            return 0
        if "data_status" not in frame.collect_schema().names():
            return 0
        return int(frame.select((pl.col("data_status").cast(pl.Utf8).str.strip_chars() == "synthetic").sum())
                   .collect().item() or 0)
    except (pl.exceptions.PolarsError, OSError, ValueError):
        return 0


# ---------------------------------------------------------------------------


def load_registry_or_none(name: str | None, ctx: RunContext | None = None) -> Any:
    """The region registry named in ``[run] regions`` (None: any region id is accepted)."""
    if not name:
        return None
    if ctx is not None and (name.startswith(DEMO_SCHEME) or Path(name).suffix):
        return load_registry(ctx.read_input(name, "regions"))
    return load_registry(name)


def load_crosswalk_or_none(spec: str | None, ctx: RunContext) -> pl.DataFrame | None:
    if not spec:
        return None
    if spec.startswith(DEMO_SCHEME) or Path(spec).suffix:
        return load_crosswalk(ctx.read_input(spec, "crosswalk"))
    return load_crosswalk(spec)


def prepare(config: RunConfig, progress: ProgressCallback = no_progress) -> RunContext:
    """Load registry, crosswalk and land cover (all validated) into a fresh context."""
    problems = config.consistency_problems()
    if problems:
        raise InputError(problems)
    ctx = RunContext(config=config, progress=progress)
    ctx.warnings += [Problem("OLD_SPELLING", note, file=config.source) for note in config.notes]
    ctx.registry = load_registry_or_none(config.run.regions, ctx)
    if config.inputs.landcover:
        crosswalk = load_crosswalk_or_none(config.inputs.crosswalk, ctx)
        paths = [ctx.read_input(p, "landcover") for p in config.inputs.landcover]
        landcover = load_landcover(paths, registry=ctx.registry, crosswalk=crosswalk, sheet=config.inputs.sheet,
                                   warnings=ctx.warnings)
        ctx.extent = build_extent(landcover, crosswalk)
        ctx.tables["extent"] = ctx.extent
    return ctx


def run_steps(ctx: RunContext) -> list[str]:
    done = ["extent"] if ctx.extent is not None else []
    for section, module in STEPS:
        cfg = ctx.config.steps.get(section)
        if cfg is None:
            continue
        ctx.progress(section, 0, 1)
        module.run_step(cfg, ctx)
        ctx.progress(section, 1, 1)
        done.append(section)
    return done


def portable_path(path: str, run_dir: Path) -> str:
    """``path`` as a run folder records it: relative to ``run_dir`` (so the folder can be moved or shared
    together with its inputs), ``demo:NAME`` and built-in names unchanged."""
    if path.startswith(DEMO_SCHEME) or not Path(path).is_absolute():
        return path
    try:
        return Path(os.path.relpath(path, run_dir.resolve())).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return path


def resolved_config(ctx: RunContext, out_dir: Path) -> dict[str, Any]:
    """The fully resolved configuration (defaults filled, input paths relative to the run folder or ``demo:``)."""
    cfg = ctx.config

    def fix(v: Any) -> Any:
        if isinstance(v, str) and v in ctx.resolved_paths:
            return portable_path(ctx.resolved_paths[v], out_dir)
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, tuple):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if isinstance(v, Path):
            return str(v)
        return v

    run = cfg.run.model_dump(mode="json")
    run["out"] = "."  # the run folder itself: run.toml sits in it, and [run] out is relative to run.toml
    if run.get("regions") and run["regions"] in ctx.resolved_paths:
        run["regions"] = portable_path(ctx.resolved_paths[run["regions"]], out_dir)
    data: dict[str, Any] = {"run": run, "inputs": fix(cfg.inputs.model_dump(mode="json"))}
    if data["inputs"].get("crosswalk") in ctx.resolved_paths:
        data["inputs"]["crosswalk"] = portable_path(ctx.resolved_paths[data["inputs"]["crosswalk"]], out_dir)
    for section in step_sections():
        if section in cfg.steps:
            data[section] = fix(cfg.steps[section].model_dump(mode="json"))
    return data


def _write_bytes(path: Path, data: bytes) -> dict[str, Any]:
    """Write ``data`` to ``path`` and describe the file (sha256 of exactly these bytes, no read-back)."""
    path.write_bytes(data)
    return {"file": f"tables/{path.name}", "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


PARQUET_ROW_GROUP_ROWS = 131_072
"""Rows per Parquet row group, fixed: Polars' default sizes groups by the bytes in memory, which would make the
file's layout depend on how the engine held a column (text or dictionary codes)."""


def _write_table(df: pl.DataFrame, tables_dir: Path, name: str, csv_max_rows: int) -> dict[str, Any]:
    """Write one table once per format (CSV up to ``csv_max_rows`` rows, Parquet always), hashing the bytes written.

    Each file is rendered once into memory; the same bytes are hashed and written. The record's
    ``sha256`` is the CSV's when a CSV is written, else the Parquet file's."""
    files = []
    # dictionary-encoded engine columns are written as text (the files' schema does not depend on the encoding);
    # the cast runs batch by batch in the streaming sink, never as a text copy of the whole table
    as_text = [pl.col(c).cast(pl.Utf8) for c, t in df.schema.items() if isinstance(t, pl.Categorical | pl.Enum)]
    if df.height <= csv_max_rows:
        buf = io.BytesIO()
        df.with_columns(as_text).write_csv(buf)
        files.append(_write_bytes(tables_dir / f"{name}.csv", buf.getvalue()))
    buf = io.BytesIO()
    df.lazy().with_columns(as_text).sink_parquet(buf, compression="zstd", statistics=False, engine="streaming",
                                                 row_group_size=PARQUET_ROW_GROUP_ROWS)
    files.append(_write_bytes(tables_dir / f"{name}.parquet", buf.getvalue()))
    record: dict[str, Any] = {"name": name, "rows": df.height, "columns": df.columns, "sha256": files[0]["sha256"],
                              "files": files}
    if df.height > csv_max_rows:
        record["note"] = (f"{df.height:,} rows > [run] csv_max_rows = {csv_max_rows:,}: written as Parquet only "
                          f"(tables/{name}.parquet)")
    return record


def write_run(ctx: RunContext, target: Path, out_dir: Path, steps: list[str], command_line: str,
              reporter: Reporter | None = None) -> None:
    """Write tables, manifest and run.toml into ``target`` (a fresh directory), then the reports
    through ``reporter`` when ``[run] report`` asks for them (the run layer does not import reports)."""
    tables_dir = target / "tables"
    tables_dir.mkdir(parents=True)
    if ctx.coefficient_rows:
        ctx.tables["coefficients_used"] = pl.concat(ctx.coefficient_rows, how="vertical_relaxed")
    cfg = ctx.config
    tables = ctx.tables
    if cfg.run.synthetic:  # synthetic results say so in every row, not only in the manifest
        tables = {name: (df if "data_status" in df.columns
                         else df.with_columns(pl.lit("synthetic").alias("data_status")))
                  for name, df in tables.items()}
    table_records = [_write_table(tables[name], tables_dir, name, cfg.run.csv_max_rows) for name in sorted(tables)]
    for rec in table_records:
        if "note" in rec:
            ctx.warnings.append(Problem("TABLE_PARQUET_ONLY", rec["note"], file=rec["files"][0]["file"],
                                        expected="raise [run] csv_max_rows to also write a CSV"))
    label = cfg.run.data_label or (SYNTHETIC_LABEL if cfg.run.synthetic else None)
    manifest = {
        "gep_version": __version__,
        "title": cfg.run.title,
        "command": command_line,
        "synthetic": cfg.run.synthetic,
        "data_label": label,
        "regions": cfg.run.regions,
        "price_base_year": cfg.run.price_base_year,
        "inputs": [{**i, "path": portable_path(i["path"], out_dir)} for i in ctx.inputs],
        "coefficient_sets": ctx.coefficient_sets,
        "steps": steps,
        "tables": table_records,
        "warnings": [w.as_dict() for w in ctx.warnings],
    }
    (target / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    header = (
        "# gep run configuration, fully resolved. Repeat this run in this folder with:\n"
        "#   gep run run.toml   (in this folder, or gep run FOLDER/run.toml from anywhere)\n"
        "# Input paths are relative to this file. Schema: docs/run_config.md"
    )
    if label:
        header += f"\n# {label}"
    (target / "run.toml").write_text(dumps_toml(resolved_config(ctx, out_dir), header), encoding="utf-8")
    if cfg.run.report and reporter is not None:
        ctx.progress("writing reports", 0, 1)
        reporter(target, cfg.run.report_lang, cfg.run.report_detail_rows, cfg.run.report_detail)
        ctx.progress("writing reports", 1, 1)


def check_out_dir(out_dir: Path) -> None:
    """Refuse to replace a directory that is not a gep run directory (nothing is lost)."""
    if out_dir.exists():
        if not out_dir.is_dir():
            raise InputError([Problem("BAD_OUTPUT", "the output path exists and is a file", file=str(out_dir),
                                      expected="a new or empty directory, or an earlier gep run directory")])
        entries = list(out_dir.iterdir())
        if entries and not (out_dir / "manifest.json").exists():
            raise InputError([Problem(
                "BAD_OUTPUT",
                "the output directory is not empty and is not an earlier gep run; gep will not overwrite it",
                file=str(out_dir), expected="a new or empty directory, or an earlier gep run directory",
            )])


RUN_OUTPUTS = frozenset({"tables", "manifest.json", "run.toml", "report.xlsx", "report.html"})
"""What gep writes at the top of a run folder; anything else there is the user's and survives a rerun."""


def user_files(run_dir: Path) -> list[Path]:
    """Files and folders in an earlier run folder that gep did not write: top-level entries other than
    :data:`RUN_OUTPUTS`, and files in tables/ that are not a table of the run's manifest."""
    found = [p for p in sorted(run_dir.iterdir()) if p.name not in RUN_OUTPUTS]
    tables = run_dir / "tables"
    if tables.is_dir():
        try:
            manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
            names = {t["name"] for t in manifest.get("tables", [])}
        except (OSError, ValueError, TypeError, KeyError):
            names = None  # an unreadable manifest: leave tables/ as gep's
        if names is not None:
            found += [p for p in sorted(tables.iterdir()) if p.stem not in names]
    return found


def commit_dir(tmp: Path, out_dir: Path) -> None:
    """Move a finished run directory into place, replacing an earlier run atomically; files the user added
    to the earlier run folder (:func:`user_files`) are moved into the new one, never deleted."""
    backup = None
    if out_dir.exists():
        backup = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        os.replace(out_dir, backup)
    try:
        os.replace(tmp, out_dir)
    except OSError:
        if backup is not None:
            os.replace(backup, out_dir)
        raise
    if backup is not None:
        for item in user_files(backup):
            target = out_dir / item.relative_to(backup)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(item, target)
        shutil.rmtree(backup, ignore_errors=True)


def _output_error(out: Path, exc: OSError) -> InputError:
    why = os_error_reason(out, exc)
    return InputError([Problem("BAD_OUTPUT", f"cannot write the output directory ({why})",
                               file=str(out), value=str(exc.filename or out),
                               expected="a directory gep can create and write, on a disk with free space")])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_temps(out: Path, warnings: list[Problem]) -> None:
    """Remove ``.NAME.tmp-PID-*`` folders beside ``out`` whose run process is no longer alive."""
    for d in out.parent.glob(f".{out.name}.tmp-*"):
        m = re.match(rf"^\.{re.escape(out.name)}\.tmp-(\d+)-", d.name)
        if not m or not d.is_dir() or _pid_alive(int(m.group(1))):
            continue
        shutil.rmtree(d, ignore_errors=True)
        warnings.append(Problem("STALE_RUN_REMOVED",
                                f"removed the unfinished folder of an earlier run (process {m.group(1)}) "
                                "that was killed before it finished", file=str(d)))


def _lock_out(out: Path) -> Any:
    """Lock ``.NAME.lock`` beside ``out`` (fcntl.flock); refuse when another run holds it."""
    lock_path = out.parent / f".{out.name}.lock"
    while True:
        fh = open(lock_path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.seek(0)
            other = fh.read().strip() or "unknown"
            fh.close()
            raise InputError([Problem("OUTPUT_LOCKED",
                                      f"another gep run (process {other}) is writing this output directory",
                                      file=str(out), value=other,
                                      expected="wait until that run ends, or choose another --out")]) from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:  # not removed by a run that just finished
            break
        fh.close()
    fh.seek(0)
    fh.truncate()
    fh.write(str(os.getpid()))
    fh.flush()
    return fh


def _unlock_out(out: Path, fh: Any) -> None:
    try:
        os.unlink(out.parent / f".{out.name}.lock")
    except OSError:
        pass
    fh.close()


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def execute(config: RunConfig, out_dir: str | Path, command_line: str = "gep run",
            reporter: Reporter | None = None, progress: ProgressCallback | None = None) -> Path:
    """Run every step of ``config`` and write the run directory ``out_dir``.

    ``reporter(run_dir, lang, detail_rows, detail)`` writes the reports into the finished (not yet
    committed) run directory; the CLI passes :func:`gep.reports.write_run_reports`.

    An output location that cannot be created or written is an InputError (BAD_OUTPUT); SIGTERM
    removes the unfinished folder as Ctrl-C does; unfinished folders of killed runs are removed by
    the next run; a lock file ``.NAME.lock`` beside ``out_dir`` refuses a second concurrent run.

    ``progress(task, done, total)`` hears of each step as it starts and ends (:data:`gep.context.ProgressCallback`)."""
    out = Path(out_dir)
    try:
        check_out_dir(out)
    except OSError as exc:
        raise _output_error(out, exc) from exc
    config = label_demo_inputs(config)
    progress = progress or no_progress
    with collect_read_notes() as notes:  # sheets chosen, region codes normalised: warnings in the manifest
        progress("reading inputs", 0, 1)
        ctx = prepare(config, progress)
        progress("reading inputs", 1, 1)
        steps = run_steps(ctx)
    ctx.warnings.extend(n for n in notes if n not in ctx.warnings)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        lock = _lock_out(out)
    except OSError as exc:
        raise _output_error(out, exc) from exc
    old_handler = None
    if threading.current_thread() is threading.main_thread():
        old_handler = signal.signal(signal.SIGTERM, _sigterm)
    try:
        _remove_stale_temps(out, ctx.warnings)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
            os.chmod(tmp, 0o755)
        except OSError as exc:
            raise _output_error(out, exc) from exc
        try:
            progress("writing the run folder", 0, 1)
            write_run(ctx, tmp, out, steps, command_line, reporter)  # reports: a progress step of their own
            commit_dir(tmp, out)
            progress("writing the run folder", 1, 1)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _output_error(out, exc) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
        _unlock_out(out, lock)
    LAST_RUN_WARNINGS.set(list(ctx.warnings))
    return out


def uses_demo_inputs(config: RunConfig) -> bool:
    """True when any path of the config names the embedded synthetic demo data (``demo:NAME``)."""
    return names_demo([config.run.regions, config.inputs.model_dump(mode="json"),
                       [s.model_dump(mode="json") for s in config.steps.values()]])


def label_demo_inputs(config: RunConfig) -> RunConfig:
    """A config that reads ``demo:`` data is synthetic, whatever its ``[run] synthetic`` says: every output of
    every command that reads the demo data carries the synthetic label."""
    if config.run.synthetic or not uses_demo_inputs(config):
        return config
    return config.model_copy(update={"run": config.run.model_copy(update={"synthetic": True})})


def demo_config() -> RunConfig:
    """The embedded Sichuan demo: merge of ``gep/demo_data/config/*.toml``."""
    cdir = demo_data_dir() / "config"
    files = sorted(cdir.glob("*.toml"))
    data, text = merge_tomls(files)
    return parse_config(data, source=str(cdir / "demo.toml"), text=text)
