"""Input tables of the GEP accounts (gep.account.inputs): Chinese aliases, units, row-numbered problems."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from gep.account import inputs as I
from gep.account.catalog import (
    EQUIVALENT_FACTOR_SERVICES,
    FUNCTION_VALUE_SERVICES,
    service_aliases,
)
from gep.account.equivalent import (
    equivalent_factor_services,
    standard_value_one_seventh,
)
from gep.errors import InputError


@pytest.fixture()
def d(tmp_path: Path) -> Path:
    p = tmp_path / "输入表"
    p.mkdir()
    return p


def test_service_aliases_cover_every_code_and_chinese_name() -> None:
    a = service_aliases()
    for code, (zh, _cat) in FUNCTION_VALUE_SERVICES.items():
        assert a[code] == code and a[zh] == code
    # user tables hold function-value indicators: a Chinese name shared by both lists (土壤保持)
    # means the function-value indicator; equivalent-factor codes are still accepted as codes
    fv_names = {zh for zh, _ in FUNCTION_VALUE_SERVICES.values()}
    for code, (zh, _cat) in EQUIVALENT_FACTOR_SERVICES.items():
        assert a[code] == code
        if zh not in fv_names:
            assert a[zh] == code
    assert a["土壤保持"] == "soil_retention"
    assert a["水源涵养"] == "water_conservation" and a["休闲旅游"] == "recreation"


def test_quantities_with_chinese_headers_and_gbk_encoding(d: Path) -> None:
    text = "行政区划代码,年份,核算指标,分项,实物量,计量单位,备注\n510104,2020,土壤保持,,12.5,万t,模型\n510104,2020,水资源,生活,3,万m3,\n"
    (d / "q.csv").write_bytes(text.encode("gbk"))
    q = I.read_quantities(d / "q.csv", "q.csv")
    assert q["service"].to_list() == ["soil_retention", "water_supply"]
    assert q["component"].to_list() == ["", "生活"]
    assert q["unit"].to_list() == ["万t", "万m3"]
    assert q["source_row"].to_list() == [2, 3]


def test_unknown_service_and_bad_number_are_collected_with_rows(d: Path) -> None:
    (d / "s.csv").write_text("region_id,year,service,value,unit\n510104,2020,旅游,1,亿元\n510104,2020,recreation,x,亿元\n",
                             encoding="utf-8")
    with pytest.raises(InputError) as ei:
        I.read_statistics(d / "s.csv", "s.csv")
    assert [(p.code, p.row) for p in ei.value.problems] == [("WRONG_TYPE", 3), ("UNKNOWN_SERVICE", 2)]  # one pass
    (d / "s.csv").write_text("region_id,year,service,value,unit\n510104,2020,旅游,1,亿元\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        I.read_statistics(d / "s.csv", "s.csv")
    assert [(p.code, p.row, p.value) for p in ei.value.problems] == [("UNKNOWN_SERVICE", 2, "旅游")]


def test_prices_ids_point_at_the_row(d: Path) -> None:
    (d / "价格.csv").write_text("服务,组分,单价,单位,价格年份\n水源涵养,,7.06,元/m3,2010\n固碳,co2,380,元/t,\n",
                               encoding="utf-8")
    p = I.read_prices(d / "价格.csv", "价格.csv")
    assert p["coefficient_id"].to_list() == ["prices:价格.csv:row 2", "prices:价格.csv:row 3"]
    assert p["price_year"].to_list() == [2010, None]
    assert p["price_unit"].to_list() == ["元/m3", "元/t"]


def test_grain_area_in_mu_gives_standard_value(d: Path) -> None:
    # 1500 亩 = 100 ha of rice: 100 × 7000 kg/ha × 2.1 元/kg / 100 / 7 = 2100 CNY/hm2
    (d / "grain.csv").write_text("作物,播种面积(亩),单产,价格(元/kg)\n稻谷,1500,7000,2.1\n", encoding="utf-8")
    g = I.read_grain(d / "grain.csv", "grain.csv")
    assert g["sown_area_ha"][0] == pytest.approx(100.0)
    assert standard_value_one_seventh(g)["standard_value_cny_per_hm2"][0] == pytest.approx(2100.0)


def test_adjustment_factor_aliases_and_errors(d: Path) -> None:
    (d / "a.csv").write_text("region_id,factor,ratio\n510104,NPP,1.1\n510104,降水,0.9\n510104,wind,1\n", encoding="utf-8")
    with pytest.raises(InputError) as ei:
        I.read_adjustments(d / "a.csv", "a.csv")
    assert [(p.code, p.row) for p in ei.value.problems] == [("INVALID_VALUE", 4)]
    (d / "a.csv").write_text("region_id,factor,ratio\n510104,NPP,1.1\n510104,降水,0.9\n", encoding="utf-8")
    assert I.read_adjustments(d / "a.csv")["factor"].to_list() == ["npp", "precipitation"]


def test_socio_gdp_in_wan_yuan_is_converted(d: Path) -> None:
    (d / "socio.csv").write_text("地区代码,年份,常住人口,GDP(万元)\n510104,2020,1000,250\n", encoding="utf-8")
    s = I.read_socio(d / "socio.csv")
    assert s["gdp_cny"][0] == pytest.approx(2.5e6) and s["population"][0] == 1000.0


def test_missing_standard_value_for_a_region_is_an_input_error() -> None:
    ext = pl.DataFrame({"region_id": ["A", "B"], "year": [2020, 2020], "class": ["x", "x"],
                        "ecosystem_type": ["水田", "水田"], "area_ha": [1.0, 1.0]}).with_columns(pl.col("year").cast(pl.Int32))
    eq = pl.DataFrame({"ecosystem_type": ["水田"], "service": ["food_production"], "value": [1.36]})
    sv = pl.DataFrame({"region_id": ["A"], "standard_value_cny_per_hm2": [1000.0]})
    with pytest.raises(InputError) as ei:
        equivalent_factor_services(ext, eq, sv)
    assert ei.value.codes == ["MISSING_COEFFICIENT"] and ei.value.problems[0].value == "B"
