"""One build, one pipeline for both engines (docs/architecture.md):

map (:mod:`.map`) -> load (:mod:`.load`) -> transform (:mod:`.transform`) -> win-back
(:mod:`.winback`) -> gate (:mod:`.gate`) -> publish (:mod:`.publish`), run in order by
:func:`.run.run`; the engine-specific parts behind :class:`.engine.Engine`
(implementations: :mod:`upgrade_warehouse.engines`).
"""

from __future__ import annotations

from .run import IMPORT_AHEAD_THREAD, BuildResult, imports_under_way, run

__all__ = ["IMPORT_AHEAD_THREAD", "BuildResult", "imports_under_way", "run"]
