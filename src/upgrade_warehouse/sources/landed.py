"""Reading a source's landed tables (docs/sources.md).

A source folder holds one file per table, ``<table>.csv`` or ``<table>.parquet``, under
the source's own table names. CSV is read as text (every column a string, empty = null);
Parquet keeps its column types. Two columns are added: ``_row_number`` (1-based, file
order) and ``_source_file`` (the file's name), which the quarantine rows carry.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ..errors import UserError

ROW_NUMBER = "_row_number"
SOURCE_FILE = "_source_file"
ADDED = (ROW_NUMBER, SOURCE_FILE)


def landed_file(folder: Path, table: str) -> Path | None:
    """The file of ``table`` in ``folder`` (None when absent; both formats: an error)."""
    csv, parquet = Path(folder) / f"{table}.csv", Path(folder) / f"{table}.parquet"
    if csv.is_file() and parquet.is_file():
        raise UserError(f"{csv}: both {csv.name} and {parquet.name} present; keep one")
    return csv if csv.is_file() else parquet if parquet.is_file() else None


def read_landed(folder: Path, table: str) -> pl.DataFrame | None:
    """The rows of ``table`` as landed (None when the folder has no file for it)."""
    path = landed_file(folder, table)
    if path is None:
        return None
    try:
        if path.suffix == ".csv":
            frame = pl.read_csv(
                path,
                infer_schema=False,
                raise_if_empty=False,
                encoding="utf8-lossy",
            )
        else:
            frame = pl.read_parquet(path)
    except Exception as exc:
        text = str(exc).strip()
        first = text.splitlines()[0] if text else type(exc).__name__
        raise UserError(f"{path}: cannot read the file: {first}") from None
    frame = frame.rename({c: c.strip() for c in frame.columns if c != c.strip()})
    return frame.with_row_index(ROW_NUMBER, offset=1).with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int64), pl.lit(path.name).alias(SOURCE_FILE)
    )


def _as_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    dtype = frame.schema[name]
    col = pl.col(name)
    if dtype == pl.String:
        return col
    if isinstance(dtype, pl.Struct):
        return col.struct.json_encode()
    if isinstance(dtype, pl.List | pl.Array):
        return pl.struct(col.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is not None:  # an instant: its UTC time, marked as such
            return col.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        return col.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")
    return col.cast(pl.String)


def raw_row_expr(frame: pl.DataFrame) -> pl.Expr:
    """The quarantine's ``raw_row`` of each row of a landed frame: a JSON object of the
    file's columns (values as text, null as null; the added columns left out)."""
    names = [c for c in frame.columns if c not in ADDED and not c.startswith("__")]
    if not names:
        return pl.lit("{}")
    return pl.struct([_as_text(frame, c).alias(c) for c in names]).struct.json_encode()


def quarantine_rows(
    frame: pl.DataFrame, table: str, reason: str | pl.Expr, column: str | pl.Expr
) -> pl.DataFrame:
    """Rows of a landed frame as raw.quarantine rows (``QUARANTINE_COLUMNS``): table =
    the source table's name, its file, its row number, the reason, the column, the row."""
    if frame.height == 0:
        return empty_quarantine()
    reason_e = pl.lit(reason) if isinstance(reason, str) else reason
    column_e = pl.lit(column) if isinstance(column, str) else column
    return frame.select(
        pl.lit(table).alias("table_name"),
        pl.col(SOURCE_FILE).cast(pl.String).alias("source_file"),
        pl.col(ROW_NUMBER).cast(pl.Int64).alias("row_number"),
        reason_e.cast(pl.String).alias("reason_code"),
        column_e.cast(pl.String).alias("reason_column"),
        raw_row_expr(frame).alias("raw_row"),
    )


QUARANTINE_SCHEMA = {
    "table_name": pl.String,
    "source_file": pl.String,
    "row_number": pl.Int64,
    "reason_code": pl.String,
    "reason_column": pl.String,
    "raw_row": pl.String,
}


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)
