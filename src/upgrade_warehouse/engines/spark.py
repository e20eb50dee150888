"""The Spark engine (``build --engine spark``, docs/spark.md).

- *load*: the loader's rules run on Spark (:mod:`upgrade_warehouse.spark.loader`) in the
  build's Spark session, whose tables live in ``spark/`` inside the build's folder;
- *transform*: seeds, models and tests through dbt-spark's ``session`` method,
  in-process (:mod:`upgrade_warehouse.dbt_runner`, target ``spark``), in that same
  session; the project is parsed while the JVM starts and the loader runs;
- *serve*: the marts, the seeds and the loader's tables the readers use
  (``raw.build_info``, ``load_report``, ``quarantine``, ``plans``) are written as Parquet
  into ``parquet/<schema>/<table>/`` in the build's folder, the Spark session ends, and
  DuckDB loads them into the new warehouse file, so the win-back training, the gate,
  ``metrics``, ``metrics --by`` and the dashboard read it as a DuckDB build;
- *publish*: the Parquet folder is published beside the file
  (:mod:`upgrade_warehouse.pipeline.publish`).
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import duckdb

from .. import contract
from ..dbt_runner import dbt_vars, parse_ahead
from ..errors import BuildFailed
from ..params import Parameters
from ..progress import Progress
from ..spark import loader as spark_loader
from ..spark import session as spark_session
from ..workspace import Building, remove_stale_parquet, rmtree
from .base import LoadJob, resolve_as_of
from .duckdb import DuckDBSettings

# Relations the readers use besides every mart and seed: the loader's tables (metrics,
# dashboard) and as_of (the win-back training, which runs on the serving file).
READER_EXPORTS = (
    ("raw", "build_info"),
    ("raw", "load_report"),
    ("raw", "quarantine"),
    ("raw", "source_report"),
    ("raw", "plans"),
    ("intermediate", "int_as_of"),
)
EXPORT_SCHEMAS = ("marts", "reference")
SCRATCH = "spark"  # inside the build's folder: Spark's tables and spill files
PARQUET = "parquet"  # inside the build's folder until it is published


class SparkEngine:
    """Load and dbt in one Spark session, then the results into the new file."""

    name = "spark"
    dbt_target = spark_session.PROFILE_OUTPUT

    def __init__(self, master: str | None = None) -> None:
        self.master = master
        self.spark = None
        self.parsing = None
        self.new: Building | None = None

    def check(self, sources: list) -> None:
        """Every supplied file readable by Spark; a build error (exit 1) naming what to
        install when Spark cannot run here."""
        spark_loader.check_readable(sources)
        try:
            spark_session.check_available()
        except spark_session.SparkUnavailable as exc:
            raise BuildFailed(str(exc)) from None

    def credentials(self) -> type:
        from dbt.adapters.spark.connections import SparkCredentials

        return SparkCredentials

    def load(self, job: LoadJob) -> tuple[dict[str, dict], Parameters]:
        """Start the session (dbt parses the project meanwhile, when its parse is not
        cached), then the loader on Spark, from the files the DuckDB load would read."""
        new, data_dir, params, progress = job.new, job.data_dir, job.params, job.progress
        remove_stale_parquet(new.warehouse)
        self.new = new
        scratch = new.dir / SCRATCH
        new.on_signal.insert(0, spark_session.kill)  # a running query would hold a stop
        supplied = [s.path for s in spark_loader.duckdb_loader.discover(data_dir) if s.path]
        conf = spark_session.settings(scratch, self.master, sum(p.stat().st_size for p in supplied))
        self.parsing = parse_ahead(new.path, dbt_vars(params), target=self.dbt_target)
        phase = progress.phase("spark", 1, "session")
        spark = spark_session.start(conf)
        self.spark = spark
        phase.set(1)
        phase.finish(f"Spark {spark.version} on {spark.sparkContext.master}")
        tables, params = _load(spark, data_dir, params, progress, job.mapped)
        self.parsing.join()
        return tables, params

    def dbt_env(self) -> dict[str, str] | None:
        return None

    def serve(self, new: Building, progress: Progress) -> None:
        """The exported relations as Parquet, the session stopped, then the file."""
        folder = new.dir / PARQUET
        names = export_parquet(self.spark, folder, progress)
        self.close()
        rmtree(new.dir / SCRATCH)
        phase = progress.phase("serving file", len(names), "tables")
        assemble_duckdb(new.path, folder, names, phase)
        phase.finish()

    def close(self) -> None:
        """Stop the session (when it runs); idempotent."""
        if self.spark is None:
            return
        with contextlib.suppress(Exception):
            spark_session.stop(self.spark)
        self.spark = None
        self.new.on_signal.remove(spark_session.kill)

    def publish_folder(self, new: Building) -> Path | None:
        return new.dir / PARQUET


def _load(
    spark, data_dir: Path, params: Parameters, progress: Progress, mapped=None
) -> tuple[dict[str, dict], Parameters]:
    """The loader on Spark into ``raw.*``, as_of, ``raw.build_info``."""
    supplied = [s for s in spark_loader.duckdb_loader.discover(data_dir) if s.path is not None]
    phase = progress.phase("load", len(supplied), "tables")
    started = [0]

    def on_table(message: str) -> None:
        phase.set(started[0], message)
        started[0] += 1

    tables = spark_loader.load_data_dir(spark, data_dir, progress=on_table)
    from ..sources import finish_spark  # the map phase's counts and quarantine rows

    finish_spark(spark, tables, mapped)
    params, from_data = resolve_as_of(params, data_dir, lambda: spark_loader.compute_as_of(spark))
    as_of = params.as_of
    spark.sql(
        "create view raw.build_info as select "
        f"cast(timestamp_ntz'{as_of.isoformat(sep=' ')}' as timestamp) as as_of, "
        f"{spark_loader.spark_lit(params.reporting_currency)} as reporting_currency, "
        f"{spark_loader.spark_lit(json.dumps(params.as_json(), sort_keys=True))} "
        f"as parameters_json, {'true' if from_data else 'false'} as as_of_from_data"
    )
    phase.set(len(supplied))
    quarantined = sum(t["quarantined"] for t in tables.values())
    phase.finish(f"{quarantined:,} rows quarantined")
    return tables, params


# ----------------------------------------------------------------------------- serve


def _exports(spark) -> list[tuple[str, str]]:
    """(schema, table) of every relation the serving warehouse holds."""
    names = list(READER_EXPORTS)
    for schema in EXPORT_SCHEMAS:
        # SQL rather than spark.catalog.listTables, which fails with interpreted
        # expressions (spark.sql.codegen.factoryMode=NO_CODEGEN).
        for row in spark.sql(f"show tables in `{schema}`").collect():
            if not row.isTemporary:
                names.append((schema, row.tableName))
    return names


def export_parquet(spark, folder: Path, progress: Progress) -> list[tuple[str, str]]:
    """Write each relation as Parquet under ``folder/<schema>/<table>/``; timestamps as
    UTC wall-clock time (TIMESTAMP in DuckDB, as in a DuckDB build)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    names = _exports(spark)
    phase = progress.phase("export", len(names), "tables")
    for i, (schema, table) in enumerate(names):
        phase.set(i, f"{schema}.{table}")
        df = spark.table(f"`{schema}`.`{table}`")
        df = df.select(
            *[
                F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name)
                if isinstance(f.dataType, TimestampType)
                else F.col(f"`{f.name}`")
                for f in df.schema.fields
            ]
        )
        if (schema, table) == ("raw", "quarantine"):
            position = F.create_map(
                *[x for i, t in enumerate(contract.TABLES) for x in (F.lit(t.name), F.lit(i))]
            )
            df = df.orderBy(position[F.col("table_name")], "row_number")
        df.write.mode("error").parquet(str(folder / schema / table))
    phase.set(len(names))
    phase.finish(f"Parquet in {folder.name}/")
    return names


def assemble_duckdb(db_path: Path, folder: Path, names: list[tuple[str, str]], phase) -> None:
    """The new warehouse file: every exported relation as a table."""
    settings = DuckDBSettings.prepare(db_path)
    with duckdb.connect(str(db_path)) as con:
        settings.apply(con)
        con.execute("set TimeZone = 'UTC'")
        for schema in sorted({s for s, _ in names}):
            con.execute(f'create schema if not exists "{schema}"')
        for i, (schema, table) in enumerate(names):
            phase.set(i, f"{schema}.{table}")
            files = str(folder / schema / table / "*.parquet")
            con.execute(
                f'create table "{schema}"."{table}" as select * from read_parquet(?)', [files]
            )
        phase.set(len(names))
        con.execute("checkpoint")
