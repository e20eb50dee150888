"""The build's phases in order, for either engine: map (sources.yml only) -> load ->
transform (dbt) -> win-back -> gate (expectations) -> publish.

Each phase shows its progress, rate and ETA on stderr and is timed in the build profile
(``UPGRADE_WAREHOUSE_PROFILE=file.json``: phases, loader per table and pass, dbt per
node). The new warehouse is written in its own folder beside the serving file
(:class:`~upgrade_warehouse.workspace.Building`) and published only when every phase
passed.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import quality, winback
from ..engines.base import LoadJob
from ..formats import format_ts
from ..params import Parameters
from ..progress import Progress
from ..sources.config import SourcesConfig
from ..workspace import Building
from .engine import Engine
from .gate import gate_phase
from .load import load_phase
from .map import map_phase
from .publish import publish
from .transform import transform_phase
from .winback import winback_phase


@dataclass
class BuildResult:
    warehouse: Path
    as_of: datetime
    tables: dict[str, dict]
    expectations: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    data_docs: Path | None = None

    def to_json(self) -> dict:
        return {
            "status": "ok",
            "warehouse": str(self.warehouse),
            "as_of": format_ts(self.as_of),
            "tables": self.tables,
            "expectations": self.expectations,
        }


def run(
    data_dir: Path,
    warehouse: Path,
    params: Parameters,
    progress: Progress,
    started: float,
    engine: Engine,
    remove_lock_file=None,
    cfg: SourcesConfig | None = None,
) -> BuildResult:
    """Build ``warehouse`` from ``data_dir`` (or from the sources of ``cfg``); the caller
    holds the build lock and has checked the input files."""
    profile: dict = {"load": {}}
    worker = quality.GateWorker()  # prepares Great Expectations while we load and run dbt
    # Importing dbt and scikit-learn costs seconds of Python; the loader's queries leave
    # the interpreter free (DuckDB and Spark release it), so do it meanwhile.
    threading.Thread(
        target=_import_ahead, args=(engine,), name=IMPORT_AHEAD_THREAD, daemon=True
    ).start()
    try:
        with Building(warehouse) as new:
            new.on_signal.append(worker.kill)
            if remove_lock_file is not None:
                new.on_signal.append(remove_lock_file)
            mapped = map_phase(cfg, new.dir, progress) if cfg is not None else None
            if mapped is not None:
                data_dir = mapped.folder  # both engines load the same mapped tables
            try:
                job = LoadJob(new, data_dir, params, progress, profile, mapped)
                tables, params = load_phase(engine, job)
                transform_phase(engine, new, params, progress, profile)
            finally:
                engine.close()
            winback_phase(new.path, params, progress)
            gate = gate_phase(new.path, warehouse, worker, progress)
            progress.update("publishing")
            publish(new, engine.publish_folder(new))
        gate.docs_dir = worker.docs()
        docs_target = quality.docs_folder(warehouse)
        docs = quality.publish_docs(gate, docs_target)
    finally:
        worker.close()
    _write_profile(profile, progress, time.monotonic() - started)
    warnings = [
        f"data expectation failed (not blocking): {o.suite}: {o.expectation} on "
        f"{o.column} ({o.details})"
        for o in gate.warnings
    ]
    if docs is None and quality.foreign_folder(docs_target):
        warnings.append(
            f"Data Docs not written: {docs_target} exists and was not created by "
            "upgrade-warehouse (left as it is)"
        )
    return BuildResult(
        warehouse,
        params.as_of,
        tables,
        {"passed": gate.passed, "failed": gate.failed},
        warnings=warnings,
        data_docs=docs,
    )


IMPORT_AHEAD_THREAD = "import-ahead"


def imports_under_way() -> bool:
    """Whether the thread importing ahead (below) is still at it."""
    return any(t.name == IMPORT_AHEAD_THREAD and t.is_alive() for t in threading.enumerate())


def _import_ahead(engine: Engine) -> None:
    """Import dbt and build the JSON schemas it validates the project and the profile
    with (cached per class; a third of a second of CPU) ahead of the dbt phase, then
    what the win-back training imports (scikit-learn: 2 s of CPU)."""
    import importlib

    with contextlib.suppress(Exception):  # the real import, later, reports any problem
        for module in ("dbt.cli.main", f"dbt.adapters.{engine.name}"):
            importlib.import_module(module)
        from dbt.contracts.project import PackageConfig, ProfileConfig, Project, ProjectFlags

        credentials = engine.credentials()
        for contract in (Project, ProjectFlags, PackageConfig, ProfileConfig, credentials):
            contract.json_schema()
    with contextlib.suppress(Exception):
        winback.import_ahead()


def _write_profile(profile: dict, progress: Progress, total: float) -> None:
    path = os.environ.get("UPGRADE_WAREHOUSE_PROFILE")
    if not path:
        return
    out = {
        "total_seconds": round(total, 3),
        "cpu_seconds": round(time.process_time(), 3),
        "phases": [
            {
                "phase": p.name,
                "seconds": round(p.seconds, 3),
                "cpu_seconds": round(p.cpu_seconds, 3),
                "amount": p.amount,
                "unit": p.unit,
            }
            for p in progress.phases
        ],
        **profile,
    }
    Path(path).write_text(json.dumps(out, indent=2) + "\n")
