"""`gep uncertainty`, `gep sensitivity` and `gep coefficients-effect`: coefficient tuning for researchers.

`gep uncertainty RUN_DIR --draws N --seed S --out DIR` and `gep sensitivity RUN_DIR --output ... --out DIR`
repeat the run described by RUN_DIR/run.toml with an ``[uncertainty]`` / ``[sensitivity]`` section
(options override the section of the earlier run, if any) and write a complete run directory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from gep.cli.common import text_table
from gep.cli.output import Console, console_options
from gep.coefficients import apply_overrides

from gep.config import load_config
from gep.errors import InputError, Problem
from gep.vocabulary import spelled
from gep.pipeline import prepare
from gep.tuning.common import function_value_model_of_run, load_set_for
from gep.tuning.effect import b_values, effect_by_coefficient, effect_by_output
from gep.tuning.linear import (
    carbon_stock_model,
    check_against_engine,
    equivalent_factor_model,
    function_value_model_from,
)
from gep.tuning.sensitivity_step import Config as SensitivityConfig
from gep.tuning.uncertainty_step import Config as UncertaintyConfig

if TYPE_CHECKING:
    import polars as pl

VERIFICATION = ["verified", "secondary", "unverified", "all"]
UNIT_LABEL = {"cny": "CNY", "c_t": "t C"}
"""Column suffix of a linear model (gep.tuning.linear) → unit written in printed headers."""


def _amount(v: float | None, unit: str, sign: bool = False) -> str:
    """Money in whole yuan, carbon in t C to 0.1, with thousands separators ('+' on changes)."""
    if v is None:
        return ""
    digits = 0 if unit == "cny" else 1
    if round(v, digits) == 0:
        return f"{0:.{digits}f}"
    return format(v, ("+" if sign else "") + f",.{digits}f")


def _coef(v: float | None) -> str:
    """A coefficient value: up to 4 decimals with thousands separators, 4 significant digits when tiny."""
    if v is None:
        return ""
    if v != 0 and abs(v) < 1e-3:
        return f"{v:.4g}"
    text = f"{v:,.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _pct(v: float | None) -> str:
    if v is None:
        return ""
    return "0.00" if round(v, 2) == 0 else f"{v:+.2f}"


def effect_text(by_coef: pl.DataFrame, by_out: pl.DataFrame, unit: str, output_column: str, id_a: str, id_b: str,
                top: int) -> str:
    """What `gep coefficients-effect` prints: the per-coefficient effects and the totals under A and B, as plain tables."""
    import polars as pl

    u = UNIT_LABEL.get(unit, unit)
    years = by_out["year"].unique().sort().to_list()
    year = int(by_coef["year"][0]) if by_coef.height else (int(years[-1]) if years else None)
    lines: list[str] = []
    if by_coef.height == 0:
        lines.append(f"No coefficient of {id_a} used by this run differs in {id_b}.")
    else:
        total = float(by_coef[f"total_a_{unit}"][0])
        lines.append(f"{by_coef.height} coefficient(s) of {id_a} differ in {id_b}. Effect of each alone (others as in "
                     f"A) on the {year} total of all regions, {_amount(total, unit)} {u} under A:")
        lines.append("")
        shown = by_coef.head(top)
        rows = [[str(i + 1), r["coefficient"], r["unit"] or "", _coef(r["value_a"]), _coef(r["value_b"]),
                 _amount(r[f"change_{unit}"], unit, sign=True), _pct(r["change_pct"])]
                for i, r in enumerate(shown.iter_rows(named=True))]
        lines.append(text_table(["#", "coefficient", "unit", "value A", "value B", f"change ({u})", "change %"], rows,
                            [True, False, False, True, True, True, True]))
        if by_coef.height > top:
            lines.append(f"... {by_coef.height - top} more (--top N, or all of them in effect_by_coefficient.csv "
                         "with --out)")
    tot = by_out.filter(pl.col(output_column) == "total")
    tot = pl.concat([tot.filter(pl.col("region_id") == "all"),
                     tot.filter((pl.col("region_id") != "all") & (pl.col("year") == year))], how="vertical")
    lines += ["", f"Totals under A ({id_a}) and B ({id_b}), {u}: all regions, and each region in {year}:", ""]
    rows = [[r["region_id"], str(r["year"]), r["method"], _amount(r[f"value_a_{unit}"], unit),
             _amount(r[f"value_b_{unit}"], unit), _amount(r[f"change_{unit}"], unit, sign=True), _pct(r["change_pct"])]
            for r in tot.head(top).iter_rows(named=True)]
    lines.append(text_table(["region", "year", "method", f"A ({u})", f"B ({u})", f"change ({u})", "change %"], rows,
                        [False, True, False, True, True, True, True]))
    if tot.height > top:
        lines.append(f"... {tot.height - top} more regions (effect_by_output.csv with --out)")
    return "\n".join(lines)


def _inputs_options(f: Callable[..., Any]) -> Callable[..., Any]:
    opts = [
        click.option("--out", "out", required=True, type=click.Path(file_okay=False),
                     help="Output run directory (a complete run: tables, manifest, run.toml, reports; may be RUN_DIR itself)."),
        click.option("--method", "--model", "models", multiple=True,
                     type=click.Choice(["auto", "equivalent_factor", "function_value", "carbon_stock",
                                        "equivalent-factor", "function-value", "carbon-stock"]),
                     help="Accounts to analyse (repeatable; default: what the run computes). --model, the old "
                          "name, still works."),
        click.option("--uncertainty-table", default=None, type=click.Path(dir_okay=False),
                     help="Declared ranges: set_id, table, key columns, low, high | range_pct, distribution."),
        click.option("--range-pct", "range_pct", default=None, type=click.FloatRange(min=0),
                     help="± percent range for coefficients without low/high (see --range-for)."),
        click.option("--range-for", "range_for", multiple=True, type=click.Choice(VERIFICATION),
                     help="Verification statuses --range-pct applies to (repeatable; default unverified)."),
        click.option("--distribution", default=None,
                     type=click.Choice(["uniform", "triangular", "normal", "lognormal"]),
                     help="Distribution of the --range-pct ranges (default uniform)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _section(earlier: Any, updates: dict[str, Any]) -> dict[str, Any]:
    base = earlier.model_dump() if earlier is not None else {}
    base.update({k: v for k, v in updates.items() if v is not None and v != ()})
    return base


def _common_updates(models: tuple[str, ...], uncertainty_table: str | None, range_pct: float | None,
                    range_for: tuple[str, ...], distribution: str | None) -> dict[str, Any]:
    return {
        "methods": [spelled(m) for m in models] or None,
        "uncertainty_table": str(Path(uncertainty_table).resolve()) if uncertainty_table else None,
        "default_range_pct": range_pct,
        "default_range_for": list(range_for) or None,
        "default_distribution": distribution,
    }


def _repeat(run_dir: str, section: str, config_cls: Any, updates: dict[str, Any], out: str, console: Console) -> Path:
    """Load RUN_DIR/run.toml, set ``[section]``, and execute into ``out``."""
    from pydantic import ValidationError


    toml = Path(run_dir) / "run.toml"
    if not toml.exists():
        raise InputError([Problem("FILE_NOT_FOUND", "RUN_DIR has no run.toml: it is not a gep run directory",
                                  file=str(toml), expected="the output directory of gep run or gep demo")])
    cfg = load_config(toml)
    try:
        step_cfg = config_cls.model_validate(_section(cfg.steps.get(section), updates))
    except ValidationError as exc:
        raise InputError([Problem("BAD_CONFIG", f"[{section}] {'.'.join(str(x) for x in e['loc'])}: {e['msg']}",
                                  column=section) for e in exc.errors()]) from exc
    steps = dict(cfg.steps)
    steps[section] = step_cfg
    return console.run(cfg.model_copy(update={"steps": steps}), out)


@click.command("uncertainty")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--draws", type=click.IntRange(min=2), default=None, help="Monte Carlo draws (default 1000).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (default 20260101).")
@click.option("--chunk-draws", type=click.IntRange(min=1), default=None, help="Draws per chunk (memory; same results).")
@click.option("--memory-mb", type=click.FloatRange(min=1), default=None, help="Memory for output blocks (default 256).")
@_inputs_options
@console_options
def uncertainty(run_dir: str, draws: int | None, seed: int | None, chunk_draws: int | None, memory_mb: float | None,
                out: str, models: tuple[str, ...], uncertainty_table: str | None, range_pct: float | None,
                range_for: tuple[str, ...], distribution: str | None, console: Console) -> None:
    """Monte Carlo intervals (mean, P5, P50, P95) of the accounts of RUN_DIR under coefficient uncertainty.

    Repeats RUN_DIR/run.toml with an [uncertainty] section and writes OUT with tables/uncertainty.csv
    (CNY), tables/uncertainty_carbon.csv (t C) and tables/uncertainty_coefficients.csv (ranges used).
    Coefficients need ranges: from the set (low/high), from --uncertainty-table, or --range-pct.
    """

    updates = {"draws": draws, "seed": seed, "chunk_draws": chunk_draws, "memory_mb": memory_mb,
               **_common_updates(models, uncertainty_table, range_pct, range_for, distribution)}
    _repeat(run_dir, "uncertainty", UncertaintyConfig, updates, out, console)


@click.command("sensitivity")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--output", "outputs", multiple=True,
              help="METHOD/REGION/YEAR/OUTPUT, e.g. equivalent_factor/all/2020/total or carbon_stock/510100/latest/"
                   "c_soil, or compensation/AGREEMENT/PERIOD/WHO/MEASURE, e.g. compensation/tuojiang-m4-2024/all/"
                   "510121/net (repeatable; default auto/all/latest/total).")
@click.option("--sobol/--no-sobol", default=None, help="Sobol indices (default on).")
@click.option("--sobol-samples", type=click.IntRange(min=2), default=None, help="Sobol base sample N (default 1024).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed of the Sobol' sequence.")
@click.option("--compensation-range-pct", type=click.FloatRange(min=0), default=None,
              help="± percent on every numeric parameter of an agreement (compensation/... outputs).")
@click.option("--compensation-table", default=None, type=click.Path(dir_okay=False),
              help="Declared agreement parameter ranges: agreement_id, parameter, low, high | range_pct.")
@click.option("--monitoring-range-pct", type=click.FloatRange(min=0), default=None,
              help="± percent on the monitored concentrations of each section and indicator (compensation outputs).")
@_inputs_options
@console_options
def sensitivity(run_dir: str, outputs: tuple[str, ...], sobol: bool | None, sobol_samples: int | None,
                seed: int | None, compensation_range_pct: float | None, compensation_table: str | None,
                monitoring_range_pct: float | None, out: str, models: tuple[str, ...], uncertainty_table: str | None,
                range_pct: float | None, range_for: tuple[str, ...], distribution: str | None,
                console: Console) -> None:
    """Tornado (one-at-a-time elasticities) and Sobol indices of chosen outputs of RUN_DIR.

    Repeats RUN_DIR/run.toml with a [sensitivity] section and writes OUT with tables/sensitivity.csv
    (CNY outputs) and tables/sensitivity_carbon.csv (t C outputs).
    """
    updates = {"outputs": list(outputs) or None, "sobol": sobol, "sobol_samples": sobol_samples, "seed": seed,
               "compensation_range_pct": compensation_range_pct, "monitoring_range_pct": monitoring_range_pct,
               "compensation_uncertainty_table": str(Path(compensation_table).resolve()) if compensation_table else None,
               **_common_updates(models, uncertainty_table, range_pct, range_for, distribution)}
    _repeat(run_dir, "sensitivity", SensitivityConfig, updates, out, console)


@click.command("coefficients-effect")
@click.argument("set_a")
@click.argument("set_b", required=False)
@click.option("--overrides", default=None, type=click.Path(dir_okay=False),
              help="Override table (CSV/XLSX) applied to SET_A to make SET_B (instead of giving SET_B).")
@click.option("--run", "run_dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="Run directory whose land cover is valued (RUN_DIR/run.toml).")
@click.option("--year", type=int, default=None, help="Year of the per-coefficient effects (default latest).")
@click.option("--out", "out", default=None, type=click.Path(file_okay=False),
              help="Folder for effect_by_output.csv and effect_by_coefficient.csv.")
@click.option("--top", type=click.IntRange(min=1), default=15, help="Rows printed per table.")
def coefficients_effect(set_a: str, set_b: str | None, overrides: str | None, run_dir: str, year: int | None, out: str | None, top: int) -> None:
    """Effect on RUN_DIR's accounts of using coefficient set SET_B instead of SET_A (ids or folders).

    SET_B may be replaced by --overrides FILE: SET_A with those rows overridden (gep.coefficients.apply_overrides).

    Complements `gep coefficients diff A B` (which rows changed): here, how much each changed row
    moves the all-region total, and the totals per region, year and service under A and under B.
    """

    toml = Path(run_dir) / "run.toml"
    if not toml.exists():
        raise InputError([Problem("FILE_NOT_FOUND", "the run directory has no run.toml", file=str(toml),
                                  expected="the output directory of gep run or gep demo")])
    ctx = prepare(load_config(toml))
    if ctx.extent is None:
        raise InputError([Problem("BAD_CONFIG", "the run has no land cover to value", file=str(toml),
                                  column="inputs.landcover")])
    if (set_b is None) == (overrides is None):
        raise click.UsageError("give SET_B or --overrides FILE (one of them)")
    a = load_set_for(set_a, ctx)
    if set_b is not None:
        b = load_set_for(set_b, ctx)
    else:

        b = apply_overrides(a, str(overrides), file=str(overrides))
    family = str(a.manifest.method_family)
    if family == "equivalent_factor":
        model = equivalent_factor_model(ctx.extent, a)
    elif family == "carbon":
        model = carbon_stock_model(ctx.extent, a)
    elif family == "function_value":

        account = ctx.config.steps.get("account")
        if account is not None:  # the run's own county tables; carbon-step quantities are not recomputed here
            a, model = function_value_model_of_run(account, set_a if not Path(set_a).exists() else
                                                   str(Path(set_a).resolve()), ctx)
        else:
            model = function_value_model_from(a, extent=ctx.extent)
    else:
        raise InputError([Problem("NOT_SUPPORTED", f"effects are computed for equivalent_factor, function_value and "
                                  f"carbon sets, not '{family}'", value=set_a,
                                  expected="a set like xie2015, function_value_cn or carbon_default")])
    check_against_engine(model)
    values = b_values(model, b)
    by_out = effect_by_output(model, values)
    by_coef = effect_by_coefficient(model, values, year)
    click.echo(effect_text(by_coef, by_out, model.unit, model.output_column, a.id, b.id, top))
    if out:
        o = Path(out)
        o.mkdir(parents=True, exist_ok=True)
        by_out.write_csv(o / "effect_by_output.csv")
        by_coef.write_csv(o / "effect_by_coefficient.csv")
        click.echo(f"wrote {o / 'effect_by_output.csv'} and {o / 'effect_by_coefficient.csv'}")


COMMANDS = [uncertainty, sensitivity, coefficients_effect]
