"""The Spark session of a build: settings, Java check, start and stop.

Settings, lowest precedence first:

1. :data:`DEFAULTS` (a local session on every core, UTC, no UI, modest driver memory);
2. ``server_side_parameters`` of the ``spark`` output in ``profiles.yml`` (the dbt
   profile: where a team keeps its cluster settings, e.g. ``spark.executor.memory``);
3. ``UPGRADE_WAREHOUSE_SPARK_CONF``: a JSON object of Spark settings for one run (the
   tests use it to tune a JVM for tiny inputs);
4. ``--spark-master URL`` (or ``UPGRADE_WAREHOUSE_SPARK_MASTER``, which the shipped
   profile reads).

The build sets where Spark keeps its tables (``spark.sql.warehouse.dir``, a scratch
folder beside the warehouse) itself. The catalog is Spark's in-memory one: the tables
only live for the build, which publishes its results as Parquet and DuckDB, so no Hive
metastore is needed. Nothing is downloaded (no ``spark.jars.packages``): pyspark ships
Spark's jars and Java comes from the system.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import warnings
from pathlib import Path

from ..errors import UserError
from ..paths import project_dir

PROFILE_OUTPUT = "spark"
CONF_ENV = "UPGRADE_WAREHOUSE_SPARK_CONF"

DEFAULTS: dict[str, str] = {
    "spark.master": "local[*]",
    "spark.app.name": "upgrade-warehouse",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.catalogImplementation": "in-memory",
    # Timestamps in Parquet as the standard micros (DuckDB reads them as TIMESTAMP).
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    # A JSON object with a repeated key is still an object (as in DuckDB).
    "spark.sql.variant.allowDuplicateKeys": "true",
    "spark.sql.adaptive.enabled": "true",
}

# Shuffle partitions for a local session: a few per core (Spark's default of 200 is
# meant for clusters; adaptive execution coalesces them there).
LOCAL_SHUFFLE_PARTITIONS_PER_CORE = 2

DRIVER_THREAD_STACK = "64m"
CODE_CACHE = "512m"
# A local build of a small data set (input files of at most this many bytes in all) is
# made of fixed costs: the JVM's start and the planning of ~150 dbt queries, each run
# once. There the JVM's first JIT tier alone (no C2 compiler threads recompiling
# Spark's planner) and the serial garbage collector (no collector threads) spend about
# 0.7x the CPU for the same build (docs/spark.md, "JVM options for small data sets").
# Larger inputs keep the JVM's defaults, made for long-running hot code.
QUICK_JVM_MAX_INPUT_BYTES = 64 * 1024 * 1024
QUICK_JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


class SparkUnavailable(Exception):
    """Java or pyspark is missing: `--engine spark` cannot run here."""


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def check_available() -> None:
    """Raise :class:`SparkUnavailable` with what to install when Spark cannot start."""
    # Found, not imported: importing dbt-spark takes seconds, which the build spends in
    # its dbt phase (or while the JVM starts: dbt_runner.parse_ahead).
    if not all(_installed(name) for name in ("pyspark", "dbt.adapters.spark")):
        raise SparkUnavailable(
            "--engine spark needs the `spark` extra (pyspark, dbt-spark): run `make install` "
            "or `uv sync --extra spark` (pip: `pip install 'upgrade-warehouse[spark]'`)"
        )
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").is_file()) and not shutil.which(
        "java"
    ):
        raise SparkUnavailable(
            "--engine spark needs Java 17: run `make install` (it installs Debian's "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )


def profile_settings(project: Path | None = None) -> dict[str, str]:
    """``server_side_parameters`` of the ``spark`` output of profiles.yml (rendered)."""
    import jinja2
    import yaml

    path = (project or project_dir()) / "profiles.yml"
    if not path.is_file():
        return {}

    def env_var(name: str, default: str | None = None) -> str:
        value = os.environ.get(name, default)
        if value is None:
            raise KeyError(f"profiles.yml: environment variable {name} is not set")
        return value

    env = jinja2.Environment()
    # dbt's filters for typed values (the duckdb output's threads use as_number): the
    # text is read as YAML after, which gives the types.
    env.filters.update(dict.fromkeys(("as_bool", "as_native", "as_number", "as_text"), str))
    text = env.from_string(path.read_text()).render(env_var=env_var)
    profiles = yaml.safe_load(text) or {}
    for profile in profiles.values():
        output = (profile.get("outputs") or {}).get(PROFILE_OUTPUT)
        if output:
            return {str(k): str(v) for k, v in (output.get("server_side_parameters") or {}).items()}
    return {}


def env_settings() -> dict[str, str]:
    """Settings from ``UPGRADE_WAREHOUSE_SPARK_CONF`` (a JSON object), if set."""
    text = os.environ.get(CONF_ENV, "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{CONF_ENV} is not a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise UserError(f"{CONF_ENV} must be a JSON object of Spark settings")
    return {str(k): str(v) for k, v in value.items()}


def settings(
    scratch: Path, master: str | None = None, input_bytes: int | None = None
) -> dict[str, str]:
    """Every Spark setting of a build whose Spark tables live under ``scratch``;
    ``input_bytes``: the size of its input files, when known."""
    conf = {**DEFAULTS, **profile_settings(), **env_settings()}
    if master:
        conf["spark.master"] = master
    conf["spark.sql.warehouse.dir"] = str(scratch / "spark-warehouse")
    java_options = conf.get("spark.driver.extraJavaOptions", "")
    if conf["spark.master"].startswith("local"):
        conf.setdefault(
            "spark.sql.shuffle.partitions",
            str(LOCAL_SHUFFLE_PARTITIONS_PER_CORE * _local_cores(conf["spark.master"])),
        )
        conf.setdefault("spark.local.dir", str(scratch / "tmp"))
        if input_bytes is not None and input_bytes <= QUICK_JVM_MAX_INPUT_BYTES:
            java_options = quick_jvm_options(java_options)
    if "log4j2.configurationFile" not in java_options:
        java_options = f"{java_options} -Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"
    if "-Xlog" not in java_options:
        # The JVM's own warnings (e.g. "CodeCache is full") go to stdout by default, where
        # they would break `build --format json`: to stderr.
        java_options = f"{java_options} -Xlog:disable -Xlog:all=warning:stderr"
    if "ReservedCodeCacheSize" not in java_options:
        # Room for the JIT's code: when the cache is full the JVM stops compiling and
        # the rest of the build runs interpreted (many times slower).
        java_options = f"{java_options} -XX:ReservedCodeCacheSize={CODE_CACHE}"
    if "-Xss" not in java_options:
        # Spark's analyzer recurses over a query's plan: int_upgrade_attempts' pointer
        # doubling (20 levels, each referring to the one before) overflows the JVM's
        # default 1 MB thread stack.
        java_options = f"{java_options} -Xss{DRIVER_THREAD_STACK}"
    conf["spark.driver.extraJavaOptions"] = java_options.strip()
    return conf


def quick_jvm_options(java_options: str) -> str:
    """``java_options`` with QUICK_JVM_OPTIONS added, but for a JIT or a garbage
    collector setting the user chose."""
    own_jit = re.search(r"-XX:[+-]?Tiered", java_options)
    own_gc = re.search(r"-XX:\+Use\w*GC\b", java_options)
    jit, gc = QUICK_JVM_OPTIONS
    return " ".join([java_options, *([] if own_jit else [jit]), *([] if own_gc else [gc])]).strip()


def _local_cores(master: str) -> int:
    """Cores of ``local``, ``local[N]`` or ``local[*]``."""
    inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
    if inside.split(",")[0].strip() in ("*", ""):
        return os.cpu_count() or 1
    try:
        return max(1, int(inside.split(",")[0]))
    except ValueError:
        return os.cpu_count() or 1


def start(conf: dict[str, str]):
    """Start (or join) the process's Spark session with ``conf``."""
    check_available()
    with warnings.catch_warnings():
        # pyspark warns about pandas 3 on import; the build does not use pandas on Spark.
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql import SparkSession

        builder = SparkSession.builder
        for key, value in conf.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stop(spark) -> None:
    spark.stop()


def kill() -> None:
    """End this process's Spark JVM at once: a signal or Ctrl-C stopped the build, and a
    running query would keep a graceful stop (and the JVM) waiting."""
    from pyspark import SparkContext

    proc = getattr(SparkContext._gateway, "proc", None)
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
