"""`gep account`: GEP accounts by county, function-value and/or equivalent-factor method (docs/account.md)."""

from __future__ import annotations

import click
from gep.cli.output import Console, console_options
from gep.cli.common import detail_option

from gep.account.step import Config
from gep.config import InputsSection, RunConfig, RunSection
from gep.errors import InputError, Problem
from gep.vocabulary import old_spelling_note, spelled


@click.command("account")
@click.option("--landcover", "landcover", multiple=True, type=click.Path(dir_okay=False),
              help="Land-cover table(s): region_id, year, class, area. May be omitted when quantities and "
                   "statistics cover everything (function-value method).")
@click.option("--sheet", default=None,
              help="XLSX sheet name of the land-cover workbook(s) (default: the first sheet).")
@click.option("--crosswalk", default=None, help="Crosswalk of land-cover classes to ecosystem types (id or path), e.g. tnls.")
@click.option("--method", "methods", multiple=True, required=True,
              type=click.Choice(["function_value", "equivalent_factor", "function-value", "equivalent-factor"]),
              help="Accounting method; repeat the option for both (each gets its own totals, never mixed). The "
                   "hyphenated spellings still work.")
@click.option("--coefficients", default=None,
              help="Coefficient set id or folder for the method (default xie2015 / function_value_cn).")
@click.option("--standard-value", type=float, default=None,
              help="Standard equivalent value, CNY/hm2 (equivalent-factor; default 3406.5, 2010 prices).")
@click.option("--standard-value-year", type=int, default=None, help="Price year of --standard-value.")
@click.option("--grain", type=click.Path(dir_okay=False), default=None,
              help="Grain statistics to derive the standard value (crop, sown area, yield, price or net profit).")
@click.option("--grain-rule", type=click.Choice(["one_seventh", "net_profit", "one-seventh", "net-profit"]),
              default="one_seventh", show_default=True,
              help="1/7 of grain output value (Xie 2003/2008) or sown-area-weighted net profit (Xie 2015).")
@click.option("--adjustments", type=click.Path(dir_okay=False), default=None,
              help="Regional adjustment ratios (region_id, factor npp|precipitation|soil, ratio).")
@click.option("--quantities", multiple=True, type=click.Path(dir_okay=False),
              help="Quantities table(s): region_id, year, service, component, quantity, unit.")
@click.option("--prices", default=None,
              help="Prices table (service, component, price, unit in CNY/<unit> or 元/<unit>), or a price set: "
                   "prices_cn (LY/T 1721-2008 and pollution-equivalent prices, each with its price year).")
@click.option("--pollution-price-basis", default=None,
              help="With a price set: schedule for the purification prices (fee_2003, tax_2018_min, tax_2018_max, "
                   "tax_2018_sichuan).")
@click.option("--env-tax-rate-air", type=float, default=None,
              help="The province's 环境保护税 rate for air pollutants, CNY per pollution equivalent (1.2-12).")
@click.option("--env-tax-rate-water", type=float, default=None,
              help="The province's 环境保护税 rate for water pollutants, CNY per pollution equivalent (1.4-14).")
@click.option("--prices-to-accounting-year", is_flag=True, default=False,
              help="Convert every value from its price year to the prices of its accounting year (needs --price-index).")
@click.option("--statistics", multiple=True, type=click.Path(dir_okay=False),
              help="Statistics table(s) of direct values: region_id, year, service, component, value, unit (元/万元/亿元).")
@click.option("--rates", type=click.Path(dir_okay=False), default=None,
              help="Per-area rates (ecosystem_type, service, component, rate, unit such as t/hm2; optional region_id).")
@click.option("--emissions", multiple=True, type=click.Path(dir_okay=False),
              help="Pollutant emissions (环境统计): region_id, year, pollutant (so2 nox dust cod nh3n tp), amount, unit. "
                   "Air and water purification = min(capacity × area, emissions); without them those services are "
                   "not computed from per-area rates (warning PURIFICATION_NOT_COMPUTED).")
@click.option("--imported", multiple=True, type=click.Path(dir_okay=False),
              help="Imported ecosystem products deducted from function-value GEP (GB/T 46869-2025): region_id, year, "
                   "service, component, value (元/万元/亿元) or quantity, unit.")
@click.option("--transitions", type=click.Path(dir_okay=False), default=None,
              help="Land-cover transitions (region_id, year_from, year_to, class_from, class_to, area) for gross "
                   "additions/reductions in the extent account and the ecosystem type change matrix.")
@click.option("--equivalent-overrides", type=click.Path(dir_okay=False), default=None,
              help="Override table for the equivalent-factor set (key columns + value; docs/coefficients.md).")
