"""The layers of gep, enforced: no upward import, no import circle, no import hidden in a function.

An AST walk over every module of the distribution (``gep/``, ``coefficients/``,
``regions/``, ``reports/``, ``cli/``, mapped to their ``gep.*`` import names). It sees
every import statement wherever it stands (module level, inside functions, under
``if TYPE_CHECKING``), so a circle cannot hide behind a function-level import.

Layers, bottom to top (docs/architecture.md):

core → reference data → inputs → engines → analyses → run → reports → cli

A module may import its own layer or any layer below; within a layer the import
graph must have no circle. Function-level imports of gep modules are not allowed at
all (zero exceptions).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = {"gep": "gep", "coefficients": "gep.coefficients", "regions": "gep.regions",
                "reports": "gep.reports", "cli": "gep.cli"}

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("core", ("gep", "gep._version", "gep.errors", "gep.units", "gep.readers", "gep.tablespec")),
    ("reference", ("gep.coefficients", "gep.regions")),
    ("inputs", ("gep.validation", "gep.loaders", "gep.extent", "gep.context", "gep.inputkinds")),
    ("engines", ("gep.account", "gep.carbon", "gep.compensation", "gep.spatial", "gep.biophysical")),
    ("analyses", ("gep.tuning",)),
    ("run", ("gep.steps", "gep.config", "gep.pipeline", "gep.inputs_catalog", "gep.formulas")),
    ("reports", ("gep.reports",)),
    ("cli", ("gep.cli", "gep.api")),
]


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for folder, package in PACKAGE_DIRS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out[".".join([package, *parts]) if parts else package] = path
    return out


MODULES = _modules()


def layer_of(module: str) -> int:
    """Index of the layer holding ``module`` (longest matching prefix wins)."""
    best, best_len = None, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")
    return best


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """gep modules an import statement loads (``from pkg import mod`` counts as pkg.mod)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "gep"]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != "gep":
        return []
    out = []
    for a in node.names:
        sub = f"{target}.{a.name}"
        out.append(sub if sub in MODULES else target)
    return out


def _imports() -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, at module level) for every gep-internal import."""
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top = {id(n) for n in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, path, node):
                    found.append((module, target, node.lineno, id(node) in top))
    return found


IMPORTS = _imports()


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


def test_no_upward_import():
    upward = [f"{a} (layer {LAYERS[layer_of(a)][0]}) imports {b} (layer {LAYERS[layer_of(b)][0]}), "
              f"{MODULES[a].relative_to(ROOT)}:{line}"
              for a, b, line, _ in IMPORTS if b in MODULES and layer_of(b) > layer_of(a)]
    assert upward == []


def test_no_function_level_import_of_gep():
    hidden = [f"{MODULES[a].relative_to(ROOT)}:{line} imports {b} inside a function or block"
              for a, b, line, top in IMPORTS if not top]
    assert hidden == []


def test_import_graph_has_no_circle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for a, b, _, _ in IMPORTS:
        if b in MODULES and a != b:
            graph[a].add(b)
    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    circles.append(sorted(comp))
    assert circles == []


def test_the_walk_sees_what_it_must():
    """The checker itself: it finds known imports at every level (so it cannot pass vacuously)."""
    pairs = {(a, b) for a, b, _, _ in IMPORTS}
    assert ("gep.tablespec", "gep.readers") in pairs
    assert ("gep.pipeline", "gep.steps") in pairs
    assert len(MODULES) > 80 and len(IMPORTS) > 250
    tree = ast.parse("def f():\n    from gep.cli import main\n")
    node = tree.body[0].body[0]
    assert _targets("gep.units", ROOT / "gep" / "units.py", node) == ["gep.cli.main"]
    assert layer_of("gep.cli.main") > layer_of("gep.units")


@pytest.mark.parametrize("module", ["gep.errors", "gep.units", "gep.readers", "gep.tablespec"])
def test_core_imports_nothing_above_core(module):
    above = [b for a, b, _, _ in IMPORTS if a == module and b in MODULES and layer_of(b) > 0]
    assert above == []
