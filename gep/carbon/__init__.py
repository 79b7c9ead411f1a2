"""carbon (see docs/contracts.md)."""
