"""gep.units: conversions, Chinese magnitude prefixes, price algebra, errors."""

import math

import pytest

from gep import units as U
from gep.errors import UnitError


@pytest.mark.parametrize(
    ("unit", "to", "factor"),
    [
        ("公顷", "ha", 1.0),
        ("hm2", "ha", 1.0),
        ("hm²", "ha", 1.0),
        ("平方公里", "ha", 100.0),
        ("km2", "ha", 100.0),
        ("亩", "ha", 1 / 15),  # 1 亩 = 666.67 m2 = 1/15 ha
        ("万亩", "ha", 1e4 / 15),
        ("m2", "ha", 1e-4),
        ("万hm2", "ha", 1e4),
        ("万公顷", "km2", 100.0),  # 1 万公顷 = 1e4 ha = 100 km2
        ("亿m3", "m3", 1e8),
        ("万t", "t", 1e4),
        ("万t", "kg", 1e7),
        ("亿kWh", "kWh", 1e8),
        ("万元", "元", 1e4),
        ("亿元", "CNY", 1e8),
        ("万人次", "人次", 1e4),
    ],
)
def test_conversion_factor(unit: str, to: str, factor: float) -> None:
    assert math.isclose(U.conversion_factor(unit, to), factor, rel_tol=1e-12)


def test_sanchan_province_total_converts() -> None:
    # 三调 Sichuan 林地 2541.96 万公顷 = 38129.40 万亩 (bulletin prints both)
    assert math.isclose(2541.96 * U.conversion_factor("万公顷", "万亩"), 38129.40, abs_tol=0.005)


def test_value_factor_units() -> None:
    assert U.value_factor("亿m3", "CNY/m3") == 1e8
    assert U.value_factor("万t", "元/kg") == 1e7
    assert U.value_factor("hm2", "万元/hm2") == 1e4
    assert math.isclose(U.value_factor("亩", "元/hm2"), 1 / 15)
    assert U.value_factor("t", "元/吨") == 1.0


def test_value_factor_mismatch_names_both_units() -> None:
    with pytest.raises(UnitError) as err:
        U.value_factor("t", "CNY/m3")
    p = err.value.problems[0]
    assert p.code == "UNIT_MISMATCH"
    assert "'t'" in p.message and "'CNY/m3'" in p.message


def test_unknown_unit() -> None:
    with pytest.raises(UnitError) as err:
        U.parse_unit("furlong")
    assert err.value.codes == ["UNKNOWN_UNIT"]
    with pytest.raises(UnitError):
        U.parse_price_unit("t/m3")  # not money per something


def test_compound_rates() -> None:
    c = U.parse_compound("m3/hm2/yr")
    assert c.signature == ("volume", ("area", "time"))
    assert math.isclose(U.conversion_factor("t/亩", "t/hm2"), 15.0)
    assert U.money_factor("亿元") == 1e8
    with pytest.raises(UnitError):
        U.area_factor("t")


@pytest.mark.parametrize(
    ("unit", "to", "factor"),
    [
        ("kg C/m2", "t/ha", 10.0),  # 1 kg/m2 = 1e-3 t / 1e-4 ha
        ("Mg C/ha", "t/ha", 1.0),  # megagram = tonne
        ("mg/L", "mg/L", 1.0),  # milligram stays milligram
        ("t CO2e", "t", 1.0),
        ("kg CH4-C/ha", "t/ha", 1e-3),
        ("t dm/hm2", "t/ha", 1.0),
    ],
)
def test_substance_labels_on_mass_units(unit: str, to: str, factor: float) -> None:
    assert math.isclose(U.conversion_factor(unit, to), factor, rel_tol=1e-12)


def test_substance_label_needs_a_mass_unit() -> None:
    with pytest.raises(UnitError):
        U.parse_unit("m C")  # a length with a label is not a unit


def test_carbon_and_co2_convert_by_44_over_12() -> None:
    # 100 t C priced at 380 CNY per t CO2 = 100 × 44/12 × 380 = 139 333.33 CNY
    assert math.isclose(100 * 380 * U.value_factor("t C", "CNY/t CO2"), 139_333.333333, rel_tol=1e-9)
    assert U.value_factor("t CO2", "CNY/t CO2") == 1.0
    assert U.value_factor("t", "CNY/t CO2") == 1.0  # an unlabelled mass is taken as what the price is per
    assert math.isclose(U.conversion_factor("t CO2e", "t C"), 12 / 44)
    assert math.isclose(U.value_factor("万t C", "元/t CO2"), 1e4 * 44 / 12)


def test_other_substances_do_not_convert_silently() -> None:
    with pytest.raises(UnitError) as err:
        U.value_factor("t CH4", "CNY/t CO2")  # needs a GWP, which is a method choice, not a unit
    assert err.value.codes == ["UNIT_MISMATCH"] and "CH4" in err.value.problems[0].message
