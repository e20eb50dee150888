"""Phase 2, load: parse, check and quarantine every table into ``raw.*`` (the engine's
loader: loader.py on DuckDB, spark/loader.py on Spark), compute as_of."""

from __future__ import annotations

from ..engines.base import LoadJob
from ..params import Parameters
from .engine import Engine


def load_phase(engine: Engine, job: LoadJob) -> tuple[dict[str, dict], Parameters]:
    """(the load report per table, the parameters with as_of); load errors are UserError.
    ``job.mapped``: the map phase's result, whose folder is ``job.data_dir``."""
    return engine.load(job)
