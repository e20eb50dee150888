"""Load a directory of raw exports into the warehouse, quarantining bad rows.

Everything is set-based SQL in DuckDB, so the same code handles a fixture of ten rows
and an export of 50M events. For each table of the contract (in dependency order):

1. the file is read as text, every column, in file order (``_row_number``);
2. each column is parsed (``try_cast``) and each row gets the first reason code that
   applies: ``missing_required``, ``bad_type``, ``bad_value``, ``currency_mismatch``;
3. among the rows that passed, the second and later rows with a key already seen get
   ``duplicate_id`` (the first by file order is kept), then a foreign key that is not
   among the *accepted* rows of its table gets ``unknown_reference``;
4. accepted rows go to ``raw.<table>`` (typed, file order); the others go to
   ``raw.quarantine`` with the table name, the row number, the reason, the column that
   caused it, and the row exactly as it came (a JSON object of the raw text values).

Load errors (missing required file or column, unreadable file, a table given as both
CSV and Parquet) raise :class:`UserError` before any table is written.
"""

from __future__ import annotations

import atexit
import contextlib
import csv
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb

from . import contract
from .contract import BOOL, DATE, DECIMAL, INT, JSON, STR, TS, Column, Table
from .errors import UserError
from .paths import currencies_file

RAW_SCHEMA = "raw"

SQL_TYPES = {
    STR: "varchar",
    INT: "bigint",
    BOOL: "boolean",
    TS: "timestamp",
    DATE: "date",
    JSON: "varchar",
    DECIMAL: "decimal(38, 12)",
}


@dataclass(frozen=True)
class SourceFile:
    table: Table
    path: Path | None  # None: an optional table that was not supplied


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """Quote a string literal."""
    return "'" + value.replace("'", "''") + "'"


# --------------------------------------------------------------------------- discovery


def _supplied(path: Path) -> bool:
    """Whether a table file is supplied: a regular file (or a link to one). Anything else
    by that name (a folder, a dangling link, a device) is a load error, never "absent"."""
    if path.is_file():
        return True
    if path.is_symlink():
        raise UserError(f"{path}: a link to a file that does not exist (dangling symlink)")
    if path.exists():
        raise UserError(f"{path}: not a regular file (a table file must be a file)")
    return False


# A table's file: <table> plus one of these (CSV, compressed CSV that DuckDB decompresses
# as it reads, Parquet). Names are exact (lower case, as the contract's).
TABLE_SUFFIXES = (".csv", ".csv.gz", ".csv.zst", ".parquet")
COMPRESSION = {".csv.gz": "gzip", ".csv.zst": "zstd"}


def _kind(path: Path) -> str:
    """Which of TABLE_SUFFIXES a table file has."""
    return next(s for s in TABLE_SUFFIXES if path.name.endswith(s))


def is_csv(path: Path) -> bool:
    """A CSV file, compressed or not."""
    return _kind(path) != ".parquet"


def discover(data_dir: Path) -> list[SourceFile]:
    """Find one file per table; raise a load error for anything the contract forbids."""
    if not data_dir.is_dir():
        raise UserError(f"data directory not found: {data_dir}")
    found: list[SourceFile] = []
    for table in contract.TABLES:
        candidates = [
            p for p in (data_dir / f"{table.name}{s}" for s in TABLE_SUFFIXES) if _supplied(p)
        ]
        if len(candidates) > 1:
            raise UserError(
                f"{' and '.join(map(str, candidates))}: table {table.name!r} is given "
                f"{'twice' if len(candidates) == 2 else f'{len(candidates)} times'} (as "
                f"{' and as '.join(_kind(c) for c in candidates)}); keep one of them"
            )
        if not candidates and table.required:
            raise UserError(
                f"{data_dir / (table.name + '.csv')}: required table {table.name!r} is missing "
                f"(expected {table.name}.csv, .csv.gz, .csv.zst or .parquet in {data_dir})"
            )
        found.append(SourceFile(table, candidates[0] if candidates else None))
    return found


# Files that look like a table (by a suffix of their name) but are not read: named in a
# warning of the build. Not: folders (a source's folder, sources.md), hidden files, the
# generator's manifest.json, sources.yml.
_DATA_SUFFIXES = {".csv", ".tsv", ".psv", ".parquet", ".json", ".jsonl", ".ndjson", ".xlsx"}
_DATA_SUFFIXES |= {".xls", ".avro", ".orc", ".gz", ".zst", ".bz2", ".xz", ".zip", ".lz4"}
_NOT_TABLES = {"manifest.json"}


