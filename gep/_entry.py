"""Entry points whose names are also packages: ``gep.account(...)`` and ``gep.carbon(...)``.

``gep.account`` is both the engine package (``gep.account.tables`` …) and the API function
(:func:`gep.api.account`). Python binds ``gep.account`` to the package as soon as anything
imports it, so the package itself is made callable (a module may change its ``__class__``
to a ModuleType subclass): calling it runs the API function of the same name, loaded on
first call. ``import gep`` stays cheap and ``gep.account.tables`` keeps working.

Core layer: imports nothing of gep at import time.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import Any


class EntryPointModule(ModuleType):
    """A package that, called, runs :mod:`gep.api`'s function of the same (last) name."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return getattr(import_module("gep.api"), self.__name__.rsplit(".", 1)[-1])(*args, **kwargs)


def make_callable(module_name: str) -> None:
    """Make the (already imported) package ``module_name`` an :class:`EntryPointModule`."""
    sys.modules[module_name].__class__ = EntryPointModule


__all__ = ["EntryPointModule", "make_callable"]
