"""The loader's rules on Spark (issue 14). On the loader's fixtures, their Parquet copies,
typed Parquet and generated bad rows of every reason, the Spark loader gives exactly
the DuckDB loader's report, quarantine rows (row number, reason, column at fault, the
raw row as it came), accepted rows and load report; a file Spark cannot read in full
gives the DuckDB engine's load error, word for word. One Spark session for the module."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spark_support import QUARANTINE_SQL, SPARK_ENV, duckdb_rows, spark_rows
from test_loader import to_parquet
from upgrade_warehouse import contract
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.generator import GeneratorConfig, generate
from upgrade_warehouse.loader import load_data_dir

pytestmark = pytest.mark.slow

_schemas = itertools.count()


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from upgrade_warehouse.spark import session

    with pytest.MonkeyPatch.context() as mp:
        for key, value in SPARK_ENV.items():
            mp.setenv(key, value)
        conf = session.settings(tmp_path_factory.mktemp("spark-loader"))
    spark = session.start(conf)
    yield spark
    session.stop(spark)


def load_both(spark, data_dir: Path):
    """(DuckDB connection, report), (Spark schema, report) of one data directory."""
    from upgrade_warehouse.spark import loader as spark_loader

    con = duckdb.connect()
    duck_report = load_data_dir(data_dir, con)
    schema = f"parity_{next(_schemas)}"
    spark_report = spark_loader.load_data_dir(spark, data_dir, schema=schema)
    return (con, duck_report), (schema, spark_report)


def assert_same_load(spark, data_dir: Path) -> dict:
    """Both engines load ``data_dir`` identically; returns the report."""
    (con, duck_report), (schema, spark_report) = load_both(spark, data_dir)
    assert spark_report == duck_report
    duck_q = duckdb_rows(con, QUARANTINE_SQL.format(schema="raw"))
    spark_q = spark_rows(spark, QUARANTINE_SQL.format(schema=schema))
    assert len(spark_q) == len(duck_q) == sum(t["quarantined"] for t in duck_report.values())
    for d, s in zip(duck_q, spark_q, strict=True):
        assert s == d  # table, file, row number, reason, column, raw row (JSON text)
    for table in contract.TABLES:
        sql = f"select * from {{schema}}.{table.name}"
        duck = sorted(duckdb_rows(con, sql.format(schema="raw")), key=repr)
        assert sorted(spark_rows(spark, sql.format(schema=schema)), key=repr) == duck, table.name
    report_sql = "select * from {schema}.load_report order by table_name"
    assert spark_rows(spark, report_sql.format(schema=schema)) == duckdb_rows(
        con, report_sql.format(schema="raw")
    )
    return duck_report


def reasons(report: dict) -> set[str]:
    return {r for t in report.values() for r in t["quarantined_by_reason"]}


def test_loader_fixture(spark, basic_dir):
    report = assert_same_load(spark, basic_dir)
    assert reasons(report) == set(contract.REASON_CODES)  # every rule is exercised


def test_loader_fixture_as_parquet(spark, basic_dir, tmp_path):
    to_parquet(basic_dir, tmp_path)
    assert_same_load(spark, tmp_path)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_generated_bad_rows_of_every_reason(spark, tmp_path, fmt):
    cfg = GeneratorConfig(accounts=150, months=3, seed=7, bad_row_rate=0.08, format=fmt)
    generate(tmp_path, cfg)
    report = assert_same_load(spark, tmp_path)
    assert reasons(report) == set(contract.REASON_CODES)
    assert sum(t["quarantined"] for t in report.values()) > 50


def test_parquet_with_native_types(spark, tmp_path):
    """Typed Parquet columns (timestamps with and without a zone, ints, booleans), with a
    bad value in a typed column and a duplicate: same rows, same quarantine."""
    pq.write_table(
        pa.table(
            {
                "account_id": ["a1", "a2", "a1"],
                "created_at": pa.array(
                    [
                        dt.datetime(2026, 1, 1, 12),
                        dt.datetime(2026, 1, 2, 12, 0, 0, 250000),
                        dt.datetime(2026, 1, 3),
                    ],
                    pa.timestamp("us"),
                ),
                "persona": ["founder", None, "x"],
                "acquisition_source": [None, None, None],
                "segment": [None, None, None],
                "country": ["FR", None, "DE"],
                "account_manager_id": [None, None, None],
            }
        ),
        tmp_path / "accounts.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "plan_id": ["p", "q"],
                "plan_name": ["P", "Q"],
                "tier_rank": pa.array([1, -1], pa.int64()),
                "billing_interval": ["month", "month"],
                "unit_amount_minor": pa.array([1000, 5], pa.int64()),
                "currency": ["EUR", "EUR"],
                "self_serve": [True, False],
                "min_seats": pa.array([None, None], pa.int64()),
                "max_seats": pa.array([None, None], pa.int64()),
                "entitlements": [None, None],
            }
        ),
        tmp_path / "plans.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "change_id": ["c1"],
                "subscription_id": ["s1"],
                "account_id": ["a1"],
                "changed_at": pa.array(
                    [dt.datetime(2026, 1, 3, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC")
                ),
                "effective_at": pa.array(
                    [dt.datetime(2026, 1, 3, tzinfo=dt.UTC)], pa.timestamp("us", tz="UTC")
                ),
                "from_plan_id": [None],
                "to_plan_id": ["p"],
                "from_quantity": pa.array([None], pa.int64()),
                "to_quantity": pa.array([2], pa.int64()),
                "initiated_by": ["customer"],
                "channel": ["web"],
                "period_start": pa.array([None], pa.timestamp("us")),
                "period_end": pa.array([None], pa.timestamp("us")),
                "proration_behavior": [None],
                "reason_code": [None],
            }
        ),
        tmp_path / "subscription_changes.parquet",
    )
    (tmp_path / "product_events.csv").write_text(
        "event_id,account_id,user_id,event_name,occurred_at,received_at,properties\n"
        'e1,a2,,activated,2026-01-04T00:00:00Z,,"{""change_id"": ""c1""}"\n'
    )
    report = assert_same_load(spark, tmp_path)
    assert report["plans"]["quarantined_by_reason"] == {"bad_value": 1}
    assert report["accounts"]["quarantined_by_reason"] == {"duplicate_id": 1}


# ----------------------------------------------------------------------------- load errors


def _ragged_line(d: Path) -> None:
    with open(d / "product_events.csv", "a") as f:
        f.write('ev_99,acc_1,u_1,activated,2026-01-01T00:00:00Z,,"{}",extra,extra\n')


def _short_line(d: Path) -> None:
    with open(d / "sync_events.csv", "a") as f:
        f.write("se_99,ch_1\n")


def _unterminated_quote(d: Path) -> None:
    with open(d / "upsell_offers.csv", "a") as f:
        f.write('uo_99,acc_1,"usage_threshold,automated,in_app,,2026-01-01T00:00:00Z,,,\n')


def _invalid_utf8_far_down(d: Path) -> None:
    """Past the header check's first read: only reading the whole file finds it."""
    with open(d / "accounts.csv", "ab") as f:
        f.writelines(
            f"acc_x{i},2026-01-01T00:00:00Z,founder,organic,smb,US,,\n".encode()
            for i in range(3000)
        )
        f.write(b"acc_9,2026-01-01T00:00:00Z,\xff\xfe,organic,smb,US,,\n")


