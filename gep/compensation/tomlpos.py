"""Find the line of a key in a TOML text, so agreement problems can name a line number.

tomllib gives values but not positions; this scans the text for table headers
(``[a.b]``, ``[[a]]`` with a running index) and ``key =`` lines. Good enough for
the hand-written agreement files gep reads; keys inside inline tables resolve to
the line of the enclosing key.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*(\"[^\"]+\"|'[^']+'|[A-Za-z0-9_\-]+)\s*=")


def _clean(part: str) -> str:
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'":
        return part[1:-1]
    return part


class TomlLocator:
    """Map key paths such as ``("sections", 2, "upstream")`` to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[object, ...], int] = {}
        counters: dict[tuple[str, ...], int] = {}
        current: tuple[object, ...] = ()
        for lineno, line in enumerate(text.splitlines(), start=1):
            h = _HEADER.match(line)
            if h:
                parts = tuple(_clean(p) for p in h.group(2).split("."))
                if h.group(1) == "[[":
                    idx = counters.get(parts, 0)
                    counters[parts] = idx + 1
                    # nested arrays of tables: attach to the latest index of the parent array
                    prefix: tuple[object, ...] = ()
                    for i, p in enumerate(parts[:-1]):
                        prefix += (p,)
                        parent = parts[: i + 1]
                        if parent in counters:
                            prefix += (counters[parent] - 1,)
                    current = prefix + (parts[-1], idx)
                else:
                    prefix = ()
                    for i, p in enumerate(parts):
                        prefix += (p,)
                        parent = parts[: i + 1]
                        if parent in counters and i < len(parts) - 1:
                            prefix += (counters[parent] - 1,)
                    current = prefix
                self.lines.setdefault(current, lineno)
                continue
            k = _KEY.match(line)
            if k:
                self.lines.setdefault(current + (_clean(k.group(1)),), lineno)

    def line(self, *path: object) -> int | None:
        """Line of the longest known prefix of ``path`` (None if nothing matches)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return None
