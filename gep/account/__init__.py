"""account (see docs/contracts.md)."""
