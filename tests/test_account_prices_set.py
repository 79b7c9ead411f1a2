"""The standard price set prices_cn (issue 14, item 5): LY/T 1721-2008 public data and pollution-equivalent
prices of the 2003 排污费 and the 2018 环境保护税 (provincial rate as a parameter), each row with source and
verification status, converted to the accounting year with the account's price index mechanism."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main
from gep.coefficients import load_set

LC = "region_id,year,class,area_ha\n510104,2020,乔木林地,100\n510104,2020,沼泽地,20\n510104,2020,河流水面,10\n"
EM = ("region_id,year,pollutant,amount,unit\n510104,2020,so2,10,t\n510104,2020,nox,5,t\n510104,2020,dust,500,t\n"
      "510104,2020,cod,12,t\n510104,2020,nh3n,1,t\n")
INDEX = "year,index\n2003,80\n2005,85\n2010,100\n2018,120\n2020,125\n"


@pytest.fixture()
def d(tmp_path: Path) -> Path:
    (tmp_path / "lc.csv").write_text(LC, encoding="utf-8")
    (tmp_path / "em.csv").write_text(EM, encoding="utf-8")
    (tmp_path / "cpi.csv").write_text(INDEX, encoding="utf-8")
    return tmp_path


def _run(d: Path, out: str, *extra: str) -> tuple[int, str, pl.DataFrame | None]:
    res = CliRunner().invoke(main, ["account", "--landcover", str(d / "lc.csv"), "--crosswalk", "tnls", "--method",
                                    "function-value", "--emissions", str(d / "em.csv"), *extra, "--out", str(d / out)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    s = pl.read_csv(d / out / "tables" / "services.csv") if res.exit_code == 0 else None
    return res.exit_code, res.output, s


def _price(s: pl.DataFrame, service: str, component: str = "") -> tuple[float, int]:
    r = s.filter((pl.col("service") == service) & (pl.col("component").fill_null("") == component))
    assert r["price"].n_unique() == 1
    return float(r["price"][0]), int(r["price_year"][0])


def test_every_row_has_source_and_status_and_the_pollution_prices_rederive() -> None:
    cs = load_set("prices_cn")
    for name, t in cs.tables.items():
        assert t["source"].null_count() == 0 and set(t["verification"].to_list()) <= {"verified", "secondary",
                                                                                        "unverified"}, name
    p = {(s, c or ""): v for s, c, v in cs.table("prices").select("service", "component", "value").iter_rows()}
    # 2003 排污费: 0.6 元 (air) / 0.7 元 (water) per pollution equivalent ÷ equivalent value (kg)
    assert p[("air_purification", "nox")] == pytest.approx(0.6 / 0.95 * 1000, abs=1e-6)
    assert p[("air_purification", "dust")] == 150 and p[("water_purification", "cod")] == 700
    assert p[("water_purification", "nh3n")] == 875 and p[("water_purification", "tp")] == 2800
    assert p[("air_purification", "so2")] == 1200  # the SO2 fee 1.20 元/kg = Garzê 2010
    assert p[("water_conservation", "")] == 6.11  # LY/T 1721-2008 reservoir storage cost (2005 prices)
    # LY/T fertiliser replacement: soil N 0.37 % × 2400 元/t 磷酸二铵 ÷ 14 % N
    assert p[("soil_retention", "nitrogen")] == pytest.approx(0.0037 * 2400 / 0.14, abs=1e-6)
    ver = dict(cs.table("prices").select(pl.format("{}/{}", "service", pl.col("component").fill_null("")),
                                         "verification").iter_rows())
    assert ver["soil_retention/sediment"] == "unverified" and ver["carbon_sequestration/"] == "unverified"
    rates = {(s, m): v for s, m, v in cs.table("pollution_rates").select("schedule", "medium", "value").iter_rows()}
    assert rates[("tax_2018_min", "air")] == 1.2 and rates[("tax_2018_max", "water")] == 14
    assert rates[("tax_2018_sichuan", "air")] == 3.9 and rates[("tax_2018_sichuan", "water")] == 2.8


def test_prices_cn_converted_to_the_accounting_year(d: Path) -> None:
    code, out, s = _run(d, "a", "--prices", "prices_cn", "--price-index", str(d / "cpi.csv"),
                        "--prices-to-accounting-year")
    assert code == 0, out
    assert s is not None
    # water conservation: 6.11 元/m3 at 2005 prices × I(2020)/I(2005) = 6.11 × 125/85
    assert _price(s, "water_conservation") == (pytest.approx(6.11 * 125 / 85), 2020)
    # SO2 (2003 basis): 1200 × 125/80 = 1875 元/t; capped quantity 10 t → 18 750 元
    assert _price(s, "air_purification", "so2") == (pytest.approx(1875.0), 2020)
    so2 = s.filter(pl.col("component") == "so2")
    assert so2["value_cny"].sum() == pytest.approx(18_750.0)
    assert set(so2["coefficient_id"].str.contains("prices_cn:prices:air_purification/so2").to_list()) == {True}
    assert "prices set 'prices_cn': 3 unverified rows used" in out  # soil retention sediment/N/P rows


def test_without_conversion_each_value_keeps_its_price_year(d: Path) -> None:
    code, out, s = _run(d, "b", "--prices", "prices_cn")
    assert code == 0, out
    assert s is not None
    assert _price(s, "water_conservation") == (pytest.approx(6.11), 2005)
    assert _price(s, "water_purification", "cod") == (pytest.approx(700.0), 2003)
    assert "PRICE_YEARS_MIXED" in out


def test_sichuan_environmental_tax_basis_and_a_provincial_rate(d: Path) -> None:
    code, out, s = _run(d, "c", "--prices", "prices_cn", "--pollution-price-basis", "tax_2018_sichuan")
    assert code == 0, out
    assert s is not None
    # 3.9 元 per equivalent ÷ 0.95 kg = 4105.26 元/t SO2; water 2.8 ÷ 1 kg COD = 2800 元/t (2018 rates)
    assert _price(s, "air_purification", "so2") == (pytest.approx(3.9 / 0.95 * 1000), 2018)
    assert _price(s, "water_purification", "cod") == (pytest.approx(2800.0), 2018)
    # a province's own rates as parameters: in force in the accounting year (2020)
    code, out, s = _run(d, "e", "--prices", "prices_cn", "--env-tax-rate-air", "4.8", "--env-tax-rate-water", "5.6")
    assert code == 0, out
    assert s is not None
    assert _price(s, "air_purification", "nox") == (pytest.approx(4.8 / 0.95 * 1000), 2020)
    assert _price(s, "water_purification", "nh3n") == (pytest.approx(5.6 / 0.8 * 1000), 2020)
    # only one rate given: the other medium at the statutory minimum, with a warning
    code, out, s = _run(d, "f", "--prices", "prices_cn", "--env-tax-rate-water", "5.6")
    assert code == 0 and "STATUTORY_MINIMUM_RATE" in out
    assert s is not None
    assert _price(s, "air_purification", "dust")[0] == pytest.approx(1.2 / 4 * 1000)


def test_bad_basis_and_conversion_without_index_are_input_problems(d: Path) -> None:
    code, out, _ = _run(d, "g", "--prices", "prices_cn", "--pollution-price-basis", "tax_2030")
    assert code == 2 and "tax_2018_sichuan" in out
    code, out, _ = _run(d, "h", "--prices", "prices_cn", "--prices-to-accounting-year")
    assert code == 2 and "--price-index" in out


def test_a_price_set_folder_given_relative_to_the_run_config_is_found_from_any_directory(d: Path) -> None:
    """prices = "my_prices" names a set folder beside run.toml, wherever gep is started from (as validate reads it)."""
    import shutil

    import gep.coefficients

    project = d / "项目"
    shutil.copytree(Path(gep.coefficients.__file__).parent / "sets" / "prices_cn", project / "my_prices")
    shutil.copy(d / "lc.csv", project / "lc.csv")
    shutil.copy(d / "em.csv", project / "em.csv")
    (project / "run.toml").write_text(
        '[run]\nreport = false\n\n[inputs]\nlandcover = ["lc.csv"]\ncrosswalk = "tnls"\n\n'
        '[account]\nmethods = ["function_value"]\nemissions = ["em.csv"]\nprices = "my_prices"\n', encoding="utf-8")
    assert not (Path.cwd() / "my_prices").exists()
    val = CliRunner().invoke(main, ["validate", str(project / "run.toml")])
    assert val.exit_code == 0, val.output
    res = CliRunner().invoke(main, ["run", str(project / "run.toml"), "--out", str(d / "出")])
    assert res.exit_code == 0, res.output
    s = pl.read_csv(d / "出" / "tables" / "services.csv")
    assert _price(s, "air_purification", "so2") == (1200.0, 2003)  # the set's 2003 排污费 row, found and used
