"""Every step of gep.steps keeps the step-module contract of docs/architecture.md.

A step module exports ``Config`` (a pydantic model), ``run_step(cfg, ctx: RunContext)`` and
``INPUT_KINDS`` (a tuple of InputKind); every config field that names input files carries
``json_schema_extra=reads(kind)`` with a kind that ``gep validate`` knows.
"""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest
from pydantic import BaseModel

from gep.context import RunContext
from gep.inputkinds import InputKind, field_kinds
from gep.inputs_catalog import kinds
from gep.steps import STEPS


def contract_problems(module: ModuleType) -> list[str]:
    """What ``module`` lacks of the step contract (empty list = it keeps it)."""
    problems = []
    cfg = getattr(module, "Config", None)
    if not (isinstance(cfg, type) and issubclass(cfg, BaseModel)):
        problems.append("Config is not a pydantic model")
    run = getattr(module, "run_step", None)
    if not callable(run):
        problems.append("no run_step")
    else:
        params = list(inspect.signature(run).parameters.values())
        if len(params) != 2:
            problems.append("run_step takes (cfg, ctx)")
        elif params[1].annotation not in (RunContext, "RunContext"):
            problems.append("run_step's ctx is not typed RunContext")
    ik = getattr(module, "INPUT_KINDS", None)
    if not (isinstance(ik, tuple) and all(isinstance(k, InputKind) for k in ik)):
        problems.append("INPUT_KINDS is not a tuple of InputKind")
    return problems


@pytest.mark.parametrize(("section", "module"), STEPS, ids=[s for s, _ in STEPS])
def test_step_module_keeps_the_contract(section: str, module: ModuleType) -> None:
    assert contract_problems(module) == []


@pytest.mark.parametrize(("section", "module"), STEPS, ids=[s for s, _ in STEPS])
def test_config_fields_name_known_input_kinds(section: str, module: ModuleType) -> None:
    known = set(kinds())
    unknown = {f: k for f, k in field_kinds(module.Config).items() if k not in known}
    assert unknown == {}


def test_the_contract_check_can_fail() -> None:
    fake = ModuleType("fake_step")
    assert len(contract_problems(fake)) == 3
    fake.Config = BaseModel  # type: ignore[attr-defined]
    fake.run_step = lambda cfg: None  # type: ignore[attr-defined]
    fake.INPUT_KINDS = ()  # type: ignore[attr-defined]
    assert contract_problems(fake) == ["run_step takes (cfg, ctx)"]
