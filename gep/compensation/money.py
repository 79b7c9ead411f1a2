"""Money arithmetic for compensation: exact decimals, one rounding rule.

Rounding rule (documented in docs/compensation.md §Rounding; rules 2–4 are applied
by the ledger, gep.compensation.ledger):

1. Every amount is computed in exact ``decimal.Decimal`` arithmetic (50
   significant digits), never in binary floats.
2. A *leg* is one money movement decided by a rule (e.g. "section TJ03, March,
   NH3-N 赔偿金"), possibly split among several payers (shares φ) and payees
   (shares ψ). The leg total is rounded once to the fen with ROUND_HALF_UP.
3. The split lines (one per payer × payee, amount = total · φ · ψ) are rounded
   by the largest-remainder rule: each line is first cut down to the fen, then
   the fens still missing to reach the rounded leg total go one each to the lines
   with the largest cut-off remainders (ties: ledger order). So the lines of a
   leg add up exactly to the rounded leg total.
4. Netting (if the agreement asks for it) adds already-rounded lines, so it never
   rounds again.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import polars as pl

FEN = Decimal("0.01")
CONTEXT = decimal.Context(prec=50, rounding=ROUND_HALF_UP)
MONEY_DTYPE = pl.Decimal(38, 2)


def dec(value: object) -> Decimal:
    """Exact decimal from int, str or float (floats via their shortest repr, so 0.1 -> Decimal('0.1'))."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("booleans are not amounts")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value).strip())


def to_fen(amount: Decimal) -> Decimal:
    """Round a yuan amount to the fen, half up (0.005 -> 0.01)."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP, context=CONTEXT)


def split_to_fen(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split a non-negative fen amount by weights (summing to 1) with the largest-remainder rule.

    The parts are whole fens and add up exactly to ``total`` (which must be whole fens).
    """
    if total < 0:
        raise ValueError("split_to_fen needs a non-negative total")
    exact = [CONTEXT.multiply(total, w) for w in weights]
    floors = [e.quantize(FEN, rounding=ROUND_DOWN) for e in exact]
    missing = int(CONTEXT.divide(total - sum(floors, Decimal(0)), FEN))
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:missing]:
        floors[i] += FEN
    return floors


def _fmt(x: Decimal) -> str:
    """Compact text of a decimal for the basis column (no exponent, trailing zeros dropped)."""
    if x == x.to_integral_value():
        return str(x.quantize(Decimal(1)))
    text = format(x.normalize(), "f")
    return text


def fmt(x: Decimal | float, places: int | None = None) -> str:
    """Format a number for ``basis`` text; ``places`` rounds (half up) for display only."""
    d = dec(x) if not isinstance(x, Decimal) else x
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=CONTEXT)
        d = d.normalize(CONTEXT) if d != 0 else Decimal(0)
    return _fmt(d)