@pytest.mark.parametrize(
    "make", [_ragged_line, _short_line, _unterminated_quote, _invalid_utf8_far_down]
)
def test_unreadable_file_gives_the_duckdb_engines_error(spark, basic_dir, tmp_path, make):
    from upgrade_warehouse.spark import loader as spark_loader

    data = tmp_path / "data"
    shutil.copytree(basic_dir, data)
    make(data)
    with pytest.raises(UserError) as duck:
        load_data_dir(data, duckdb.connect())
    with pytest.raises(UserError) as on_spark:
        spark_loader.load_data_dir(spark, data, schema=f"parity_{next(_schemas)}")
    assert "cannot read the file" in str(duck.value)
    assert str(on_spark.value) == str(duck.value)


def test_a_real_replacement_character_is_text(spark, basic_dir, tmp_path):
    """Spark reads invalid UTF-8 as U+FFFD; a U+FFFD that is really in the file is kept."""
    data = tmp_path / "data"
    shutil.copytree(basic_dir, data)
    with open(data / "accounts.csv", "a", encoding="utf-8") as f:
        f.write("acc_fffd,2026-01-01T00:00:00Z,\ufffd,organic,smb,US,,\n")
    report = assert_same_load(spark, data)
    assert report["accounts"]["accepted"] == 5
