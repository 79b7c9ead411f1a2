"""tuning (see docs/contracts.md)."""
