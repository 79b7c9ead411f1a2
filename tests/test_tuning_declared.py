"""gep.tuning.declared: the user's uncertainty table (aliases, ± percent, every problem with its row)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _tuning_fixtures import load_tiny

from gep.errors import InputError
from gep.tuning.declared import load_declared


def test_good_table_with_chinese_headers_aliases_and_percent(tmp_path: Path) -> None:
    d = tmp_path / "不确定性"
    tiny = load_tiny(d)
    f = d / "范围.csv"
    # standard_value is keyed by 'parameter': the 'key' column names it
    f.write_text(
        "系数集,表,生态系统类型,服务,键,下限,上限,分布,幅度%\n"
        "tiny,equivalents,broadleaf,food_production,,0.4,0.6,triangular,\n"
        "tiny,standard_value,,,standard_equivalent_value,,,normal,15\n"
        "tiny,equivalents,旱地,climate_regulation,,0,0.3,,\n"
        "tiny,equivalents,,,旱地 | food_production,,,,20\n",
        encoding="utf-8",
    )
    out = load_declared(f, {"tiny": tiny})
    rows = {r["coefficient"]: r for r in out.iter_rows(named=True)}
    assert rows["tiny:equivalents:阔叶/food_production"] == {
        "coefficient": "tiny:equivalents:阔叶/food_production", "low": 0.4, "high": 0.6, "distribution": "triangular"}
    # 1000 ± 15 % = [850, 1150]
    sv = rows["tiny:standard_value:standard_equivalent_value"]
    assert (sv["low"], sv["high"], sv["distribution"]) == pytest.approx((850.0, 1150.0, "normal"))
    assert rows["tiny:equivalents:旱地/climate_regulation"]["distribution"] is None
    # key column on a row with empty key columns: 1.0 ± 20 %
    assert (rows["tiny:equivalents:旱地/food_production"]["low"], rows["tiny:equivalents:旱地/food_production"]["high"]) \
        == pytest.approx((0.8, 1.2))


def test_every_problem_is_reported_with_its_row(tmp_path: Path) -> None:
    d = tmp_path / "坏表"
    tiny = load_tiny(d)
    f = d / "bad.csv"
    f.write_text(
        "set_id,table,ecosystem_type,service,low,high,distribution\n"
        "tiny,equivalents,阔叶,food_production,0.6,0.4,uniform\n"      # row 2: low > high
        "tiny,equivalents,阔叶,no_such_service,0.1,0.2,uniform\n"      # row 3: unknown key
        "nope,equivalents,阔叶,food_production,0.1,0.2,uniform\n"      # row 4: unknown set
        "tiny,equivalents,旱地,food_production,abc,2,uniform\n"        # row 5: not a number (→ no range)
        "tiny,equivalents,旱地,climate_regulation,0,1,beta\n"          # row 6: unknown distribution
        "tiny,prices,旱地,climate_regulation,0,1,uniform\n",           # row 7: unknown table
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_declared(f, {"tiny": tiny})
    got = {(p.code, p.row) for p in exc.value.problems}
    assert {("INVALID_VALUE", 2), ("UNKNOWN_KEY", 3), ("UNKNOWN_COEFFICIENT_SET", 4), ("WRONG_TYPE", 5),
            ("MISSING_VALUE", 5), ("INVALID_VALUE", 6), ("UNKNOWN_TABLE", 7)} <= got
    assert all(p.file == str(f) for p in exc.value.problems)


def test_missing_columns(tmp_path: Path) -> None:
    d = tmp_path / "缺列"
    tiny = load_tiny(d)
    f = d / "cols.csv"
    f.write_text("table,ecosystem_type,service,value\nequivalents,阔叶,food_production,1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_declared(f, {"tiny": tiny})
    assert sorted((p.code, p.column) for p in exc.value.problems) == [("MISSING_COLUMN", "low"),
                                                                      ("MISSING_COLUMN", "set_id")]
