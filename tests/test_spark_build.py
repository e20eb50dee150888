"""`build --engine spark` end to end (issue 14): the golden data set built on Spark once
per session (conftest.spark_golden) gives the DuckDB build's report, load report,
quarantine and metrics; the publish layout (serving DuckDB file + versioned Parquet
folder); the readers (metrics, dashboard) read it unchanged; a failed Spark build leaves
the serving warehouse untouched. The hand-computed golden metrics themselves are checked
on the Spark build by test_spark_golden.py."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from conftest import FIXTURES, run_cli, sha256
from spark_support import SPARK_ENV
from test_build import refused_build
from upgrade_warehouse.loader import load_data_dir

# The first test of the session that needs it builds the golden set on Spark (minutes
# on a busy 2-core machine): more than the suite's 600 s per test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="session")
def golden(golden_warehouse):
    """The DuckDB build of the golden set (conftest), the reference of these tests."""
    return golden_warehouse


def tables(path: Path) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] of a warehouse."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name, column_name, data_type "
            "from information_schema.columns order by table_schema, table_name, ordinal_position"
        ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for name, column, data_type in rows:
        out.setdefault(name, []).append((column, data_type))
    return out


def rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


# ----------------------------------------------------------------------------- report


def test_report_and_quarantine_equal_the_duckdb_build(spark_golden, golden):
    path, report, _ = spark_golden
    assert report["status"] == "ok"
    assert Path(report["warehouse"]) == path.resolve()
    # The golden set is clean: the DuckDB loader reads it in full (counts per table).
    duck_report = load_data_dir(FIXTURES / "golden", duckdb.connect())
    assert report["tables"] == duck_report
    assert report["as_of"] == "2026-03-31T12:00:00Z"
    for sql in (
        "select * from raw.load_report order by table_name",
        "select * from raw.quarantine order by table_name, row_number",
        "select * from raw.build_info",
        "select * from raw.plans order by plan_id",
    ):
        assert rows(path, sql) == rows(golden, sql), sql


def test_same_expectations_as_the_duckdb_build(spark_golden, golden):
    path, report, _ = spark_golden
    sql = (
        "select suite, expectation, column_name, severity, success from "
        "quality.expectation_results order by all"
    )
    spark_results, duck_results = rows(path, sql), rows(golden, sql)
    assert spark_results == duck_results
    assert report["expectations"] == {
        "passed": sum(r[4] for r in duck_results),
        "failed": sum(not r[4] for r in duck_results),
    }


def test_metrics_json_equals_the_duckdb_builds(spark_golden, golden):
    out = {}
    for name, path in (("spark", spark_golden[0]), ("duckdb", golden)):
        proc = run_cli("metrics", "--warehouse", path, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        # The stale warning says when each build ran (the two ran minutes apart).
        out[name] = re.sub(
            r"before the build of \d{4}-\d\d-\d\d \d\d:\d\d UTC|\"built_at\": \"[^\"]*\"|\"age_days\": [0-9.]+",
            "<build time>",
            proc.stdout,
        )
    assert "stale" in out["spark"]  # the golden data ends in 2026: stale here
    assert out["spark"] == out["duckdb"]  # every value, every key, in the same order
    assert len(json.loads(proc.stdout)["months"]) == 3


def same_values(a: list[tuple], b: list[tuple]) -> bool:
    """Rows equal, floats to 1e-9 (sums in another order may differ in the last bit)."""
    if len(a) != len(b):
        return False
    for row_a, row_b in zip(a, b, strict=True):
        for x, y in zip(row_a, row_b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if x != pytest.approx(y, rel=1e-9, abs=1e-12):
                    return False
            elif x != y:
                return False
    return True


def test_serving_file_holds_the_marts_with_the_duckdb_builds_columns(spark_golden, golden):
    spark_tables, duck_tables = tables(spark_golden[0]), tables(golden)
    readers = {
        f"raw.{t}" for t in ("build_info", "load_report", "source_report", "quarantine", "plans")
    }
    readers.add("intermediate.int_as_of")
    expected = {
        name
        for name in duck_tables
        if name.split(".")[0] in ("marts", "reference", "quality") or name in readers
    }
    assert set(spark_tables) == expected
    assert len([n for n in expected if n.startswith("marts.")]) >= 12
    # DuckDB sums integers into HUGEINT, Spark into BIGINT (docs/spark.md); else the same.
    as_spark = {"HUGEINT": "BIGINT"}
    for name in expected:
        duck_columns = [(c, as_spark.get(t, t)) for c, t in duck_tables[name]]
        assert spark_tables[name] == duck_columns, name
    for mart in (n for n in expected if n.startswith("marts.")):
        sql = f"select * from {mart} order by all"
        assert same_values(rows(spark_golden[0], sql), rows(golden, sql)), mart


def test_published_layout(spark_golden):
    path = spark_golden[0]
    link = path.with_name("golden.parquet")
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    version = link.resolve()
    assert version.parent == path.parent and version.name.startswith(".golden.parquet-")
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        ["golden.duckdb", "golden.parquet", version.name, "golden_data_docs"]
    )
    with duckdb.connect(str(path), read_only=True) as con:
        for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema <> 'quality'"
        ).fetchall():
            parquet = str(link / schema / table / "*.parquet")
            assert con.execute(
                f"select count(*) from (select * from read_parquet(?) except all "
                f"select * from {schema}.{table})",
                [parquet],
            ).fetchone() == (0,), f"{schema}.{table}"
            assert (
                con.execute("select count(*) from read_parquet(?)", [parquet]).fetchone()
                == con.execute(f"select count(*) from {schema}.{table}").fetchone()
            )


def test_build_reports_spark_progress(spark_golden):
    stderr = spark_golden[2]
    assert "Spark 4." in stderr and "local[2]" in stderr
    assert "Traceback" not in stderr
    # Spark's own logging is kept to errors (log lines start "spark: LEVEL").
    assert not [line for line in stderr.splitlines() if line.startswith("spark: WARN")]


# ----------------------------------------------------------------------------- readers


# Every page of both builds through AppTest (22 page runs, the slowest Spark test after the
# build): `make test-spark` only. `make test` checks what the pages read instead: every
# mart, reference and quality table of the Spark build equals the DuckDB build's, column
# types included (test_serving_file_holds_the_marts_with_the_duckdb_builds_columns).
@pytest.mark.spark_parity
def test_dashboard_pages_render_a_spark_build_like_a_duckdb_build(
    spark_golden, golden, monkeypatch
):
    from test_dashboard_apptest import PAGE_FILES, app, metric_values, texts

    for title in PAGE_FILES:
        shown = {}
        for name, path in (("spark", spark_golden[0]), ("duckdb", golden)):
            at = app(path, monkeypatch, title)
            text = texts(at) if title != "Data quality" else ""
            for form in {str(path), str(path.resolve())}:  # the pages name the file
                text = text.replace(form, "<warehouse>")
            # and when it was published (the two builds ran minutes apart)
            text = re.sub(r"published \d{4}-\d\d-\d\d \d\d:\d\d", "published <time>", text)
            text = re.sub(r"build of \d{4}-\d\d-\d\d \d\d:\d\d UTC", "<build>", text)  # stale
            values = metric_values(at)
            values.pop("Published", None)  # Data quality: the minute of each build
            shown[name] = (values, text)
        assert shown["spark"] == shown["duckdb"], title


# ----------------------------------------------------------------------------- attempts

# An account with an upgrade_intent every day for 40 days: one segment of 40 candidate
# starts (each inside the attempt of the one before), more than the 2^5 of
# int_upgrade_attempts' short tier, so its chain goes through the long tier, which Spark
# builds as staged tables (macros/spark.sql; the golden set's long tier is empty).
LONG_CHAIN_DAYS = 40


@pytest.mark.spark_parity
def test_a_chain_through_the_long_tier_gives_the_duckdb_builds_attempts(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "golden", data)
    with open(data / "accounts.csv", "a") as f:
        f.write("LC,2025-12-01T00:00:00Z,founder,organic,smb,US,\n")
    with open(data / "product_events.csv", "a") as f:
        for day in range(LONG_CHAIN_DAYS):
            at = datetime.date(2026, 1, 1) + datetime.timedelta(days=day)
            f.write(f"lc_{day},LC,lc_u,upgrade_intent,{at}T00:00:00Z,,\n")
    paths = {}
    for engine in ("spark", "duckdb"):
        paths[engine] = tmp_path / f"{engine}.duckdb"
        proc = run_cli(
            "build",
            "--engine",
            engine,
            "--data-dir",
            data,
            "--warehouse",
            paths[engine],
            env=SPARK_ENV,
            timeout=1400,
        )
        assert proc.returncode == 0, proc.stderr
    sql = "select * from marts.fct_upgrade_attempts order by all"
    assert same_values(rows(paths["spark"], sql), rows(paths["duckdb"], sql))
    # By hand (metrics.md "Upgrade attempts", a 14-day window, end inclusive): Jan 1 opens
    # an attempt until Jan 15, the next start is Jan 16 (open until Jan 30), then Jan 31;
    # nothing but step 1 is reached and all three windows end before as_of (Mar 31).
    chain = rows(
        paths["spark"],
        "select strftime(started_at, '%Y-%m-%d'), last_step_index, outcome "
        "from marts.fct_upgrade_attempts where account_id = 'LC' order by started_at",
    )
    assert chain == [
        ("2026-01-01", 1, "abandoned"),
        ("2026-01-16", 1, "abandoned"),
        ("2026-01-31", 1, "abandoned"),
    ]


# ----------------------------------------------------------------------------- failures


# In `make test-spark` (a JVM of its own, about a minute of CPU); `make test` checks the
# same error on Spark in test_spark_loader.py's session (the ragged line).
@pytest.mark.spark_parity
def test_a_load_error_found_by_spark_exits_2_and_keeps_serving(tmp_path, basic_dir, golden):
    """A ragged line far from the header: the checks before Spark starts pass, Spark's
    read fails; same message as the DuckDB engine, nothing published, nothing left."""
    data = tmp_path / "data"
    shutil.copytree(basic_dir, data)
    with open(data / "product_events.csv", "a") as f:
        f.write('ev_99,acc_1,u_1,activated,2026-01-01T00:00:00Z,,"{}",extra,extra\n')
    serving = tmp_path / "serving.duckdb"
    shutil.copy(golden, serving)
    before = sha256(serving)
    messages = {}
    for engine in ("spark", "duckdb"):
        proc = run_cli(
            "build", "--engine", engine, "--data-dir", data, "--warehouse", serving, env=SPARK_ENV
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and proc.stderr.strip().endswith(errors[0]), proc.stderr
        messages[engine] = errors[0]
    assert messages["spark"] == messages["duckdb"]
    assert "product_events.csv: cannot read the file" in messages["spark"]
    assert sha256(serving) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "serving.duckdb"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--engine", "flink"], "--engine"),
        (["--spark-master", "spark://h:7077"], "--spark-master needs --engine spark"),
    ],
)
def test_bad_engine_options_exit_2(tmp_path, basic_dir, args, needle):
    assert needle in refused_build(tmp_path, basic_dir, *args)
    assert list(tmp_path.iterdir()) == []


def test_spark_without_java_says_what_to_install(tmp_path, basic_dir):
    env = {"PATH": "/nonexistent", "JAVA_HOME": ""}
    proc = run_cli(
        "build",
        "--engine",
        "spark",
        "--data-dir",
        basic_dir,
        "--warehouse",
        tmp_path / "w.duckdb",
        env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Java 17" in proc.stderr and "make install" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("input_bytes", "master", "own", "expected"),
    [
        # a small local build: both options, after the ones the build always adds
        (10_000, None, "", ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]),
        (64 * 1024 * 1024, None, "", ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]),
        # larger inputs, a cluster, or an unknown size: the JVM's defaults
        (64 * 1024 * 1024 + 1, None, "", []),
        (10_000, "spark://h:7077", "", []),
        (None, None, "", []),
        # the user's own JIT or collector choice is kept, the other option added
        (10_000, None, "-XX:+UseG1GC", ["-XX:+UseG1GC", "-XX:TieredStopAtLevel=1"]),
        (10_000, None, "-XX:-TieredCompilation", ["-XX:-TieredCompilation", "-XX:+UseSerialGC"]),
    ],
)
def test_small_local_builds_get_the_quick_jvm_options(
    monkeypatch, tmp_path, input_bytes, master, own, expected
):
    from upgrade_warehouse.spark import session

    conf = {"spark.driver.extraJavaOptions": own} if own else {}
    monkeypatch.setenv(session.CONF_ENV, json.dumps(conf))
    options = session.settings(tmp_path, master, input_bytes)["spark.driver.extraJavaOptions"]
    chosen = [o for o in options.split() if re.match(r"-XX:[+-]?(Tiered|Use\w*GC)", o)]
    assert sorted(chosen) == sorted(expected)
    assert "-Xss" in options  # the options the build always adds are still there


@pytest.mark.parametrize("missing", ["pyspark", "dbt.adapters.spark"])
def test_spark_without_the_extra_says_what_to_install(monkeypatch, missing):
    """Found without being imported (importing dbt-spark takes seconds)."""
    import importlib.util

    from upgrade_warehouse.spark import session

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == missing else find_spec(name)
    )
    with pytest.raises(session.SparkUnavailable, match="needs the `spark` extra"):
        session.check_available()
    monkeypatch.undo()
    session.check_available()  # both installed here


# ----------------------------------------------------------------------------- publish


def _publish_fake_build(target: Path, text: str) -> None:
    """A Spark build of ``target``, published: what it writes into its folder (the DuckDB
    file and the Parquet folder, one table holding ``text``), then ``publish``."""
    from upgrade_warehouse.pipeline.publish import publish
    from upgrade_warehouse.workspace import Building

    with Building(target) as new:
        folder = new.dir / "parquet" / "marts" / "x"
        folder.mkdir(parents=True)
        with duckdb.connect(str(new.path)) as con:
            con.execute("create schema marts")
            con.execute("create table marts.x as select ? as v", [text])
            con.execute(f"copy marts.x to '{folder / 'part-0.parquet'}' (format parquet)")
        publish(new, new.dir / "parquet")


def _served(target: Path) -> str:
    with duckdb.connect(str(target), read_only=True) as con:
        return con.execute("select v from marts.x").fetchone()[0]


def _published(target: Path) -> str:
    from upgrade_warehouse.workspace import parquet_link

    files = str(parquet_link(target) / "marts" / "x" / "*.parquet")
    return duckdb.execute("select v from read_parquet(?)", [files]).fetchone()[0]


def test_publish_swaps_the_folder_and_the_file_and_removes_the_previous_version(tmp_path):
    from upgrade_warehouse.workspace import current_version

    target = tmp_path / "w.duckdb"
    _publish_fake_build(target, "one")
    v1 = current_version(target)
    assert _served(target) == _published(target) == "one"
    assert v1.name.startswith(".w.parquet-") and v1.name.endswith(f"-{os.getpid()}")
    _publish_fake_build(target, "two")  # a second build of the same process, within the same second
    assert _served(target) == _published(target) == "two"
    v2 = current_version(target)
    assert not v1.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["w.duckdb", "w.parquet", v2.name])


def test_leftovers_of_killed_spark_builds_are_removed_and_the_served_version_kept(tmp_path):
    from upgrade_warehouse.workspace import current_version
    from upgrade_warehouse.workspace import remove_stale_parquet as remove_stale

    target = tmp_path / "w.duckdb"
    _publish_fake_build(target, "served")
    served = current_version(target)
    dead = subprocess.Popen(["true"])
    dead.wait()
    own = tmp_path / f".w.parquet-20260104T000000-{os.getpid()}"  # this build's own
    own.mkdir()
    stale = [
        tmp_path / f".w.duckdb.building-{dead.pid}",  # a killed build's folder (Spark's too)
        tmp_path / f".w.parquet-20260101T000000-{dead.pid}",  # killed while publishing
        tmp_path / f".w.parquet.link-{dead.pid}",
    ]
    (stale[0] / "spark" / "spark-warehouse").mkdir(parents=True)
    stale[1].mkdir()
    stale[2].symlink_to(stale[1].name)
    live = tmp_path / f".w.parquet-20260101T000000-{os.getppid()}"  # a running build
    live.mkdir()
    remove_stale(target)
    assert not any(p.exists() or p.is_symlink() for p in stale)
    assert live.exists() and served.exists() and own.exists() and _served(target) == "served"
