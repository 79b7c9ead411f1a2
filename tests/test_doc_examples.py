"""The examples of README.md and docs/*.md run as written, so a doc that drifts from the code fails.

Every ```bash / ```sh / ```shell block is run with bash (``set -e``: any failing command fails
the test) and every ```python block is executed, in document order, in one fresh folder per
document that already holds ``gep-demo/`` (the run of the quick start, ``gep demo --out
gep-demo``). Python blocks of a document share one namespace, as cells of a notebook do.

Markers, an HTML comment on the line just before a block's opening fence:

* ``<!-- doc-test: no-run REASON -->`` — the block is not run (a signature listing, an install
  command); the reason is required and should say why. Keep these few.
* ``<!-- doc-test: file NAME -->`` — the block (any language, e.g. ```csv) is written to NAME in
  the folder, so the blocks after it can read it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"bash", "sh", "shell"}
MARKER = re.compile(r"<!--\s*doc-test:\s*(no-run|file)\s*(.*?)\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    code: str
    marker: str | None = None
    """``no-run`` or ``file`` (from the comment before the fence), else None."""
    arg: str = ""


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a markdown file, with the doc-test marker before each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(1):
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != "```":
            j += 1
        prev = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        mk = MARKER.search(prev)
        found.append(Block(path.name, start + 1, lang, "\n".join(lines[start + 1:j]) + "\n",
                           mk.group(1) if mk else None, mk.group(2) if mk else ""))
        i = j + 1
    return found


def runnable(b: Block) -> bool:
    return b.marker is None and (b.lang in SHELL or b.lang == "python")


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``gep demo --out gep-demo``, once per session (the quick start)."""
    folder = tmp_path_factory.mktemp("quickstart")
    subprocess.run([_gep(), "demo", "--out", "gep-demo", "-q"], cwd=folder, check=True, capture_output=True)
    return folder / "gep-demo"


def _gep() -> str:
    exe = Path(sys.executable).with_name("gep")
    return str(exe) if exe.exists() else "gep"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("GEP_DEBUG", None)
    return env


def test_markers_are_explained_and_few() -> None:
    every = [b for d in DOCS for b in blocks(d)]
    no_run = [b for b in every if b.marker == "no-run"]
    assert all(b.arg for b in no_run), [f"{b.doc}:{b.line}" for b in no_run if not b.arg]
    runnable_blocks = [b for b in every if runnable(b)]
    assert len(no_run) < len(runnable_blocks), (len(no_run), len(runnable_blocks))
    unmarked_code = [b for b in every if b.marker is None and b.lang in SHELL | {"python"}]
    assert unmarked_code == runnable_blocks


def test_the_quick_start_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = next(b for b in blocks(ROOT / "README.md") if b.lang == "bash")
    assert quick.marker == "no-run"
    assert quick.code.splitlines() == ['pip install -e ".[test]" && gep demo --out gep-demo', "python -m pytest"]
    assert "## Quick start" in readme


@pytest.mark.parametrize("doc", [d for d in DOCS if any(runnable(b) for b in blocks(d))], ids=lambda d: d.name)
def test_doc_examples_run(doc: Path, demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    if "gep-demo" in doc.read_text(encoding="utf-8"):
        shutil.copytree(demo_run, work / "gep-demo")
    monkeypatch.chdir(work)
    namespace: dict[str, object] = {"__name__": f"doc_{doc.stem}"}
    for b in blocks(doc):
        where = f"{b.doc}:{b.line}"
        if b.marker == "file":
            (work / b.arg).write_text(b.code, encoding="utf-8")
        elif not runnable(b):
            continue
        elif b.lang in SHELL:
            r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", b.code], cwd=work, env=_env(),
                               capture_output=True, text=True)
            assert r.returncode == 0, f"{where} failed (exit {r.returncode}):\n{b.code}\n{r.stdout}\n{r.stderr}"
        else:
            try:
                exec(compile(b.code, where, "exec"), namespace)  # noqa: S102 - the doc's own example
            except Exception as exc:  # noqa: BLE001
                pytest.fail(f"{where} raised {type(exc).__name__}: {exc}\n{b.code}")
