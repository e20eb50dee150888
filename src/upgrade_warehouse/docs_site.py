"""``upgrade-warehouse docs``: dbt's documentation site for a built warehouse.

dbt's ``docs generate --static`` writes one self-contained HTML page (the project's
models, columns, doc blocks, tests, exposures and lineage, plus the catalog: each
relation's columns and types as built). It needs a database connection, and DuckDB
allows one writer or many readers: dbt runs against a private copy of the warehouse, so
the serving file (and a dashboard reading it) is never touched. The page is written to
``<warehouse stem>_dbt_docs/index.html`` beside the warehouse (a folder this command
owns; nothing else in it is removed) and served on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Annotated

import typer

from .dbt_runner import common_args
from .errors import UserError
from .formats import port_option
from .paths import DEFAULT_WAREHOUSE

DEFAULT_DOCS_PORT = 8580


class DocsFailed(UserError):
    """dbt could not document a valid warehouse: not the user's input (exit 1)."""

    exit_code = 1


def docs_dir(warehouse: Path) -> Path:
    """The folder of the warehouse's docs site (the dashboard links to the same place)."""
    return warehouse.parent / f"{warehouse.stem}_dbt_docs"


def _build_vars(warehouse: Path) -> dict:
    """The parameters the warehouse was built with, so the docs show the same models."""
    from . import warehouse as reader

    with reader.connect(warehouse) as con:
        reader.check_version(con, warehouse)
        build = reader.read_build(con)
    return build.parameters


def check_target(warehouse: Path) -> None:
    """The site's folder must be a folder this command can write (checked before dbt
    runs: a file by that name, or a folder that cannot be written, is a UserError)."""
    target_dir = docs_dir(warehouse.resolve())
    if target_dir.exists() and not target_dir.is_dir():
        raise UserError(f"{target_dir}: exists and is not a folder (the docs site goes there)")
    writable = target_dir if target_dir.is_dir() else target_dir.parent
    if not os.access(writable, os.W_OK | os.X_OK):
        raise UserError(f"{writable}: not writable (the docs site goes to {target_dir})")


def generate(warehouse: Path) -> Path:
    """Write the docs site of ``warehouse``; return the page's path. Raises UserError."""
    warehouse = warehouse.resolve()
    dbt_vars = _build_vars(warehouse)
    check_target(warehouse)
    target_dir = docs_dir(warehouse)
    from dbt.cli.main import dbtRunner

    with tempfile.TemporaryDirectory(prefix="uw-docs-") as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(warehouse, copy)
        os.environ.update(
            {
                "UPGRADE_WAREHOUSE_DB": str(copy),
                "UPGRADE_WAREHOUSE_DUCKDB_TEMP_DIRECTORY": str(Path(tmp) / "spill"),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
                "DBT_NO_VERSION_CHECK": "True",
            }
        )
        result = dbtRunner().invoke(
            ["docs", "generate", "--static", *common_args(Path(tmp), dbt_vars)]
        )
        page = Path(tmp) / "target" / "static_index.html"
        if not result.success or not page.is_file():
            detail = str(result.exception).strip() if result.exception else "see dbt's output"
            raise DocsFailed(f"dbt docs generate failed for {warehouse}: {detail}")
        target_dir.mkdir(parents=True, exist_ok=True)
        tmp_page = target_dir / ".index.html.tmp"
        shutil.copyfile(page, tmp_page)
        os.replace(tmp_page, target_dir / "index.html")
    return target_dir / "index.html"


def serve(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``folder`` on 127.0.0.1:``port``: bound (the port is taken, or a
    UserError says it is not free) but not listening until ``server_activate()``, so
    nobody's request hangs while the site is generated."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler, bind_and_activate=False)
    try:
        server.server_bind()
    except OSError as exc:
        server.server_close()
        raise UserError(
            f"port {port} on 127.0.0.1 is not free ({exc.strerror}): pass --port"
        ) from None
    return server


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def docs_command(
    warehouse: Annotated[
        Path, typer.Option("--warehouse", help="The warehouse to document.")
    ] = DEFAULT_WAREHOUSE,
    port: port_option("Serve on 127.0.0.1:PORT (1-65535).") = DEFAULT_DOCS_PORT,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only write the site; print its path.")
    ] = False,
) -> None:
    """Generate dbt's docs site (models, columns, tests, exposures, lineage) for the
    warehouse and serve it on 127.0.0.1."""
    # Every option is checked before dbt runs (docs/security.md): the warehouse, the
    # site's folder and the port (bound now; it serves once the site is written).
    server = None if no_serve else serve(docs_dir(warehouse.resolve()), port)
    try:
        page = generate(warehouse)
    except BaseException:
        if server is not None:
            server.server_close()
        raise
    if server is None:
        print(page)
        return
    server.server_activate()
    print(f"dbt docs for {warehouse}: http://127.0.0.1:{port}/ (Ctrl+C stops)", flush=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with contextlib.suppress(KeyboardInterrupt):
        thread.join()
    server.shutdown()
