"""`gep compensate` (settle compensation agreements) and `gep transfer` (transfer calculators)."""

from __future__ import annotations

import click
from gep.cli.output import Console, console_options

from gep.compensation.step import Config as CompensationConfig
from gep.compensation.transfer_step import Config as TransferConfig
from gep.config import RunConfig, RunSection

CALCULATORS = ("spillover", "opportunity_cost", "priority", "efa", "incentive")
DEFAULT_CALCULATORS = ("spillover", "opportunity_cost", "priority", "efa")


@click.command("compensate")
@click.option("--agreement", "agreements", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Agreement TOML file (repeatable); format in docs/compensation.md.")
@click.option("--monitoring", "monitoring", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="Monitoring table (CSV/XLSX/Parquet): section_id, date, indicator, concentration_mg_l[, flow_m3s]. Repeatable.")
@click.option("--accounts", default=None, type=click.Path(file_okay=False),
              help="A `gep account` run directory: adds the transfer calculators on its GEP results.")
@click.option("--socio", default=None, type=click.Path(dir_okay=False),
              help="Socio-economic table for the calculators run with --accounts (population, incomes, GDP, water use).")
@click.option("--regions", default="sichuan", show_default=True,
              help="Region registry used to check county parties and the river graph (empty string: no check).")
@click.option("--payments", default=None, type=click.Path(dir_okay=False),
              help="Payments made (date, payer, payee, amount_cny; 付款日期, 付款方, 收款方, 金额(元)): "
                   "paid / outstanding / overdue per payment instruction.")
@click.option("--as-of", "as_of", default=None, help="Date YYYY-MM-DD that decides overdue (default: latest payment).")
@click.option("--synthetic", is_flag=True, default=False, help="Label the outputs as synthetic data.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output run directory.")
@console_options
def compensate(agreements: tuple[str, ...], monitoring: tuple[str, ...], accounts: str | None, socio: str | None,
               regions: str, payments: str | None, as_of: str | None, synthetic: bool, out: str,
               console: Console) -> None:
    """Settle upstream–downstream compensation agreements into a balanced ledger.

    Writes tables/compensation_ledger.csv (agreement_id, period, section_id, payer, payer_name,
    payee, payee_name, amount_cny, amount_wan, rule, basis), tables/compensation_net.csv
    (party, party_name, paid_cny, received_cny, net_cny, net_wan; exactly zero per agreement),
    compensation_net_by_year.csv (party × year and the term total), compensation_settlement.csv
    (who pays whom each year, due dates, paid / outstanding / overdue with --payments),
    compensation_settlement_sheet.csv (清算单), compensation_assessment.csv and
    compensation_agreements.csv, plus manifest.json, run.toml and the reports.
    """

    steps: dict[str, object] = {"compensation": CompensationConfig(agreements=list(agreements), monitoring=list(monitoring),
                                                       payments=payments, payments_as_of=as_of)}
    if accounts:
        calcs = ["priority"] + (["spillover", "opportunity_cost", "efa"] if socio else [])
        steps["transfer"] = TransferConfig(accounts=accounts, socio=socio, calculators=calcs)  # type: ignore[arg-type]
    cfg = RunConfig(run=RunSection(title="gep compensate", regions=regions or None, synthetic=synthetic),
                    steps=steps)  # type: ignore[arg-type]
    console.run(cfg, out)


@click.command("transfer")
@click.option("--accounts", required=True, type=click.Path(file_okay=False),
              help="A `gep account` (or `gep run`) directory with tables/services.csv and tables/gep.csv.")
@click.option("--socio", default=None, type=click.Path(dir_okay=False),
              help="Socio-economic table (CSV UTF-8/GBK, XLSX, Parquet): region_id, year, population_urban/rural, "
                   "income_urban/rural_cny, gdp_cny, water_use_m3, engel_coefficient, and EFA factor columns; Chinese "
                   "headers such as 地区代码, 年份, 城镇人口, 地区生产总值(万元) are accepted (docs/compensation.md).")
@click.option("--calculator", "calculators", multiple=True, type=click.Choice(CALCULATORS),
              help="Calculator to run (repeatable; default: priority alone, or with --socio spillover, "
                   "opportunity_cost, priority and efa; a column a chosen calculator needs is an input error).")
@click.option("--method", default="function_value", show_default=True,
              type=click.Choice(["function_value", "equivalent_factor"]), help="GEP method whose results are used.")
@click.option("--year", type=int, default=None, help="Year of the GEP results (default: latest common year).")
@click.option("--river", default=None, help="Restrict the spillover to one river of the graph, e.g. 沱江干流.")
@click.option("--edges", default=None, type=click.Path(dir_okay=False), help="Custom river edges table (upstream_id, downstream_id).")
@click.option("--efa-total", type=float, default=1.0e9, show_default=True, help="Key-ecological-function-area pot to allocate (CNY).")
@click.option("--incentive-total", default=None,
              help="Run the 2023 incentive-policy allocation (《四川省流域横向生态保护补偿激励政策实施方案》 2023) of this reward pot in CNY "
                   "(exact decimal, e.g. 100000000).")
@click.option("--incentive-weight", "incentive_weights", multiple=True, metavar="FACTOR=W",
              help="Factor weight of the incentive allocation, repeatable: gep_<column> of the GEP results or a socio "
                   "column (default gep_regulating_cny=0.5, agreed_fund_cny=0.5; unverified).")
@click.option("--incentive-level", default="prefecture", show_default=True, type=click.Choice(["prefecture", "county"]),
              help="Allocate to prefectures (county factors summed) or counties.")
@click.option("--incentive-river", default=None, help="Only counties on this river are eligible, e.g. 沱江干流.")
@click.option("--incentive-region", "incentive_regions", multiple=True, help="Eligible region id (repeatable; default all).")
@click.option("--incentive-verified", is_flag=True, default=False,
              help="The weights come from the policy text (otherwise every line is flagged UNVERIFIED).")
@click.option("--incentive-source", default="", help="Where the weights come from (shown in the table).")
@click.option("--regions", default="sichuan", show_default=True, help="Region registry (river graph for the spillover).")
@click.option("--synthetic", is_flag=True, default=False, help="Label the outputs as synthetic data.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output run directory.")
@console_options
def transfer(accounts: str, socio: str | None, calculators: tuple[str, ...], method: str, year: int | None,
             river: str | None, edges: str | None, efa_total: float, incentive_total: str | None,
             incentive_weights: tuple[str, ...], incentive_level: str, incentive_river: str | None,
             incentive_regions: tuple[str, ...], incentive_verified: bool, incentive_source: str,
             regions: str, synthetic: bool, out: str, console: Console) -> None:
    """Transfer calculators on GEP results: spillover ceiling, opportunity-cost floor, priority ranking, EFA allocation,
    incentive-policy factor allocation.

    Writes tables/transfer_spillover.csv, transfer_opportunity_cost.csv, transfer_priority.csv,
    transfer_efa_allocation.csv and transfer_incentive_allocation.csv (whichever were asked for) with
    manifest.json and run.toml. The incentive allocation runs with --calculator incentive or --incentive-total;
    its allocation_cny (fen) adds up exactly to the pot.
    """
    calcs = list(calculators) if calculators else (list(DEFAULT_CALCULATORS) if socio else ["priority"])
    if incentive_total is not None and "incentive" not in calcs:
        calcs.append("incentive")
    extra: dict[str, object] = {}
    if incentive_total is not None:
        extra["incentive_total_cny"] = incentive_total
    if incentive_weights:
        weights: dict[str, float] = {}
        for item in incentive_weights:
            name, sep, value = item.partition("=")
            try:
                weights[name.strip()] = float(value)
            except ValueError:
                sep = ""
            if not sep or not name.strip():
                raise click.BadParameter(f"'{item}' is not FACTOR=WEIGHT (e.g. agreed_fund_cny=0.5)",
                                         param_hint="--incentive-weight")
        extra["incentive_weights"] = weights
    if incentive_regions:
        extra["incentive_regions"] = list(incentive_regions)
    step = TransferConfig(accounts=accounts, socio=socio, calculators=calcs, method=method, year=year,  # type: ignore[arg-type]
                  river=river, edges=edges, efa_total_cny=efa_total, incentive_level=incentive_level,
                  incentive_river=incentive_river,
                  incentive_weights_verification="verified" if incentive_verified else "unverified",
                  incentive_weights_source=incentive_source, **extra)  # type: ignore[arg-type]
    cfg = RunConfig(run=RunSection(title="gep transfer", regions=regions or None, synthetic=synthetic),
                    steps={"transfer": step})
    console.run(cfg, out)


COMMANDS = [compensate, transfer]
