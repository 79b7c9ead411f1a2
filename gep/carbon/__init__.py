"""carbon (see docs/contracts.md)."""

# ``gep.carbon(...)`` is the Python API (gep.api.carbon); this package stays importable as before.
from gep._entry import make_callable  # noqa: E402

make_callable(__name__)
