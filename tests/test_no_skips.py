"""Published checks cannot skip: a test of gep's own code never skips (issue 14, item 7).

Only the browser tests may skip, and only for a missing Chromium outside CI (GEP_REQUIRE_BROWSER=1 fails instead).
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SKIP = re.compile(r"pytest\.(skip|importorskip)\s*\(|mark\.(skip|skipif|xfail)\b")


def test_no_test_skips_except_the_browser_tests() -> None:
    offenders = []
    for path in sorted(TESTS.glob("*.py")):
        if path.name in {"test_reports_browser.py", Path(__file__).name}:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SKIP.search(line):
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


def test_browser_tests_skip_only_for_missing_chromium() -> None:
    text = (TESTS / "test_reports_browser.py").read_text(encoding="utf-8")
    skips = [line.strip() for line in text.splitlines() if SKIP.search(line)]
    assert len(skips) == 1 and "pytest.skip(\"headless Chromium not found" in skips[0]
