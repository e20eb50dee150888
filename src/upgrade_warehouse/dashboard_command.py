"""`upgrade-warehouse dashboard` (placeholder until the dashboard lands)."""

from __future__ import annotations

from pathlib import Path

import typer

from .errors import UserError
from .paths import DEFAULT_WAREHOUSE


def dashboard_command(
    warehouse: Path = typer.Option(DEFAULT_WAREHOUSE, "--warehouse", help="The warehouse file."),
    port: int = typer.Option(8501, "--port", help="Port on 127.0.0.1."),
) -> None:
    """Serve the Streamlit dashboard on 127.0.0.1."""
    raise UserError("the dashboard is not implemented yet")
