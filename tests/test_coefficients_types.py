"""The 14 ecosystem types of Xie 2015 and their aliases (coefficients/types.py)."""

from __future__ import annotations

import polars as pl
import pytest
from gep.coefficients import (
    ecosystem_types,
    is_ecosystem_type,
    normalize_ecosystem_type,
)

from gep.errors import InputError


def test_ecosystem_types_table() -> None:
    t = ecosystem_types()
    assert t["ecosystem_type"].to_list() == [
        "旱地", "水田", "针叶", "针阔混交", "阔叶", "灌木", "草原", "灌草丛", "草甸", "湿地", "荒漠", "裸地", "水系", "冰川积雪"]
    assert t["code"].n_unique() == 14 and t["source"].null_count() == 0
    assert set(t["group"].to_list()) == {"cropland", "forest", "grassland", "wetland", "desert", "water", "glacier"}


@pytest.mark.parametrize(("given", "canonical"), [
    ("草甸", "草甸"), ("meadow", "草甸"), (" Meadow ", "草甸"), ("mixed_forest", "针阔混交"),
    ("Glacier and permanent snow", "冰川积雪"), ("water", "水系"),
])
def test_normalize_ecosystem_type(given: str, canonical: str) -> None:
    assert normalize_ecosystem_type(given) == canonical


def test_normalize_unknown_type_and_expression() -> None:
    with pytest.raises(InputError) as exc:
        normalize_ecosystem_type("forest")
    assert exc.value.codes == ["UNKNOWN_ECOSYSTEM_TYPE"] and "针阔混交" in (exc.value.problems[0].expected or "")
    df = pl.DataFrame({"t": ["paddy", "水田", "forest", None]})
    assert df.select(normalize_ecosystem_type(pl.col("t")))["t"].to_list() == ["水田", "水田", None, None]


def test_is_ecosystem_type() -> None:
    assert is_ecosystem_type("灌草丛") and is_ecosystem_type("shrub_grass") and not is_ecosystem_type("草地")
