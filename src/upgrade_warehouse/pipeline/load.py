"""Phase 2, load: parse, check and quarantine every table into ``raw.*`` (the engine's
loader: loader.py on DuckDB, spark/loader.py on Spark), compute as_of."""

from __future__ import annotations

from pathlib import Path

from ..params import Parameters
from ..progress import Progress
from ..workspace import Building
from .engine import Engine


def load_phase(
    engine: Engine,
    new: Building,
    data_dir: Path,
    params: Parameters,
    progress: Progress,
    profile: dict,
    mapped=None,
) -> tuple[dict[str, dict], Parameters]:
    """(the load report per table, the parameters with as_of); load errors are UserError.
    ``mapped``: the map phase's result, whose folder is ``data_dir``."""
    return engine.load(new, data_dir, params, progress, profile, mapped)
