"""docs/formulas.md is the index of formulas: every listed function exists, every citing function is listed.

Rule for "cites a published formula": a function (or method) defined in a module of
gep.account, gep.carbon, gep.compensation or gep.tuning whose docstring matches
CITATION (an equation or table number, a standard number, or the name of a published
method or its authors: Eq, eq., Table N, 表N, GB/T, LY/T, IPCC, InVEST, Xie, 谢高地,
SEEA, Saltelli, Jansen, Shapley, 欧阳志云, 白玛卓嘎, 谢余初, 孙郧峰, 王航).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORMULAS = ROOT / "docs" / "formulas.md"
ENGINE_PACKAGES = ("account", "carbon", "compensation", "tuning")

CITATION = re.compile(
    r"\bEq\b|\beq\.|\bTable \d|表\s*\d|GB/T|LY/T|IPCC|InVEST|\bXie\b|谢高地|SEEA|Saltelli|Jansen|Shapley"
    r"|欧阳志云|白玛卓嘎|谢余初|孙郧峰|王航"
)
REF = re.compile(r"`(gep(?:\.\w+)+):(\w+(?:\.\w+)?)`")
ROW = re.compile(r"^\|\s*([A-Z]+\d+)\s*\|")


def listed_functions(text: str) -> set[str]:
    """``module:function`` names in the formula rows (lines starting ``| ID |``) of the index."""
    names: set[str] = set()
    for line in text.splitlines():
        if ROW.match(line):
            names.update(f"{m}:{f}" for m, f in REF.findall(line))
    return names


def citing_functions(source: str, module: str) -> set[str]:
    """``module:function`` of every function in ``source`` whose docstring matches CITATION."""
    out: set[str] = set()

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if CITATION.search(ast.get_docstring(node) or ""):
                    out.add(f"{module}:{prefix}{node.name}")
                visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(source).body, "")
    return out


def engine_citing_functions() -> set[str]:
    out: set[str] = set()
    for pkg in ENGINE_PACKAGES:
        for path in sorted((ROOT / "gep" / pkg).glob("*.py")):
            module = f"gep.{pkg}.{path.stem}"
            out |= citing_functions(path.read_text(encoding="utf-8"), module)
    return out


def resolves(name: str) -> bool:
    """True when ``module:attr[.attr]`` imports and names a function, method or property."""
    module, path = name.split(":")
    try:
        obj: object = importlib.import_module(module)
    except ImportError:
        return False
    for part in path.split("."):
        if isinstance(obj, type) and isinstance(obj.__dict__.get(part), property):
            return True
        obj = getattr(obj, part, None)
        if obj is None:
            return False
    return callable(obj)


def test_formula_rows_have_ids_and_functions() -> None:
    rows = [line for line in FORMULAS.read_text(encoding="utf-8").splitlines() if ROW.match(line)]
    assert len(rows) >= 40
    ids = [ROW.match(line).group(1) for line in rows]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids)), "duplicate formula ids"
    for line in rows:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 6, f"a formula row has 6 columns: {line[:60]}"
        assert REF.search(cells[5]), f"row {cells[0]} names no module:function"
        assert cells[4], f"row {cells[0]} has no verification status"


def test_every_listed_function_exists() -> None:
    missing = sorted(n for n in listed_functions(FORMULAS.read_text(encoding="utf-8")) if not resolves(n))
    assert not missing, f"docs/formulas.md lists functions that do not exist: {missing}"


def test_every_citing_engine_function_is_listed() -> None:
    listed = listed_functions(FORMULAS.read_text(encoding="utf-8"))
    unlisted = sorted(engine_citing_functions() - listed)
    assert not unlisted, f"functions citing a published formula but missing from docs/formulas.md: {unlisted}"


def test_the_checks_can_fail() -> None:
    fake = (
        'def shiny():\n    """V = A × k; Xie 2015 Table 2."""\n\ndef plain():\n    """Sort rows."""\n'
        'class P:\n    def m(self):\n        """IPCC Eq 2.5."""\n'
    )
    assert citing_functions(fake, "gep.fake") == {"gep.fake:shiny", "gep.fake:P.m"}
    doc = (
        "| X1 | V | x | y | verified | `gep.account.equivalent:no_such_function` |\n"
        "| X2 | V | x | y | verified | `gep.account.equivalent:equivalent_factor_services` |\n"
        "text `gep.units:value_factor` outside a row is not a listing\n"
    )
    names = listed_functions(doc)
    assert names == {"gep.account.equivalent:no_such_function", "gep.account.equivalent:equivalent_factor_services"}
    assert [n for n in sorted(names) if not resolves(n)] == ["gep.account.equivalent:no_such_function"]
    assert not resolves("gep.no_such_module:f")
    assert resolves("gep.carbon.valuation:CarbonPrice.per_t_co2")
    assert not resolves("gep.carbon.valuation:CarbonPrice.no_such")
    assert {"gep.fake:shiny"} - names == {"gep.fake:shiny"}


@pytest.mark.parametrize("text", ["Eq 2.25", "IPCC 2006", "GB/T 46869-2025", "谢高地 2015", "表2", "SEEA EA"])
def test_citation_rule_matches(text: str) -> None:
    assert CITATION.search(text)
