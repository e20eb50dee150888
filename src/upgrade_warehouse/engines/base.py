"""What both engines' load phases share: as_of from the data or from ``--var``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..errors import UserError
from ..params import Parameters


def resolve_as_of(
    params: Parameters, data_dir: Path, from_data: Callable[[], datetime | None]
) -> tuple[Parameters, bool]:
    """(the parameters with as_of set, whether it came from the data): an explicit
    ``--var as_of`` is the user's choice; otherwise ``from_data()`` computes it from the
    loaded rows (either engine). UserError when there is nothing to compute it from."""
    if params.as_of is not None:
        return params, False
    as_of = from_data()
    if as_of is None:
        raise UserError(
            f"{data_dir}: product_events and subscription_changes have no accepted "
            "rows, so as_of cannot be computed; pass --var as_of=..."
        )
    return params.with_as_of(as_of), True
