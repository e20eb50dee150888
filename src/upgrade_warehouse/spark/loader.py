"""The loader's rules on Spark: same reason codes, counts and quarantine rows.

Every rule is derived from :mod:`upgrade_warehouse.contract` (column types, required
columns, allowed values, bounds, patterns, currencies, keys, references and the
cross-column rules), in the order the DuckDB loader applies them, so a row gets the
same first reason on both engines. For each table of the contract, in dependency order
(two tables at once, each once the tables it references are loaded):

1. the file is read as text, every column of its header (extra columns included), with
   its data row number (1 = the first row after the header): a CSV file is parsed by one
   task (RFC 4180 allows line breaks inside quotes, so it cannot be split), a Parquet
   file by row group with Spark's ``_metadata.row_index``;
2. each column is parsed and each row gets its first row-level reason
   (``missing_required``, ``bad_type``, ``bad_value``, ``currency_mismatch``);
3. among the rows that passed, second and later rows with a key already seen get
   ``duplicate_id`` (first by file order kept); then a reference to a row that was not
   accepted gets ``unknown_reference``;
4. accepted rows go to ``<schema>.<table>`` (typed, UTC), the others to
   ``<schema>.quarantine`` with the table, file, row number, reason, column at fault and
   the row as it came (a JSON object of the raw text values).

Load errors (missing file or column, both CSV and Parquet) are found by the DuckDB
loader's own checks before Spark starts, so their messages are the same. A file Spark
cannot read in full (a ragged or unterminated CSV line, invalid UTF-8 further down than
the header check reads, a corrupt Parquet body) is a load error too, with the message
the DuckDB engine gives for that file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Callable
from functools import reduce
from pathlib import Path

import duckdb

from .. import contract
from .. import loader as duckdb_loader
from ..contract import BOOL, DATE, DECIMAL, INT, JSON, STR, TS, Column, Table
from ..errors import UserError
from ..paths import currencies_file

SPARK_TYPES = {
    STR: "string",
    INT: "bigint",
    BOOL: "boolean",
    TS: "timestamp",
    DATE: "date",
    JSON: "string",
    DECIMAL: "decimal(38,12)",
}

QUARANTINE_COLUMNS = (
    "table_name string, source_file string, row_number bigint, reason_code string, "
    "reason_column string, raw_row string"
)
LOAD_REPORT_COLUMNS = (
    "table_name string, loaded boolean, source_file string, rows_read bigint, "
    "rows_accepted bigint, rows_quarantined bigint"
)


def full_match(pattern: str) -> str:
    """A Java regex matching the whole value, as DuckDB's ``regexp_full_match`` does
    (``$`` alone would also match before a final line break)."""
    return f"^(?:{pattern})\\z"


# The DuckDB loader's shapes (docs/loader.md): a timestamp is ISO 8601 only (4-digit year,
# optional time and fraction, Z or an offset up to +-14:00: no 'infinity', 'epoch', named
# zone or 5-digit year), a date is YYYY-MM-DD; the parse decides the rest.
TS_SHAPE = full_match(duckdb_loader.ISO_TIMESTAMP)
DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\z"
INT_SHAPE = r"^[+-]?[0-9]+\z"
STRAY_UNDERSCORE = r"(?:^|[^0-9])_|_(?:[^0-9]|\z)"
# NaN or Infinity outside a JSON object's strings (not JSON, RFC 8259): bad_type, as in
# the DuckDB loader. Its string pattern (duckdb_loader.JSON_STRING) with possessive
# quantifiers: the same matches, without Java's backtracking stack on long strings.
NON_NUMBER = "(?i)nan|inf"
JSON_STRING = r'"(?:[^"\\]++|\\.)*+"'
# The plausible range of timestamps and dates (contract.TS_MIN inclusive, TS_MAX not).
TS_RANGE = tuple(
    dt.datetime.fromisoformat(d).replace(tzinfo=dt.UTC) for d in (contract.TS_MIN, contract.TS_MAX)
)
DATE_RANGE = tuple(dt.date.fromisoformat(d) for d in (contract.TS_MIN, contract.TS_MAX))
ROW = "_row_number"
REPLACEMENT_CHARACTER = "\ufffd"


def _raw(i: int) -> str:
    """Internal name of the i-th column of a file's header (names may be anything)."""
    return f"_c{i}"


