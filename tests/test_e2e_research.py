"""End-to-end: a researcher repeats a finished run and runs `gep uncertainty` / `gep sensitivity` on it.

Base run tests/data/e2e/tuning/base_run.toml: 锦江区 510104 (1000 ha 水田, 200 ha 旱地, 2000 ha built-up)
and 茂县 513223 (1000 ha 灌木, 200 ha 水系), 2020, Xie 2015 equivalent factor at D = 3406.5 CNY/hm2:
510104 = (1000 × 3.89 + 200 × 4.01) × 3406.5 = 4692 × 3406.5 = 15 983 298;
513223 = (1000 × 15.22 + 200 × 125.61) × 3406.5 = 40 342 × 3406.5 = 137 425 023; all = 153 408 321 CNY.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _e2e import gep, read_csv

DATA = Path(__file__).parent / "data" / "e2e" / "tuning"
T_510104 = 15_983_298.0
T_ALL = 153_408_321.0




@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("研究") / "基准运行"
    res = gep("run", DATA / "base_run.toml", "--out", out)
    assert res.exit_code == 0, res.output
    return out


def _files(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_run_toml_repeats_the_run_byte_for_byte(base_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "重复"
    res = gep("run", base_run / "run.toml", "--out", again)
    assert res.exit_code == 0, res.output
    a, b = _files(base_run), _files(again)
    assert a.keys() == b.keys()
    for name in a:
        if name.startswith("tables/"):
            assert a[name] == b[name], name
    # the manifest differs only in the command line that produced it; run.toml only in its own out path
    strip = lambda text, *keys: [l for l in text.decode().splitlines() if not any(k in l for k in keys)]  # noqa: E731
    assert strip(a["manifest.json"], '"command"') == strip(b["manifest.json"], '"command"')
    assert strip(a["run.toml"], str(base_run)) == strip(b["run.toml"], str(again))


def test_run_in_place_gives_identical_tables(tmp_path: Path) -> None:
    first = tmp_path / "原地"
    assert gep("run", DATA / "base_run.toml", "--out", first).exit_code == 0
    before = _files(first)
    res = gep("run", first / "run.toml")  # no --out: run.toml's own out, i.e. the directory itself is replaced
    assert res.exit_code == 0, res.output
    after = _files(first)
    assert {k: v for k, v in after.items() if k != "manifest.json"} == {
        k: v for k, v in before.items() if k != "manifest.json"}
    assert list(tmp_path.iterdir()) == [first]  # no temp sibling left behind


def test_uncertainty_without_ranges_equals_the_accounts(base_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "mc0"
    res = gep("uncertainty", base_run, "--draws", "50", "--seed", "3", "--out", out)
    assert res.exit_code == 0, res.output
    rows = {(r["region_id"], r["service"]): r for r in read_csv(out / "tables" / "uncertainty.csv")}
    for key, point in [(("510104", "total"), T_510104), (("all", "total"), T_ALL)]:
        r = rows[key]
        for col in ("point_cny", "mean_cny", "p5_cny", "p50_cny", "p95_cny"):
            assert float(r[col]) == point, (key, col)
        assert float(r["sd_cny"]) == 0.0


def test_uncertainty_declared_range_on_standard_value(base_run: Path, tmp_path: Path) -> None:
    outs = []
    for name in ("mc1", "mc2"):
        out = tmp_path / name
        res = gep("uncertainty", base_run, "--draws", "4000", "--seed", "11", "--uncertainty-table",
                  DATA / "ranges.csv", "--out", out)
        assert res.exit_code == 0, res.output
        outs.append(out)
    # same seed → same bytes
    assert (outs[0] / "tables" / "uncertainty.csv").read_bytes() == (outs[1] / "tables" / "uncertainty.csv").read_bytes()
    r = {(x["region_id"], x["service"]): x for x in read_csv(outs[0] / "tables" / "uncertainty.csv")}[("all", "total")]
    # GEP is proportional to D ~ U(0.9, 1.1) × 3406.5: mean T, sd T × 0.1/√3 = 0.057735 T,
    # P5 = 0.91 T, P95 = 1.09 T (Monte Carlo error of 4000 draws well inside the tolerances)
    assert float(r["point_cny"]) == T_ALL
    assert float(r["mean_cny"]) == pytest.approx(T_ALL, rel=0.005)
    assert float(r["sd_cny"]) == pytest.approx(0.057735 * T_ALL, rel=0.05)
    assert float(r["p5_cny"]) == pytest.approx(0.91 * T_ALL, rel=0.005)
    assert float(r["p95_cny"]) == pytest.approx(1.09 * T_ALL, rel=0.005)
    coeffs = read_csv(outs[0] / "tables" / "uncertainty_coefficients.csv")
    declared = [c for c in coeffs if c.get("range_source") == "declared"]
    assert len(declared) == 1 and float(declared[0]["low"]) == pytest.approx(3065.85)


@pytest.fixture(scope="module")
def sensitivity_run(base_run: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("敏感性") / "sens"
    res = gep("sensitivity", base_run, "--output", "equivalent_factor/510104/2020/total", "--range-pct", "20",
              "--range-for", "all", "--out", out)
    assert res.exit_code == 0, res.output
    return read_csv(out / "tables" / "sensitivity.csv")


def test_sensitivity_tornado_by_hand(sensitivity_run: list[dict[str, str]]) -> None:
    oat = {r["coefficient"]: r for r in sensitivity_run if r["analysis"] == "oat"}
    # 510104 uses D and the 22 equivalents of 水田 and 旱地: 23 coefficients move it (the run's other
    # coefficients, 灌木 and 水系 of 茂县, are listed with swing 0)
    assert sum(float(r["swing_cny"]) > 0 for r in oat.values()) == 23
    assert all(float(r["swing_cny"]) == 0 for k, r in oat.items() if "灌木" in k or "水系" in k)
    d = oat["xie2015:standard_value:standard_equivalent_value"]
    assert d["rank"] == "1"
    assert float(d["output_at_low_cny"]) == pytest.approx(0.8 * T_510104)
    assert float(d["swing_cny"]) == pytest.approx(0.4 * T_510104)  # 6 393 319.2
    assert float(d["elasticity"]) == pytest.approx(1.0)
    # 水田 hydrological regulation 2.72: swing 0.4 × 1000 ha × 2.72 × 3406.5 = 3 706 272;
    # elasticity 2720 / 4692 = 0.579710 (share of the equivalent-weighted area)
    h = oat["xie2015:equivalents:水田/hydrological_regulation"]
    assert h["rank"] == "2"
    assert float(h["swing_cny"]) == pytest.approx(3_706_272.0)
    assert float(h["elasticity"]) == pytest.approx(2720 / 4692)
    # the negative paddy water supply (−2.63) has a negative elasticity −2630 / 4692
    assert float(oat["xie2015:equivalents:水田/water_supply"]["elasticity"]) == pytest.approx(-2630 / 4692)


def test_sobol_first_order_by_hand(sensitivity_run: list[dict[str, str]]) -> None:
    sob = {r["coefficient"]: r for r in sensitivity_run if r["analysis"] == "sobol"}
    # y = D × S with S = Σ E_k A_k = 4692; relative variances (uniform ±20 %: 0.2²/3 = 0.013333):
    # var(D)/D² = 0.013333; var(S)/S² = 0.013333 × Σ(E_k A_k)²/S² = 0.013333 × 17.96e6/22.01e6 = 0.010880;
    # S1(D) ≈ 0.013333 / (0.013333 + 0.010880 + 0.013333 × 0.010880) = 0.5474
    assert float(sob["xie2015:standard_value:standard_equivalent_value"]["s1"]) == pytest.approx(0.547, abs=0.03)
    # S1(水田 hydrological) ≈ 2720² / 22.01e6 × 0.013333 / 0.024358 = 0.184
    assert float(sob["xie2015:equivalents:水田/hydrological_regulation"]["s1"]) == pytest.approx(0.184, abs=0.03)


def test_sobol_confidence_is_informative(sensitivity_run: list[dict[str, str]]) -> None:
    d = next(r for r in sensitivity_run if r["analysis"] == "sobol"
             and r["coefficient"] == "xie2015:standard_value:standard_equivalent_value")
    # N = 1024 base points: the half-width of S1 should be of the order of ST's (0.05), certainly < 0.15
    assert float(d["s1_conf"]) < 0.15


def test_coefficients_effect_of_own_override_table_by_hand(base_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "效果"
    res = gep("coefficients-effect", "xie2015", "--overrides", DATA.parent / "county" / "my_overrides.csv",
              "--run", base_run, "--out", out)
    assert res.exit_code == 0, res.output
    eff = {r["coefficient"]: float(r["change_cny"]) for r in read_csv(out / "effect_by_coefficient.csv")}
    # D 3406.5 → 240 元/亩 = 3600 CNY/hm2 alone: 193.5 × (4692 + 40342) = 8 714 079
    assert eff["xie2015:standard_value:standard_equivalent_value"] == pytest.approx(8_714_079.0)
    # 水系 hydrological regulation 102.24 → 50 alone: 200 ha × (−52.24) × 3406.5 = −35 591 112
    assert eff["xie2015:equivalents:水系/hydrological_regulation"] == pytest.approx(-35_591_112.0)
    tot = {r["region_id"]: r for r in read_csv(out / "effect_by_output.csv") if r["service"] == "total"}
    # both together: 16 891 200 + 107 618 400 = 124 509 600 (= the override run of test_e2e_county)
    assert float(tot["all"]["value_b_cny"]) == pytest.approx(124_509_600.0)
    assert float(tot["all"]["change_cny"]) == pytest.approx(124_509_600.0 - T_ALL)


def test_coefficients_effect_prints_a_readable_table(base_run: Path) -> None:
    res = gep("coefficients-effect", "xie2015", "--overrides", DATA.parent / "county" / "my_overrides.csv",
              "--run", base_run)
    assert res.exit_code == 0, res.output
    assert "shape: (" not in res.output and "┆" not in res.output


def test_copied_run_toml_does_not_overwrite_the_original(tmp_path: Path) -> None:
    orig = tmp_path / "原始运行"
    assert gep("run", DATA / "base_run.toml", "--out", orig).exit_code == 0
    before = (orig / "tables" / "gep.csv").read_bytes()
    variant = tmp_path / "变体"
    shutil.copytree(orig, variant)
    cfg = variant / "run.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('methods = ["equivalent_factor"]',
                                                           'methods = ["function_value"]'), encoding="utf-8")
    gep("run", cfg)
    assert (orig / "tables" / "gep.csv").read_bytes() == before  # the original run is untouched


def test_uncertainty_on_a_county_function_value_run(tmp_path: Path) -> None:
    """County quantities and statistics are fixed; only the set prices they use vary (docs/tuning.md)."""
    fv = DATA.parent / "function_value"
    run = tmp_path / "功能价值"
    assert gep("account", "--method", "function-value", "--quantities", fv / "功能量2020.csv", "--statistics",
               fv / "价值量2020.csv", "--prices", fv / "价格.csv", "--regions", "sichuan", "--out", run).exit_code == 0
    out = tmp_path / "mc"
    res = gep("uncertainty", run, "--draws", "4000", "--seed", "5", "--range-pct", "20", "--range-for", "all",
              "--out", out)
    assert res.exit_code == 0, res.output
    rows = {(r["region_id"], r["service"]): r for r in read_csv(out / "tables" / "uncertainty.csv")}
    # the county's own price (水源涵养 6.5 元/m3) and statistics do not vary
    wc = rows[("513223", "water_conservation")]
    assert float(wc["sd_cny"]) == 0.0 and float(wc["p5_cny"]) == 1_625_000_000.0
    # set prices ±20 % uniform: sd = 0.2/√3 × √(4 560 000² + 159 000 000²) = 18 367 287
    tot = rows[("513223", "total")]
    assert float(tot["point_cny"]) == 1_993_560_000.0
    assert float(tot["sd_cny"]) == pytest.approx(18_367_287, rel=0.05)
    assert float(tot["mean_cny"]) == pytest.approx(1_993_560_000.0, rel=0.001)
