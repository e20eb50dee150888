"""Phase 4, win-back: train, validate and score the win-back model (docs/winback.md)."""

from __future__ import annotations

from pathlib import Path

from .. import winback
from ..params import Parameters
from ..progress import Progress


def winback_phase(building: Path, params: Parameters, progress: Progress) -> None:
    """Through :func:`upgrade_warehouse.winback.train_and_score`; the amount is the
    accounts scored."""
    phase = progress.phase("win-back", None, "accounts")
    result = winback.train_and_score(building, params, lambda step: phase.set(0, step))
    phase.set_total(result.scores.height)  # finish() reports the total as done
    phase.finish(f"model: {result.model_kind}")
