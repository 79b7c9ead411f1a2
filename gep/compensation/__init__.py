"""compensation (see docs/contracts.md)."""
