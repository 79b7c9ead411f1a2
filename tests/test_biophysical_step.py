"""The biophysical step (Config, run_step) and the `gep biophysical` command."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from gep.account.inputs import read_quantities
from gep.biophysical.engine import QUANTITY_COLUMNS
from gep.biophysical.step import Config, run_step
from gep.cli.main import main
from gep.errors import InputError, Problem

DEMO = Path(__file__).resolve().parents[1] / "gep" / "demo_data" / "rasters" / "biophysical"


@dataclass
class FakeContext:
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)
    read: list[tuple[str, str]] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)

    def resolve(self, path: str) -> Path:
        return Path(path)

    def read_input(self, path: str, role: str) -> Path:
        self.read.append((path, role))
        return Path(path)

    def record_coefficient_set(self, cset: Any) -> None:
        self.sets.append(cset.id)


def _cfg(**kw: Any) -> Config:
    base = dict(year=2020, zones=str(DEMO / "zones_synthetic.tif"), landcover=str(DEMO / "landcover_synthetic.tif"),
                landcover_classes=str(DEMO / "landcover_classes_synthetic.csv"),
                precipitation=str(DEMO / "precipitation_mm_synthetic.tif"), et=str(DEMO / "et_mm_synthetic.tif"),
                dem=str(DEMO / "dem_m_synthetic.tif"), r_factor=str(DEMO / "r_factor_synthetic.tif"),
                k_factor=str(DEMO / "k_factor_synthetic.tif"), nep=str(DEMO / "nep_gc_m2_synthetic.tif"),
                slope_length_m=60.0)
    base.update(kw)
    return Config(**base)


def test_config_is_strict() -> None:
    with pytest.raises(ValidationError):
        _cfg(precip="x.tif")
    with pytest.raises(ValidationError):
        _cfg(negative_water="drop")
    assert all(f.description for f in Config.model_fields.values())


def test_run_step_tables_and_provenance() -> None:
    ctx = FakeContext()
    run_step(_cfg(), ctx)
    q = ctx.tables["biophysical_quantities"]
    assert list(q.columns[:7]) == list(QUANTITY_COLUMNS)
    assert {"model", "coefficient_ids", "source_rasters"} <= set(q.columns)
    assert set(q["service"].unique()) == {"water_conservation", "soil_retention", "carbon_sequestration",
                                          "oxygen_release", "climate_regulation"}
    w = q.filter((pl.col("service") == "water_conservation") & (pl.col("ecosystem_type") == "阔叶"))
    assert set(w["coefficient_ids"]) == {"biophysical_cn:ecosystem_params:阔叶/runoff_coefficient"}
    assert "precipitation_mm_synthetic.tif" in w["source_rasters"][0]
    assert ctx.sets == ["biophysical_cn"]
    assert {r for _, r in ctx.read} >= {"biophysical_landcover", "biophysical_precipitation", "biophysical_zones"}
    codes = {p.code for p in ctx.warnings}
    assert {"UNVERIFIED_COEFFICIENT", "AC_DAYS_NOT_LIMITED"} <= codes
    used = ctx.tables["biophysical_parameters"]
    assert used.filter(pl.col("parameter") == "bulk_density")["verification"].to_list() == ["verified"]


def test_carbon_from_carbon_step_when_present() -> None:
    ctx = FakeContext()
    ctx.tables["carbon_gep_quantities"] = pl.DataFrame({
        "region_id": ["513221"], "year": [2020], "service": ["carbon_sequestration"], "component": ["co2"],
        "ecosystem_type": [None], "quantity": [1000.0], "unit": ["t CO2"]})
    run_step(_cfg(), ctx)
    q = ctx.tables["biophysical_quantities"]
    carbon_regions = set(q.filter(pl.col("service") == "carbon_sequestration")["region_id"])
    assert carbon_regions == {"513222", "513223"}
    check = ctx.tables["biophysical_carbon_check"]
    assert check["region_id"].to_list() == ["513221"] and check["carbon_step_t_co2"][0] == 1000.0
    assert "CARBON_COUNTED_ONCE" in {p.code for p in ctx.warnings}


def test_quantities_read_by_the_account(tmp_path: Path) -> None:
    ctx = FakeContext()
    run_step(_cfg(), ctx)
    path = tmp_path / "功能量.csv"
    ctx.tables["biophysical_quantities"].write_csv(path)
    q = read_quantities(path)
    assert q.height == ctx.tables["biophysical_quantities"].height


def test_cli_help_names_every_raster_and_unit() -> None:
    out = CliRunner().invoke(main, ["biophysical", "--help"], terminal_width=200)
    assert out.exit_code == 0
    for text in ("--precipitation", "--et", "--temperature", "--dem", "--r-factor", "--k-factor", "--nep",
                 "--landcover", "--zones", "mm", "°C", "MJ·mm/(ha·h·yr)", "t·ha·h/(ha·MJ·mm)", "g C/m2/yr"):
        assert text in out.output, text


def _cli_args(out: Path, **over: str) -> list[str]:
    args = {"--year": "2020", "--zones": str(DEMO / "zones_synthetic.tif"),
            "--landcover": str(DEMO / "landcover_synthetic.tif"),
            "--landcover-classes": str(DEMO / "landcover_classes_synthetic.csv"),
            "--precipitation": str(DEMO / "precipitation_mm_synthetic.tif"), "--et": str(DEMO / "et_mm_synthetic.tif"),
            "--nep": str(DEMO / "nep_gc_m2_synthetic.tif"), "--out": str(out)}
    args.update(over)
    return [x for k, v in args.items() for x in (k, v)]


def test_cli_writes_quantities_and_pixels(tmp_path: Path) -> None:
    out = tmp_path / "输出"
    res = CliRunner().invoke(main, ["biophysical", *_cli_args(out), "--pixels", "--synthetic"])
    assert res.exit_code == 0, res.output
    q = pl.read_csv(out / "quantities.csv")
    assert set(q["data_status"]) == {"synthetic"}
    assert (out / "pixels" / "water_conservation_m3.tif").exists() and (out / "manifest.json").exists()
    # the headline: the synthetic label, the folder, and each service's total over the zones in its unit
    lines = res.stdout.splitlines()
    assert lines[0].startswith("SYNTHETIC DEMO DATA") and lines[1] == f"wrote {out}"
    tot = q.group_by("service", "unit").agg(pl.col("quantity").sum())
    wc = tot.filter(pl.col("service") == "water_conservation").row(0, named=True)
    assert lines[2].startswith(f"biophysical 2020 ({q['region_id'].n_unique()} zones): ")
    assert f"water_conservation {wc['quantity']:,.4g} {wc['unit']}" in lines[2]
    quiet = CliRunner().invoke(main, ["biophysical", *_cli_args(tmp_path / "静"), "--quiet"])
    assert quiet.exit_code == 0 and "gep: biophysical models" not in quiet.stderr and lines[2] in quiet.stdout


def test_cli_nothing_written_on_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["biophysical", *_cli_args(out, **{"--precipitation-unit": "kg"})])
    assert res.exit_code == 2
    assert "UNIT_MISMATCH" in res.output and "precipitation_mm_synthetic.tif" in res.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".gep-bio-")]


def test_run_step_refuses_bad_classes(tmp_path: Path) -> None:
    bad = tmp_path / "classes.csv"
    bad.write_text("code,ecosystem_type\n1,森林公园\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        run_step(_cfg(landcover_classes=str(bad)), FakeContext())
    assert exc.value.codes == ["UNKNOWN_ECOSYSTEM_TYPE"]


def test_demo_generator_reproduces_the_committed_rasters(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_biophysical_demo", Path(__file__).resolve().parents[1] / "scripts" / "make_biophysical_demo.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    out = tmp_path / "演示"
    gen.main(out)
    committed = sorted(p.name for p in DEMO.iterdir())
    assert sorted(p.name for p in out.iterdir()) == committed
    assert all("synthetic" in name for name in committed)
    for name in committed:
        assert (out / name).read_bytes() == (DEMO / name).read_bytes(), name
    assert sum((DEMO / n).stat().st_size for n in committed) < 1_000_000


def test_coefficient_set_folder_is_resolved_through_ctx(tmp_path: Path) -> None:
    folder = tmp_path / "参数" / "my_set"
    shutil.copytree(Path(__file__).resolve().parents[1] / "coefficients" / "sets" / "biophysical_cn", folder)

    class Ctx(FakeContext):
        def resolve(self, path: str) -> Path:
            return tmp_path / path

    ctx = Ctx()
    run_step(_cfg(coefficients="参数/my_set"), ctx)
    assert ctx.sets == ["biophysical_cn"]
