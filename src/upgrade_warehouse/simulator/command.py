"""`upgrade-warehouse quote` (placeholder until the simulator lands)."""

from __future__ import annotations

from ..errors import UserError


def quote_command() -> None:
    """Price a plan change (proration simulator)."""
    raise UserError("the simulator is not implemented yet")