# --------------------------------------------------------------------------- reading


def _native(i: int) -> str:
    """Internal name of the i-th column of a Parquet file as its timestamp (when typed)."""
    return f"_n{i}"


def _quoted(name: str) -> str:
    """A column name as Spark reads it literally (dots, backticks and all)."""
    return "`" + name.replace("`", "``") + "`"


def _read(spark, path: Path, header: list[str]):
    """The file as text with its row number: columns ``_c0..`` by position (whatever the
    names), ``_row_number``, and for a Parquet timestamp column ``_n<i>``, its value as
    it is (the DuckDB loader takes a typed timestamp without a text round trip)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import (
        StringType,
        StructField,
        StructType,
        TimestampNTZType,
        TimestampType,
    )

    if duckdb_loader.is_csv(path):  # .csv or .csv.gz (Hadoop's gzip codec)
        schema = StructType([StructField(_raw(i), StringType()) for i in range(len(header))])
        df = spark.read.csv(
            str(path),
            schema=schema,
            header=True,
            multiLine=True,
            quote='"',
            escape='"',
            mode="FAILFAST",
            encoding="UTF-8",
            enforceSchema=True,
        )
        # One task reads the whole file (multiLine), so the ids count rows in file order.
        return df.select("*", (F.monotonically_increasing_id() + 1).alias(ROW))
    df = spark.read.parquet(str(path))
    fields = df.schema.fields
    return df.select(
        *[
            _as_text(F.col(_quoted(f.name)), f.dataType).alias(_raw(i))
            for i, f in enumerate(fields)
        ],
        *[
            F.col(_quoted(f.name)).cast("timestamp").alias(_native(i))
            for i, f in enumerate(fields)
            if isinstance(f.dataType, TimestampType | TimestampNTZType)
        ],
        # The file's own row index, even when the file has a column named _metadata.
        (df.metadataColumn("_metadata").getField("row_index") + 1).alias(ROW),
    )


def _as_text(column, data_type):
    """A typed Parquet value as the DuckDB loader's text of it: an instant (a timestamp
    adjusted to UTC) carries DuckDB's ``+00``, so raw rows in quarantine are the same."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    text = column.cast("string")
    if isinstance(data_type, TimestampType):
        return F.concat(text, F.lit("+00"))
    return text


def read_error(path: Path, header: list[str]) -> str | None:
    """The DuckDB engine's load error for a file, so both engines say the same; None
    when DuckDB reads the file."""
    columns = "{" + ", ".join(f"{duckdb_loader.lit(h)}: 'VARCHAR'" for h in header) + "}"
    with duckdb.connect() as con:
        try:
            # Every value is materialized, as the loader does (a count alone would let
            # DuckDB skip decoding them).
            con.execute(
                "create temp table _probe as select * from "
                f"{duckdb_loader._reader(path).format(columns=columns)}"
            )
        except duckdb.Error as exc:
            return f"{path}: cannot read the file: {duckdb_loader._first_line(exc)}"
    return None


# --------------------------------------------------------------------------- parsing


def _text(raw):
    """The trimmed raw text, an empty string meaning null (the contract's CSV rule)."""
    from pyspark.sql import functions as F

    return F.nullif(F.trim(raw), F.lit(""))


