"""`upgrade-warehouse dashboard`: serve the Streamlit dashboard on 127.0.0.1.

Runs ``streamlit run dashboards/app.py`` (from the repository, found with
:func:`upgrade_warehouse.paths.project_dir`) with the warehouse path in
``$UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE``. The app reads the warehouse through
short-lived read-only connections, so ``build`` can publish a new one while it serves.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from .errors import UserError
from .paths import DEFAULT_WAREHOUSE, project_dir

WAREHOUSE_ENV = "UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE"  # read by dashboard/data.py


def app_path() -> Path:
    return project_dir() / "dashboards" / "app.py"


def streamlit_command(app: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--client.toolbarMode", "viewer",
    ]


def dashboard_command(
    warehouse: Path = typer.Option(DEFAULT_WAREHOUSE, "--warehouse", help="The warehouse file."),
    port: int = typer.Option(8501, "--port", help="Port on 127.0.0.1."),
) -> None:
    """Serve the Streamlit dashboard on 127.0.0.1."""
    warehouse = Path(warehouse).expanduser()
    if not warehouse.is_file():
        raise UserError(
            f"no warehouse at {warehouse}: run `upgrade-warehouse build` first "
            "(or pass --warehouse PATH)"
        )
    if not 1 <= port <= 65535:
        raise UserError(f"--port must be between 1 and 65535, not {port}")
    app = app_path()
    if not app.is_file():
        raise UserError(f"the dashboard app is missing: {app} (run from the repository)")
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse.resolve())}
    print(f"Serving the dashboard on http://127.0.0.1:{port} (warehouse {warehouse}); "
          "Ctrl+C stops it.", file=sys.stderr, flush=True)
    sys.stdout.flush()
    # Replace this process with streamlit: signals (Ctrl+C, SIGTERM from a supervisor or
    # a test) reach the server itself and no orphan can be left behind.
    os.chdir(app.parent)
    os.execve(sys.executable, streamlit_command(app, port), env)
