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

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


def discover(data_dir: Path) -> list[SourceFile]:
    """Find one file per table; raise a load error for anything the contract forbids."""
    if not data_dir.is_dir():
        raise UserError(f"data directory not found: {data_dir}")
    found: list[SourceFile] = []
    for table in contract.TABLES:
        candidates = [p for p in (data_dir / f"{table.name}.csv", data_dir / f"{table.name}.parquet")
                      if p.is_file()]
        if len(candidates) == 2:
            raise UserError(
                f"{candidates[0]} and {candidates[1]}: table {table.name!r} is given twice "
                "(as CSV and as Parquet); keep one of them"
            )
        if not candidates and table.required:
            raise UserError(
                f"{data_dir / (table.name + '.csv')}: required table {table.name!r} is missing "
                f"(expected {table.name}.csv or {table.name}.parquet in {data_dir})"
            )
        found.append(SourceFile(table, candidates[0] if candidates else None))
    return found


def _reader(path: Path) -> str:
    if path.suffix == ".csv":
        return (
            f"read_csv({lit(str(path))}, header = true, all_varchar = true, delim = ',', "
            "quote = '\"', escape = '\"', auto_detect = false, columns = {columns})"
        )
    return f"read_parquet({lit(str(path))})"


def read_header(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """The column names of a file, or a load error naming the file."""
    try:
        if path.suffix == ".csv":
            with open(path, newline="", encoding="utf-8-sig") as f:
                header = next(csv.reader(f), None)
            if header is None:
                raise UserError(f"{path}: the file is empty (a header row is required)")
            return [c.strip() for c in header]
        rel = con.sql(f"select * from read_parquet({lit(str(path))}) limit 0")
        return [c.strip() for c in rel.columns]
    except (duckdb.Error, UnicodeDecodeError, csv.Error, OSError) as exc:
        raise UserError(f"{path}: cannot read the file: {_first_line(exc)}") from None


def check_headers(con: duckdb.DuckDBPyConnection, sources: list[SourceFile]) -> dict[str, list[str]]:
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


def _text(col: str, alias: str = "l") -> str:
    """The raw value, trimmed, with an empty string meaning null (the contract's CSV rule)."""
    return f"nullif(trim({alias}.{q(col)}), '')"


def parsed_expr(column: Column, alias: str = "l") -> str:
    """SQL that parses the raw text of a column into its type, null when unparseable."""
    t = _text(column.name, alias)
    if column.type == STR:
        return f"case when {t} is not null then {alias}.{q(column.name)} end"
    if column.type == INT:
        return f"case when regexp_full_match({t}, '[+-]?[0-9]+') then try_cast({t} as bigint) end"
    if column.type == TS:
        return f"timezone('UTC', try_cast({t} as timestamptz))"
    if column.type == DATE:
        return (
            f"case when regexp_full_match({t}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
            f"then try_cast({t} as date) end"
        )
    if column.type == BOOL:
        return (
            f"case lower({t}) when 'true' then true when '1' then true "
            f"when 'false' then false when '0' then false end"
        )
    if column.type == JSON:
        return f"case when try(json_type({t})) = 'OBJECT' then {t} end"
    if column.type == DECIMAL:
        return f"try_cast({t} as decimal(38, 12))"
    raise ValueError(column.type)


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
        if c.pattern is not None:
            out.append((f"{v} is not null and not regexp_full_match({v}, {lit(c.pattern)})", c.name))
        if c.currency:
            out.append(
                (f"{v} is not null and {v} not in (select currency from _currencies)", c.name)
            )
    for start, end in table.ordered:
        out.append((f"p.{q(start)} >= p.{q(end)}", end))
    if table.name == "plans":
        out.append(("p.min_seats > p.max_seats", "max_seats"))
    if table.name == "subscription_changes":
        out.append(("p.from_plan_id is null and p.to_plan_id is null", "to_plan_id"))
    return out


def _t(col: str) -> str:
    """The trimmed raw text of a column inside the parse-and-check pass."""
    return f"p.{q('__t_' + col)}"


def _reason_case(table: Table) -> tuple[str, str]:
    """CASE expressions giving the first row-level reason code and the column at fault."""
    _text = _t  # noqa: N806 - raw text comes from the parsed subquery here
    whens: list[tuple[str, str, str]] = []  # (condition, reason, column)
    for c in table.columns:
        if c.required:
            whens.append((f"{_text(c.name)} is null", "missing_required", c.name))
    for c in table.columns:
        if c.required_with is not None:
            whens.append(
                (
                    f"{_text(c.required_with)} is not null and {_text(c.name)} is null",
                    "missing_required",
                    c.name,
                )
            )
    for c in table.columns:
        if c.type != STR:
            whens.append(
                (f"{_text(c.name)} is not null and p.{q(c.name)} is null", "bad_type", c.name)
            )
    for cond, col in _bad_value_conditions(table):
        whens.append((f"coalesce({cond}, false)", "bad_value", col))
    if table.name == "subscription_changes":
        whens.append(
            (
                "fp.currency is not null and tp.currency is not null "
                "and fp.currency <> tp.currency",
                "currency_mismatch",
                "to_plan_id",
            )
        )
    reason = "case " + " ".join(f"when {c} then {lit(r)}" for c, r, _ in whens) + " end"
    column = "case " + " ".join(f"when {c} then {lit(col)}" for c, _, col in whens) + " end"
    return reason, column


# --------------------------------------------------------------------------- loading


def create_empty(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    cols = ", ".join(f"{q(c.name)} {SQL_TYPES[c.type]}" for c in table.columns)
    con.execute(f"create table {RAW_SCHEMA}.{q(table.name)} ({cols})")


def _load_table(con: duckdb.DuckDBPyConnection, src: SourceFile, header: list[str]) -> int:
    """Load one file; returns the number of rows read."""
    table = src.table
    assert src.path is not None
    if src.path.suffix == ".csv":
        columns = "{" + ", ".join(f"{lit(h)}: 'VARCHAR'" for h in header) + "}"
        source_sql = _reader(src.path).format(columns=columns)
        select_land = ", ".join(q(h) for h in header)
    else:
        source_sql = _reader(src.path)
        select_land = ", ".join(f"cast({q(h)} as varchar) as {q(h)}" for h in header)
    try:
        con.execute(
            f"create or replace temp table _land as select {select_land} from {source_sql}"
        )
    except duckdb.Error as exc:
        raise UserError(f"{src.path}: cannot read the file: {_first_line(exc)}") from None
    read = con.execute("select count(*) from _land").fetchone()[0]

    # One pass: parse every column, keep its trimmed text, and give each row its first
    # row-level reason. File order: with insertion order preserved, rowid follows the file.
    parsed = ", ".join(
        f"{parsed_expr(c)} as {q(c.name)}, {_text(c.name)} as {q('__t_' + c.name)}"
        for c in table.columns
    )
    joins = ""
    if table.name == "subscription_changes":
        joins = (
            f" left join {RAW_SCHEMA}.plans as fp on fp.plan_id = p.from_plan_id"
            f" left join {RAW_SCHEMA}.plans as tp on tp.plan_id = p.to_plan_id"
        )
    reason, column = _reason_case(table)
    typed = ", ".join(f"p.{q(c.name)}" for c in table.columns)
    checked = (
        f"select p._row_number, {typed}, {reason} as _reason, {column} as _reason_column "
        f"from (select l.rowid + 1 as _row_number, {parsed} from _land as l) as p{joins}"
    )

    # In the same statement: duplicates among rows that passed, first by file order kept;
    # then references to rows that were not accepted.
    key = ", ".join(f"c.{q(k)}" for k in table.key)
    ref_cols = [c for c in table.columns if c.references is not None]
    ref_joins = " ".join(
        f"left join {RAW_SCHEMA}.{q(c.references[0])} as r{i} "
        f"on r{i}.{q(c.references[1])} = c.{q(c.name)}"
        for i, c in enumerate(ref_cols)
    )
    ref_whens = " ".join(
        f"when c.{q(c.name)} is not null and r{i}.{q(c.references[1])} is null "
        f"then {{{i}}}"
        for i, c in enumerate(ref_cols)
    )
    reason_refs = ref_whens.format(*["'unknown_reference'"] * len(ref_cols))
    column_refs = ref_whens.format(*[lit(c.name) for c in ref_cols])
    con.execute(
        "create or replace temp table _final as "
        "select c.*, "
        "  case when c._reason is not null then c._reason "
        f"       when row_number() over (partition by c._reason is null, {key} "
        "            order by c._row_number) > 1 then 'duplicate_id' "
        f"       {reason_refs} end as _final_reason, "
        "  case when c._reason is not null then c._reason_column "
        f"       when row_number() over (partition by c._reason is null, {key} "
        f"            order by c._row_number) > 1 then {lit(', '.join(table.key))} "
        f"       {column_refs} end as _final_column "
        f"from ({checked}) as c {ref_joins}"
    )

    cols = ", ".join(q(c.name) for c in table.columns)
    con.execute(
        f"insert into {RAW_SCHEMA}.{q(table.name)} select {cols} from _final "
        "where _final_reason is null order by _row_number"
    )
    raw_row = "json_object(" + ", ".join(f"{lit(h)}, l.{q(h)}" for h in header) + ")"
    con.execute(
        f"insert into {RAW_SCHEMA}.quarantine "
        f"select {lit(table.name)}, {lit(src.path.name)}, f._row_number, f._final_reason, "
        f"f._final_column, {raw_row} "
        "from _final as f join _land as l on l.rowid + 1 = f._row_number "
        "where f._final_reason is not null order by f._row_number"
    )
    for tmp in ("_land", "_final"):
        con.execute(f"drop table if exists {tmp}")
    return read


def load_data_dir(
    data_dir: Path,
    con: duckdb.DuckDBPyConnection,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict]:
    """Load every table of the contract found in ``data_dir`` into ``raw.*``.

    Returns, per table, ``{"read", "accepted", "quarantined", "quarantined_by_reason"}``
    (absent optional tables report zeros and are created empty). The same counts are
    stored in ``raw.load_report``; the rejected rows in ``raw.quarantine``.
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
    read: dict[str, int] = {}
    for src in sources:
        create_empty(con, src.table)
        if src.path is None:
            continue
        if progress:
            progress(f"loading {src.path.name}")
        read[src.table.name] = _load_table(con, src, headers[src.table.name])

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
        report[name] = {
            "read": n_read,
            "accepted": accepted,
            "quarantined": quarantined,
            "quarantined_by_reason": by_reason,
        }
        rows.append(
            (name, src.path is not None, src.path.name if src.path else None,
             n_read, accepted, quarantined)
        )
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