def parsed(column: Column, raw):
    """The value of a raw text column in its contract type, null when unparseable."""
    from pyspark.sql import functions as F

    t = _text(raw)
    if column.type == STR:
        return F.when(t.isNotNull(), raw)
    if column.type == INT:
        return F.when(t.rlike(INT_SHAPE), t.try_cast("bigint"))
    if column.type == TS:
        return F.when(t.rlike(TS_SHAPE), t.try_cast("timestamp"))
    if column.type == DATE:
        return F.when(t.rlike(DATE_SHAPE), t.try_cast("date"))
    if column.type == BOOL:
        lower = F.lower(t)
        return F.when(lower.isin("true", "1"), F.lit(True)).when(
            lower.isin("false", "0"), F.lit(False)
        )
    if column.type == JSON:
        # An object, the whole text: wrapped in an array, the text must parse as exactly
        # one element (Spark's parser alone stops after the first value).
        wrapped = F.try_parse_json(F.concat(F.lit("["), t, F.lit("]")))
        one = F.try_variant_get(wrapped, "$", "array<variant>")
        is_object = F.try_variant_get(wrapped, "$[0]", "map<string,variant>").isNotNull()
        non_number = t.rlike(NON_NUMBER) & F.regexp_replace(t, JSON_STRING, "").rlike(NON_NUMBER)
        return F.when((F.size(one) == 1) & is_object & ~non_number, t)
    if column.type == DECIMAL:
        # DuckDB reads a single underscore between two digits as a digit separator
        # (1_000); Spark does not: taken out before the cast, anywhere else bad_type.
        separators_ok = ~t.rlike(STRAY_UNDERSCORE)
        return F.when(separators_ok, F.regexp_replace(t, "_", "").try_cast(SPARK_TYPES[DECIMAL]))
    raise ValueError(column.type)


def row_checks(table: Table, currencies: list[str]):
    """(condition, reason, column) of every row-level rule, in the order they apply.

    Conditions read ``p`` columns: ``<name>`` (parsed) and ``__t_<name>`` (trimmed text),
    plus ``__fp_currency`` / ``__tp_currency`` for ``same_currency``.
    """
    from pyspark.sql import functions as F

    def v(name: str):
        return F.col(name)

    def t(name: str):
        return F.col(f"__t_{name}")

    checks = []
    for c in table.columns:
        if c.required:
            checks.append((t(c.name).isNull(), "missing_required", c.name))
    for c in table.columns:
        if c.required_with is not None:
            checks.append(
                (t(c.required_with).isNotNull() & t(c.name).isNull(), "missing_required", c.name)
            )
    for c in table.columns:
        if c.type != STR:
            checks.append((t(c.name).isNotNull() & v(c.name).isNull(), "bad_type", c.name))
    bad_value = []
    for c in table.columns:
        if c.allowed is not None:
            bad_value.append((v(c.name).isNotNull() & ~v(c.name).isin(*c.allowed), c.name))
        if c.min_value is not None:
            bound = F.lit(c.min_value)
            bad_value.append((v(c.name) <= bound if c.min_exclusive else v(c.name) < bound, c.name))
        if c.max_value is not None:
            bad_value.append((v(c.name) > F.lit(c.max_value), c.name))
        if c.type in (TS, DATE):
            low, high = (F.lit(b) for b in (TS_RANGE if c.type == TS else DATE_RANGE))
            bad_value.append(((v(c.name) < low) | (v(c.name) >= high), c.name))
        if c.pattern is not None:
            bad_value.append(
                (v(c.name).isNotNull() & ~v(c.name).rlike(full_match(c.pattern)), c.name)
            )
        if c.currency:
            bad_value.append((v(c.name).isNotNull() & ~v(c.name).isin(*currencies), c.name))
    for start, end in table.ordered:
        bad_value.append((v(start) >= v(end), end))
    for low, high in table.not_greater:
        bad_value.append((v(low) > v(high), high))
    if table.one_required:
        bad_value.append(
            (
                reduce(lambda a, b: a & b, [v(n).isNull() for n in table.one_required]),
                table.one_required[-1],
            )
        )
    for cond, col in bad_value:
        checks.append((F.coalesce(cond, F.lit(False)), "bad_value", col))
    if table.same_currency:
        fp, tp = F.col("__fp_currency"), F.col("__tp_currency")
        checks.append(
            (
                F.coalesce(fp.isNotNull() & tp.isNotNull() & (fp != tp), F.lit(False)),
                "currency_mismatch",
                table.same_currency[-1],
            )
        )
    return checks


def _first(checks, pick: int):
    """CASE over checks giving element ``pick`` (1 = reason, 2 = column) of the first."""
    from pyspark.sql import functions as F

    expr = None
    for check in checks:
        cond, value = check[0], F.lit(check[pick])
        expr = F.when(cond, value) if expr is None else expr.when(cond, value)
    return expr if expr is not None else F.lit(None).cast("string")


# --------------------------------------------------------------------------- loading