def unread_files(data_dir: Path) -> list[str]:
    """One warning per file of ``data_dir`` that looks like a table but is not read
    (a typo, another case, another format or compression), by name."""
    import difflib

    read = {f"{t.name}{s}" for t in contract.TABLES for s in TABLE_SUFFIXES}
    names = [t.name for t in contract.TABLES]
    warnings = []
    for path in sorted(Path(data_dir).iterdir()):
        name = path.name
        suffixes = {s.lower() for s in path.suffixes}
        if name in read or name.startswith(".") or name in _NOT_TABLES or path.is_dir():
            continue
        if not suffixes & _DATA_SUFFIXES:
            continue
        stem = name.split(".")[0].lower()
        close = difflib.get_close_matches(stem, names, n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}.csv?" if close else ""
        warnings.append(
            f"{path}: not read (a table is read from <table>{', '.join(TABLE_SUFFIXES)}, "
            f"with the table's name in lower case{hint})"
        )
    return warnings


# DuckDB expands ``* ? [ ] { }`` in a file name (a glob): a path holding one of them is
# read through a link with a plain name, so a folder named ``exports*`` or ``data[1]``
# reads its own files and nothing else (docs/security.md).
_GLOB_CHARS = set("*?[]{}")
_LINK_DIR: list[str] = []


def duck_path(path: Path) -> str:
    """A string DuckDB reads as exactly ``path``: absolute (no ``~``, no ``s3://``) and free
    of glob characters (otherwise a link to it in a private temporary folder)."""
    text = str(Path(path).absolute())
    if not _GLOB_CHARS & set(text):
        return text
    if not _LINK_DIR:
        link_dir = tempfile.mkdtemp(prefix="upgrade-warehouse-links-")
        if _GLOB_CHARS & set(link_dir):
            raise UserError(
                f"{path}: cannot be read safely (TMPDIR {link_dir} holds * ? [ ] {{ }})"
            )
        _LINK_DIR.append(link_dir)
        atexit.register(shutil.rmtree, link_dir, True)
    link = Path(_LINK_DIR[0]) / f"{len(os.listdir(_LINK_DIR[0]))}{Path(path).suffix}"
    link.symlink_to(text)
    return str(link)


# A quoted field may hold up to this many bytes (DuckDB's default is 2 MB); a longer line
# is a load error that names the limit and the line.
MAX_LINE_BYTES = 64 * 1024 * 1024


def _reader(path: Path, header: bool = True) -> str:
    if is_csv(path):
        compression = COMPRESSION.get(_kind(path), "none")
        columns = "columns = {columns}" if header else "auto_detect = true"
        return (
            f"read_csv({lit(duck_path(path))}, header = {str(header).lower()}, "
            "all_varchar = true, delim = ',', quote = '\"', escape = '\"', "
            f"compression = {lit(compression)}, max_line_size = {MAX_LINE_BYTES}, "
            + ("auto_detect = false, " if header else "")
            + f"{columns})"
        )
    return f"read_parquet({lit(duck_path(path))})"


