"""End-to-end: conservation laws on the embedded Sichuan demo (synthetic data), run through `gep run`.

The demo configuration fragments (gep/demo_data/config: run, account, carbon, compensation) are run
without reports and without the Monte Carlo/sensitivity fragment, to keep this suite fast; the
tables are those of `gep demo`. Checks: services sum to GEP per region/year/method; categories to
totals; counties to prefectures to the province; SEEA monetary supply to GEP; extent per county to
the registry area; carbon stock differences to the stock-difference flux; flux groups to their
total; every compensation agreement nets to 0.00 and the ledger reproduces the net table.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from _e2e import gep
from gep.regions import load_registry

import gep as gep_pkg

DEMO = Path(gep_pkg.__file__).parent / "demo_data"
FRAGMENTS = ["00_run.toml", "20_account.toml", "30_carbon.toml", "40_compensation.toml"]



@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("四川示例")
    text = "\n".join((DEMO / "config" / f).read_text(encoding="utf-8") for f in FRAGMENTS)
    text = text.replace("[run]\n", "[run]\nreport = false\n", 1)
    cfg = root / "demo_no_report.toml"
    cfg.write_text(text, encoding="utf-8")
    out = root / "输出"
    res = gep("run", cfg, "--out", out)
    assert res.exit_code == 0, res.output
    return out / "tables"


def table(tables: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(tables / f"{name}.parquet")


def test_services_sum_to_gep_categories_and_total(demo: Path) -> None:
    s = table(demo, "services")
    g = table(demo, "gep")
    assert g.height == 183 * 3 * 2  # 183 counties × 3 years × 2 methods, one row each
    assert g.select(pl.struct("region_id", "year", "method").is_unique().all()).item()
    by_cat = s.group_by("region_id", "year", "method").agg(
        [pl.col("value_cny").filter(pl.col("category") == c).sum().alias(f"{c}_s") for c in
         ("provisioning", "regulating", "supporting", "cultural")] + [pl.col("value_cny").sum().alias("all_s")])
    j = g.join(by_cat, on=["region_id", "year", "method"], how="full", coalesce=True)
    assert j.height == g.height
    for c in ("provisioning", "regulating", "supporting", "cultural"):
        diff = (j[f"{c}_cny"] - j[f"{c}_s"]).abs().max()
        assert diff <= 1e-6 * float(j[f"{c}_cny"].abs().max()), c
    cats = j["provisioning_cny"] + j["regulating_cny"] + j["supporting_cny"] + j["cultural_cny"]
    assert ((cats - j["imported_deduction_cny"] - j["total_cny"]).abs() <= 1e-9 * j["total_cny"].abs() + 1e-6).all()
    # every services row, deduction rows (category imported_deduction, ≤ 0) included, sums to the total
    assert ((j["all_s"] - j["total_cny"]).abs() <= 1e-9 * j["total_cny"].abs() + 1e-6).all()
    # the two methods are never mixed: function-value rows carry no supporting category
    assert g.filter(pl.col("method") == "function_value")["supporting_cny"].abs().max() == 0


def test_seea_monetary_supply_sums_to_gep(demo: Path) -> None:
    m = table(demo, "seea_monetary_supply").group_by("region_id", "year", "method").agg(pl.col("value_cny").sum())
    j = table(demo, "gep").join(m, on=["region_id", "year", "method"])
    assert j.height == 1098
    assert ((j["value_cny"] - j["total_cny"]).abs() <= 1e-9 * j["total_cny"].abs() + 1e-6).all()


def test_extent_sums_to_registry_area(demo: Path) -> None:
    e = table(demo, "extent").group_by("region_id", "year").agg(pl.col("area_ha").sum())
    reg = load_registry("sichuan").counties.select("region_id", "area_km2")
    j = e.join(reg, on="region_id", how="full", coalesce=True)
    assert j.height == 183 * 3 and j["area_ha"].null_count() == 0
    # synthetic land cover is fitted to the registry area (km2 × 100 = ha) to the hundredth of a hectare
    assert ((j["area_ha"] - j["area_km2"] * 100).abs() <= 0.01).all()


def test_extent_account_and_change_decomposition_identities(demo: Path) -> None:
    ea = table(demo, "extent_account")
    assert ((ea["opening_ha"] + ea["additions_ha"] - ea["reductions_ha"] - ea["closing_ha"]).abs() <= 1e-6).all()
    cd = table(demo, "change_decomposition")
    parts = cd["area_effect_cny"] + cd["unit_value_effect_cny"] + cd["unattributed_change_cny"]
    assert ((parts - cd["total_change_cny"]).abs() <= 1e-6 * cd["total_change_cny"].abs() + 1e-3).all()
    assert ((cd["value_to_cny"] - cd["value_from_cny"] - cd["total_change_cny"]).abs()
            <= 1e-9 * cd["value_to_cny"].abs() + 1e-3).all()


def test_counties_sum_to_prefectures_and_province(demo: Path, tmp_path: Path) -> None:
    county = table(demo, "gep").filter(pl.col("method") == "equivalent_factor")
    lc = DEMO / "sichuan_landcover_synthetic.csv"
    sums = {}
    for level in ("prefecture", "province"):
        out = tmp_path / f"汇总_{level}"
        res = gep("account", "--landcover", lc, "--crosswalk", "tnls", "--method", "equivalent-factor",
                  "--regions", "sichuan", "--level", level, "--out", out)
        assert res.exit_code == 0, res.output
        sums[level] = pl.read_parquet(out / "tables" / "gep.parquet")
    assert sums["prefecture"].height == 21 * 3 and sums["province"].height == 3
    reg = load_registry("sichuan").counties.select("region_id", "parent_id")
    by_pref = county.join(reg, on="region_id").group_by("parent_id", "year").agg(pl.col("total_cny").sum())
    j = sums["prefecture"].join(by_pref, left_on=["region_id", "year"], right_on=["parent_id", "year"])
    assert j.height == 63
    assert ((j["total_cny"] - j["total_cny_right"]).abs() <= 1e-9 * j["total_cny"]).all()
    prov = county.group_by("year").agg(pl.col("total_cny").sum()).sort("year")
    p = sums["province"].sort("year")
    assert p["total_cny"].to_list() == pytest.approx(prov["total_cny"].to_list(), rel=1e-12)
    pp = sums["prefecture"].group_by("year").agg(pl.col("total_cny").sum()).sort("year")
    assert p["total_cny"].to_list() == pytest.approx(pp["total_cny"].to_list(), rel=1e-12)


def test_carbon_stock_difference_equals_flux_and_groups_sum(demo: Path) -> None:
    stock = table(demo, "carbon_stock")
    assert set(stock["pool"].unique()) == {"c_above", "c_below", "c_soil", "c_dead"}
    tot = stock.group_by("region_id", "year").agg(pl.col("c_t").sum())
    flux = table(demo, "carbon_flux")
    sd = flux.filter(pl.col("method") == "stock_difference").group_by("region_id", "year_from", "year_to").agg(
        pl.col("delta_c_t").sum())
    j = (sd.join(tot.rename({"year": "year_from", "c_t": "c0"}), on=["region_id", "year_from"])
           .join(tot.rename({"year": "year_to", "c_t": "c1"}), on=["region_id", "year_to"]))
    assert j.height == 183 * 2
    assert ((j["c1"] - j["c0"] - j["delta_c_t"]).abs() <= 1e-9 * j["c1"].abs() + 1e-6).all()
    # CO2e = C × 44/12 on every flux row
    assert ((flux["co2e_t"] - flux["delta_c_t"] * 44 / 12).abs() <= 1e-9 * flux["co2e_t"].abs() + 1e-9).all()
    summ = table(demo, "carbon_flux_summary")
    keys = ["region_id", "year_from", "year_to", "method"]
    parts = summ.filter(pl.col("group") != "all").group_by(keys).agg(pl.col("delta_c_t").sum().alias("parts"))
    allg = summ.filter(pl.col("group") == "all").join(parts, on=keys, how="left")
    assert ((allg["delta_c_t"] - allg["parts"]).abs() <= 1e-6).all()
    # the stock-difference 'all' group equals the flux rows' sum
    sda = allg.filter(pl.col("method") == "stock_difference").join(sd, on=["region_id", "year_from", "year_to"])
    assert sda.height == 183 * 2
    assert ((sda["delta_c_t"] - sda["delta_c_t_right"]).abs() <= 1e-6).all()


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_compensation_nets_to_zero_and_ledger_reproduces_nets(demo: Path) -> None:
    nets = _csv(demo / "compensation_net.csv")
    ledger = _csv(demo / "compensation_ledger.csv")
    per_agreement: dict[str, Decimal] = defaultdict(Decimal)
    for r in nets:
        per_agreement[r["agreement_id"]] += Decimal(r["net_cny"])
        assert Decimal(r["received_cny"]) - Decimal(r["paid_cny"]) == Decimal(r["net_cny"])
    assert len(per_agreement) == 4 and all(v == Decimal("0.00") for v in per_agreement.values())
    from_ledger: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in ledger:
        amt = Decimal(r["amount_cny"])
        assert amt == amt.quantize(Decimal("0.01")) and amt >= 0  # to the fen
        from_ledger[(r["agreement_id"], r["payee"])] += amt
        from_ledger[(r["agreement_id"], r["payer"])] -= amt
    assert {(r["agreement_id"], r["party"]): Decimal(r["net_cny"]) for r in nets} == dict(from_ledger)
    chishui = {r["party"]: r["net_cny"] for r in nets if r["agreement_id"] == "chishui-pool-2018"}
    # docs/compensation.md "Demo": 云南 +60,000,000.00, 贵州 −47,500,000.00, 四川 −47,500,000.00, 茅台镇 +35,000,000.00
    assert chishui == {"530000": "60000000.00", "520000": "-47500000.00", "510000": "-47500000.00",
                       "MTZ_DEDUCTIONS": "35000000.00", "CHISHUI_FUND": "0.00"}


def test_html_report_of_the_demo_is_byte_identical_across_invocations(demo: Path) -> None:
    """Polars' parallel group_by sums floats in a scheduling-dependent order; a report that sums with it
    changed its last printed digit between runs (328,707,487.66 vs .67 t C below-ground biomass)."""
    import hashlib

    run_dir = demo.parent
    digests = set()
    for _ in range(4):
        res = gep("report", run_dir, "--format", "html")
        assert res.exit_code == 0, res.output
        digests.add(hashlib.sha256((run_dir / "report.html").read_bytes()).hexdigest())
    assert len(digests) == 1
