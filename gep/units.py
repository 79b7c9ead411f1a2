"""Units: every unit conversion in gep lives here.

A unit is parsed into a dimension and a factor to that dimension's base unit:
area → ha, volume → m3, mass → t, energy → kWh, money → CNY, length → m,
concentration → mg/L, flow → m3/s, time → yr. Counts keep their own name as
their dimension (``count:人次``). Chinese magnitude prefixes apply to any unit:
千 (1e3), 万 (1e4), 百万 (1e6), 亿 (1e8); so ``万hm2`` = 1e4 ha, ``亿m3`` = 1e8 m3,
``万t`` = 1e4 t, ``亿kWh`` = 1e8 kWh, ``万元`` = 1e4 CNY.

Prices are written ``CNY/<unit>`` or ``元/<unit>`` (``元/t``, ``万元/hm2``);
rates are ``<unit>/<unit>`` (``t/hm2``, ``m3/hm2/yr``). Unit algebra for
quantity × price is :func:`value_factor`.

References: GB 3100-1993 (SI units), GB/T 2589 and the 三调 bulletins for 亩
(1 亩 = 1/15 ha = 666.67 m2) and 公顷.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from gep.errors import Problem, UnitError

# symbol (lower-cased, no spaces) -> (dimension, factor to base)
_BASE_UNITS: dict[str, tuple[str, float]] = {}


def _define(dimension: str, factor: float, *symbols: str) -> None:
    for s in symbols:
        _BASE_UNITS[s.lower()] = (dimension, factor)


# area, base ha
_define("area", 1.0, "ha", "hm2", "hm^2", "hm²", "公顷", "hectare", "hectares")
_define("area", 100.0, "km2", "km^2", "km²", "平方公里", "平方千米")
_define("area", 1e-4, "m2", "m^2", "m²", "平方米")
_define("area", 1.0 / 15.0, "mu", "亩")
# volume, base m3
_define("volume", 1.0, "m3", "m^3", "m³", "立方米", "方")
_define("volume", 1e-3, "l", "升")
# mass, base t
_define("mass", 1.0, "t", "吨", "tonne", "tonnes")
_define("mass", 1e-3, "kg", "千克", "公斤")
_define("mass", 1e-6, "g", "克")
_define("mass", 1e-9, "mg", "毫克")
# energy, base kWh
_define("energy", 1.0, "kwh", "千瓦时", "度")
_define("energy", 1000.0, "mwh")
_define("energy", 1e6, "gwh")
_define("energy", 1.0 / 3.6, "mj", "兆焦")
_define("energy", 1000.0 / 3.6, "gj", "吉焦")
# money, base CNY
_define("money", 1.0, "cny", "元", "yuan", "rmb", "人民币元")
# length, base m
_define("length", 1.0, "m", "米")
_define("length", 1000.0, "km", "公里", "千米")
_define("length", 1e-3, "mm", "毫米")
# concentration, base mg/L
_define("concentration", 1.0, "mg/l", "毫克/升")
# flow, base m3/s
_define("flow", 1.0, "m3/s", "m³/s", "立方米/秒")
# time, base yr
_define("time", 1.0, "yr", "a", "year", "年")
_define("time", 1.0 / 12.0, "month", "月")
_define("time", 1.0 / 365.0, "d", "day", "天", "日")
# dimensionless
_define("dimensionless", 1.0, "1", "-", "equivalent", "当量", "ratio", "fraction", "无量纲")
_define("dimensionless", 0.01, "%", "percent", "百分比")
# counts: dimension is the counted thing
_define("count:visits", 1.0, "人次", "visits", "visitor", "visitors", "person-time", "person_times")
_define("count:people", 1.0, "人", "people", "persons", "person")
_define("count:head", 1.0, "头", "head", "只")

_PREFIXES: list[tuple[str, float]] = [
    ("百万", 1e6),
    ("千万", 1e7),
    ("万亿", 1e12),
    ("亿", 1e8),
    ("万", 1e4),
    ("千", 1e3),
]

_CANONICAL_SYMBOL = {
    "area": "ha",
    "volume": "m3",
    "mass": "t",
    "energy": "kWh",
    "money": "CNY",
    "length": "m",
    "concentration": "mg/L",
    "flow": "m3/s",
    "time": "yr",
    "dimensionless": "1",
}


@dataclass(frozen=True)
class Unit:
    """A parsed unit: ``value × factor`` is the amount in the base unit of ``dimension``."""

    dimension: str
    factor: float
    text: str
    substance: str | None = None
    """What a mass is a mass of ('C', 'CO2', 'CH4', 'dm' ...), when the unit says so (t C, t CO2e)."""

    @property
    def base_symbol(self) -> str:
        if self.dimension.startswith("count:"):
            return self.dimension.split(":", 1)[1]
        return _CANONICAL_SYMBOL.get(self.dimension, self.dimension)


@dataclass(frozen=True)
class CompoundUnit:
    """A ratio of units such as ``CNY/t`` or ``m3/hm2/yr`` (numerator / denominators)."""

    numerator: Unit
    denominators: tuple[Unit, ...]
    text: str

    @property
    def factor(self) -> float:
        f = self.numerator.factor
        for d in self.denominators:
            f /= d.factor
        return f

    @property
    def signature(self) -> tuple[str, tuple[str, ...]]:
        return self.numerator.dimension, tuple(sorted(d.dimension for d in self.denominators))

    @property
    def substance(self) -> str | None:
        return self.numerator.substance


def _substance_factor(a: str | None, b: str | None, a_text: str, b_text: str,
                      context: str | None) -> float:
    """Factor from a mass of substance ``a`` to one of ``b`` (C → CO2 = 44/12); unlabelled masses pass."""
    if a is None or b is None or a == b:
        return 1.0
    if (a, b) == ("C", "CO2"):
        return C_TO_CO2
    if (a, b) == ("CO2", "C"):
        return 1.0 / C_TO_CO2
    raise UnitError(
        [
            Problem(
                code="UNIT_MISMATCH",
                message=(
                    f"'{a_text}' is a mass of {a} and '{b_text}' a mass of {b}"
                    + (f" in {context}" if context else "")
                    + "; gep converts only between C and CO2 (× 44/12)"
                ),
                value=f"{a_text} → {b_text}",
                expected=f"a quantity of {b}, or of C/CO2 when the other side is C/CO2",
            )
        ]
    )


def _clean(text: str) -> str:
    t = str(text).strip()
    t = t.replace("（", "(").replace("）", ")").replace("·", "/").replace("／", "/")
    t = re.sub(r"\s+", "", t)
    t = t.replace("²", "2").replace("³", "3").replace("^", "")
    return t


def _unknown(text: str, context: str | None) -> UnitError:
    where = f" in {context}" if context else ""
    return UnitError(
        [
            Problem(
                code="UNKNOWN_UNIT",
                message=f"unit '{text}'{where} is not a unit gep knows",
                value=str(text),
                expected=(
                    "an area (ha, hm2, 公顷, km2, 平方公里, 亩, m2), volume (m3, 立方米), "
                    "mass (t, 吨, kg), energy (kWh, 千瓦时), money (元, CNY), counts (人次), "
                    "optionally with 千/万/亿 in front (万hm2, 亿m3, 万元)"
                ),
            )
        ]
    )


_SUBSTANCE = re.compile(r"^(.+?)[-_]?(co2e|co2-eq|co2eq|co2|ch4-c|ch4|n2o|dm|c|n|p)$")
"""Substance labels after a mass unit (t C, kg CH4-C, t dm): what is weighed, not a different unit."""

_SUBSTANCE_NAMES = {"co2e": "CO2", "co2-eq": "CO2", "co2eq": "CO2", "co2": "CO2", "ch4-c": "CH4-C",
                    "ch4": "CH4", "n2o": "N2O", "dm": "dm", "c": "C", "n": "N", "p": "P"}

C_TO_CO2: float = 44.0 / 12.0
"""Mass ratio CO2 : C = 44/12 (molar masses; IPCC 2006 GL Vol. 4 ch. 2, conversion of C to CO2)."""


@lru_cache(maxsize=4096)
def _parse_simple(text: str) -> Unit | None:
    cleaned = _clean(text)
    if cleaned.startswith("Mg"):  # megagram (= t), as in 'Mg C/ha'; 'mg' is milligram
        cleaned = "t" + cleaned[2:]
    key = cleaned.lower()
    if not key:
        return None
    unit = _parse_plain(key, text)
    if unit is None:
        m = _SUBSTANCE.match(key)
        if m:
            base = _parse_plain(m.group(1), text)
            if base is not None and base.dimension == "mass":
                return Unit(base.dimension, base.factor, text, _SUBSTANCE_NAMES[m.group(2)])
    return unit


def _parse_plain(key: str, text: str) -> Unit | None:
    if key in _BASE_UNITS:
        dim, factor = _BASE_UNITS[key]
        return Unit(dim, factor, text)
    for prefix, mult in _PREFIXES:
        if key.startswith(prefix) and key[len(prefix):] in _BASE_UNITS:
            dim, factor = _BASE_UNITS[key[len(prefix):]]
            return Unit(dim, factor * mult, text)
    return None


def parse_unit(text: str, context: str | None = None) -> Unit:
    """Parse a simple unit (``万hm2``, ``亿m3``, ``元``) into dimension and factor to base.

    Raises :class:`gep.errors.UnitError` (code ``UNKNOWN_UNIT``) for unknown text.
    """
    if text is None:
        raise _unknown("", context)
    unit = _parse_simple(str(text))
    if unit is None:
        # units such as mg/L and m3/s are simple units with a slash
        raise _unknown(str(text), context)
    return unit


def parse_compound(text: str, context: str | None = None) -> CompoundUnit:
    """Parse ``a/b[/c]`` (``CNY/t``, ``t/hm2/yr``, ``元/m3``); a simple unit has no denominators."""
    cleaned = _clean(text)
    whole = _parse_simple(cleaned)
    if whole is not None:
        return CompoundUnit(whole, (), str(text))
    parts = cleaned.split("/")
    if len(parts) < 2 or not all(parts):
        raise _unknown(str(text), context)
    # join greedily so that 'mg/L' or 'm3/s' inside a longer ratio still parse
    units: list[Unit] = []
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            u = _parse_simple("/".join(parts[i:j]))
            if u is not None:
                units.append(u)
                i = j
                break
        else:
            raise _unknown(str(text), context)
    return CompoundUnit(units[0], tuple(units[1:]), str(text))


def conversion_factor(from_unit: str, to_unit: str, context: str | None = None) -> float:
    """Factor f such that value[from_unit] × f = value[to_unit]; dimensions must agree."""
    a = parse_compound(from_unit, context)
    b = parse_compound(to_unit, context)
    if a.signature != b.signature:
        raise UnitError(
            [
                Problem(
                    code="UNIT_MISMATCH",
                    message=(
                        f"cannot convert '{from_unit}' to '{to_unit}'"
                        + (f" in {context}" if context else "")
                        + f": one is {_describe(a)}, the other {_describe(b)}"
                    ),
                    value=str(from_unit),
                    expected=f"a unit of the same kind as '{to_unit}'",
                )
            ]
        )
    return a.factor / b.factor * _substance_factor(a.substance, b.substance, from_unit, to_unit, context)


def _describe(u: CompoundUnit) -> str:
    if not u.denominators:
        return _dim_name(u.numerator.dimension)
    return _dim_name(u.numerator.dimension) + " per " + " per ".join(
        _dim_name(d.dimension) for d in u.denominators
    )


def _dim_name(dim: str) -> str:
    return dim.split(":", 1)[1] if dim.startswith("count:") else dim


@dataclass(frozen=True)
class PriceUnit:
    """A unit price: money per one unit of a quantity (``元/t`` → money 元, per t)."""

    money: Unit
    per: CompoundUnit
    text: str


def parse_price_unit(text: str, context: str | None = None) -> PriceUnit:
    """Parse a price unit written ``CNY/<unit>`` or ``元/<unit>`` (also ``万元/hm2``)."""
    cleaned = _clean(text)
    if "/" not in cleaned:
        raise UnitError(
            [
                Problem(
                    code="UNKNOWN_UNIT",
                    message=f"price unit '{text}'" + (f" in {context}" if context else "")
                    + " must be money per unit of quantity",
                    value=str(text),
                    expected="CNY/<unit> or 元/<unit>, e.g. 元/t, CNY/m3, 元/hm2",
                )
            ]
        )
    head, rest = cleaned.split("/", 1)
    money = _parse_simple(head)
    if money is None or money.dimension != "money":
        raise UnitError(
            [
                Problem(
                    code="UNKNOWN_UNIT",
                    message=f"price unit '{text}'" + (f" in {context}" if context else "")
                    + " must start with a money unit",
                    value=str(text),
                    expected="元, 万元, 亿元 or CNY before the '/'",
                )
            ]
        )
    per = parse_compound(rest, context)
    return PriceUnit(money, per, str(text))


def value_factor(quantity_unit: str, price_unit: str, context: str | None = None) -> float:
    """Factor f so that quantity[quantity_unit] × price[price_unit] × f = value in CNY.

    Example: 亿m3 × CNY/m3 → f = 1e8. A quantity whose kind differs from the
    price's (t × CNY/m3) raises ``UNIT_MISMATCH`` naming both units.
    """
    price = parse_price_unit(price_unit, context)
    q = parse_compound(quantity_unit, context)
    if q.signature != price.per.signature:
        raise UnitError(
            [
                Problem(
                    code="UNIT_MISMATCH",
                    message=(
                        f"quantity unit '{quantity_unit}' does not match price unit '{price_unit}'"
                        + (f" in {context}" if context else "")
                        + f": the quantity is {_describe(q)}, the price is per {_describe(price.per)}"
                    ),
                    value=f"{quantity_unit} × {price_unit}",
                    expected=f"a quantity in {price.per.text} (or a convertible unit)",
                )
            ]
        )
    sub = _substance_factor(q.substance, price.per.substance, quantity_unit, price_unit, context)
    return q.factor / price.per.factor * price.money.factor * sub


def _dimension_factor(unit: str, dimension: str, expected: str, context: str | None) -> float:
    u = parse_unit(unit, context)
    if u.dimension != dimension:
        raise UnitError(
            [
                Problem(
                    code="UNIT_MISMATCH",
                    message=f"'{unit}'" + (f" in {context}" if context else "") + f" is not a {dimension} unit",
                    value=str(unit),
                    expected=expected,
                )
            ]
        )
    return u.factor


def money_factor(unit: str, context: str | None = None) -> float:
    """Factor to CNY for 元 / 万元 / 亿元 / CNY."""
    return _dimension_factor(unit, "money", "元, 万元, 亿元 or CNY", context)


def area_factor(unit: str, context: str | None = None) -> float:
    """Factor to hectares for any area unit (亩 → 1/15, km2 → 100, 万亩 → 666.67)."""
    return _dimension_factor(unit, "area", "ha, hm2, 公顷, km2, 平方公里, 亩, m2 (optionally with 万/亿)", context)


def is_unit(text: str) -> bool:
    """True when ``text`` parses as a simple or compound unit."""
    try:
        parse_compound(text)
    except UnitError:
        return False
    return True

