"""Phase 5, gate: the Great Expectations suites on the new file (quality.py), in a
worker process started at the beginning of the build so that its import overlaps the
load and dbt."""

from __future__ import annotations

from pathlib import Path

from .. import quality
from ..errors import BuildFailed
from ..progress import Progress


def gate_phase(
    building: Path,
    warehouse: Path,
    worker: quality.GateWorker,
    progress: Progress,
) -> quality.GateResult:
    """The publish gate: blocking failures stop the build; results are stored in the new
    file (``quality.expectation_results``)."""
    phase = progress.phase("expectations", len(quality.load_suites()), "suites")
    gate = worker.validate(building)  # the worker renders the Data Docs meanwhile
    phase.set(phase.total or 0)
    quality.store_results(building, gate)
    if gate.blocking_failures:
        gate.docs_dir = worker.docs()
        docs = quality.publish_docs(gate, quality.docs_folder(warehouse, failed=True))
        lines = [
            f"- {o.suite}: {o.expectation} on {o.column} ({o.details})"
            for o in gate.blocking_failures
        ]
        raise BuildFailed(
            f"{len(lines)} blocking data expectation(s) failed; the serving warehouse was "
            f"not replaced (Data Docs: {docs}).\n" + "\n".join(lines)
        )
    phase.finish(f"{gate.passed} passed, {gate.failed} failed")
    return gate
