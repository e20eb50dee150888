"""`build --engine spark`: the load and dbt phases on Apache Spark (docs/spark.md).

The build itself is :func:`upgrade_warehouse.build.build`, the same for both engines:
the new warehouse in its own folder (``Building``), the phases with their progress, the
Great Expectations gate in its worker process, the win-back training and the atomic
publish. With ``--engine spark`` two of its steps are this module's:

1. :func:`spark_phases` (instead of the DuckDB load and dbt phases):

   - *load*: the loader's rules run on Spark (:mod:`.loader`) in the build's Spark
     session, whose tables live in ``spark/`` inside the build's folder;
   - *dbt*: seeds, models and tests through dbt-spark's ``session`` method, in-process
     (:mod:`upgrade_warehouse.dbt_runner`, target ``spark``), in that same session;
   - *export*: the marts, the seeds and the loader's tables the readers use
     (``raw.build_info``, ``load_report``, ``quarantine``, ``plans``) are written as
     Parquet into ``parquet/<schema>/<table>/`` in the build's folder, the Spark session
     ends, and DuckDB loads them into the new warehouse file, so the win-back training,
     the gate, ``metrics``, ``metrics --by`` and the dashboard read it as a DuckDB build.

2. :func:`publish` (instead of ``Building.publish``): the tables the build added to the
   file after Spark (the win-back model's) are written to the Parquet folder too; the
   folder is renamed to a new version beside the warehouse
   (``.<stem>.parquet-<time>-<pid>``), the symlink ``<stem>.parquet`` is pointed at it
   (an atomic rename), then the file replaces the serving one (another). Each is complete
   on its own at every moment; the previous version is removed after. A failed,
   interrupted or killed build renames nothing it has not finished; a killed build's
   leftovers are removed by the next build.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from .. import contract
from ..build import (
    BuildFailed,
    Building,
    DuckDBSettings,
    dbt_phase,
    dbt_vars,
    remove_stale_builds,
    resolve_as_of,
)
from ..dbt_runner import parse_ahead
from ..params import Parameters
from ..progress import Progress
from . import loader as spark_loader
from . import session as spark_session

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


def check_available() -> None:
    """A build error (exit 1) naming what to install when Spark cannot run here."""
    try:
        spark_session.check_available()
    except spark_session.SparkUnavailable as exc:
        raise BuildFailed(str(exc)) from None


# ----------------------------------------------------------------------------- paths


def parquet_link(target: Path) -> Path:
    """The published Parquet folder: a symlink to the current version."""
    return target.with_name(f"{target.stem}.parquet")


def parquet_version(target: Path) -> Path:
    """A new versioned Parquet folder: build time (to the microsecond), then the process id."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
    return target.with_name(f".{target.stem}.parquet-{stamp}-{os.getpid()}")


def _pid_of(path: Path) -> int | None:
    tail = path.name.rsplit("-", 1)[-1].split(".")[0]
    return int(tail) if tail.isdigit() else None


def _alive(pid: int | None) -> bool:
    """Whether the build that owns a leftover is still running (this one included)."""
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_version(target: Path) -> Path | None:
    link = parquet_link(target)
    if not link.is_symlink():
        return None
    return link.with_name(os.readlink(link))


def remove_stale(target: Path) -> None:
    """Delete what killed builds left: their folders, unpublished Parquet versions."""
    remove_stale_builds(target)
    current = current_version(target)
    leftovers = [
        *target.parent.glob(f".{target.stem}.parquet-*"),
        *target.parent.glob(f".{target.stem}.parquet.link-*"),
    ]
    for path in leftovers:
        if path == current or _alive(_pid_of(path)):
            continue
        _rmtree(path)


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------------------- phases


def spark_phases(
    new: Building,
    data_dir: Path,
    params: Parameters,
    progress: Progress,
    profile: dict,
    master: str | None = None,
    mapped=None,
) -> tuple[dict[str, dict], Parameters]:
    """Load and dbt on Spark, then the results into ``new.path``; returns the load
    report and the parameters with as_of. ``mapped``: the map phase's result
    (sources.yml; ``data_dir`` is its folder, the same the DuckDB load would read)."""
    remove_stale(new.warehouse)
    scratch = new.dir / SCRATCH
    folder = new.dir / PARQUET
    new.on_signal.insert(0, spark_session.kill)  # a running query would hold a stop
    supplied = [s.path for s in spark_loader.duckdb_loader.discover(data_dir) if s.path]
    conf = spark_session.settings(scratch, master, sum(p.stat().st_size for p in supplied))
    # dbt parses the project (when its parse is not cached) while the JVM starts and loads.
    parsing = parse_ahead(new.path, dbt_vars(params), target=spark_session.PROFILE_OUTPUT)
    phase = progress.phase("spark", 1, "session")
    spark = spark_session.start(conf)
    try:
        phase.set(1)
        phase.finish(f"Spark {spark.version} on {spark.sparkContext.master}")
        tables, params = load_phase(spark, data_dir, params, progress, mapped)
        parsing.join()
        dbt_phase(new.path, params, None, progress, profile, target=spark_session.PROFILE_OUTPUT)
        names = export_parquet(spark, folder, progress)
    finally:
        with contextlib.suppress(Exception):
            spark_session.stop(spark)
        new.on_signal.remove(spark_session.kill)
    _rmtree(scratch)
    phase = progress.phase("serving file", len(names), "tables")
    assemble_duckdb(new.path, folder, names, phase)
    phase.finish()
    return tables, params


def load_phase(
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


# ----------------------------------------------------------------------------- export


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


# ----------------------------------------------------------------------------- publish


def publish(new: Building) -> None:
    """Publish the Parquet folder (a new version, then the symlink ``<stem>.parquet``)
    and the file (``Building.publish``), then remove the previous version."""
    target = new.warehouse
    link = parquet_link(target)
    if link.exists() and not link.is_symlink():
        raise BuildFailed(
            f"{link} exists and is not the symlink a Spark build publishes; move it away"
        )
    export_the_rest(new.path, new.dir / PARQUET)
    previous = current_version(target)
    version = parquet_version(target)
    os.replace(new.dir / PARQUET, version)  # same file system: the build's folder is beside
    tmp_link = target.with_name(f".{target.stem}.parquet.link-{os.getpid()}")
    _rmtree(tmp_link)
    try:
        os.symlink(version.name, tmp_link)  # relative: the folder can be moved whole
        os.replace(tmp_link, link)
    except BaseException:
        _rmtree(tmp_link)
        _rmtree(version)
        raise
    new.publish()
    if previous is not None and previous != version:
        _rmtree(previous)
