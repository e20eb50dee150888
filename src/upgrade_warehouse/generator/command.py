"""`upgrade-warehouse generate` (placeholder until the generator lands)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..errors import UserError


def generate_command(
    out: Path = typer.Option(..., "--out", help="Directory to write the data set to."),
    accounts: int = typer.Option(2000, "--accounts", help="Number of accounts."),
    months: int = typer.Option(12, "--months", help="Months of history."),
    seed: int = typer.Option(42, "--seed", help="Random seed: same seed, same files."),
    bad_row_rate: float = typer.Option(0.0, "--bad-row-rate", help="Share of bad rows."),
) -> None:
    """Write a synthetic data set in the raw contract's format."""
    raise UserError("the generator is not implemented yet")
