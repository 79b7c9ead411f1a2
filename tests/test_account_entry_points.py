"""Every built-in coefficient set through every entry point, without a traceback (issue 14, items 2 and 6).

Entry points: the CLI (`gep account` / `gep carbon`), `gep run CONFIG.toml`, and a Python call of the
step (gep.pipeline.prepare + the step's run_step). Group-keyed sets (xie2003, xie2008) apply their
type map everywhere; a county outside the built-in registry (a user region table) runs with xie2003
and its own standard value. Unexpected exceptions print a short located bug report, exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main
from gep.coefficients import list_sets, load_set
from gep.context import resolve_demo

from gep.config import InputsSection, RunConfig, RunSection
from gep.pipeline import prepare

LANDCOVER = (
    "region_id,year,class,area_ha\n"
    "510104,2015,乔木林地,100\n510104,2015,水田,50\n510104,2015,灌木林地,20\n510104,2015,冰川及永久积雪,5\n"
    "510104,2020,乔木林地,110\n510104,2020,水田,40\n510104,2020,灌木林地,20\n510104,2020,冰川及永久积雪,5\n"
)
TRANSITIONS = (
    "region_id,year_from,year_to,class_from,class_to,area_ha\n"
    "510104,2015,2020,乔木林地,乔木林地,100\n510104,2015,2020,水田,乔木林地,10\n510104,2015,2020,水田,水田,40\n"
    "510104,2015,2020,灌木林地,灌木林地,20\n510104,2015,2020,冰川及永久积雪,冰川及永久积雪,5\n"
)
# the synthetic demo rasters for the biophysical set
BIO: dict[str, str] = {k: f"demo:rasters/biophysical/{v}" for k, v in {
    "zones": "zones_synthetic.tif", "landcover": "landcover_synthetic.tif",
    "landcover_classes": "landcover_classes_synthetic.csv", "precipitation": "precipitation_mm_synthetic.tif",
    "et": "et_mm_synthetic.tif", "nep": "nep_gc_m2_synthetic.tif"}.items()}
# set id -> what the run gives besides the set (xie2003 ships no standard value)
EXTRA: dict[str, dict[str, object]] = {"xie2003": {"standard_value": 1500.0, "standard_value_price_year": 2020}}


def _family(set_id: str) -> str:
    return str(load_set(set_id).manifest.method_family)


def _run(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(main, [str(a) for a in args])
    # a traceback would surface as a non-SystemExit exception here
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res.exit_code, res.output


@pytest.fixture()
def files(tmp_path: Path) -> Path:
    d = tmp_path / "输入"
    d.mkdir()
    (d / "lc.csv").write_text(LANDCOVER, encoding="utf-8")
    (d / "tr.csv").write_text(TRANSITIONS, encoding="utf-8")
    return d


def _cli_args(set_id: str, d: Path, out: Path) -> list[str]:
    fam = _family(set_id)
    if fam == "carbon":
        return ["carbon", "--landcover", d / "lc.csv", "--transitions", d / "tr.csv", "--crosswalk", "tnls",
                "--coefficients", set_id, "--price-per-tco2", "60", "--out", out]
    if fam == "equivalent_factor":
        args: list[object] = ["account", "--landcover", d / "lc.csv", "--crosswalk", "tnls",
                              "--method", "equivalent-factor", "--coefficients", set_id, "--out", out]
        if "standard_value" in EXTRA.get(set_id, {}):
            args += ["--standard-value", EXTRA[set_id]["standard_value"],
                     "--standard-value-year", EXTRA[set_id]["standard_value_price_year"]]
        return [str(a) for a in args]
    if fam == "function_value":
        return ["account", "--landcover", d / "lc.csv", "--crosswalk", "tnls", "--method", "function-value",
                "--coefficients", set_id, "--out", out]
    if fam == "prices":
        return ["account", "--landcover", d / "lc.csv", "--crosswalk", "tnls", "--method", "function-value",
                "--prices", set_id, "--out", out]
    if fam == "biophysical":
        return ["biophysical", "--year", "2020", *[x for k, v in BIO.items() for x in (f"--{k.replace('_', '-')}",
                str(resolve_demo(v)))], "--coefficients", set_id, "--out", out]
    raise AssertionError(f"built-in set {set_id} has family {fam}: add it to this test")


def _section(set_id: str) -> tuple[str, dict[str, object]]:
    fam = _family(set_id)
    if fam == "carbon":
        return "carbon", {"coefficients": set_id, "transitions": "tr.csv", "price_per_tco2": 60.0}
    if fam == "equivalent_factor":
        return "account", {"methods": ["equivalent_factor"], "equivalent_set": set_id, **EXTRA.get(set_id, {})}
    if fam == "function_value":
        return "account", {"methods": ["function_value"], "function_value_set": set_id}
    if fam == "prices":
        return "account", {"methods": ["function_value"], "prices": set_id}
    if fam == "biophysical":
        return "biophysical", {"year": 2020, **BIO, "coefficients": set_id}
    raise AssertionError(f"built-in set {set_id} has family {fam}: add it to this test")


def _toml(section: str, body: dict[str, object]) -> str:
    def v(x: object) -> str:
        if isinstance(x, str):
            return json.dumps(x, ensure_ascii=False)
        if isinstance(x, list):
            return "[" + ", ".join(v(i) for i in x) + "]"
        return str(x)
    lines = ['[run]', 'title = "entry points"', 'report = false', '', '[inputs]', 'landcover = ["lc.csv"]',
             'crosswalk = "tnls"', '', f"[{section}]"] + [f"{k} = {v(x)}" for k, x in body.items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("set_id", list_sets())
def test_every_builtin_set_through_the_cli(set_id: str, files: Path, tmp_path: Path) -> None:
    code, out = _run(_cli_args(set_id, files, tmp_path / "cli"))
    assert code == 0, out
    manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text(encoding="utf-8"))
    assert set_id in {s["id"] for s in manifest["coefficient_sets"]}
    assert "internal error" not in out


@pytest.mark.parametrize("set_id", list_sets())
def test_every_builtin_set_through_gep_run(set_id: str, files: Path, tmp_path: Path) -> None:
    section, body = _section(set_id)
    (files / "run.toml").write_text(_toml(section, body), encoding="utf-8")
    code, out = _run(["run", files / "run.toml", "--out", tmp_path / "run"])
    assert code == 0, out
    assert (tmp_path / "run" / "tables").is_dir()


@pytest.mark.parametrize("set_id", list_sets())
def test_every_builtin_set_through_the_python_step(set_id: str, files: Path) -> None:
    from gep.config import parse_config

    section, body = _section(set_id)
    data = {"run": {"title": "python"}, "inputs": {"landcover": [str(files / "lc.csv")], "crosswalk": "tnls"},
            section: {k: (str(files / x) if k == "transitions" else x) for k, x in body.items()}}
    cfg = parse_config(data)
    ctx = prepare(cfg)
    if section == "carbon":
        from gep.carbon.step import run_step
        run_step(cfg.steps["carbon"], ctx)
        assert ctx.tables["carbon_flux"].height
    elif section == "biophysical":
        from gep.biophysical.step import run_step as bio_step
        bio_step(cfg.steps["biophysical"], ctx)
        assert ctx.tables["biophysical_quantities"].height
    else:
        from gep.account.step import run_step
        run_step(cfg.steps["account"], ctx)
        services = ctx.tables["services"]
        assert services.height and services["value_cny"].null_count() == 0
        if _family(set_id) == "equivalent_factor":
            # every land-cover type is valued, through the type map for group-keyed sets
            assert set(services["ecosystem_type"].unique().to_list()) == {"针阔混交", "水田", "灌木", "冰川积雪"}
            assert set(services["quantity_unit"].unique().to_list()) == {"equivalent·hm2"}


@pytest.mark.parametrize("set_id", ["xie2003", "xie2008"])
def test_group_set_values_by_hand(set_id: str, files: Path) -> None:
    """乔木林地 → 针阔混交 → 森林: 100 ha × Σ 森林 equivalents × D."""
    from gep.account.step import Config, run_step

    d, year = (1500.0, 2020) if set_id == "xie2003" else (449.1, 2007)
    forest_sum = 21.85 if set_id == "xie2003" else 28.12
    cfg = RunConfig(run=RunSection(title="t"), inputs=InputsSection(landcover=[str(files / "lc.csv")], crosswalk="tnls"),
                    steps={"account": Config(methods=["equivalent_factor"], equivalent_set=set_id,
                                             **({"standard_value": d, "standard_value_price_year": year}
                                                if set_id == "xie2003" else {}))})
    ctx = prepare(cfg)
    run_step(cfg.steps["account"], ctx)
    s = ctx.tables["services"].filter((pl.col("region_id") == "510104") & (pl.col("year") == 2015)
                                      & (pl.col("ecosystem_type") == "针阔混交"))
    assert s["value_cny"].sum() == pytest.approx(100 * forest_sum * d)
    assert set(s["price_year"].to_list()) == {year}
    ids = s["coefficient_id"].to_list()
    assert f"{set_id}:equivalents:森林/biodiversity" in "".join(ids) or f"{set_id}:equivalents:森林/biodiversity_protection" in "".join(ids)
    assert all(f"{set_id}:type_map:针阔混交/森林" in i for i in ids)
    # the two unverified type-map rows (灌木 → 森林, 冰川积雪 → 水域) are named in one warning
    (w,) = [w for w in ctx.warnings if w.code == "UNVERIFIED_COEFFICIENT"]
    assert "2 unverified rows" in w.message and "灌木/森林" in w.message and "冰川积雪/水域" in w.message


def test_county_outside_sichuan_with_xie2003_and_its_own_standard_value(tmp_path: Path) -> None:
    """A user region table (Gansu county 620102) valued with xie2003 at its own 1/7 value: hand-computed."""
    d = tmp_path / "甘肃"
    d.mkdir()
    (d / "regions.csv").write_text("region_id,name_zh,parent_id,parent_name_zh,area_km2\n"
                                   "620102,城关区,620100,兰州市,220\n620103,七里河区,620100,兰州市,397\n",
                                   encoding="utf-8")
    (d / "lc.csv").write_text("region_id,year,class,area_ha\n620102,2021,乔木林地,200\n620102,2021,天然牧草地,300\n"
                              "620103,2021,水田,80\n620103,2021,沼泽地,20\n", encoding="utf-8")
    code, out = _run(["account", "--landcover", d / "lc.csv", "--crosswalk", "tnls", "--regions", d / "regions.csv",
                      "--method", "equivalent-factor", "--coefficients", "xie2003",
                      "--standard-value", "1210.5", "--standard-value-year", "2021", "--out", d / "out"])
    assert code == 0, out
    gep = pl.read_csv(d / "out" / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    tot = dict(zip(gep["region_id"], gep["total_cny"], strict=True))
    # 620102: 200 ha 森林 (Σ 21.85) + 300 ha 草甸 → 草地 (Σ 7.24); 620103: 80 ha 农田 (6.91) + 20 ha 湿地 (62.71)
    assert tot["620102"] == pytest.approx((200 * 21.85 + 300 * 7.24) * 1210.5)  # 7 918 380.6
    assert tot["620103"] == pytest.approx((80 * 6.91 + 20 * 62.71) * 1210.5)  # 2 187 373.5
    services = pl.read_csv(d / "out" / "tables" / "services.csv")
    assert set(services["price_year"].to_list()) == {2021}
    assert set(services["quantity_unit"].to_list()) == {"equivalent·hm2"}
    # the same run from a TOML and from Python
    (d / "run.toml").write_text(
        '[run]\ntitle = "甘肃"\nregions = "regions.csv"\nreport = false\n[inputs]\nlandcover = ["lc.csv"]\n'
        'crosswalk = "tnls"\n[account]\nmethods = ["equivalent_factor"]\nequivalent_set = "xie2003"\n'
        'standard_value = 1210.5\nstandard_value_price_year = 2021\n', encoding="utf-8")
    code, out = _run(["run", d / "run.toml", "--out", d / "out2"])
    assert code == 0, out
    gep2 = pl.read_csv(d / "out2" / "tables" / "gep.csv", schema_overrides={"region_id": pl.Utf8})
    assert gep2["total_cny"].to_list() == gep["total_cny"].to_list()


def test_group_set_without_a_standard_value_is_an_input_problem(files: Path, tmp_path: Path) -> None:
    code, out = _run(["account", "--landcover", files / "lc.csv", "--crosswalk", "tnls", "--method",
                      "equivalent-factor", "--coefficients", "xie2003", "--out", tmp_path / "o"])
    assert code == 2 and "MISSING_COEFFICIENT" in out and "--standard-value" in out


def test_xie2015_run_warns_about_its_unverified_rows(files: Path, tmp_path: Path) -> None:
    code, out = _run(["account", "--landcover", files / "lc.csv", "--crosswalk", "tnls", "--method",
                      "equivalent-factor", "--out", tmp_path / "o"])
    assert code == 0
    # tnls maps 冰川及永久积雪 → 冰川积雪: its 11 unverified rows are used and named
    assert "UNVERIFIED_COEFFICIENT" in out and "xie2015" in out and "11 unverified rows" in out
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    (w,) = [w for w in manifest["warnings"] if w["code"] == "UNVERIFIED_COEFFICIENT"]
    assert "冰川积雪/water_supply" in w["message"] and "冰川积雪/hydrological_regulation" in w["message"]


def test_internal_error_is_a_short_located_bug_report(files: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import gep.account.step as step

    def boom(*_a: object, **_k: object) -> None:
        raise KeyError("ecosystem_type")

    monkeypatch.setattr(step, "compute_services", boom)
    res = CliRunner().invoke(main, ["account", "--landcover", str(files / "lc.csv"), "--crosswalk", "tnls",
                                    "--method", "equivalent-factor", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1
    assert isinstance(res.exception, SystemExit)
    assert "gep: internal error" in res.output and "please report" in res.output
    assert "KeyError" in res.output and "ecosystem_type" in res.output and "raised at:" in res.output
    assert "command:   gep " in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()
