"""Phase 1, map (only with sources.yml): the landed sources into contract-shaped files."""

from __future__ import annotations

from pathlib import Path

from ..progress import Progress
from ..sources.config import SourcesConfig


def map_phase(cfg: SourcesConfig, building_folder: Path, progress: Progress):
    """Map the landed sources of sources.yml into a contract-shaped folder of the build's
    own (``mapped/``), which the load phase then reads (docs/sources.md)."""
    from ..sources import map_sources

    roles = list(cfg.roles)
    phase = progress.phase("map", len(roles), "sources")
    done = [0]

    def on_step(detail: str) -> None:
        phase.set(done[0], detail)
        done[0] += 1

    mapped = map_sources(cfg, building_folder / "mapped", on_step=on_step)
    phase.set(len(roles))
    quarantined = mapped.quarantine.height
    phase.finish(f"{quarantined:,} source rows quarantined by the mapping")
    return mapped
