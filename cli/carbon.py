"""`gep carbon`: carbon stocks, flux and value of forests, grasslands and wetlands (docs/carbon.md)."""

from __future__ import annotations

import click
from gep.cli.output import Console, console_options

from gep.carbon.step import Config
from gep.config import InputsSection, RunConfig, RunSection
from gep.errors import InputError, Problem
from gep.vocabulary import old_spelling_note, spelled


@click.command("carbon")
@click.option("--landcover", "landcover", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Land-cover table(s): region_id, year, class, area (CSV/XLSX/Parquet).")
@click.option("--transitions", type=click.Path(dir_okay=False), default=None,
              help="Transition table: region_id, year_from, year_to, class_from, class_to, area (unchanged rows included).")
@click.option("--coefficients", default="carbon_default", show_default=True,
              help="Carbon coefficient set id or folder, or an InVEST carbon pool CSV (lucode, c_above, c_below, c_soil, c_dead).")
@click.option("--overrides", type=click.Path(dir_okay=False), default=None,
              help="Override table (table, key columns, value[, unit, source, verification]) applied to the set; "
              "the derived set <id>+overrides and every overridden row are recorded in manifest.json.")
@click.option("--crosswalk", default=None, help="Crosswalk of land-cover classes to ecosystem types (id or path), e.g. tnls.")
@click.option("--method", type=click.Choice(["stock_difference", "gain_loss", "both", "stock-difference", "gain-loss"]),
              default="stock_difference",
              show_default=True, help="stock_difference (transitions/extent), gain_loss (area × rate, IPCC inputs), or both; the "
              "hyphenated spellings still work.")
@click.option("--price-per-tc", type=float, default=None, help="Carbon price, CNY per t C.")
@click.option("--price-per-tco2", type=float, default=None, help="Carbon price, CNY per t CO2.")
@click.option("--price-market", default="CEA", show_default=True, help="Price from the set: market (CEA, CCER, ...).")
@click.option("--price-year", type=int, default=None, help="Price from the set: year (default: latest).")
@click.option("--discount-rate", type=float, default=0.0, show_default=True, help="NPV discount rate, % per year.")
@click.option("--price-change", type=float, default=0.0, show_default=True, help="NPV annual carbon price change, %.")
@click.option("--rates", type=click.Path(dir_okay=False), default=None, help="Sequestration rates t C/ha/yr (gain-loss).")
@click.option("--forest-inventory", type=click.Path(dir_okay=False), default=None, help="IPCC forest gain/loss inputs.")
@click.option("--grassland-management", type=click.Path(dir_okay=False), default=None,
              help="Grassland management change (IPCC stock-change factors).")
@click.option("--wetland-ch4-ef", default=None, help="Wetland CH4 factor key of the set (e.g. rewetted_temperate_nutrient_poor).")
@click.option("--gwp", type=click.Choice(["AR6", "AR5"]), default="AR6", show_default=True, help="GWP100 set for CH4.")
@click.option("--regions", default=None, help="Region registry: sichuan or a path (empty: any region id).")
@click.option("--synthetic", is_flag=True, default=False, help="Label the outputs as synthetic data.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="Output run directory.")
@console_options
def carbon(landcover: tuple[str, ...], transitions: str | None, coefficients: str, overrides: str | None,
           crosswalk: str | None, method: str,
           price_per_tc: float | None, price_per_tco2: float | None, price_market: str, price_year: int | None,
           discount_rate: float, price_change: float, rates: str | None, forest_inventory: str | None,
           grassland_management: str | None, wetland_ch4_ef: str | None, gwp: str, regions: str | None,
           synthetic: bool, out: str, console: Console) -> None:
    """Carbon stocks (t C per pool), change by conversion, annual sequestration and value.

    Writes DIR/tables/carbon_stock.csv (region_id, year, class, pool, c_t) and
    DIR/tables/carbon_flux.csv (region_id, year_from, year_to, method, class_from, class_to,
    delta_c_t, co2e_t, value_cny, npv_cny; positive = removal), plus manifest.json and run.toml.
    """

    if price_per_tc is not None and price_per_tco2 is not None:
        raise InputError([Problem("BAD_OPTION", "give --price-per-tc or --price-per-tco2, not both",
                                  column="--price-per-tc", expected="one price option")])
    try:
        step = Config(coefficients=coefficients, overrides=overrides, method=method, transitions=transitions, rates=rates,  # type: ignore[arg-type]
                      forest_inventory=forest_inventory, grassland_management=grassland_management,
                      wetland_ch4_ef=wetland_ch4_ef, gwp=gwp, price_per_tc=price_per_tc, price_per_tco2=price_per_tco2,
                      price_market=price_market, price_year=price_year, discount_rate=discount_rate,
                      price_change=price_change)
    except ValueError as exc:
        raise InputError([Problem("BAD_OPTION", str(exc).splitlines()[-1], column="--discount-rate/--price-change")]) from exc
    cfg = RunConfig(run=RunSection.model_validate({"title": "gep carbon", "regions": regions, "synthetic": synthetic}),
                    inputs=InputsSection.model_validate({"landcover": list(landcover), "crosswalk": crosswalk}),
                    steps={"carbon": step},
                    notes=(old_spelling_note("--method", method, spelled(method)),) if spelled(method) != method else ())
    console.run(cfg, out)


COMMANDS = [carbon]
