"""`upgrade-warehouse build` (in progress)."""

from __future__ import annotations


def build_command() -> None:
    """Load, model, test and publish the warehouse."""