@click.option("--function-value-overrides", type=click.Path(dir_okay=False), default=None,
              help="Override table for the function-value set (key columns + value; docs/coefficients.md).")
@click.option("--socio", type=click.Path(dir_okay=False), default=None,
              help="Population and GDP table (region_id, year, population, gdp) for per-capita GEP and GEP/GDP.")
@click.option("--price-index", type=click.Path(dir_okay=False), default=None,
              help="Price index table (year, index) for constant prices.")
@click.option("--price-base-year", type=int, default=None, help="Constant-price base year (needs --price-index).")
@click.option("--level", type=click.Choice(["county", "prefecture", "province"]), default="county", show_default=True,
              help="Reporting level; prefecture/province roll counties up through the region registry.")
@click.option("--regions", default=None, help="Region registry: sichuan or a path (empty: any region id).")
@click.option("--synthetic", is_flag=True, default=False, help="Label the outputs as synthetic data.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output run directory.")
@console_options
@detail_option
def account(landcover: tuple[str, ...], sheet: str | None, crosswalk: str | None, methods: tuple[str, ...], coefficients: str | None,
            standard_value: float | None, standard_value_year: int | None, grain: str | None, grain_rule: str,
            adjustments: str | None, quantities: tuple[str, ...], prices: str | None,
            pollution_price_basis: str | None, env_tax_rate_air: float | None, env_tax_rate_water: float | None,
            prices_to_accounting_year: bool, statistics: tuple[str, ...],
            rates: str | None, emissions: tuple[str, ...], imported: tuple[str, ...], transitions: str | None,
            equivalent_overrides: str | None, function_value_overrides: str | None, socio: str | None, price_index: str | None, price_base_year: int | None, level: str,
            regions: str | None, synthetic: bool, out: str, console: Console, detail: str | None = None) -> None:
    """GEP accounts: services, GEP totals, SEEA extent account and supply tables.

    Writes DIR/tables/services.csv (one row per region, year, ecosystem type, service and
    component: quantity × price = value_cny), DIR/tables/gep.csv (region_id, year, method,
    provisioning/regulating/supporting/cultural_cny, imported_deduction_cny, total_cny, per km2, per capita, GEP/GDP),
    seea_physical_supply.csv, seea_monetary_supply.csv, and with two or more years
    extent_account.csv and change_decomposition.csv (with --transitions: gross flows and
    extent_change_matrix.csv); with --price-base-year gep_constant.csv. With --imported,
    gep.csv deducts imported_deduction_cny from total_cny (GB/T 46869-2025).
    """

    method_codes = sorted({spelled(m) for m in methods})
    notes = [old_spelling_note(opt, v, spelled(v)) for opt, v in
             [*(("--method", m) for m in methods), ("--grain-rule", grain_rule)] if spelled(v) != v]
    problems = []
    if coefficients and len(method_codes) > 1:
        problems.append(Problem("BAD_OPTION", "--coefficients names one set, but two methods were asked for",
                                column="--coefficients", expected="one --method with --coefficients, or no --coefficients"))
    if problems:
        raise InputError(problems)
    kwargs: dict[str, object] = {}
    if coefficients:
        kwargs["equivalent_set" if method_codes == ["equivalent_factor"] else "function_value_set"] = coefficients
    step = Config(
        methods=method_codes,  # type: ignore[arg-type]
        level=level,  # type: ignore[arg-type]
        standard_value=standard_value,
        standard_value_price_year=standard_value_year,
        grain=grain,
        grain_rule=spelled(grain_rule),  # type: ignore[arg-type]
        adjustments=adjustments,
        quantities=list(quantities),
        statistics=list(statistics),
        prices=prices,
        pollution_price_basis=pollution_price_basis,
        env_tax_rate_air=env_tax_rate_air,
        env_tax_rate_water=env_tax_rate_water,
        prices_to_accounting_year=prices_to_accounting_year,
        rates=rates,
        emissions=list(emissions),
        imported=list(imported),
        transitions=transitions,
        equivalent_overrides=equivalent_overrides,
        function_value_overrides=function_value_overrides,
        socio=socio,
        price_index=price_index,
        **kwargs,  # type: ignore[arg-type]
    )
    cfg = RunConfig(
        run=RunSection(title="gep account", regions=regions, synthetic=synthetic, price_base_year=price_base_year),
        inputs=InputsSection(landcover=list(landcover), crosswalk=crosswalk, sheet=sheet),
        steps={"account": step},
        notes=tuple(dict.fromkeys(notes)),
    )
    console.run(cfg, out, detail=detail)


COMMANDS = [account]
