"""What a step of a run sees: the run-context protocol that every engine's ``run_step`` types.

Engines (account, carbon, compensation, tuning, spatial, biophysical) take a
:class:`RunContext` and never import the run layer (:mod:`gep.pipeline`), which
provides the concrete implementation. Also here: where the embedded demo data
lives (``demo:NAME`` paths), which every layer above may resolve.

Inputs layer: imports only the core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import polars as pl
from pydantic import BaseModel

from gep.errors import Problem

DEMO_SCHEME = "demo:"
"""Prefix of paths that name a file of the embedded synthetic demo data."""


def demo_data_dir() -> Path:
    """Folder of the embedded synthetic demo data (package data of ``gep``)."""
    return Path(str(resources.files("gep") / "demo_data"))


def resolve_demo(name: str) -> Path:
    """``demo:NAME`` → the embedded demo file; anything else unchanged (as a Path)."""
    if name.startswith(DEMO_SCHEME):
        return demo_data_dir() / name[len(DEMO_SCHEME):]
    return Path(name)


def names_demo(value: Any) -> bool:
    """True when ``value`` (a path, or lists, tuples and dicts of them as in a config) names the embedded
    synthetic demo data (``demo:NAME``): whatever reads it must carry the synthetic label."""
    if isinstance(value, str):
        return value.startswith(DEMO_SCHEME)
    if isinstance(value, dict):
        return any(names_demo(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(names_demo(v) for v in value)
    return False


ProgressCallback = Callable[[str, int | None, int | None], None]
"""``progress(task, done, total)``: ``task`` (a step name such as ``account`` or ``uncertainty draws``) has done
``done`` of ``total`` units; ``(task, 0, n)`` when it starts, ``(task, n, n)`` when it ends. The CLI draws it
(cli/output.py); engines call it through :attr:`RunContext.progress` and never print."""


def no_progress(task: str, done: int | None = None, total: int | None = None) -> None:
    """The progress callback of a run nobody watches."""


class RunConfigView(Protocol):
    """The parts of a run configuration that steps read."""

    @property
    def steps(self) -> Mapping[str, BaseModel]:
        """Config model of every step section present, by section name."""
        ...

    @property
    def base_dir(self) -> Path:
        """Folder that relative input paths start from."""
        ...


class RunContext(Protocol):
    """A run as a step sees it: resolved inputs, registry, extent, and where its tables go.

    Steps add tables to :attr:`tables`, warnings to :attr:`warnings`, record every
    input they read (:meth:`read_input`, sha256 in the manifest) and every coefficient
    set they use (:meth:`record_coefficient_set`).
    """

    config: Any
    """The run configuration (:class:`RunConfigView`; the run layer's ``RunConfig``)."""
    registry: Any
    """The region registry (:class:`gep.regions.RegionRegistry`) or None (any region id)."""
    extent: pl.DataFrame | None
    tables: dict[str, pl.DataFrame]
    warnings: list[Problem]
    resolved_paths: dict[str, str]
    progress: ProgressCallback
    """Report progress of a long step (:data:`ProgressCallback`); a no-op unless someone watches."""

    @property
    def synthetic(self) -> bool:
        """True when the run's data are the synthetic demo (labelled in every output)."""
        ...

    @property
    def price_base_year(self) -> int | None:
        """``[run] price_base_year``: constant prices of this year (None: current prices)."""
        ...

    def resolve(self, path: str) -> Path:
        """``demo:NAME`` and paths relative to the config file's folder → a Path."""
        ...

    def read_input(self, path: str, role: str) -> Path:
        """Resolve an input path, check it exists and record it (with sha256) in the manifest."""
        ...

    def record_coefficient_set(self, cset: Any) -> None:
        """Record a coefficient set used by a step (manifest + coefficients_used table)."""
        ...


__all__ = ["DEMO_SCHEME", "ProgressCallback", "names_demo", "RunConfigView", "no_progress", "RunContext", "demo_data_dir", "resolve_demo"]
