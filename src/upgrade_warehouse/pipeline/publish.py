"""Phase 6, publish: the new warehouse replaces the serving one, for both engines.

The file: one ``os.replace`` of the new file over the serving one (same file system:
the build's folder is beside it). With a folder to publish beside it (Spark: the
Parquet tables), first the tables the build added to the file after Spark (the win-back
model's) are written to the folder too; the folder is renamed to a new version beside the
warehouse (``.<stem>.parquet-<time>-<pid>``), the symlink ``<stem>.parquet`` is pointed
at it (an atomic rename), then the file replaces the serving one (another). Each is
complete on its own at every moment; the previous version is removed after. A failed,
interrupted or killed build renames nothing it has not finished; a killed build's
leftovers are removed by the next build.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from ..errors import BuildFailed
from ..workspace import Building, current_version, parquet_link, parquet_version, rmtree


def publish(new: Building, folder: Path | None = None) -> None:
    """Publish ``folder`` (when given: a new version, then the symlink ``<stem>.parquet``)
    and the file, then remove the folder's previous version."""
    if folder is None:
        _publish_file(new)
        return
    target = new.warehouse
    link = parquet_link(target)
    if link.exists() and not link.is_symlink():
        raise BuildFailed(
            f"{link} exists and is not the symlink a Spark build publishes; move it away"
        )
    export_the_rest(new.path, folder)
    previous = current_version(target)
    version = parquet_version(target)
    os.replace(folder, version)  # same file system: the build's folder is beside
    tmp_link = target.with_name(f".{target.stem}.parquet.link-{os.getpid()}")
    rmtree(tmp_link)
    try:
        os.symlink(version.name, tmp_link)  # relative: the folder can be moved whole
        os.replace(tmp_link, link)
    except BaseException:
        rmtree(tmp_link)
        rmtree(version)
        raise
    _publish_file(new)
    if previous is not None and previous != version:
        rmtree(previous)


def _publish_file(new: Building) -> None:
    with duckdb.connect(str(new.path)) as con:
        con.execute("checkpoint")
    os.replace(new.path, new.warehouse)


def export_the_rest(db_path: Path, folder: Path) -> None:
    """Tables the build wrote into the DuckDB file after Spark (the win-back model's),
    into the Parquet folder too: the folder holds what the file holds (but quality)."""
    with duckdb.connect(str(db_path)) as con:
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema <> 'quality'"
        ).fetchall():
            target = folder / schema / table
            if target.exists():
                continue
            target.mkdir(parents=True)
            path = str(target / "part-00000.parquet").replace("'", "''")
            con.execute(f'copy "{schema}"."{table}" to \'{path}\' (format parquet)')
