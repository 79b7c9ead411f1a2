"""Citations point inside the repository or to published sources.

No file of the package (gep, coefficients, regions, reports, cli), the tests, the scripts or the
docs may cite the team's method notes that are not in the repository (the GEP methods note, the
shared reference folder, or a section of those notes; patterns in FORBIDDEN) or name an absolute
path of a machine (a work, home or Windows user folder). Cite the published source (author year,
journal volume:pages, table or equation) or a repository doc (docs/formulas.md, docs/…) instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCANNED_DIRS = ("gep", "coefficients", "regions", "reports", "cli", "tests", "scripts", "docs", "benchmarks")
SCANNED_FILES = ("README.md", "pyproject.toml")
TEXT_SUFFIXES = {".py", ".md", ".toml", ".csv", ".txt", ".json", ".html", ".j2", ".cfg", ".ini", ".yaml", ".yml"}

# Built from pieces so that this file does not match itself.
FORBIDDEN = re.compile(
    "|".join(
        [
            r"gep_methods" + r"\.md",
            r"shared" + r"/reference",
            r"\bref(?:erence)? " + r"§",
            r"reference " + r"notes?\b",
            r"(?<![\w.:/~-])/(?:work|home|root|Users|mnt|srv|scratch)/[\w.-]+",
            r"\b[A-Za-z]:\\\\?(?:Users|work)\\",
        ]
    )
)


def offending_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every line of ``text`` that matches FORBIDDEN."""
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if FORBIDDEN.search(line)]


def scanned_files() -> list[Path]:
    files = [ROOT / f for f in SCANNED_FILES if (ROOT / f).exists()]
    for d in SCANNED_DIRS:
        base = ROOT / d
        if base.is_dir():
            files += [p for p in sorted(base.rglob("*")) if p.is_file() and p.suffix in TEXT_SUFFIXES
                      and "__pycache__" not in p.parts]
    return files


def test_no_citation_of_notes_outside_the_repository_or_machine_paths() -> None:
    found = []
    for path in scanned_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{path.relative_to(ROOT)}:{n}: {line[:120]}" for n, line in offending_lines(text)]
    assert not found, "cite the published source or a repository doc instead:\n" + "\n".join(found)


def test_scan_covers_package_tests_scripts_and_docs() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    for expected in ("gep/account/equivalent.py", "docs/formulas.md", "scripts/make_demo_data.py",
                     "coefficients/sets/xie2015/equivalents.csv", "tests/test_citations.py"):
        assert expected in names


@pytest.mark.parametrize(
    "line",
    [
        "Formulas as in gep_methods" + ".md §2.1.",
        "(see ../shared" + "/reference/compensation.md §0)",
        "# (/work" + "/shared/" + "reference/sichuan.md §1)",
        "data in /home" + "/alice/gep/lc.csv",
        "(ref " + "§3.4 [U])",
        "compiled from the reference " + "notes",
        r"C:\Users" + r"\alice\gep",
    ],
)
def test_rule_catches_notes_and_machine_paths(line: str) -> None:
    assert offending_lines(line)


@pytest.mark.parametrize(
    "line",
    [
        "谢高地 et al. 2015, 自然资源学报 30(8):1243-1254",
        "see docs/formulas.md §1 and docs/carbon.md",
        "https://m.pouringspot.com/dnr/scdnr/scsdcsj/2022/1/18/x.shtml",
        "python -m pytest tests/ -q  # run from the checkout",
        "IPCC 2006 GL Vol 4 Eq 2.25; 1/7 rule",
    ],
)
def test_rule_allows_published_sources_and_repository_docs(line: str) -> None:
    assert not offending_lines(line)
