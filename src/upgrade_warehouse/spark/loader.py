"""The loader's rules on Spark: same reason codes, counts and quarantine rows.

Every rule is derived from :mod:`upgrade_warehouse.contract` (column types, required
columns, allowed values, bounds, patterns, currencies, keys, references and the
cross-column rules), in the order the DuckDB loader applies them, so a row gets the
same first reason on both engines. For each table of the contract, in dependency order:

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

import csv
from collections.abc import Callable
from functools import reduce
from pathlib import Path

import duckdb

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

# Text that is an ISO 8601 date or date-time (the parse decides the rest). Spark alone
# would also take "2026" or "2026-01" as timestamps; DuckDB does not.
TS_SHAPE = r"(?s)^[0-9]{4,}-[0-9]{1,2}-[0-9]{1,2}(?:[T ].*)?\z"
DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\z"
INT_SHAPE = r"^[+-]?[0-9]+\z"
ROW = "_row_number"
REPLACEMENT_CHARACTER = "\ufffd"


def _raw(i: int) -> str:
    """Internal name of the i-th column of a file's header (names may be anything)."""
    return f"_c{i}"


def full_match(pattern: str) -> str:
    """A Java regex matching the whole value, as DuckDB's ``regexp_full_match`` does
    (``$`` alone would also match before a final line break)."""
    return f"^(?:{pattern})\\z"


# --------------------------------------------------------------------------- reading


