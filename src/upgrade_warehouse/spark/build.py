"""`build --engine spark`: load, model, test, export and publish on Apache Spark.

1. The loader's rules run on Spark (:mod:`.loader`) into the build's Spark session,
   whose tables live in a scratch folder beside the warehouse
   (``.<warehouse>.building-<pid>.spark/``, removed when the build ends).
2. dbt builds the seeds, models and tests through dbt-spark's ``session`` method,
   in-process, so it runs in that same session (the ``spark`` output of profiles.yml).
3. The marts, the seeds and the loader's tables the readers use (``raw.build_info``,
   ``load_report``, ``quarantine``, ``plans``) are written as Parquet into a new
   versioned folder beside the warehouse (``.<stem>.parquet-<build id>/<schema>/<table>/``)
   and loaded from there into a new DuckDB file (the serving warehouse the ``metrics``
   command and the dashboard read, as for a DuckDB build).
4. The data expectations validate that file (the same gate as a DuckDB build).
5. Publishing is two atomic renames after everything passed: the symlink
   ``<stem>.parquet`` is pointed at the new folder, then the new DuckDB file replaces the
   serving one. Each is complete on its own at every moment; the previous folder is
   removed after. A failed, interrupted or killed build renames nothing: the serving
   file and folder stay as they were, and a killed build's leftovers are removed by the
   next build.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import duckdb

from .. import contract, quality, winback
from ..build import (
    MEMORY_LIMIT,
    BuildFailed,
    BuildResult,
    _import_great_expectations,
    building_path,
    remove_stale_builds,
)
from ..errors import UserError
from ..params import Parameters
from ..paths import project_dir
from ..progress import Progress
from . import loader as spark_loader
from . import session as spark_session

# Relations the readers use besides every mart and seed: the loader's tables (metrics,
# dashboard) and as_of (the win-back training, which runs on the serving file).
READER_EXPORTS = (
    ("raw", "build_info"),
    ("raw", "load_report"),
    ("raw", "quarantine"),
    ("raw", "plans"),
    ("intermediate", "int_as_of"),
)
EXPORT_SCHEMAS = ("marts", "reference")


# ----------------------------------------------------------------------------- paths


def scratch_path(target: Path) -> Path:
    """Where this build's Spark tables live (a folder beside the warehouse)."""
    return target.with_name(f".{target.name}.building-{os.getpid()}.spark")


def parquet_link(target: Path) -> Path:
    """The published Parquet folder: a symlink to the current version."""
    return target.with_name(f"{target.stem}.parquet")


