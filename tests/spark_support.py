"""Shared by the Spark engine tests (test_spark_*.py, issue 14)."""

from __future__ import annotations

import json

import duckdb

from upgrade_warehouse import contract

# The test inputs are a few hundred rows: generating and compiling code for each query
# (whole-stage codegen, the JIT's second tier) costs more than it saves on them. These
# settings change how Spark runs, never what it computes (docs/spark.md).
SMALL_DATA_CONF = {
    "spark.master": "local[2]",
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "2",
    # Adaptive execution stays on: a stage whose input is empty ends the plan above it
    # (int_upgrade_attempts' long pointer-doubling tier is empty on small inputs).
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
SPARK_ENV = {"UPGRADE_WAREHOUSE_SPARK_CONF": json.dumps(SMALL_DATA_CONF)}


def duckdb_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return [tuple(r) for r in con.execute(sql).fetchall()]


def spark_rows(spark, sql: str) -> list[tuple]:
    """Rows of a Spark query, timestamps as naive UTC (as DuckDB returns them)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    df = spark.sql(sql)
    df = df.select(
        *[
            F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name)
            if isinstance(f.dataType, TimestampType)
            else F.col(f"`{f.name}`")
            for f in df.schema.fields
        ]
    )
    return [tuple(r) for r in df.collect()]


QUARANTINE_SQL = "select * from {schema}.quarantine order by table_name, row_number"


def accepted_sql(schema: str, table: contract.Table) -> str:
    return f"select * from {schema}.{table.name}"
