"""`gep regions list|show` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from click.testing import CliRunner

from gep.cli.regions import regions


def run(*args: str):
    return CliRunner().invoke(regions, list(args))


def test_list_registries() -> None:
    r = run("list")
    assert r.exit_code == 0
    assert "sichuan" in r.output and "183" in r.output


def test_list_counties_csv() -> None:
    r = run("list", "sichuan", "--format", "csv")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert len(lines) == 184
    assert lines[0] == "region_id,name_zh,name_en,parent_id,parent_name_zh,type_zh,area_km2"
    assert lines[1].startswith("510104,锦江区,Jinjiang District,510100,成都市,市辖区,60.7")


def test_list_prefecture_filter_table() -> None:
    r = run("list", "sichuan", "--prefecture", "成都市")
    assert r.exit_code == 0
    assert "20 counties" in r.output and "14,333.4" in r.output
    assert "茂县" not in r.output
    # '阿坝' names both a prefecture and a county; --prefecture takes the prefecture
    r = run("list", "sichuan", "-p", "阿坝", "--format", "csv")
    assert r.exit_code == 0 and len(r.output.splitlines()) == 14


def test_show_county_with_rivers() -> None:
    r = run("show", "513223")
    assert r.exit_code == 0
    out = r.output
    assert "茂县" in out and "Mao County" in out and "阿坝藏族羌族自治州" in out and "3,896.5" in out
    assert "岷江干流" in out and "513224 松潘县 (B)" in out and "513221 汶川县 (B)" in out
    assert "黑水河" in out and "513228 黑水县" in out


def test_show_by_name_and_prefecture() -> None:
    r = run("show", "茂县")
    assert r.exit_code == 0 and "513223" in r.output
    r = run("show", "510100")
    assert r.exit_code == 0 and "成都市" in r.output and "counties 县级:    20" in r.output


def test_show_unknown_and_ambiguous_exit_2() -> None:
    r = run("show", "513425")
    assert r.exit_code == 2
    assert "513402 会理市" in r.output  # former code -> suggestion
    r = run("show", "市中区")
    assert r.exit_code == 2 and "511002" in r.output and "511102" in r.output
    r = run("list", "nowhere")
    assert r.exit_code == 2 and "UNKNOWN_REGISTRY" in r.output


def test_custom_file_via_cli(tmp_path: Path) -> None:
    d = tmp_path / "区域"
    d.mkdir()
    f = d / "r.csv"
    pl.DataFrame({"地区代码": ["A1"], "名称": ["甲县"], "面积": ["12.5"]}).write_csv(f)
    r = run("list", str(f))
    assert r.exit_code == 0 and "甲县" in r.output and "12.5" in r.output
    r = run("show", "A1", "--registry", str(f))
    assert r.exit_code == 0 and "none in the river graph" in r.output
