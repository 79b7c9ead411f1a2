"""cli/output.py: progress on stderr (plain lines off a terminal, silenced by --quiet), headlines on stdout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from gep.cli.main import main
from gep.cli.output import (
    Console,
    carbon_headline,
    compensation_headline,
    gep_headline,
    money,
    sensitivity_headline,
)


def _run(*args: str | Path) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("out") / "p"
    assert _run("init", target)[0] == 0
    return target


def test_non_tty_progress_is_one_line_per_step_start_and_end(project: Path) -> None:
    code, out, err = _run("run", project / "run.toml", "--out", project / "a")
    assert code == 0, err
    steps = [ln for ln in err.splitlines() if ln.startswith("gep: ") and ("…" in ln or " done" in ln)]
    assert steps[:2] == ["gep: reading inputs …", steps[1]] and steps[1].startswith("gep: reading inputs done in ")
    assert "gep: account …" in steps and any(s.startswith("gep: account done in ") for s in steps)
    # the reports are a step of their own, inside writing the run folder (national workbooks take a while)
    names = [s.split(" done")[0].removesuffix(" …") for s in steps]
    assert names[-4:] == ["gep: writing the run folder", "gep: writing reports", "gep: writing reports",
                          "gep: writing the run folder"], steps
    assert "\x1b[" not in err  # no terminal control codes off a terminal
    assert "gep: account" not in out  # progress never on stdout


def test_headlines_end_the_run(project: Path) -> None:
    code, out, _ = _run("run", project / "run.toml", "--out", project / "b", "--quiet")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("SYNTHETIC DEMO DATA")
    assert lines[1] == f"wrote {project / 'b'}"
    assert lines[2].startswith("GEP 2025 (511802, 513221): equivalent_factor ") or lines[2].startswith(
        "GEP 2025 (513221): equivalent_factor ")
    assert any(ln.startswith("carbon sink: ") and "t CO2e/yr" in ln for ln in lines)
    assert lines[-1] == f"open {project / 'b' / 'report.html'}"


def test_quiet_silences_progress_not_results(project: Path) -> None:
    code, out, err = _run("run", project / "run.toml", "--out", project / "c", "-q")
    assert code == 0
    assert "gep: account" not in err and "reading inputs" not in err
    assert "wrote" in out


def test_report_says_what_it_wrote(project: Path) -> None:
    assert _run("run", project / "run.toml", "--out", project / "d", "-q")[0] == 0
    code, out, _ = _run("report", project / "d", "--format", "html")
    assert code == 0
    html = project / "d" / "report.html"
    assert out.splitlines() == [f"wrote {html} ({html.stat().st_size / 1024:,.0f} KB)", f"open {html}"]


def test_gep_headline_sums_regions_of_the_latest_year() -> None:
    gep = pl.DataFrame({"region_id": ["a", "b", "a", "b"], "year": [2020, 2020, 2025, 2025],
                        "method": ["function_value"] * 4, "total_cny": [1e8, 1e8, 2e8, 3e8]})
    assert gep_headline(gep) == ["GEP 2025 (a, b): function_value 5.00 亿元"]


def test_carbon_headline_is_per_year() -> None:
    summary = pl.DataFrame({"region_id": ["a", "a"], "year_from": [2020, 2020], "year_to": [2025, 2025],
                            "method": ["stock_difference"] * 2, "group": ["all", "forest"],
                            "co2e_t": [5e4, 4e4], "value_cny": [5e6, 4e6]})
    assert carbon_headline(summary) == ["carbon sink: stock_difference 1.00 万t CO2e/yr (100.00 万元/yr, 2020→2025)"]


def test_compensation_headline_signs_and_names() -> None:
    net = pl.DataFrame({"agreement_id": ["x", "x"], "party": ["1", "2"], "party_name": ["上游", "下游"],
                        "net_cny": [Decimal("1000000.00"), Decimal("-1000000.00")]},
                       schema_overrides={"net_cny": pl.Decimal(38, 2)})
    assert compensation_headline(net) == ["compensation x: 上游 +100.00 万元, 下游 -100.00 万元"]


def test_sensitivity_headline_ranks() -> None:
    sens = pl.DataFrame({"output": ["o"] * 4, "analysis": ["oat", "oat", "oat", "sobol"], "rank": [2, 1, 3, 1],
                         "coefficient": ["b", "a", "c", "z"]})
    assert sensitivity_headline(sens, top=2) == ["sensitivity o: top coefficients 1. a, 2. b"]


def test_money_units() -> None:
    assert money(3.2e12) == "32,000.00 亿元"
    assert money(12_345.0) == "1.23 万元"
    assert money(99.5) == "99.50 元"


def test_tty_draws_a_bar_and_clears_it(capsys: pytest.CaptureFixture[str]) -> None:
    c = Console(tty=True)
    c.progress("account", 0, 2)
    assert c._bar is not None
    assert len(c._bar.tasks) == 1
    c.progress("account", 2, 2)
    assert c._bar.tasks == []  # a finished step leaves the screen
    c.headline("result")
    assert c._bar is None
    assert capsys.readouterr().out == "result\n"
