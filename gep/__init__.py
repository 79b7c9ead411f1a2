"""gep: ecological-product value accounting (GEP, carbon sinks, ecological compensation)."""

from gep._version import __version__

__all__ = ["__version__"]