def parquet_version(target: Path) -> Path:
    """A new versioned Parquet folder: build time, then the process id."""
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
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
    """Delete what killed Spark builds left: scratch folders, unpublished Parquet versions."""
    remove_stale_builds(target)
    current = current_version(target)
    leftovers = [
        *target.parent.glob(f".{target.name}.building-*.spark"),
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


def _remove_file(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def publish(new_db: Path, new_version: Path, target: Path) -> None:
    """Point ``<stem>.parquet`` at ``new_version`` and replace ``target`` with ``new_db``
    (two atomic renames), then remove the previous Parquet version."""
    link = parquet_link(target)
    previous = current_version(target)
    if link.exists() and not link.is_symlink():
        raise BuildFailed(
            f"{link} exists and is not the symlink a Spark build publishes; move it away"
        )
    tmp_link = target.with_name(f".{target.stem}.parquet.link-{os.getpid()}")
    _rmtree(tmp_link)
    os.symlink(new_version.name, tmp_link)  # relative: the folder can be moved whole
    os.replace(tmp_link, link)
    os.replace(new_db, target)
    if previous is not None and previous != new_version:
        _rmtree(previous)


# ----------------------------------------------------------------------------- dbt


def run_dbt(params: Parameters, progress: Progress) -> None:
    """``dbt build`` (seeds, models, tests) in this process's Spark session."""
    from dbt.cli.main import dbtRunner

    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    os.environ.setdefault("DBT_NO_VERSION_CHECK", "True")
    project = project_dir()
    errors: list[str] = []
    done = 0

    def on_event(event) -> None:
        nonlocal done
        name = event.info.name
        if name in ("LogModelResult", "LogTestResult", "LogSeedResult"):
            done += 1
            node = event.data.node_info.node_name
            progress.update(f"dbt: {done} models and tests done ({node})")
        if event.info.level == "error":
            errors.append(event.info.msg.strip())

    with tempfile.TemporaryDirectory(prefix="uw-dbt-spark-") as tmp:
        args = [
            "build",
            "--target",
            spark_session.PROFILE_OUTPUT,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(Path(tmp) / "target"),
            "--log-path",
            str(Path(tmp) / "logs"),
            "--vars",
            json.dumps(params.dbt_vars()),
            "--no-use-colors",
            "--no-partial-parse",
            "--log-level",
            "none",
            "--log-level-file",
            "none",
        ]
        result = dbtRunner(callbacks=[on_event]).invoke(args)
    if not result.success:
        if result.exception is not None:
            errors.append(str(result.exception))
        detail = "\n".join(e for e in errors if e)[-4000:] or "dbt build failed"
        raise BuildFailed(f"dbt build failed; the serving warehouse was not replaced.\n{detail}")


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
    for schema, table in names:
        progress.update(f"writing {schema}.{table} as Parquet")
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
    return names


def assemble_duckdb(db_path: Path, folder: Path, names: list[tuple[str, str]]) -> None:
    """The serving DuckDB file: every exported relation as a table."""
    with duckdb.connect(str(db_path)) as con:
        con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
        con.execute("set TimeZone = 'UTC'")
        for schema in sorted({s for s, _ in names}):
            con.execute(f'create schema if not exists "{schema}"')
        for schema, table in names:
            files = str(folder / schema / table / "*.parquet")
            con.execute(
                f'create table "{schema}"."{table}" as select * from read_parquet(?)', [files]
            )
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


# ----------------------------------------------------------------------------- build


def build(
    data_dir: Path,
    warehouse: Path,
    params: Parameters,
    progress: Progress,
    master: str | None = None,
) -> BuildResult:
    """Build on Spark and publish; the caller has checked the load errors found before
    anything is read (missing files and columns)."""
    warehouse = warehouse.resolve()
    try:
        spark_session.check_available()
    except spark_session.SparkUnavailable as exc:
        raise BuildFailed(str(exc)) from None
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(warehouse)
    new_db = building_path(warehouse)
    scratch = scratch_path(warehouse)
    version = parquet_version(warehouse)
    for path in (new_db, scratch, version):
        _rmtree(path)

    def cleanup() -> None:
        _remove_file(new_db)
        _rmtree(scratch)
        _rmtree(version)

    def _cleanup_on_signal(signum, frame):
        spark_session.kill()
        cleanup()
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _cleanup_on_signal)
    spark = None
    try:
        progress.update("starting Spark")
        conf = spark_session.settings(scratch, master)
        spark = spark_session.start(conf)
        progress.update(f"Spark {spark.version} on {spark.sparkContext.master}")
        tables = spark_loader.load_data_dir(spark, data_dir, progress=progress.update)
        as_of = params.as_of or spark_loader.compute_as_of(spark)
        if as_of is None:
            raise UserError(
                f"{data_dir}: product_events and subscription_changes have no accepted "
                "rows, so as_of cannot be computed; pass --var as_of=..."
            )
        params = params.with_as_of(as_of)
        spark.sql(
            "create view raw.build_info as select "
            f"cast(timestamp_ntz'{as_of.isoformat(sep=' ')}' as timestamp) as as_of, "
            f"{spark_loader.spark_lit(params.reporting_currency)} as reporting_currency, "
            f"{spark_loader.spark_lit(json.dumps(params.as_json(), sort_keys=True))} "
            "as parameters_json"
        )
        progress.update("running dbt models and tests on Spark")
        started = time.monotonic()
        # Great Expectations takes seconds to import: do it while dbt runs.
        gx_import = threading.Thread(target=_import_great_expectations, daemon=True)
        gx_import.start()
        run_dbt(params, progress)
        progress.update(f"dbt done in {time.monotonic() - started:.0f}s; exporting")
        names = export_parquet(spark, version, progress)
        spark_session.stop(spark)
        spark = None
        _rmtree(scratch)
        progress.update("loading the marts into the serving DuckDB file")
        assemble_duckdb(new_db, version, names)
        winback.train_and_score(new_db, params, progress.update)  # docs/winback.md
        export_the_rest(new_db, version)
        progress.update("checking data expectations")
        gx_import.join()
        gate = quality.run_gate(new_db)
        quality.store_results(new_db, gate)
        if gate.blocking_failures:
            docs = quality.publish_docs(gate, warehouse.parent / "data_docs_failed")
            lines = [
                f"- {o.suite}: {o.expectation} on {o.column} ({o.details})"
                for o in gate.blocking_failures
            ]
            raise BuildFailed(
                f"{len(lines)} blocking data expectation(s) failed; the serving warehouse was "
                f"not replaced (Data Docs: {docs}).\n" + "\n".join(lines)
            )
        with duckdb.connect(str(new_db)) as con:
            con.execute("checkpoint")
        progress.update("publishing")
        publish(new_db, version, warehouse)
        docs = quality.publish_docs(gate, warehouse.parent / "data_docs")
    except BaseException as exc:
        if spark is not None and not isinstance(exc, Exception):  # interrupted
            spark_session.kill()
            spark = None
        cleanup()
        raise
    finally:
        if spark is not None:
            with contextlib.suppress(Exception):
                spark_session.stop(spark)
        _rmtree(scratch)
        signal.signal(signal.SIGTERM, previous)
    return BuildResult(
        warehouse,
        as_of,
        tables,
        {"passed": gate.passed, "failed": gate.failed},
        warnings=[f"{o.suite}: {o.expectation} on {o.column} ({o.details})" for o in gate.warnings],
        data_docs=docs,
    )
