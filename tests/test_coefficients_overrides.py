"""Overriding single coefficients (apply_overrides) and comparing sets (diff_sets)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from gep.coefficients import CoefficientSet, apply_overrides, diff_sets, load_set
from hypothesis import given, settings
from hypothesis import strategies as st

from gep.errors import InputError


@pytest.fixture(scope="module")
def xie15() -> CoefficientSet:
    return load_set("xie2015")


def _value(cs: CoefficientSet, t: str, s: str) -> pl.DataFrame:
    return cs.table("equivalents").filter((pl.col("ecosystem_type") == t) & (pl.col("service") == s))


def test_override_one_value_records_base_and_row(xie15: CoefficientSet) -> None:
    ov = pl.DataFrame({
        "ecosystem_type": ["meadow"],          # English code → 草甸
        "service": ["食物生产"],                # Chinese service name → food_production
        "value": ["0.30"],
        "source": ["甘孜州 2020 实地调查, 表 4"],
    })
    new = apply_overrides(xie15, ov, new_id="ganzi_xie2015", new_version="2020.1")
    row = _value(new, "草甸", "food_production")
    assert row["value"].item() == 0.30
    assert row["source"].item() == "甘孜州 2020 实地调查, 表 4"
    assert row["verification"].item() == "unverified"  # default for user values
    m = new.manifest
    assert (m.id, m.version, m.base_id, m.base_version) == ("ganzi_xie2015", "2020.1", "xie2015", "1.0.0")
    assert m.overrides == [{
        "table": "equivalents", "key": {"ecosystem_type": "草甸", "service": "food_production"},
        "old_value": 0.22, "new_value": 0.30, "unit": "equivalent", "source": "甘孜州 2020 实地调查, 表 4",
        "verification": "unverified",
    }]
    assert m.verification == "unverified"
    # every other row is unchanged, and the base set is not modified (frozen, new tables)
    a = xie15.table("equivalents").drop("source", "verification", "note", "value")
    b = new.table("equivalents").drop("source", "verification", "note", "value")
    assert a.equals(b)
    diff = (xie15.table("equivalents")["value"] != new.table("equivalents")["value"]).sum()
    assert diff == 1
    assert _value(xie15, "草甸", "food_production")["value"].item() == 0.22
    assert new.fingerprint() != xie15.fingerprint()
    assert new.record()["base_id"] == "xie2015"


def test_override_with_unit_conversion(xie15: CoefficientSet) -> None:
    # 227.1 元/亩 × 15 亩/hm² = 3406.5 元/hm²
    ov = pl.DataFrame({"table": ["standard_value"], "parameter": ["standard_equivalent_value"],
                       "value": ["227.1"], "unit": ["元/亩"], "price_year": ["2020"], "verification": ["secondary"]})
    new = apply_overrides(xie15, ov)
    sv = new.table("standard_value")
    assert sv["value"].item() == pytest.approx(3406.5)
    assert sv["unit"].item() == "CNY/hm2" and sv["price_year"].item() == 2020
    assert new.manifest.id == "xie2015+overrides"
    assert new.manifest.verification == "secondary"


def test_override_problems_name_the_row(xie15: CoefficientSet) -> None:
    ov = pl.DataFrame({
        "ecosystem_type": ["旱地", "forest", "旱地", "旱地"],
        "service": ["food", "food_production", "food_production", "raw_materials"],
        "value": ["1", "1", "x", "0.5"],
        "unit": [None, None, None, "t/ha"],
    })
    with pytest.raises(InputError) as exc:
        apply_overrides(xie15, ov, file="overrides.csv")
    got = {(p.code, p.row) for p in exc.value.problems}
    assert ("WRONG_TYPE", 4) in got  # value 'x' on spreadsheet row 4
    # value problems stop before key checks; fix the value and look again
    ov = ov.with_columns(pl.Series("value", ["1", "1", "0.9", "0.5"]))
    with pytest.raises(InputError) as exc:
        apply_overrides(xie15, ov, file="overrides.csv")
    got = {(p.code, p.row, p.column) for p in exc.value.problems}
    assert ("UNKNOWN_KEY", 2, "ecosystem_type") in got       # service 'food' does not exist
    assert ("UNKNOWN_ECOSYSTEM_TYPE", 3, "ecosystem_type") in got
    assert ("UNIT_MISMATCH", 5, "unit") in got                # t/ha cannot become 'equivalent'
    unknown = next(p for p in exc.value.problems if p.code == "UNKNOWN_KEY")
    assert "food" in unknown.message and unknown.file == "overrides.csv"


def test_override_needs_table_when_keys_do_not_tell(xie15: CoefficientSet) -> None:
    with pytest.raises(InputError) as exc:
        apply_overrides(xie15, pl.DataFrame({"value": ["1"]}))
    assert exc.value.codes == ["MISSING_COLUMN"]
    with pytest.raises(InputError) as exc:
        apply_overrides(xie15, pl.DataFrame({"table": ["nope"], "parameter": ["x"], "value": ["1"]}))
    assert "UNKNOWN_TABLE" in exc.value.codes


def test_override_file_in_chinese_folder(xie15: CoefficientSet, tmp_path: Path) -> None:
    d = tmp_path / "覆盖 文件"
    d.mkdir()
    f = d / "覆盖.csv"
    f.write_text("生态系统类型,服务,数值,来源,核实状态\n灌木,生物多样性,2.00,四川 2019 调查,secondary\n", encoding="gbk")
    new = apply_overrides(xie15, f)
    assert _value(new, "灌木", "biodiversity")["value"].item() == 2.0
    assert new.manifest.overrides[0]["old_value"] == 1.57


def test_diff_reports_changed_rows_with_relative_change(xie15: CoefficientSet, tmp_path: Path) -> None:
    new = apply_overrides(xie15, pl.DataFrame({"ecosystem_type": ["草甸"], "service": ["food_production"],
                                               "value": ["0.33"]}))
    d = diff_sets(xie15, new)
    assert d.height == 1
    rec = d.row(0, named=True)
    assert rec["table"] == "equivalents" and rec["key"] == "草甸 | food_production" and rec["status"] == "changed"
    # (0.33 − 0.22) / 0.22 = 0.5
    assert rec["old_value"] == 0.22 and rec["new_value"] == 0.33 and rec["rel_change"] == pytest.approx(0.5)
    assert diff_sets(xie15, xie15).height == 0


def test_diff_added_and_removed(tmp_path: Path) -> None:
    head = "ecosystem_type,service,value,unit,source,verification\n"
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text(head + "旱地,food_production,1,equivalent,s,secondary\n水田,food_production,2,equivalent,s,secondary\n",
                 encoding="utf-8")
    b.write_text(head + "旱地,food_production,1,equivalent,s,secondary\n湿地,food_production,3,equivalent,s,secondary\n",
                 encoding="utf-8")
    d = diff_sets(load_set(a), load_set(b))
    assert d.select("key", "status").rows() == [("水田 | food_production", "removed"), ("湿地 | food_production", "added")]


@settings(max_examples=25, deadline=None)
@given(picks=st.lists(st.tuples(st.integers(0, 153), st.floats(0.01, 200.0, allow_nan=False)),
                      min_size=1, max_size=8, unique_by=lambda t: t[0]))
def test_diff_after_overrides_reports_exactly_the_overridden_rows(picks: list[tuple[int, float]]) -> None:
    """Invariant: diff(base, overrides(base)) lists each overridden key once, with (new − old) / |old|."""
    base = load_set("xie2015")
    eq = base.table("equivalents")
    rows = [eq.row(i, named=True) for i, _ in picks]
    ov = pl.DataFrame({"ecosystem_type": [r["ecosystem_type"] for r in rows],
                       "service": [r["service"] for r in rows],
                       "value": [str(v) for _, v in picks]})
    new = apply_overrides(base, ov)
    d = diff_sets(base, new)
    changed = {(r["ecosystem_type"], r["service"]): (r["value"], v) for r, (_, v) in zip(rows, picks, strict=True)
               if r["value"] != v}
    assert d.height == len(changed) and set(d["status"].to_list()) <= {"changed"}
    for rec in d.iter_rows(named=True):
        t, s = rec["key"].split(" | ")
        old, v = changed[(t, s)]
        assert rec["old_value"] == old and rec["new_value"] == v
        if old != 0:
            assert rec["rel_change"] == pytest.approx((v - old) / abs(old))
        else:
            assert rec["rel_change"] is None
    assert len(new.manifest.overrides) == len(picks)