def read_header(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The column names of a file, or a load error naming the file."""
    try:
        if is_csv(path) and path.suffix != ".csv":  # compressed: DuckDB decompresses
            row = con.execute(f"select * from {_reader(path, header=False)} limit 1").fetchone()
            if row is None:
                raise UserError(f"{path}: the file is empty (a header row is required)")
            return [(c or "").strip().lstrip("\ufeff") for c in row]
        if is_csv(path):
            with open(path, newline="", encoding="utf-8-sig") as f:
                header = next(csv.reader(f), None)
            if header is None:
                raise UserError(f"{path}: the file is empty (a header row is required)")
            return [c.strip() for c in header]
        rel = con.sql(f"select * from read_parquet({lit(duck_path(path))}) limit 0")
        return [c.strip() for c in rel.columns]
    except (duckdb.Error, UnicodeDecodeError, csv.Error, OSError) as exc:
        raise UserError(f"{path}: cannot read the file: {_first_line(exc)}") from None


def raw_row_keys(header: list[str]) -> list[str]:
    """The keys of a quarantined row's JSON object (``raw_row``), one per header column,
    unique, so that any JSON reader gets every value back (docs/loader.md "The raw row"):
    a name keeps its first column; a later column of the same name gets ``name_2``,
    ``name_3``...; a column without a name gets ``_column_<position>`` (1-based); a
    generated key never takes a name the header has (the next suffix is used)."""
    taken = {h for h in header if h}
    seen: set[str] = set()
    keys = []
    for position, name in enumerate(header, 1):
        if name and name not in seen:
            key = name
        else:
            base = name or f"_column_{position}"
            key = base if not name and base not in taken else None
            suffix = 2
            while key is None or key in taken:
                key = f"{base}_{suffix}"
                suffix += 1
        seen.add(name)
        taken.add(key)
        keys.append(key)
    return keys


def check_headers(
    con: duckdb.DuckDBPyConnection, sources: list[SourceFile]
) -> dict[str, list[str]]:
    """Every supplied file must carry every contract column (extra columns are allowed)."""
    headers: dict[str, list[str]] = {}
    for src in sources:
        if src.path is None:
            continue
        header = read_header(con, src.path)
        missing = [c for c in src.table.column_names if c not in header]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise UserError(
                f"{src.path}: missing required column{plural} "
                + ", ".join(repr(m) for m in missing)
                + f" (table {src.table.name!r})"
            )
        headers[src.table.name] = header
    return headers


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- parsing


def _present(raw: str) -> str:
    """A value is present when its text, trimmed, is not empty (the contract's CSV rule).

    The same as ``nullif(trim(raw), '') is not null`` (text that is not empty once its
    leading spaces are gone has a character trim keeps), at a fraction of the cost."""
    return f"({raw} is not null and ltrim({raw}) <> '')"


# ISO 8601 date or date-time, optional fraction, optional Z or an offset up to +-14:00.
ISO_TIMESTAMP = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?)?"
    r"([Zz]|[+-](0[0-9]|1[0-4])(:?[0-5][0-9])?)?"
)
JSON_STRING = r'"([^"\\]|\\.)*"'


def _if_matches(text: str, pattern: str, value: str) -> str:
    """SQL: ``value`` when all of ``text`` matches ``pattern`` (a SQL string), else null."""
    return f"case when regexp_full_match({text}, {pattern}) then {value} end"


def parsed_expr(column: Column, raw: str) -> str:
    """SQL that parses the raw text ``raw`` of a column into its type, null when unparseable."""
    t = f"nullif(trim({raw}), '')"
    if column.type == STR:
        return f"case when ltrim({raw}) <> '' then {raw} end"  # = nullif(trim(raw), '') is not null
    if column.type == INT:
        return _if_matches(t, "'[+-]?[0-9]+'", f"try_cast({t} as bigint)")
    if column.type == TS:
        # ISO 8601 only: DuckDB also casts 'infinity', 'epoch', named time zones and any
        # offset; the contract allows none of them (bad_type).
        return _if_matches(t, lit(ISO_TIMESTAMP), f"timezone('UTC', try_cast({t} as timestamptz))")
    if column.type == DATE:
        return _if_matches(t, "'[0-9]{4}-[0-9]{2}-[0-9]{2}'", f"try_cast({t} as date)")
    if column.type == BOOL:
        return (
            f"case lower({t}) when 'true' then true when '1' then true "
            f"when 'false' then false when '0' then false end"
        )
    if column.type == JSON:
        # NaN and Infinity are not JSON (RFC 8259) though DuckDB's parser takes them: an
        # object that has them outside its strings is bad_type.
        return (
            f"case when try(json_type({t})) = 'OBJECT' and not ("
            f"regexp_matches({t}, '(?i)nan|inf') and regexp_matches("
            f"regexp_replace({t}, {lit(JSON_STRING)}, '', 'g'), '(?i)nan|inf')) then {t} end"
        )
    if column.type == DECIMAL:
        return f"try_cast({t} as decimal(38, 12))"
    raise ValueError(column.type)


# Parquet column types that are already the contract's type: their text would parse back
# to exactly the same value (integers that fit a bigint, timestamps in microseconds,
# booleans), so the value is taken as it is and it is present when it is not null.
_NATIVE_TYPES = {
    INT: {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"},
    TS: {"TIMESTAMP", "TIMESTAMP WITH TIME ZONE"},
    BOOL: {"BOOLEAN"},
}


def column_exprs(column: Column, col: str, source_type: str) -> tuple[str, str]:
    """(parsed value, present flag) of a column read as ``col`` with DuckDB type ``source_type``.

    Text (CSV, or a Parquet column of another type) goes through :func:`parsed_expr`;
    a Parquet column already of the contract's type skips the text round trip.
    """
    if source_type in _NATIVE_TYPES.get(column.type, ()):
        present = f"({col} is not null)"
        if column.type == INT:
            return f"cast({col} as bigint)", present
        if column.type == TS:
            # What the text round trip gives (UTC wall time), without its cost: a finite
            # instant's microseconds since the epoch are the UTC timestamp's.
            as_tz = (
                col if source_type == "TIMESTAMP WITH TIME ZONE" else f"cast({col} as timestamptz)"
            )
            return (
                f"case when isfinite({col}) then make_timestamp(epoch_us({col})) "
                f"else timezone('UTC', {as_tz}) end"
            ), present
        return col, present
    raw = col if source_type == "VARCHAR" else f"cast({col} as varchar)"
    if column.type == STR and column.required:
        # A blank required value fails missing_required before any check reads the parsed
        # value, and only accepted rows are written: the value as it is will do.
        return raw, _present(raw)
    return parsed_expr(column, raw), _present(raw)


def _bad_value_conditions(table: Table) -> list[tuple[str, str]]:
    """(condition on parsed columns ``p.*``, column) pairs that make a row ``bad_value``."""
    out: list[tuple[str, str]] = []
    for c in table.columns:
        v = f"p.{q(c.name)}"
        if c.allowed is not None:
            values = ", ".join(lit(a) for a in c.allowed)
            out.append((f"{v} is not null and {v} not in ({values})", c.name))
        if c.min_value is not None:
            op = "<=" if c.min_exclusive else "<"
            out.append((f"{v} {op} {c.min_value}", c.name))
        if c.max_value is not None:
            out.append((f"{v} > {c.max_value}", c.name))
        if c.type in (TS, DATE):
            kind = "timestamp" if c.type == TS else "date"
            out.append(
                (
                    f"{v} < {kind} {lit(contract.TS_MIN)} or {v} >= {kind} {lit(contract.TS_MAX)}",
                    c.name,
                )
            )
        if c.pattern is not None:
            out.append(
                (f"{v} is not null and not regexp_full_match({v}, {lit(c.pattern)})", c.name)
            )
        if c.currency:
            out.append(
                (f"{v} is not null and {v} not in (select currency from _currencies)", c.name)
            )
    for start, end in table.ordered:
        out.append((f"p.{q(start)} >= p.{q(end)}", end))
    for low, high in table.not_greater:
        out.append((f"p.{q(low)} > p.{q(high)}", high))
    if table.name == "subscription_changes":
        out.append(("p.from_plan_id is null and p.to_plan_id is null", "to_plan_id"))
    return out


def _present_col(col: str) -> str:
    """The present flag of a column inside the parse-and-check pass."""
    return f"p.{q('__present_' + col)}"


def row_checks(table: Table) -> list[tuple[str, str, str]]:
    """Row-level checks in the order they apply: (condition, reason code, column)."""
    present = _present_col
    whens: list[tuple[str, str, str]] = []
    for c in table.columns:
        if c.required:
            whens.append((f"not {present(c.name)}", "missing_required", c.name))
    for c in table.columns:
        if c.required_with is not None:
            whens.append(
                (
                    f"{present(c.required_with)} and not {present(c.name)}",
                    "missing_required",
                    c.name,
                )
            )
    for c in table.columns:
        if c.type != STR:
            whens.append((f"{present(c.name)} and p.{q(c.name)} is null", "bad_type", c.name))
    for cond, col in _bad_value_conditions(table):
        whens.append((f"coalesce({cond}, false)", "bad_value", col))
    if table.name == "subscription_changes":
        mismatch = (
            "fp.currency is not null and tp.currency is not null and fp.currency <> tp.currency"
        )
        whens.append((mismatch, "currency_mismatch", "to_plan_id"))
    return whens


def _by_check(checks: list[tuple[str, str, str]], index: str, part: int) -> str:
    """The reason (part 1) or column (part 2) of the check number ``index`` (1-based)."""
    return (
        f"case {index} "
        + " ".join(f"when {i} then {lit(check[part])}" for i, check in enumerate(checks, 1))
        + " end"
    )


# --------------------------------------------------------------------------- loading


def create_empty(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    cols = ", ".join(f"{q(c.name)} {SQL_TYPES[c.type]}" for c in table.columns)
    con.execute(f"create table {RAW_SCHEMA}.{q(table.name)} ({cols})")


@dataclass
class _Source:
    """A file as a relation: its FROM clause (alias ``l``), row number, the name each
    header position has in it (``names``) and the type of each."""

    from_sql: str
    row_number: str
    names: list[str]
    types: list[str]
    rows: int

    def col(self, header: list[str], name: str) -> tuple[str, str]:
        """(SQL expression, type) of the first column of the header called ``name``."""
        i = header.index(name)
        return f"l.{q(self.names[i])}", self.types[i]


def _open_source(con: duckdb.DuckDBPyConnection, src: SourceFile, header: list[str]) -> _Source:
    """Parquet is read where it lies (twice or three times, never copied); a CSV file is
    landed once as text in a temporary table (its row numbers are its insertion order).

    The loader is immune to column names: the landed columns are named by position
    (``c0``, ``c1``...), so a column called ``rowid``, ``_row_number``, ``filename``, an
    empty name (a header ending in a comma) or a repeated one is just an extra column."""
    assert src.path is not None
    positional = [f"c{i}" for i in range(len(header))]
    try:
        if is_csv(src.path):
            columns = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in positional) + "}"
            con.execute(
                "create or replace temp table _land as select * from "
                + _reader(src.path).format(columns=columns)
            )
            rows = con.execute("select count(*) from _land").fetchone()[0]
            return _Source("_land as l", "l.rowid + 1", positional, ["VARCHAR"] * len(header), rows)
        path = lit(duck_path(src.path))
        described = con.execute(
            f"select column_name, column_type from (describe select * from read_parquet({path}))"
        ).fetchall()
        names = [n for n, _ in described]
        types = [t for _, t in described]
        rows = con.execute(f"select count(*) from read_parquet({path})").fetchone()[0]
        if "file_row_number" in {n.lower() for n in names}:
            # The file has a column by the name DuckDB gives the row number: land it with
            # columns named by position (one copy; rare).
            select = ", ".join(f"{q(n)} as {c}" for n, c in zip(names, positional))
            con.execute(
                f"create or replace temp table _land as select {select} from read_parquet({path})"
            )
            return _Source("_land as l", "l.rowid + 1", positional, types, rows)
        return _Source(
            f"read_parquet({path}, file_row_number = true) as l",
            "l.file_row_number + 1",
            names,
            types,
            rows,
        )
    except duckdb.Error as exc:
        raise UserError(f"{src.path}: cannot read the file: {_csv_error(exc)}") from None


def _csv_error(exc: BaseException) -> str:
    """DuckDB's first line, with the line-size limit named when that is what failed."""
    text = _first_line(exc)
    if "maximum line size" in str(exc).lower() or "max_line_size" in str(exc):
        line = next((w for w in str(exc).split("\n") if "line" in w.lower()), "")
        return (
            f"a line is longer than the limit of {MAX_LINE_BYTES // (1024 * 1024)} MB "
            f"({line.strip() or text})"
        )
    return text


def _checked_sql(table: Table, source: _Source, header: list[str], raw: bool = False) -> str:
    """One pass over the file: row number, every column parsed, the first row-level check
    that fails (``_check``, 1-based, null when none) and, with ``raw``, the raw text."""
    parts = [f"{source.row_number} as _row_number"]
    for c in table.columns:
        parsed, present = column_exprs(c, *source.col(header, c.name))
        parts.append(f"{parsed} as {q(c.name)}")
        parts.append(f"{present} as {q('__present_' + c.name)}")
    if raw:
        parts += [
            f"cast(l.{q(n)} as varchar) as {q(f'__raw_{i}')}" for i, n in enumerate(source.names)
        ]
    joins = ""
    if table.name == "subscription_changes":
        joins = (
            f" left join {RAW_SCHEMA}.plans as fp on fp.plan_id = p.from_plan_id"
            f" left join {RAW_SCHEMA}.plans as tp on tp.plan_id = p.to_plan_id"
        )
    checks = row_checks(table)
    check = (
        "case " + " ".join(f"when {c} then {i}" for i, (c, _, _) in enumerate(checks, 1)) + " end"
    )
    keep = ", ".join(f"p.{q(c.name)}" for c in table.columns)
    if raw:
        keep += ", " + ", ".join(f"p.{q(f'__raw_{i}')}" for i in range(len(header)))
    return (
        f"select p._row_number, {keep}, {check} as _check "
        f"from (select {', '.join(parts)} from {source.from_sql}) as p{joins}"
    )


@contextlib.contextmanager
def _parse_once(con: duckdb.DuckDBPyConnection):
    """Parse each value once. DuckDB pushes ``where _check is null`` down into the scan,
    where it evaluates every parse the checks read (the timestamp's pattern and cast, the
    JSON's) and then evaluates them again for the values it writes: with the checks of
    issue 15 that doubled the cost of a CSV load. Without the push-down the filter reads
    the projection's results (3x less CPU on the timestamps of 1M events)."""
    con.execute("set disabled_optimizers = 'filter_pushdown'")
    try:
        yield
    finally:
        con.execute("reset disabled_optimizers")


def _references(table: Table) -> list[Column]:
    return [c for c in table.columns if c.references is not None]


def duplicate_keys(con: duckdb.DuckDBPyConnection, target: str, keys: str) -> int:
    """How many keys occur more than once in ``target``.

    Rows with the same key have the same 64-bit hash, so when there are as many distinct
    hashes as rows no key repeats: that count is 0.55x the time of grouping the keys
    themselves (100M string ids: 39 s against 66-77 s), and it is the common case. Only
    when some hash repeats (a duplicate, or two keys with the same hash) are the keys
    grouped."""
    repeated = con.execute(
        f"select count(*) - count(distinct hash({keys})) from {target}"
    ).fetchone()[0]
    if not repeated:
        return 0
    return con.execute(
        f"select count(*) from (select {keys} from {target} group by {keys} having count(*) > 1)"
    ).fetchone()[0]


def _load_table(
    con: duckdb.DuckDBPyConnection,
    src: SourceFile,
    header: list[str],
    timings: dict[str, float] | None = None,
) -> int:
    """Load one file; returns the number of rows read.

    One pass parses and checks every row and writes the rows that pass the row checks
    (1-4) to ``raw.<table>``, in file order. Two cheap queries on the written key and
    reference columns then find duplicates (5) and unknown references (6). Only when some
    row was not accepted does a second pass over the file give each such row its reason
    and raw text for ``raw.quarantine``, and the duplicates and unknown references are
    deleted from ``raw.<table>``. Nothing but the result is ever copied.
    """
    table = src.table
    target = f"{RAW_SCHEMA}.{q(table.name)}"
    assert src.path is not None
    timings = timings if timings is not None else {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - clock
        clock = now

    source = _open_source(con, src, header)
    lap("open")
    cols = ", ".join(f"c.{q(c.name)}" for c in table.columns)
    # Joins (the plans of subscription_changes, the currency list) can reorder rows: sort
    # those tables back to file order. The others stream from the file in its order.
    joins = table.name == "subscription_changes" or any(c.currency for c in table.columns)
    order = " order by c._row_number" if joins else ""
    with _parse_once(con):
        con.execute(
            f"insert into {target} select {cols} from ({_checked_sql(table, source, header)}) "
            f"as c where c._check is null{order}"
        )
    lap("parse_check_write")

    keys = ", ".join(q(k) for k in table.key)
    n_duplicate_keys = duplicate_keys(con, target, keys)
    lap("duplicates")
    refs = _references(table)
    unknown_sql = [
        f"t.{q(c.name)} is not null and t.{q(c.name)} not in "
        f"(select {q(c.references[1])} from {RAW_SCHEMA}.{q(c.references[0])})"
        for c in refs
    ]
    n_unknown = 0
    if refs:
        n_unknown = con.execute(
            f"select count(*) from {target} as t where "
            + " or ".join(f"({u})" for u in unknown_sql)
        ).fetchone()[0]
    lap("references")
    passed = con.execute(f"select count(*) from {target}").fetchone()[0]
    if passed < source.rows or n_duplicate_keys or n_unknown:
        with _parse_once(con):
            _quarantine(con, src, header, source, n_duplicate_keys > 0)
        lap("quarantine")
        if n_duplicate_keys:
            # The first row of each key in file order (= insertion order) stays.
            con.execute(
                f"delete from {target} where rowid in (select rowid from (select rowid, "
                f"row_number() over (partition by {keys} order by rowid) as _n from {target} "
                f"where ({keys}) in (select ({keys}) from {target} group by {keys} "
                "having count(*) > 1)) where _n > 1)"
            )
        if n_unknown:
            con.execute(
                f"delete from {target} as t where " + " or ".join(f"({u})" for u in unknown_sql)
            )
        lap("delete")
    for tmp in ("_land", "_duplicates"):
        con.execute(f"drop table if exists {tmp}")
    return source.rows


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    src: SourceFile,
    header: list[str],
    source: _Source,
    has_duplicates: bool,
) -> None:
    """Write every row of the file that is not accepted to ``raw.quarantine``, with the
    first reason that applies, the column at fault and the row as it came."""
    table = src.table
    assert src.path is not None
    keys = ", ".join(q(k) for k in table.key)
    dup_join = ""
    is_duplicate = "false"
    if has_duplicates:
        # The first row number of each key seen more than once among rows that passed.
        con.execute(
            f"create or replace temp table _duplicates as select {keys}, "
            f"min(_row_number) as _first from ({_checked_sql(table, source, header)}) as c "
            f"where c._check is null group by {keys} having count(*) > 1"
        )
        on = " and ".join(f"d.{q(k)} = c.{q(k)}" for k in table.key)
        dup_join = f" left join _duplicates as d on {on}"
        is_duplicate = "c._check is null and d._first is not null and d._first <> c._row_number"
    refs = _references(table)
    # Accepted keys are unique, so these joins never add rows.
    ref_joins = "".join(
        f" left join {RAW_SCHEMA}.{q(c.references[0])} as r{i} "
        f"on r{i}.{q(c.references[1])} = c.{q(c.name)}"
        for i, c in enumerate(refs)
    )
    unknown = [
        f"c.{q(c.name)} is not null and r{i}.{q(c.references[1])} is null"
        for i, c in enumerate(refs)
    ]
    checks = row_checks(table)
    reason = (
        f"case when c._check is not null then {_by_check(checks, 'c._check', 1)} "
        f"when {is_duplicate} then 'duplicate_id' "
        + " ".join(f"when {u} then 'unknown_reference'" for u in unknown)
        + " end"
    )
    column = (
        f"case when c._check is not null then {_by_check(checks, 'c._check', 2)} "
        f"when {is_duplicate} then {lit(', '.join(table.key))} "
        + " ".join(f"when {u} then {lit(c.name)}" for u, c in zip(unknown, refs))
        + " end"
    )
    raw_row = (
        "json_object("
        + ", ".join(f"{lit(k)}, x.{q(f'__raw_{i}')}" for i, k in enumerate(raw_row_keys(header)))
        + ")"
    )
    con.execute(
        f"insert into {RAW_SCHEMA}.quarantine "
        f"select {lit(table.name)}, {lit(src.path.name)}, x._row_number, x._reason, "
        f"x._column, {raw_row} "
        f"from (select c.*, {reason} as _reason, {column} as _column "
        f"from ({_checked_sql(table, source, header, raw=True)}) as c{dup_join}{ref_joins}) as x "
        "where x._reason is not null order by x._row_number"
    )


class _Watch:
    """Report a running statement's progress (DuckDB's ``query_progress``) to ``on_rows``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, on_rows: Callable[[float], None]) -> None:
        self.con = con
        self.on_rows = on_rows
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            with contextlib.suppress(Exception):
                share = self.con.query_progress()
                if share >= 0:
                    self.on_rows(share / 100.0)

    def __enter__(self) -> _Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class LoadProgress(Protocol):
    """What the loader reports to: rows done so far (of the total), with a detail."""

    def set(self, completed: int, detail: str | None = None) -> None: ...


def input_rows(con: duckdb.DuckDBPyConnection, sources: list[SourceFile]) -> int:
    """Rows in the input files, for progress: exact for Parquet (its metadata), estimated
    for CSV from the size of the file and of its first lines."""
    total = 0
    for src in sources:
        if src.path is None:
            continue
        if not is_csv(src.path):
            with contextlib.suppress(duckdb.Error):
                total += con.execute(
                    f"select count(*) from read_parquet({lit(duck_path(src.path))})"
                ).fetchone()[0]
            continue
        if src.path.suffix != ".csv":  # compressed: a guess (6x, 120 bytes a line)
            total += src.path.stat().st_size * 6 // 120
            continue
        with open(src.path, "rb") as f:
            sample = f.read(1 << 16)
        lines = max(sample.count(b"\n"), 1)
        total += max(int(src.path.stat().st_size / (len(sample) / lines)) - 1, 0)
    return total


def table_report(
    src: SourceFile, n_read: int, accepted: int, by_reason: dict[str, int]
) -> tuple[dict, tuple]:
    """One table's entry of the load report (the build report's ``tables``) and its row
    of ``raw.load_report`` (table_name, loaded, source_file, rows_read, rows_accepted,
    rows_quarantined): the same for both engines."""
    quarantined = n_read - accepted
    entry = {
        "read": n_read,
        "accepted": accepted,
        "quarantined": quarantined,
        "quarantined_by_reason": by_reason,
    }
    row = (
        src.table.name,
        src.path is not None,
        src.path.name if src.path else None,
        n_read,
        accepted,
        quarantined,
    )
    return entry, row


def load_data_dir(
    data_dir: Path,
    con: duckdb.DuckDBPyConnection,
    progress: LoadProgress | None = None,
    profile: dict[str, dict] | None = None,
) -> dict[str, dict]:
    """Load every table of the contract found in ``data_dir`` into ``raw.*``.

    Returns, per table, ``{"read", "accepted", "quarantined", "quarantined_by_reason"}``
    (absent optional tables report zeros and are created empty). The same counts are
    stored in ``raw.load_report``; the rejected rows in ``raw.quarantine``. ``progress``
    gets the rows done as tables load; ``profile`` (a dict) gets each table's rows and
    the seconds of each pass.
    """
    data_dir = Path(data_dir)
    sources = discover(data_dir)
    headers = check_headers(con, sources)

    con.execute("set TimeZone = 'UTC'")
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(
        "create or replace temp table _currencies as select currency from "
        f"read_csv({lit(str(currencies_file()))}, header = true, all_varchar = true)"
    )
    con.execute(
        f"create table {RAW_SCHEMA}.quarantine (table_name varchar, source_file varchar, "
        "row_number bigint, reason_code varchar, reason_column varchar, raw_row varchar)"
    )
    if progress is not None:
        con.execute("set enable_progress_bar = true")
        con.execute("set enable_progress_bar_print = false")
    read: dict[str, int] = {}
    done = 0
    for src in sources:
        create_empty(con, src.table)
        if src.path is None:
            continue
        timings: dict[str, float] = {}
        if progress is None:
            read[src.table.name] = _load_table(con, src, headers[src.table.name], timings)
        else:
            name = src.table.name
            estimate = input_rows(con, [src])
            progress.set(done, name)

            # A table takes several statements, each reporting its own share from 0:
            # the count shown never goes back (at 100M events it fell from 88% to 6%).
            shown = done

            def on_share(share: float, base: int = done, rows: int = estimate) -> None:
                nonlocal shown
                shown = max(shown, base + int(share * rows))
                progress.set(shown)

            with _Watch(con, on_share):
                read[name] = _load_table(con, src, headers[name], timings)
            done += read[name]
            progress.set(done, name)
        if profile is not None:
            profile[src.table.name] = {
                "rows": read[src.table.name],
                **{k: round(v, 3) for k, v in timings.items()},
            }

    report: dict[str, dict] = {}
    rows = []
    for src in sources:
        name = src.table.name
        accepted = con.execute(f"select count(*) from {RAW_SCHEMA}.{q(name)}").fetchone()[0]
        by_reason = dict(
            con.execute(
                f"select reason_code, count(*) from {RAW_SCHEMA}.quarantine "
                "where table_name = ? group by reason_code order by reason_code",
                [name],
            ).fetchall()
        )
        quarantined = sum(by_reason.values())
        n_read = read.get(name, 0)
        if n_read != accepted + quarantined:  # an internal invariant: nothing is lost
            raise RuntimeError(
                f"{name}: read {n_read} rows but accepted {accepted} + quarantined {quarantined}"
            )
        report[name], row = table_report(src, n_read, accepted, by_reason)
        rows.append(row)
    con.execute(
        f"create table {RAW_SCHEMA}.load_report (table_name varchar, loaded boolean, "
        "source_file varchar, rows_read bigint, rows_accepted bigint, rows_quarantined bigint)"
    )
    con.executemany(f"insert into {RAW_SCHEMA}.load_report values (?, ?, ?, ?, ?, ?)", rows)
    con.execute("drop table _currencies")
    return report


def compute_as_of(con: duckdb.DuckDBPyConnection):
    """The default ``as_of``: latest occurred_at in product_events or changed_at in changes."""
    return con.execute(
        f"select greatest((select max(occurred_at) from {RAW_SCHEMA}.product_events), "
        f"(select max(changed_at) from {RAW_SCHEMA}.subscription_changes))"
    ).fetchone()[0]
