"""docs/input_tables.md lists every reason code used in the code, each once, with its meaning (issue 15).

A code is "used" when it is the code of a problem: a string like ``UNKNOWN_REGION`` given as the first
argument (or ``code=``) of ``Problem(...)``, of a collector's ``.add(...)`` or of a ``warn``/``problem``
helper, or assigned to a variable named ``code``; both branches of ``"A" if … else "B"`` count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("gep", "coefficients", "regions", "cli", "reports")
CODE = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
CALLS = {"Problem", "add", "problem", "_problem", "warn", "_warn"}
DOC = ROOT / "docs" / "input_tables.md"


def _constants(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _constants(node.body) + _constants(node.orelse)
    return []


def codes_in_code() -> dict[str, str]:
    """Every reason code used in the package → the first file using it."""
    found: dict[str, str] = {}
    for d in SOURCES:
        for f in sorted((ROOT / d).rglob("*.py")):
            for n in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
                args: list[ast.AST] = []
                if isinstance(n, ast.Call):
                    fn = n.func
                    name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
                    if name in CALLS and n.args:
                        args.append(n.args[0])
                    args += [k.value for k in n.keywords if k.arg == "code"]
                elif isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in n.targets):
                    args.append(n.value)
                for a in args:
                    for c in _constants(a):
                        found.setdefault(c, str(f.relative_to(ROOT)))
    return found


def codes_in_docs() -> list[tuple[str, str, str]]:
    """(code, kind, meaning) of every row of the tables under '## Reason codes'."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Reason codes"):]
    section = section[: m.start()] if (m := re.search(r"^## (?!Reason codes)", section[3:], re.M)) else section
    return [(m.group(1), m.group(2).strip(), m.group(3).strip())
            for m in re.finditer(r"^\| `([A-Z0-9_]+)` \|([^|]*)\|(.*)\|\s*$", section, re.M)]


def test_the_scanner_finds_the_codes_it_should() -> None:
    used = codes_in_code()
    assert len(used) > 100
    for c in ("UNKNOWN_REGION", "EXTRA_FIELDS", "AMBIGUOUS_SHEET", "REGION_CODE_NORMALISED", "VALUE_OUT_OF_RANGE",
              "AMBIGUOUS_KIND", "UNKNOWN_KIND", "NEGATIVE_VALUE"):  # the last three only in IfExp / code = …
        assert c in used, c
    assert "GEP_DEBUG" not in used and "LANDCOVER_SPEC" not in used


def test_every_code_used_is_documented_once_with_its_meaning_and_no_other() -> None:
    rows = codes_in_docs()
    listed = [c for c, _, _ in rows]
    assert len(listed) == len(set(listed)), sorted(c for c in listed if listed.count(c) > 1)
    used = codes_in_code()
    missing = sorted(set(used) - set(listed))
    assert not missing, "codes used in the code but not in docs/input_tables.md: " + ", ".join(
        f"{c} ({used[c]})" for c in missing)
    stale = sorted(set(listed) - set(used))
    assert not stale, "codes in docs/input_tables.md that no code uses: " + ", ".join(stale)
    for code, kind, meaning in rows:
        assert kind in ("error", "warning", "note"), (code, kind)
        assert len(meaning) > 15, code
