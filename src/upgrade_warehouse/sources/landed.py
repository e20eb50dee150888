"""Reading a source's landed tables (minimal version for the events and CRM shapes; the
sources.yml framework's own version replaces it: depend only on ``read_landed``).

A source folder holds one file per table, ``<table>.csv`` or ``<table>.parquet``, under
the source's own table names. CSV is read as text (every column a string, empty = null);
Parquet keeps its column types. A 1-based ``_row_number`` column (file order) is added.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..errors import UserError

ROW_NUMBER = "_row_number"


def landed_file(folder: Path, table: str) -> Path | None:
    """The file of ``table`` in ``folder`` (None when absent; both formats: an error)."""
    csv, parquet = Path(folder) / f"{table}.csv", Path(folder) / f"{table}.parquet"
    if csv.exists() and parquet.exists():
        raise UserError(f"{csv}: both {csv.name} and {parquet.name} present; keep one")
    return csv if csv.exists() else parquet if parquet.exists() else None


def read_landed(folder: Path, table: str) -> pl.DataFrame | None:
    """The rows of ``table`` as landed (None when the folder has no file for it)."""
    path = landed_file(folder, table)
    if path is None:
        return None
    try:
        if path.suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False, raise_if_empty=False)
        else:
            frame = pl.read_parquet(path)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: unreadable: {first}") from None
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int64)
    )
