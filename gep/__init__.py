"""gep: ecological-product value accounting (GEP, carbon sinks, ecological compensation).

``import gep`` stays cheap (no Polars, DuckDB or engines are loaded); the Python API
(:mod:`gep.api`, walk-through in docs/python.md) is loaded on first use::

    import gep
    result = gep.account("demo:sichuan_landcover_synthetic.csv", crosswalk="tnls", methods=["equivalent_factor"])
    result["gep"]
"""

from importlib import import_module
from typing import Any

from gep._version import __version__

_API = ("account", "carbon", "compensate", "run", "validate", "Result")

__all__ = ["__version__", *_API]


_PACKAGES = ("account", "carbon")
"""API names that are also engine packages: the package itself is callable (gep/_entry.py)."""


def __getattr__(name: str) -> Any:
    """``gep.account`` … load :mod:`gep.api` when first asked for (PEP 562)."""
    if name in _PACKAGES:
        return import_module(f"gep.{name}")
    if name in _API:
        return getattr(import_module("gep.api"), name)
    raise AttributeError(f"module 'gep' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
