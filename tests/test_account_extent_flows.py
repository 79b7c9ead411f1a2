"""SEEA EA extent account with gross flows from land-cover transitions, and the ecosystem type change matrix (hand-computed)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main

from gep.account.extent_flows import extent_change_matrix, rollup_flows, type_flows
from gep.account.identities import AccountIdentityError
from gep.account.tables import extent_account
from gep.errors import InputError


def _extent(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"region_id": pl.Utf8, "year": pl.Int32, "class": pl.Utf8,
                                      "ecosystem_type": pl.Utf8, "area_ha": pl.Float64}, orient="row")


def _transitions(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"region_id": pl.Utf8, "year_from": pl.Int32, "year_to": pl.Int32,
                                      "class_from": pl.Utf8, "class_to": pl.Utf8, "area_ha": pl.Float64}, orient="row")


# R1: 5 classes, 4 types (乔木林地 and 其他林地 are both 阔叶; 城镇 has no ecosystem type).
#   2015: 水田 100, 旱地 50, 乔木林地 80, 其他林地 10, 城镇 20  (260 ha)
#   2020: 水田  90, 旱地 55, 乔木林地 80, 其他林地 10, 城镇 25  (260 ha)
# R2 has no transitions (net mode); R1 has a third year 2025 without transitions (net mode).
EXT = _extent([
    ("R1", 2015, "水田", "水田", 100.0), ("R1", 2015, "旱地", "旱地", 50.0), ("R1", 2015, "乔木林地", "阔叶", 80.0),
    ("R1", 2015, "其他林地", "阔叶", 10.0), ("R1", 2015, "城镇", None, 20.0),
    ("R1", 2020, "水田", "水田", 90.0), ("R1", 2020, "旱地", "旱地", 55.0), ("R1", 2020, "乔木林地", "阔叶", 80.0),
    ("R1", 2020, "其他林地", "阔叶", 10.0), ("R1", 2020, "城镇", None, 25.0),
    ("R1", 2025, "水田", "水田", 88.0), ("R1", 2025, "旱地", "旱地", 55.0), ("R1", 2025, "乔木林地", "阔叶", 82.0),
    ("R1", 2025, "其他林地", "阔叶", 10.0), ("R1", 2025, "城镇", None, 25.0),
    ("R2", 2015, "水田", "水田", 10.0), ("R2", 2020, "水田", "水田", 8.0), ("R2", 2020, "旱地", "旱地", 2.0),
])
# Out of each class (sums = 2015 areas): 水田 85+10+5 = 100; 旱地 40+5+5 = 50; 乔木林地 72+5+3 = 80;
# 其他林地 7+3 = 10; 城镇 20.  Into each class (sums = 2020 areas): 水田 85+5 = 90; 旱地 10+40+5 = 55;
# 乔木林地 5+72+3 = 80; 其他林地 3+7 = 10; 城镇 5+20 = 25.
TR = _transitions([
    ("R1", 2015, 2020, "水田", "水田", 85.0), ("R1", 2015, 2020, "水田", "旱地", 10.0),
    ("R1", 2015, 2020, "水田", "城镇", 5.0),
    ("R1", 2015, 2020, "旱地", "旱地", 40.0), ("R1", 2015, 2020, "旱地", "乔木林地", 5.0),
    ("R1", 2015, 2020, "旱地", "水田", 5.0),
    ("R1", 2015, 2020, "乔木林地", "乔木林地", 72.0), ("R1", 2015, 2020, "乔木林地", "旱地", 5.0),
    ("R1", 2015, 2020, "乔木林地", "其他林地", 3.0),
    ("R1", 2015, 2020, "其他林地", "其他林地", 7.0), ("R1", 2015, 2020, "其他林地", "乔木林地", 3.0),
    ("R1", 2015, 2020, "城镇", "城镇", 20.0),
])


def _row(acc: pl.DataFrame, region: str, y0: int, etype: str | None) -> dict:
    sel = acc.filter(pl.col("region_id") == region, pl.col("year_from") == y0)
    sel = sel.filter(pl.col("ecosystem_type").is_null() if etype is None else pl.col("ecosystem_type") == etype)
    assert sel.height == 1
    return sel.row(0, named=True)


def test_type_flows_and_change_matrix_by_hand() -> None:
    flows = type_flows(EXT, TR)
    m = {(r["ecosystem_type_from"], r["ecosystem_type_to"]): r["area_ha"]
         for r in extent_change_matrix(flows, EXT).iter_rows(named=True)}
    # 阔叶 → 阔叶 = 72 + 3 + 3 + 7 = 85 (moves between the two forest classes stay inside the type)
    assert m == {("水田", "水田"): 85.0, ("水田", "旱地"): 10.0, ("水田", None): 5.0,
                 ("旱地", "旱地"): 40.0, ("旱地", "阔叶"): 5.0, ("旱地", "水田"): 5.0,
                 ("阔叶", "阔叶"): 85.0, ("阔叶", "旱地"): 5.0, (None, None): 20.0}


def test_gross_extent_account_by_hand_and_net_where_no_transitions() -> None:
    acc = extent_account(EXT, type_flows(EXT, TR))
    # 水田: +5 from 旱地; −10 to 旱地, −5 to 城镇 → additions 5, reductions 15, net −10
    r = _row(acc, "R1", 2015, "水田")
    assert (r["opening_ha"], r["additions_ha"], r["reductions_ha"], r["net_change_ha"], r["closing_ha"]) == (
        100.0, 5.0, 15.0, -10.0, 90.0)
    assert r["flow_basis"] == "gross_transitions"
    # 旱地: +10 from 水田, +5 from 阔叶; −5 to 阔叶, −5 to 水田 → 15 / 10, net +5
    r = _row(acc, "R1", 2015, "旱地")
    assert (r["additions_ha"], r["reductions_ha"], r["net_change_ha"]) == (15.0, 10.0, 5.0)
    # 阔叶: +5 from 旱地, −5 to 旱地, net 0: gross flows the net account cannot see
    r = _row(acc, "R1", 2015, "阔叶")
    assert (r["opening_ha"], r["additions_ha"], r["reductions_ha"], r["net_change_ha"]) == (90.0, 5.0, 5.0, 0.0)
    r = _row(acc, "R1", 2015, None)  # built-up land: +5 from 水田
    assert (r["additions_ha"], r["reductions_ha"], r["closing_ha"]) == (5.0, 0.0, 25.0)
    # 2020 → 2025 has no transitions: net mode (水田 −2, 阔叶 +2)
    r = _row(acc, "R1", 2020, "水田")
    assert (r["additions_ha"], r["reductions_ha"], r["flow_basis"]) == (0.0, 2.0, "net_change")
    r = _row(acc, "R1", 2020, "阔叶")
    assert (r["additions_ha"], r["reductions_ha"], r["flow_basis"]) == (2.0, 0.0, "net_change")
    # R2 (no transitions): 水田 10 → 8, 旱地 0 → 2
    r = _row(acc, "R2", 2015, "旱地")
    assert (r["opening_ha"], r["additions_ha"], r["closing_ha"], r["flow_basis"]) == (0.0, 2.0, 2.0, "net_change")
    # identities on every row: opening + additions − reductions = closing; gross ≥ net
    c = acc.with_columns((pl.col("opening_ha") + pl.col("additions_ha") - pl.col("reductions_ha")
                          - pl.col("closing_ha")).abs().alias("r"))
    assert c["r"].max() < 1e-9
    assert (acc["additions_ha"] >= acc["net_change_ha"].clip(lower_bound=0.0)).all()
    assert (acc["reductions_ha"] >= (-acc["net_change_ha"]).clip(lower_bound=0.0)).all()
    # Σ additions = Σ reductions per region and period (area moves between types, the region does not grow)
    bal = acc.group_by("region_id", "year_from").agg((pl.col("additions_ha") - pl.col("reductions_ha")).sum().alias("d"))
    assert bal["d"].abs().max() < 1e-9


def test_net_mode_without_flows_is_unchanged_and_labelled() -> None:
    acc = extent_account(EXT)
    assert set(acc["flow_basis"]) == {"net_change"}
    r = _row(acc, "R1", 2015, "阔叶")
    assert (r["additions_ha"], r["reductions_ha"]) == (0.0, 0.0)  # the net view hides the 5 ha exchanged


def test_transition_period_that_skips_a_year_gets_its_own_rows() -> None:
    tr = _transitions([("R2", 2015, 2020, "水田", "水田", 8.0), ("R2", 2015, 2020, "水田", "旱地", 2.0)])
    acc = extent_account(EXT, type_flows(EXT, tr))
    r = _row(acc, "R2", 2015, "水田")
    assert (r["reductions_ha"], r["flow_basis"]) == (2.0, "gross_transitions")
    assert set(acc.filter(pl.col("region_id") == "R1")["flow_basis"]) == {"net_change"}


def test_unknown_class_in_transitions_is_named() -> None:
    tr = _transitions([("R2", 2015, 2020, "水田", "水田", 8.0), ("R2", 2015, 2020, "水田", "果园", 2.0)])
    with pytest.raises(InputError) as e:
        type_flows(EXT, tr, file="转移.csv")
    (p,) = e.value.problems
    assert (p.code, p.column, p.value, p.file) == ("UNKNOWN_CLASS", "class_to", "果园", "转移.csv")


def test_change_matrix_check_catches_flows_that_do_not_match_the_extent() -> None:
    flows = type_flows(EXT, TR).with_columns(
        pl.when(pl.col("ecosystem_type_from") == "水田").then(pl.col("area_ha") + 1.0).otherwise(pl.col("area_ha"))
        .alias("area_ha"))
    with pytest.raises(AccountIdentityError, match="opening"):
        extent_change_matrix(flows, EXT)


def test_rollup_of_flows_to_a_parent() -> None:
    tr = pl.concat([TR, _transitions([("R2", 2015, 2020, "水田", "水田", 8.0), ("R2", 2015, 2020, "水田", "旱地", 2.0)])])
    parents = pl.DataFrame({"region_id": ["R1", "R2"], "parent_id": ["P", "P"]})
    up = rollup_flows(type_flows(EXT, tr), parents)
    got = {(r["ecosystem_type_from"], r["ecosystem_type_to"]): r["area_ha"] for r in up.iter_rows(named=True)}
    # 水田 → 旱地: R1 10 + R2 2 = 12; 水田 → 水田: 85 + 8 = 93
    assert got[("水田", "旱地")] == 12.0 and got[("水田", "水田")] == 93.0
    assert set(up["region_id"]) == {"P"}


def _files(tmp_path: Path) -> Path:
    d = tmp_path / "范围账户 转移"
    d.mkdir()
    (d / "土地利用.csv").write_text(
        "region_id,year,class,area_ha\n"
        "510104,2015,水田,100\n510104,2015,乔木林地,50\n510104,2015,城镇村及工矿用地,10\n"
        "510104,2020,水田,90\n510104,2020,乔木林地,55\n510104,2020,城镇村及工矿用地,15\n", encoding="utf-8")
    (d / "转移.csv").write_text(
        "region_id,year_from,year_to,class_from,class_to,area_ha\n"
        "510104,2015,2020,水田,水田,88\n510104,2015,2020,水田,乔木林地,7\n510104,2015,2020,水田,城镇村及工矿用地,5\n"
        "510104,2015,2020,乔木林地,乔木林地,48\n510104,2015,2020,乔木林地,水田,2\n"
        "510104,2015,2020,城镇村及工矿用地,城镇村及工矿用地,10\n", encoding="utf-8")
    return d


def test_cli_transitions_gross_account_and_matrix(tmp_path: Path) -> None:
    d = _files(tmp_path)
    res = CliRunner().invoke(main, ["account", "--landcover", str(d / "土地利用.csv"), "--crosswalk", "tnls",
                                    "--method", "equivalent-factor", "--transitions", str(d / "转移.csv"),
                                    "--out", str(d / "输出")])
    assert res.exit_code == 0, res.output
    t = d / "输出" / "tables"
    acc = pl.read_csv(t / "extent_account.csv", schema_overrides={"region_id": pl.Utf8})
    assert set(acc["flow_basis"]) == {"gross_transitions"}
    paddy = acc.filter(pl.col("ecosystem_type") == "水田").row(0, named=True)
    # 水田: +2 from forest; −7 to forest, −5 to built-up → 2 / 12, net −10
    assert (paddy["additions_ha"], paddy["reductions_ha"], paddy["net_change_ha"]) == (2.0, 12.0, -10.0)
    m = pl.read_csv(t / "extent_change_matrix.csv", schema_overrides={"region_id": pl.Utf8})
    assert m["area_ha"].sum() == pytest.approx(160.0)  # every hectare of 2015 appears once
    assert m.filter(pl.col("ecosystem_type_from") == "水田")["area_ha"].sum() == pytest.approx(100.0)


def test_cli_transitions_that_do_not_reconcile_are_rejected(tmp_path: Path) -> None:
    d = _files(tmp_path)
    bad = d / "转移_错.csv"
    bad.write_text((d / "转移.csv").read_text(encoding="utf-8").replace("水田,水田,88", "水田,水田,80"),
                   encoding="utf-8")
    res = CliRunner().invoke(main, ["account", "--landcover", str(d / "土地利用.csv"), "--crosswalk", "tnls",
                                    "--method", "equivalent-factor", "--transitions", str(bad),
                                    "--out", str(d / "x")])
    assert res.exit_code == 2 and "NOT_RECONCILED" in res.output


def test_config_uses_the_carbon_transitions_when_account_has_none(tmp_path: Path) -> None:
    from gep.config import load_config
    from gep.pipeline import execute

    d = _files(tmp_path)
    cfg = d / "run.toml"
    cfg.write_text('[run]\nreport = false\n[inputs]\nlandcover = ["土地利用.csv"]\ncrosswalk = "tnls"\n'
                   '[account]\nmethods = ["equivalent_factor"]\n[carbon]\ntransitions = "转移.csv"\n', encoding="utf-8")
    out = execute(load_config(cfg), d / "run", "test")
    acc = pl.read_csv(out / "tables" / "extent_account.csv", schema_overrides={"region_id": pl.Utf8})
    assert set(acc["flow_basis"]) == {"gross_transitions"}
    assert (out / "tables" / "extent_change_matrix.csv").exists()
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("[account]\n", "[account]\nuse_carbon_transitions = false\n"),
                   encoding="utf-8")
    out = execute(load_config(cfg), d / "run2", "test")
    acc = pl.read_csv(out / "tables" / "extent_account.csv", schema_overrides={"region_id": pl.Utf8})
    assert set(acc["flow_basis"]) == {"net_change"}
    assert not (out / "tables" / "extent_change_matrix.csv").exists()