def _read(spark, path: Path, header: list[str]):
    """The file as text with its row number: columns ``_c0..``, ``_row_number``."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    if path.suffix == ".csv":
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
    return df.select(
        *[F.col(f"`{name}`").cast("string").alias(_raw(i)) for i, name in enumerate(df.columns)],
        (F.col("_metadata.row_index") + 1).alias(ROW),
    )


def read_error(path: Path, header: list[str]) -> str | None:
    """The DuckDB engine's load error for a file, so both engines say the same; None
    when DuckDB reads the file."""
    columns = "{" + ", ".join(f"{duckdb_loader.lit(h)}: 'VARCHAR'" for h in header) + "}"
    with duckdb.connect() as con:
        try:
            con.execute(
                "select count(*) from (select * from "
                f"{duckdb_loader._reader(path).format(columns=columns)})"
            ).fetchall()
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
        return F.when((F.size(one) == 1) & is_object, t)
    if column.type == DECIMAL:
        return t.try_cast(SPARK_TYPES[DECIMAL])
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


def _qualified(schema: str, name: str) -> str:
    return f"`{schema}`.`{name}`"


def create_empty(spark, schema: str, table: Table) -> None:
    cols = ", ".join(f"`{c.name}` {SPARK_TYPES[c.type]}" for c in table.columns)
    spark.sql(f"create table {_qualified(schema, table.name)} ({cols}) using parquet")


def _check_readable(spark, src: duckdb_loader.SourceFile, header: list[str], land) -> None:
    """Raise the DuckDB engine's load error when Spark could not read the whole file."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F

    try:
        if src.path.suffix != ".csv":
            land.select(ROW).where(F.lit(False)).collect()
            return
        # Spark decodes invalid UTF-8 as U+FFFD instead of failing: a row holding one is
        # checked against the DuckDB reader, which tells a bad byte from a real U+FFFD.
        suspect = reduce(
            lambda a, b: a | b,
            [
                F.coalesce(F.col(_raw(i)).contains(REPLACEMENT_CHARACTER), F.lit(False))
                for i in range(len(header))
            ],
        )
        if not land.where(suspect).limit(1).collect():
            return
    except (PySparkException, Py4JJavaError) as exc:  # the JVM's read failure
        message = read_error(src.path, header)
        raise UserError(
            message or f"{src.path}: cannot read the file: {_first_line(exc)}"
        ) from None
    message = read_error(src.path, header)
    if message:
        raise UserError(message)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load_table(
    spark, schema: str, src: duckdb_loader.SourceFile, header: list[str], currencies: list[str]
) -> int:
    """Load one file into ``schema``; returns the number of rows read."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    table = src.table
    assert src.path is not None
    land = _read(spark, src.path, header)
    position = {h: i for i, h in reversed(list(enumerate(header)))}  # first of a name
    p = land.select(
        ROW,
        *[F.col(_raw(i)) for i in range(len(header))],
        *[parsed(c, F.col(_raw(position[c.name]))).alias(c.name) for c in table.columns],
        *[_text(F.col(_raw(position[c.name]))).alias(f"__t_{c.name}") for c in table.columns],
    )
    if table.same_currency:
        ref_table = {c.name: c.references for c in table.columns}[table.same_currency[0]][0]
        plans = spark.table(_qualified(schema, ref_table))
        key = {c.name: c.references for c in table.columns}[table.same_currency[0]][1]
        for alias, name in zip(("__fp", "__tp"), table.same_currency, strict=True):
            p = p.join(
                plans.select(
                    F.col(key).alias(f"{alias}_key"), F.col("currency").alias(f"{alias}_currency")
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
    p = p.select("*", F.when(passed & (seen > 1), F.lit(True)).alias("_duplicate"))
    # References to rows that were not accepted, first such column by column order.
    ref_cols = [c for c in table.columns if c.references is not None]
    ref_checks = []
    for i, c in enumerate(ref_cols):
        ref_table, ref_key = c.references
        keys = (
            spark.table(_qualified(schema, ref_table))
            .select(F.col(ref_key).alias(f"__r{i}"))
            .distinct()
        )
        p = p.join(keys, F.col(c.name) == F.col(f"__r{i}"), "left")
        ref_checks.append(
            (F.col(c.name).isNotNull() & F.col(f"__r{i}").isNull(), "unknown_reference", c.name)
        )
    final_checks = [
        (~passed, F.col("_reason"), F.col("_column")),
        (F.col("_duplicate").isNotNull(), F.lit("duplicate_id"), F.lit(", ".join(table.key))),
        *[(cond, F.lit(r), F.lit(col)) for cond, r, col in ref_checks],
    ]
    reason = column = None
    for cond, r, col in final_checks:
        reason = F.when(cond, r) if reason is None else reason.when(cond, r)
        column = F.when(cond, col) if column is None else column.when(cond, col)
    raw_row = F.to_json(
        F.struct(*[F.col(_raw(i)).alias(h) for i, h in enumerate(header)]),
        {"ignoreNullFields": "false"},
    )
    checked_name = f"__checked_{table.name}"
    _check_readable(spark, src, header, land)
    (
        p.select(
            ROW,
            *[F.col(c.name) for c in table.columns],
            reason.alias("_final_reason"),
            column.alias("_final_column"),
            F.when(
                ~passed
                | F.col("_duplicate").isNotNull()
                | reduce(lambda a, b: a | b, [c for c, _, _ in ref_checks], F.lit(False)),
                raw_row,
            ).alias("_raw_row"),
        )
        .write.mode("overwrite")
        .saveAsTable(_qualified(schema, checked_name))
    )
    checked = spark.table(_qualified(schema, checked_name))
    accepted = (
        checked.where(F.col("_final_reason").isNull())
        .orderBy(ROW)
        .select(*[F.col(c.name) for c in table.columns])
    )
    accepted.write.insertInto(_qualified(schema, table.name))
    rejected = (
        checked.where(F.col("_final_reason").isNotNull())
        .orderBy(ROW)
        .select(
            F.lit(table.name),
            F.lit(src.path.name),
            F.col(ROW),
            F.col("_final_reason"),
            F.col("_final_column"),
            F.col("_raw_row"),
        )
    )
    rejected.write.insertInto(_qualified(schema, "quarantine"))
    read = checked.count()
    spark.sql(f"drop table {_qualified(schema, checked_name)}")
    return read


def currencies() -> list[str]:
    with open(currencies_file(), newline="", encoding="utf-8") as f:
        return [row["currency"] for row in csv.DictReader(f)]


def load_data_dir(
    spark,
    data_dir: Path,
    schema: str = duckdb_loader.RAW_SCHEMA,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict]:
    """Load every table of the contract found in ``data_dir`` into Spark's ``schema``.

    Returns the same report as :func:`upgrade_warehouse.loader.load_data_dir`; the same
    counts are stored in ``<schema>.load_report``, the rejected rows in
    ``<schema>.quarantine``.
    """
    data_dir = Path(data_dir)
    sources = duckdb_loader.discover(data_dir)
    with duckdb.connect() as probe:
        headers = duckdb_loader.check_headers(probe, sources)
    codes = currencies()

    spark.sql(f"create database if not exists `{schema}`")
    spark.sql(
        f"create table {_qualified(schema, 'quarantine')} ({QUARANTINE_COLUMNS}) using parquet"
    )
    read: dict[str, int] = {}
    for src in sources:
        create_empty(spark, schema, src.table)
        if src.path is None:
            continue
        if progress:
            progress(f"loading {src.path.name} (Spark)")
        read[src.table.name] = _load_table(spark, schema, src, headers[src.table.name], codes)

    by_table: dict[str, dict[str, int]] = {}
    for name, reason, n in (
        spark.table(_qualified(schema, "quarantine"))
        .groupBy("table_name", "reason_code")
        .count()
        .collect()
    ):
        by_table.setdefault(name, {})[reason] = n
    report: dict[str, dict] = {}
    rows = []
    for src in sources:
        name = src.table.name
        accepted = spark.table(_qualified(schema, name)).count()
        by_reason = dict(sorted(by_table.get(name, {}).items()))
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
            (
                name,
                src.path is not None,
                src.path.name if src.path else None,
                n_read,
                accepted,
                quarantined,
            )
        )
    spark.createDataFrame(rows, LOAD_REPORT_COLUMNS).write.saveAsTable(
        _qualified(schema, "load_report")
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
