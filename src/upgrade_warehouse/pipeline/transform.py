"""Phase 3, transform: ``dbt build`` (seeds, models, data tests) in this process
(dbt_runner.py), then the engine puts every table into the new file."""

from __future__ import annotations

from ..dbt_runner import DbtFailed, dbt_vars, run_dbt_build
from ..errors import BuildFailed
from ..params import Parameters
from ..progress import Progress
from ..workspace import Building
from .engine import Engine


def transform_phase(
    engine: Engine, new: Building, params: Parameters, progress: Progress, profile: dict
) -> None:
    """``dbt build`` against the new file: seeds, models, data tests. as_of is read from
    raw.build_info (not passed as a variable, so dbt's cached parse stays valid). On
    Spark dbt runs in this process's Spark session (the engine's ``dbt_target``)."""
    phase = progress.phase("dbt", None, "nodes")

    def on_node(done: int, total: int, name: str) -> None:
        if total and phase.total != total:
            phase.set_total(total)
        phase.set(done, name)

    try:
        run = run_dbt_build(
            new.path,
            dbt_vars(params),
            on_node,
            env=engine.dbt_env(),
            target=engine.dbt_target,
        )
    except DbtFailed as exc:
        raise BuildFailed(
            f"dbt build failed; the serving warehouse was not replaced.\n{exc}"
        ) from None
    profile["dbt_nodes"] = [
        {"node": node, "status": status, "seconds": round(seconds, 3)}
        for node, status, seconds in sorted(run.nodes, key=lambda n: -n[2])
    ]
    profile["dbt_parse_cache_hit"] = run.cache_hit
    profile["dbt_seconds"] = {k: round(v, 3) for k, v in run.seconds.items()}
    phase.finish("parse cache hit" if run.cache_hit else "parsed (cached for the next build)")
    engine.serve(new, progress)
