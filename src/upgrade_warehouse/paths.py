"""Where the project's files live."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def project_dir() -> Path:
    """The dbt project (the repository root, found from the installed package).

    ``UPGRADE_WAREHOUSE_PROJECT_DIR`` overrides it (tests use this to run a modified copy).
    """
    override = os.environ.get("UPGRADE_WAREHOUSE_PROJECT_DIR")
    if override:
        return Path(override).resolve()
    for parent in PACKAGE_DIR.parents:
        if (parent / "dbt_project.yml").is_file():
            return parent
    raise RuntimeError(
        "dbt_project.yml not found above the package; install the project from its "
        "repository with `make install`, or set UPGRADE_WAREHOUSE_PROJECT_DIR"
    )


def currencies_file() -> Path:
    return project_dir() / "seeds" / "currencies.csv"


DEFAULT_WAREHOUSE = Path("warehouse") / "upgrade_warehouse.duckdb"


def docs_folder(warehouse: Path, failed: bool = False) -> Path:
    """Each warehouse's own Data Docs folder, beside it: ``<stem>_data_docs`` (or
    ``<stem>_data_docs_failed`` for a build the gate stopped)."""
    return warehouse.parent / f"{warehouse.stem}_data_docs{'_failed' if failed else ''}"
