"""Write tables as CSV or Parquet, chunk by chunk, deterministically.

CSV: UTF-8, header, RFC 4180 quoting, empty field = null, timestamps
``YYYY-MM-DDTHH:MM:SSZ``, booleans ``true``/``false``.
Parquet: typed columns (timestamp[us, UTC], int64, bool, date32, decimal128(18, 8),
string) - except a table that contains ``bad_type`` rows, whose columns are all
written as strings holding the same text as the CSV (a typed column cannot hold an
unparseable value).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ..contract import BOOL, DATE, DECIMAL, INT, TS, Table

TS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def to_text(df: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Every column as its CSV text (null stays null)."""
    exprs = []
    for c in table.columns:
        col = pl.col(c.name)
        if df.schema[c.name] == pl.String:
            exprs.append(col)
        elif c.type == TS:
            exprs.append(col.dt.strftime(TS_FORMAT))
        elif c.type == DATE:
            exprs.append(col.dt.strftime("%Y-%m-%d"))
        elif c.type == BOOL:
            exprs.append(pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")))
        else:
            exprs.append(col.cast(pl.String))
    return df.select([e.alias(c.name) for e, c in zip(exprs, table.columns)])


def from_text(df: pl.DataFrame, table: Table) -> pl.DataFrame:
    """Parse text columns back to the typed representation (decimals stay text)."""
    exprs = []
    for c in table.columns:
        col = pl.col(c.name)
        if c.type == TS:
            exprs.append(col.str.strptime(pl.Datetime("us"), TS_FORMAT).dt.replace_time_zone("UTC"))
        elif c.type == DATE:
            exprs.append(col.str.to_date("%Y-%m-%d"))
        elif c.type == BOOL:
            exprs.append(col.str.to_lowercase() == "true")
        elif c.type == INT:
            exprs.append(col.cast(pl.Int64))
        else:
            exprs.append(col)
    return df.select([e.alias(c.name) for e, c in zip(exprs, table.columns)])


def arrow_schema(table: Table, as_text: bool) -> pa.Schema:
    fields = []
    for c in table.columns:
        if as_text:
            t = pa.string()
        elif c.type == TS:
            t = pa.timestamp("us", tz="UTC")
        elif c.type == INT:
            t = pa.int64()
        elif c.type == BOOL:
            t = pa.bool_()
        elif c.type == DATE:
            t = pa.date32()
        elif c.type == DECIMAL:
            t = pa.decimal128(18, 8)
        else:
            t = pa.string()
        fields.append(pa.field(c.name, t))
    return pa.schema(fields)


class TableSink:
    """Append chunks of one table to ``<out>/<table>.<fmt>``.

    A chunk is a polars frame (typed, or CSV text with ``text=True``) or an Arrow table
    already in the sink's schema (``schema``; default: :func:`arrow_schema`)."""

    def __init__(
        self,
        out_dir: Path,
        table: Table,
        fmt: str,
        as_text: bool = False,
        schema: pa.Schema | None = None,
        dictionary_columns: list[str] | None = None,
    ):
        self.table = table
        self.fmt = fmt
        self.as_text = as_text or fmt == "csv"
        self.path = out_dir / f"{table.name}.{fmt}"
        self.rows = 0
        self._first = True
        self._pq: pq.ParquetWriter | None = None
        self._fh = None
        self._schema = schema or arrow_schema(table, self.as_text)
        self._dictionary = dictionary_columns or False

    def write(self, chunk: pl.DataFrame | pa.Table, text: bool = False) -> None:
        if isinstance(chunk, pa.Table):
            arrow, df = chunk, None
        else:
            arrow, df = None, chunk
            if self.as_text and not text:
                df = to_text(df, self.table)
            elif not self.as_text and text:
                df = from_text(df, self.table)
        if self.fmt == "csv":
            if df is None:
                df = pl.from_arrow(arrow)
            if self._fh is None:
                self._fh = open(self.path, "wb")  # noqa: SIM115 (kept open across chunks)
            df.write_csv(self._fh, include_header=self._first, null_value="", line_terminator="\n")
            n = df.height
        else:
            if arrow is None:
                a = df.to_arrow()
                arrow = pa.table(
                    [a.column(f.name).cast(f.type) for f in self._schema], schema=self._schema
                )
            if self._pq is None:
                self._pq = pq.ParquetWriter(
                    self.path,
                    self._schema,
                    compression="zstd",
                    store_schema=False,
                    use_dictionary=self._dictionary,
                    write_statistics=False,
                )
            self._pq.write_table(arrow, row_group_size=1 << 21)
            n = arrow.num_rows
        self._first = False
        self.rows += n

    def close(self) -> None:
        if self.fmt == "csv":
            if self._fh is None:  # empty table: header only
                self._fh = open(self.path, "wb")  # noqa: SIM115 (kept open across chunks)
                self._fh.write((",".join(self.table.column_names) + "\n").encode())
            self._fh.close()
        else:
            if self._pq is None:
                self._pq = pq.ParquetWriter(
                    self.path, self._schema, compression="zstd", store_schema=False
                )
                self._pq.write_table(self._schema.empty_table())
            self._pq.close()