def spark_lit(value: str) -> str:
    """A Spark SQL string literal (backslash escapes)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _qualified(schema: str, name: str) -> str:
    return f"`{schema}`.`{name}`"


def checked_name(table: str) -> str:
    """The Spark table holding every row of a contract table with its final reason;
    ``<table>`` (accepted rows) and ``quarantine`` are views over these."""
    return f"_checked_{table}"


def create_empty(spark, schema: str, table: Table) -> None:
    cols = ", ".join(f"`{c.name}` {SPARK_TYPES[c.type]}" for c in table.columns)
    spark.sql(f"create table {_qualified(schema, table.name)} ({cols}) using parquet")


def _checked(
    spark, schema: str, src: duckdb_loader.SourceFile, header: list[str], currencies: list[str]
):
    """Every row of the file with its parsed columns, final reason, column at fault, the
    raw row (rejected rows only) and whether it holds a U+FFFD (see :func:`_load_table`)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    table = src.table
    land = _read(spark, src.path, header)
    position = {h: i for i, h in reversed(list(enumerate(header)))}  # first of a name

    def value(c: Column):
        native = _native(position[c.name])
        if c.type == TS and native in land.columns:
            return F.col(native)
        return parsed(c, F.col(_raw(position[c.name])))

    p = land.select(
        ROW,
        *[F.col(_raw(i)) for i in range(len(header))],
        *[value(c).alias(c.name) for c in table.columns],
        *[_text(F.col(_raw(position[c.name]))).alias(f"__t_{c.name}") for c in table.columns],
    )
    references = {c.name: c.references for c in table.columns if c.references}
    if table.same_currency:
        ref_table, ref_key = references[table.same_currency[0]]
        rows = spark.table(_qualified(schema, ref_table))
        for alias, name in zip(("__fp", "__tp"), table.same_currency, strict=True):
            p = p.join(
                rows.select(
                    F.col(ref_key).alias(f"{alias}_key"),
                    F.col("currency").alias(f"{alias}_currency"),
                ),
                F.col(name) == F.col(f"{alias}_key"),
                "left",
            )
    checks = row_checks(table, currencies)
    p = p.select("*", _first(checks, 1).alias("_reason"), _first(checks, 2).alias("_column"))

    # Duplicates among the rows that passed, the first by file order kept.
    passed = F.col("_reason").isNull()
    seen = F.row_number().over(
        Window.partitionBy(passed, *[F.col(k) for k in table.key]).orderBy(ROW)
    )
    p = p.select("*", (passed & (seen > 1)).alias("_duplicate"))
    # Then references to rows that were not accepted: the first such column.
    final = [
        (~passed, F.col("_reason"), F.col("_column")),
        (F.col("_duplicate"), F.lit("duplicate_id"), F.lit(", ".join(table.key))),
    ]
    for i, (name, (ref_table, ref_key)) in enumerate(references.items()):
        keys = spark.table(_qualified(schema, ref_table)).select(F.col(ref_key).alias(f"__r{i}"))
        p = p.join(keys, F.col(name) == F.col(f"__r{i}"), "left")
        final.append(
            (
                F.col(name).isNotNull() & F.col(f"__r{i}").isNull(),
                F.lit("unknown_reference"),
                F.lit(name),
            )
        )
    reason = column = None
    for cond, r, col in final:
        reason = F.when(cond, r) if reason is None else reason.when(cond, r)
        column = F.when(cond, col) if column is None else column.when(cond, col)
    raw_row = F.to_json(
        F.struct(
            *[F.col(_raw(i)).alias(k) for i, k in enumerate(duckdb_loader.raw_row_keys(header))]
        ),
        {"ignoreNullFields": "false"},
    )
    if duckdb_loader.is_csv(src.path):
        # Spark decodes invalid UTF-8 as U+FFFD instead of failing.
        suspect = reduce(
            lambda a, b: a | b,
            [
                F.coalesce(F.col(_raw(i)).contains(REPLACEMENT_CHARACTER), F.lit(False))
                for i in range(len(header))
            ],
        )
    else:
        suspect = F.lit(False)
    return p.select(
        ROW,
        *[F.col(c.name) for c in table.columns],
        reason.alias("_reason_code"),
        column.alias("_reason_column"),
        F.when(reason.isNotNull(), raw_row).alias("_raw_row"),
        suspect.alias("_suspect"),
    )


