"""What both engines' load phases share: what they get (:class:`LoadJob`), and as_of from
the data or from ``--var``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..errors import UserError
from ..params import Parameters
from ..progress import Progress
from ..workspace import Building


@dataclass
class LoadJob:
    """What an engine's load gets: the build's folder, the files, the parameters, where
    to show progress and where to put the loader's profile."""

    new: Building
    data_dir: Path
    params: Parameters
    progress: Progress
    profile: dict
    mapped: object = None  # the map phase's result (sources.yml), whose folder is data_dir


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
