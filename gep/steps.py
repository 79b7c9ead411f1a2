"""The steps of a run, in the order they run: one module per step, each declaring itself.

Every step module exports ``Config`` (its frozen pydantic config section, which
drives validation, ``run.toml`` and docs), ``run_step(cfg, ctx)`` (typed on
:class:`gep.context.RunContext`) and ``INPUT_KINDS`` (the input kinds it reads,
which ``gep validate`` collects; see :mod:`gep.inputkinds`). Adding an engine
means adding its step module here; nothing else is central.

Run layer: imports the engines, never the reports or the CLI.
"""

from __future__ import annotations

from types import ModuleType

from pydantic import BaseModel

from gep.account import step as account_step
from gep.biophysical import step as biophysical_step
from gep.carbon import step as carbon_step
from gep.compensation import step as compensation_step
from gep.compensation import transfer_step
from gep.spatial import step as extent_step
from gep.tuning import sensitivity_step, uncertainty_step

STEPS: tuple[tuple[str, ModuleType], ...] = (
    ("extent", extent_step),  # first: rasters or polygons -> the land cover every later step reads
    ("carbon", carbon_step),  # before account: [account] carbon_link takes its quantities
    ("biophysical", biophysical_step),  # after carbon (carbon counted once), before account (quantities)
    ("account", account_step),
    ("compensation", compensation_step),
    ("transfer", transfer_step),
    ("uncertainty", uncertainty_step),
    ("sensitivity", sensitivity_step),
)
"""(config section, step module), in run order."""


def step_config_models() -> dict[str, type[BaseModel]]:
    """Config model of every step, by section name."""
    return {section: module.Config for section, module in STEPS}


def step_sections() -> tuple[str, ...]:
    """Section names of every step, in run order."""
    return tuple(section for section, _ in STEPS)


__all__ = ["STEPS", "step_config_models", "step_sections"]