def _load_table(
    spark, schema: str, src: duckdb_loader.SourceFile, header: list[str], currencies: list[str]
) -> dict[str, int]:
    """Check one file into ``<schema>._checked_<table>`` (one pass over the file) and
    return its rows read per reason (None = accepted)."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    assert src.path is not None
    target = _qualified(schema, checked_name(src.table.name))
    try:
        _checked(spark, schema, src, header, currencies).write.mode("overwrite").saveAsTable(target)
    except (PySparkException, Py4JJavaError) as exc:
        # Spark could not read the file: the DuckDB engine's message for it. Anything
        # else (DuckDB reads the file) is not the input's fault: raised as it is.
        message = read_error(src.path, header)
        if message:
            raise UserError(message) from None
        text = str(exc)
        if "FAILED_READ_FILE" in text:  # DuckDB reads it, Spark cannot (e.g. a Parquet type)
            detail = next(
                (line.strip() for line in text.splitlines() if "Exception:" in line),
                text.strip().splitlines()[0],
            )
            raise UserError(f"{src.path}: cannot read the file with Spark: {detail}") from None
        raise
    counts = {}
    suspects = 0
    for reason, n, n_suspect in (
        spark.table(target)
        .groupBy("_reason_code")
        .agg(F.count(F.lit(1)), F.count_if(F.col("_suspect")))
        .collect()
    ):
        counts[reason] = n
        suspects += n_suspect
    if suspects:
        # A bad byte, or a real U+FFFD in the text: the DuckDB reader tells them apart.
        message = read_error(src.path, header)
        if message:
            raise UserError(message)
    cols = ", ".join(f"`{c.name}`" for c in src.table.columns)
    spark.sql(
        f"create view {_qualified(schema, src.table.name)} as select {cols} from {target} "
        "where _reason_code is null"
    )
    return counts


def currencies() -> list[str]:
    with open(currencies_file(), newline="", encoding="utf-8") as f:
        return [row["currency"] for row in csv.DictReader(f)]


def _values(rows: list[tuple], columns: str) -> str:
    """An inline ``values`` relation (no Spark job to create a small table)."""

    def literal(value) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return f"{value}L"
        return spark_lit(str(value))

    names = ", ".join(f"`{c.split()[0]}`" for c in columns.split(", "))
    casts = ", ".join(
        f"cast(`{c.split()[0]}` as {c.split()[1]}) as `{c.split()[0]}`" for c in columns.split(", ")
    )
    if not rows:
        nulls = ", ".join("null" for _ in columns.split(", "))
        return f"select {casts} from (values ({nulls})) as v({names}) where false"
    body = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows)
    return f"select {casts} from (values {body}) as v({names})"


def check_readable(sources: list[duckdb_loader.SourceFile]) -> None:
    """A UserError for a file Spark cannot read, before Spark starts: zstd-compressed CSV
    needs Hadoop's native zstd codec, which pyspark's local Spark does not have
    (gzip is built in; docs/spark.md)."""
    for src in sources:
        if src.path is not None and src.path.name.endswith(".csv.zst"):
            raise UserError(
                f"{src.path}: --engine spark does not read zstd-compressed CSV: give it as "
                ".csv or .csv.gz, or build with --engine duckdb"
            )


def load_data_dir(
    spark,
    data_dir: Path,
    schema: str = duckdb_loader.RAW_SCHEMA,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict]:
    """Load every table of the contract found in ``data_dir`` into Spark's ``schema``.

    Returns the same report as :func:`upgrade_warehouse.loader.load_data_dir`; the same
    counts are in ``<schema>.load_report``, the rejected rows in ``<schema>.quarantine``.
    """
    data_dir = Path(data_dir)
    sources = duckdb_loader.discover(data_dir)
    check_readable(sources)
    with duckdb.connect() as probe:
        headers = duckdb_loader.check_headers(probe, sources)
    codes = currencies()

    spark.sql(f"create database if not exists `{schema}`")
    with _case_sensitive(spark):
        return _load_all(spark, sources, headers, codes, schema, progress)


@contextlib.contextmanager
def _case_sensitive(spark):
    """Column names compared exactly while loading, as DuckDB's loader reads them: a
    Parquet file with ``account_id`` and an extra ``ACCOUNT_ID`` is valid."""
    key = "spark.sql.caseSensitive"
    before = spark.conf.get(key, "false")
    spark.conf.set(key, "true")
    try:
        yield
    finally:
        spark.conf.set(key, before)


# Tables loaded at once: a table's checks are planned on the driver (a second or two for
# a wide one) while another's run; a table starts once the tables it references are in.
LOAD_THREADS = 2


def _load_files(spark, sources, headers, codes, schema, progress) -> dict[str, dict]:
    """Run :func:`_load_table` for every supplied file, up to ``LOAD_THREADS`` at once,
    each after the tables it references; returns the counts by table. When files fail,
    the error raised is the one of the first failing table in contract order, the one
    a load in that order (the DuckDB loader's) reports."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    supplied = [src for src in sources if src.path is not None]
    names = {src.table.name for src in supplied}
    needs = {
        src.table.name: {c.references[0] for c in src.table.columns if c.references} & names
        for src in supplied
    }
    order = {src.table.name: i for i, src in enumerate(sources)}
    counts: dict[str, dict] = {}
    errors: dict[str, BaseException] = {}
    waiting = list(supplied)
    with ThreadPoolExecutor(LOAD_THREADS, thread_name_prefix="spark-load") as pool:
        running = {}
        while waiting or running:
            for src in [s for s in waiting if needs[s.table.name].issubset(counts)]:
                if len(running) == LOAD_THREADS:
                    break
                waiting.remove(src)
                if progress:
                    progress(f"loading {src.path.name}")
                name = src.table.name
                job = pool.submit(_load_table, spark, schema, src, headers[name], codes)
                running[job] = name
            if not running:
                break  # the rest reference a table that failed
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for job in finished:
                name = running.pop(job)
                try:
                    counts[name] = job.result()
                except Exception as exc:  # raised below, the first in contract order
                    errors[name] = exc
    if errors:
        raise errors[min(errors, key=order.__getitem__)]
    return counts


def _load_all(spark, sources, headers, codes, schema, progress) -> dict[str, dict]:
    report: dict[str, dict] = {}
    rows = []
    quarantined_parts = []
    for src in sources:
        if src.path is None:
            create_empty(spark, schema, src.table)
    loaded = _load_files(spark, sources, headers, codes, schema, progress)
    for src in sources:
        name = src.table.name
        counts: dict[str | None, int] = {}
        if src.path is not None:
            counts = loaded[name]
            quarantined_parts.append(
                f"select {spark_lit(name)} as table_name, "
                f"{spark_lit(src.path.name)} as source_file, {ROW} as row_number, "
                "_reason_code as reason_code, _reason_column as reason_column, "
                f"_raw_row as raw_row from {_qualified(schema, checked_name(name))} "
                "where _reason_code is not null"
            )
        by_reason = dict(sorted((r, n) for r, n in counts.items() if r is not None))
        n_read = sum(counts.values())
        accepted = counts.get(None, 0)
        report[name], row = duckdb_loader.table_report(src, n_read, accepted, by_reason)
        rows.append(row)
    quarantine = " union all ".join(quarantined_parts) or _values([], QUARANTINE_COLUMNS)
    spark.sql(f"create view {_qualified(schema, 'quarantine')} as {quarantine}")
    spark.sql(
        f"create view {_qualified(schema, 'load_report')} as " + _values(rows, LOAD_REPORT_COLUMNS)
    )
    return report


def compute_as_of(spark, schema: str = duckdb_loader.RAW_SCHEMA):
    """The default ``as_of`` (naive UTC datetime): latest occurred_at or changed_at."""
    row = spark.sql(
        "select cast(greatest("
        f"(select max(occurred_at) from {_qualified(schema, 'product_events')}), "
        f"(select max(changed_at) from {_qualified(schema, 'subscription_changes')})"
        ") as timestamp_ntz) as as_of"
    ).collect()[0]
    return row.as_of
