"""``[compensation]`` step: settle agreements against monitoring data (docs/compensation.md).

Writes tables compensation_ledger and compensation_net (with party names and 万元; exactly zero
per agreement), compensation_net_by_year, compensation_settlement (instructions, due dates,
payment status), compensation_settlement_sheet (清算单), compensation_assessment (period means vs
standards) and compensation_agreements (method, period, data status and the parameters still
flagged unverified or defaulted). See gep.compensation.filing.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator

from gep.compensation import agreement as agreement_mod
from gep.compensation import filing
from gep.compensation import monitoring as monitoring_mod
from gep.compensation.agreement import METHOD_CODES, Agreement, load_agreements
from gep.compensation.monitoring import read_monitoring
from gep.compensation.payments import read_payments
from gep.compensation.settlement import Settlement, settle
from gep.context import RunContext
from gep.errors import InputError, Problem, ProblemCollector
from gep.inputkinds import ConfigCheck, InputKind, Options, reads, spec_from_aliases
from gep.tablespec import TableSpec


class Config(BaseModel):
    """``[compensation]``: agreement TOML files and monitoring tables to settle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agreements: list[str] = Field(..., description="agreement TOML files (docs/compensation.md); demo:NAME allowed", json_schema_extra=reads("agreement"))
    monitoring: list[str] = Field(..., description="monitoring tables: section_id, date, indicator, concentration_mg_l[, flow_m3s]", json_schema_extra=reads("monitoring"))
    check_regions: bool = Field(True, description="county/prefecture parties must be regions of the run's registry")
    check_river_graph: bool = Field(
        True, description="warn (RIVER_EDGE_NOT_FOUND) when a section joins two counties that are not neighbours on the river graph"
    )
    payments: str | None = Field(None, description="payments made: date, payer, payee, amount_cny (付款日期, 付款方, 收款方, 金额(元))")
    payments_as_of: str | None = Field(
        None, description="date (YYYY-MM-DD) that decides overdue; default: the latest payment date of the payments table"
    )

    @field_validator("agreements", "monitoring", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


def agreements_table(agreements: list[Agreement]) -> pl.DataFrame:
    """One row per agreement: id, title, method, method_code, period, start, end, data_status, unverified_parameters."""
    rows = [
        (a.id, a.title, a.method, METHOD_CODES[a.method], a.period, f"{a.start[0]:04d}-{a.start[1]:02d}",
         f"{a.end[0]:04d}-{a.end[1]:02d}", a.data_status, a.attribution, a.missing_data, a.netting,
         "; ".join(a.unverified()), a.file)
        for a in agreements
    ]
    cols = ["agreement_id", "title", "method", "method_code", "period", "start", "end", "data_status", "attribution",
            "missing_data", "netting", "unverified_parameters", "file"]
    return pl.DataFrame(rows, schema=cols, orient="row").sort("agreement_id")


def river_graph_warnings(agreements: list[Agreement], edges: pl.DataFrame) -> list[Problem]:
    """Sections whose upstream and downstream counties are not an edge of the river graph (warnings, not errors)."""
    known = set(zip(edges["upstream_id"].to_list(), edges["downstream_id"].to_list(), strict=True))
    nodes = set(edges["upstream_id"].to_list()) | set(edges["downstream_id"].to_list())
    out: list[Problem] = []
    for a in agreements:
        for s in a.sections:
            for u in s.upstream:
                for d in s.downstream:
                    if u.party in nodes and d.party in nodes and (u.party, d.party) not in known:
                        out.append(Problem(
                            "RIVER_EDGE_NOT_FOUND",
                            f"agreement '{a.id}' section {s.id}: {u.party} → {d.party} is not an edge of the region river graph",
                            file=a.file, column="sections", value=f"{u.party}→{d.party}",
                            expected="neighbouring counties along the river (gep regions rivers)",
                        ))
    return out


def default_warnings(agreements: list[Agreement]) -> list[Problem]:
    """One DEFAULT_PARAMETER warning per parameter an agreement leaves out and gep takes from its documented default."""
    return [
        Problem("DEFAULT_PARAMETER",
                f"agreement '{a.id}' does not state '{key}': gep uses the documented default {default} "
                "(flagged unverified on every ledger line it affects)",
                file=a.file, column=key, value=default)
        for a in agreements for key, default in a.defaults_used
    ]


def filing_tables(agreements: list[Agreement], result: Settlement, registry: Any = None,
                  payments: pl.DataFrame | None = None, as_of: str | None = None,
                  warnings: list[Problem] | None = None, payments_file: str = "") -> dict[str, pl.DataFrame]:
    """The tables a bureau files: named ledger and nets, nets by year, instructions with payment status, 清算单.

    Money of a payment that matches no open instruction is a PAYMENT_UNMATCHED warning (row, amount).
    """

    def region_name(pid: str) -> str | None:
        if registry is None:
            return None
        try:
            return str(registry.name_of(pid))
        except KeyError:
            return None

    names = filing.party_names(agreements, region_name)
    ledger = filing.named_ledger(result.ledger, names)
    by_year = filing.net_by_year(result.ledger, agreements, names)
    instr = filing.instructions(result.ledger, agreements, names)
    if payments is not None and as_of is None and payments.height:
        as_of = str(payments.get_column("date").max())
    unmatched: list[tuple[int, Decimal]] = []
    status = filing.payment_status(instr, payments, as_of, unmatched)
    for row, left in unmatched:
        if warnings is not None:
            warnings.append(Problem(
                "PAYMENT_UNMATCHED",
                f"{left} CNY of this payment matches no open payment instruction (paid twice, too much, or to the "
                "wrong party); it is not counted as paid", file=payments_file, row=row, column="amount_cny",
                value=str(left), expected="payments that follow compensation_settlement"))
    return {
        "compensation_ledger": ledger,
        "compensation_net": filing.named_net(result.net, names),
        "compensation_net_by_year": by_year,
        "compensation_settlement": status,
        "compensation_settlement_sheet": filing.settlement_sheets(agreements, ledger, by_year, status),
    }


def read_all_monitoring(paths: list[tuple[str, str]]) -> pl.DataFrame:
    """Read and validate several monitoring files (label, path); a sample repeated across files is an error."""
    frames: list[pl.DataFrame] = []
    problems: list[Problem] = []
    for label, path in paths:
        try:
            frames.append(read_monitoring(path).with_columns(pl.lit(label).alias("file")))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    mon = pl.concat(frames) if frames else pl.DataFrame()
    if len(frames) > 1:
        pc = ProblemCollector()
        dup = mon.filter(pl.len().over("section_id", "date", "indicator") > 1)
        for f, r, s, d, i in dup.select("file", "row", "section_id", "date", "indicator").iter_rows():
            pc.add("DUPLICATE_KEY", "the same section, date and indicator appear in more than one monitoring file",
                   file=f, row=r, column="date", value=f"{s} {d} {i}", expected="each sample in one file only")
        pc.raise_if_any()
    return mon


def _label(path: str) -> str:
    """How tables name an input file: ``demo:NAME`` as written, otherwise the file name (location-independent)."""
    return path if path.startswith("demo:") else Path(path).name


def settle_files(agreement_paths: list[str] | list[tuple[str, str]], monitoring_paths: list[tuple[str, str]],
                 known_regions: set[str] | dict[str, str] | None = None) -> tuple[list[Agreement], Settlement]:
    """Load, validate and settle; the pure core of the step and of `gep compensate`.

    Paths may be (label, path) pairs: the label (e.g. ``demo:compensation/x.toml``) is what
    tables and messages show, so run outputs do not depend on where gep is installed.
    """
    pairs = [(p, p) if isinstance(p, str) else p for p in agreement_paths]
    agreements = [
        dataclasses.replace(a, file=label)
        for a, (label, _) in zip(load_agreements([path for _, path in pairs], known_regions), pairs, strict=True)
    ]
    mon = read_all_monitoring(monitoring_paths)
    label = ", ".join(lbl for lbl, _ in monitoring_paths)
    return agreements, settle(agreements, mon, label)


def _known_regions(cfg: Config, registry: Any) -> dict[str, str] | None:
    """Region ids (and names) an agreement's parties must be among: the registry's, unless check_regions is off."""
    if not cfg.check_regions or registry is None:
        return None
    return {i: registry.name_of(i) for i in registry.all_ids()}


def check_config(cfg: Config, check: ConfigCheck) -> list[Problem]:
    """What a run of this section refuses beyond each file's own checks, for ``gep validate RUN.toml``: every
    agreement settled against all the monitoring files together (MISSING_MONITORING for a section, indicator or
    month the data lack; samples repeated across files), with the run's labels, so validate is as strict as
    the run."""
    known = _known_regions(cfg, check.registry)
    try:
        settle_files([(_label(p), str(check.resolve(p))) for p in cfg.agreements],
                     [(_label(p), str(check.resolve(p))) for p in cfg.monitoring], known)
    except InputError as exc:
        return list(exc.problems)
    return []


def run_step(cfg: Config, ctx: RunContext) -> None:
    """Settle every agreement of the config and add the compensation tables to the run."""
    # tables name a file by demo: name or file name (the manifest has its path): the same whether the run came from
    # the command line or from the run folder's run.toml, whose paths are relative to the run folder
    agreement_paths = [(_label(p), str(ctx.read_input(p, "compensation_agreement"))) for p in cfg.agreements]
    monitoring = [(_label(p), str(ctx.read_input(p, "compensation_monitoring"))) for p in cfg.monitoring]
    known = _known_regions(cfg, ctx.registry)
    agreements, result = settle_files(agreement_paths, monitoring, known)
    payments = None
    if cfg.payments:

        payments = read_payments(ctx.read_input(cfg.payments, "compensation_payments"), agreements,
                                 display_name=cfg.payments)
    for name, df in filing_tables(agreements, result, ctx.registry, payments, cfg.payments_as_of,
                                  ctx.warnings, cfg.payments or "").items():
        ctx.tables[name] = df
    ctx.tables["compensation_assessment"] = result.assessment
    ctx.tables["compensation_agreements"] = agreements_table(agreements)
    ctx.warnings.extend(result.warnings)
    ctx.warnings.extend(default_warnings(agreements))
    for a in agreements:
        if a.unverified():
            ctx.warnings.append(Problem(
                "UNVERIFIED_PARAMETER",
                f"agreement '{a.id}' uses parameters not verified against a primary source: {', '.join(a.unverified())}",
                file=a.file, column="provenance",
            ))
    if cfg.check_river_graph and ctx.registry is not None:
        ctx.warnings.extend(river_graph_warnings(agreements, ctx.registry.river_edges()))


# ---------------------------------------------------------------------------
# input kinds of the compensation step (collected by ``gep validate``)


def _check_monitoring(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    df = read_monitoring(path, sheet=opts.sheet, display_name=file)
    months = df["month"].drop_nulls().sort()
    span = f", months {months[0]}–{months[-1]}" if months.len() else ""
    flows = df["flow_m3s"].drop_nulls().len()
    return (f"{df.height} samples, {df['section_id'].n_unique()} sections, indicators "
            + ", ".join(sorted(set(df["indicator"].to_list()))) + f"{span}, {flows} with flow"), df


def _check_agreement(path: Path, file: str, opts: Options) -> tuple[str, pl.DataFrame | None]:
    known = set(opts.registry.all_ids()) if opts.registry is not None else None
    a = agreement_mod.load_agreement(path, known_regions=known)
    unv = a.unverified()
    summary = (f"agreement '{a.id}', method {a.method}, {len(a.parties)} parties, {len(a.sections)} sections, "
               f"{len(a.indicators)} indicators, {a.period} {a.start[0]}-{a.start[1]:02d}…{a.end[0]}-{a.end[1]:02d}")
    if unv:
        summary += f"; {len(unv)} parameter(s) flagged unverified"
    return summary, pl.DataFrame({"agreement_id": [a.id], "file": [file]})


def _monitoring_spec() -> TableSpec:
    return spec_from_aliases("monitoring", monitoring_mod.ALIASES, monitoring_mod.REQUIRED)


INPUT_KINDS: tuple[InputKind, ...] = (
    InputKind("monitoring", "water-quality monitoring samples", "docs/compensation.md",
              _check_monitoring, _monitoring_spec()),
    InputKind("agreement", "compensation agreement (TOML)", "docs/compensation.md", _check_agreement, toml=True),
)
"""The compensation step's inputs, as ``gep validate`` detects and checks them."""
