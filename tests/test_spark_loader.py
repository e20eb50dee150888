"""The loader's rules on Spark (issue 14). On the loader's fixtures, their Parquet copies,
typed Parquet and generated bad rows of every reason, the Spark loader gives exactly
the DuckDB loader's report, quarantine rows (row number, reason, column at fault, the
raw row as it came), accepted rows and load report; a file Spark cannot read in full
gives the DuckDB engine's load error, word for word. One Spark session for the module."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spark_support import QUARANTINE_SQL, SPARK_ENV, duckdb_rows, spark_rows
from test_hostile import append_rows, change, copy_basic, event, plan
from test_loader import to_parquet
from test_loader_fuzz import ODD_VALUES
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
        # the fixtures' data sets are small: the JVM options of a small build
        conf = session.settings(tmp_path_factory.mktemp("spark-loader"), input_bytes=0)
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
    return same_load(spark, data_dir)[0]


def same_load(spark, data_dir: Path) -> tuple[dict, str]:
    """Both engines load ``data_dir`` identically; returns the report and Spark's schema."""
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
    return duck_report, schema


def reasons(report: dict) -> set[str]:
    return {r for t in report.values() for r in t["quarantined_by_reason"]}


def test_loader_fixture(spark, basic_dir):
    report = assert_same_load(spark, basic_dir)
    assert reasons(report) == set(contract.REASON_CODES)  # every rule is exercised


@pytest.mark.spark_parity
def test_loader_fixture_as_parquet(spark, basic_dir, tmp_path):
    to_parquet(basic_dir, tmp_path)
    assert_same_load(spark, tmp_path)


@pytest.mark.spark_parity
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


def _two_unreadable_files(d: Path) -> None:
    """product_events and fx_rates (last in contract order, referencing nothing) both
    unreadable: the Spark loader runs both (two tables at once, each when the tables it
    references are in), the DuckDB loader stops at the first in contract order; the
    error reported must be that one (product_events) on both."""
    _ragged_line(d)
    with open(d / "fx_rates.csv", "a") as f:
        f.write("2026-01-02,EUR,1.09,extra\n")


@pytest.mark.parametrize(
    "make",
    [
        # in `make test` (the Spark build's own load error is in `make test-spark`)
        _ragged_line,
        *(
            pytest.param(make, marks=pytest.mark.spark_parity)
            for make in (
                _short_line,
                _unterminated_quote,
                _invalid_utf8_far_down,
                _two_unreadable_files,
            )
        ),
    ],
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


@pytest.mark.spark_parity
def test_a_real_replacement_character_is_text(spark, basic_dir, tmp_path):
    """Spark reads invalid UTF-8 as U+FFFD; a U+FFFD that is really in the file is kept."""
    data = tmp_path / "data"
    shutil.copytree(basic_dir, data)
    with open(data / "accounts.csv", "a", encoding="utf-8") as f:
        f.write("acc_fffd,2026-01-01T00:00:00Z,\ufffd,organic,smb,US,,\n")
    report = assert_same_load(spark, data)
    assert report["accounts"]["accepted"] == 5


# ------------------------------------------- hostile input (issue 15): the same rules


def _hostile_rows(data: Path) -> None:
    """The rows of test_hostile.py's date, type and bound checks, plus the limits."""
    append_rows(
        data / "product_events.csv",
        [
            event("h_1900", occurred_at="1900-01-01T00:00:00Z"),
            event("h_1969", occurred_at="1969-12-31T23:59:59Z"),
            event("h_9999", occurred_at="9999-12-31T00:00:00Z"),
            event("h_2100", occurred_at="2100-01-01T00:00:00Z"),
            event("h_2100_date", occurred_at="2100-01-01"),
            event("h_10000", occurred_at="10000-01-01T00:00:00Z"),
            event("h_inf", occurred_at="infinity"),
            event("h_minf", occurred_at="-infinity"),
            event("h_epoch", occurred_at="epoch"),
            event("h_now", occurred_at="now"),
            event("h_tz", occurred_at="2026-01-05 10:00:00 America/New_York"),
            event("h_tz_name", occurred_at="2026-01-05T10:00:00UTC"),
            event("h_off", occurred_at="2026-01-05T10:00:00+25:00"),
            event("h_off15", occurred_at="2026-01-05T10:00:00+15:00"),
            event("h_year", occurred_at="2026"),
            event("h_month", occurred_at="2026-01"),
            event("h_short", occurred_at="2026-1-5"),
            event("h_slash", occurred_at="2026/01/05"),
            event("h_feb30", occurred_at="2026-02-30"),
            event("h_recv", received_at="infinity"),
            event("h_nan", properties='{"a": NaN}'),
            event("h_nan_lower", properties='{"a": nan}'),
            event("h_inf_json", properties='{"a": {"b": [1, -Infinity]}}'),
            event("h_inf_after_text", properties='{"a": "x\\"y", "b": Infinity}'),
            # Valid: the edges of the range, offsets, fractions, NaN inside strings.
            event("ok_1970", occurred_at="1970-01-01T00:00:00Z"),
            event("ok_2099", occurred_at="2099-12-31T23:59:59.999999Z"),
            event("ok_plus14", occurred_at="2026-03-01T00:00:00+14:00"),
            event("ok_minus14", occurred_at="2026-03-01T00:00:00-14:00"),
            event("ok_offset_hours", occurred_at="2026-03-01T00:00:00+05"),
            event("ok_offset_compact", occurred_at="2026-03-01T00:00:00+0530"),
            event("ok_space", occurred_at="2026-03-01 10:11:12"),
            event("ok_minutes", occurred_at="2026-03-01T10:11"),
            event("ok_nanos", occurred_at="2026-03-01T10:11:12.123456789Z"),
            event("ok_millis", occurred_at="2026-03-01T10:11:12.5Z"),
            event("h_lower_z", occurred_at="2026-03-01T10:11:12z"),  # neither engine parses it
            event("ok_date", occurred_at="2026-02-03"),
            event("ok_nan_text", properties='{"note": "NaN and Infinity are words here"}'),
            event("ok_nan_key", properties='{"NaN": "inf", "info": 1}'),
        ],
    )
    append_rows(
        data / "subscription_changes.csv",
        [
            change("h_qty", to_quantity=str(contract.MAX_QUANTITY + 1)),
            change("h_qty_big", to_quantity=str(10**15)),
            change("ok_qty", to_quantity=str(contract.MAX_QUANTITY)),
            change("h_period", to_quantity="1", period_end="2100-02-01"),
        ],
    )
    append_rows(
        data / "plans.csv",
        [
            plan("h_tier", tier_rank=str(contract.MAX_TIER_RANK + 1)),
            plan("ok_tier", tier_rank=str(contract.MAX_TIER_RANK)),
            plan("h_price", unit_amount_minor=str(contract.MAX_AMOUNT_MINOR + 1)),
            plan("ok_price", unit_amount_minor=str(contract.MAX_AMOUNT_MINOR)),
            plan("h_seats", max_seats=str(contract.MAX_QUANTITY + 1)),
        ],
    )
    append_rows(
        data / "sync_events.csv",
        [
            {
                "sync_event_id": f"{name}_attempt",
                "change_id": "ch_2",
                "target_system": "crm",
                "attempt_number": str(number),
                "attempted_at": "2026-03-16T12:00:05Z",
                "status": "failed",
            }
            for name, number in (
                ("h", contract.MAX_ATTEMPT_NUMBER + 1),
                ("ok", contract.MAX_ATTEMPT_NUMBER),
            )
        ],
    )
    append_rows(
        data / "invoice_lines.csv",
        [
            {
                "line_id": f"{name}_line",
                "invoice_id": "inv_h",
                "account_id": "acc_1",
                "line_type": "discount",
                "amount_minor": str(amount),
                "currency": "USD",
                "issued_at": "2026-02-01T00:00:00Z",
            }
            for name, amount in (
                ("h", -contract.MAX_AMOUNT_MINOR - 1),
                ("ok", -contract.MAX_AMOUNT_MINOR),
            )
        ],
    )
    append_rows(
        data / "fx_rates.csv",
        [
            {"rate_date": "1900-01-01", "currency": "EUR", "rate_to_reporting": "1.1"},
            {"rate_date": "2100-01-01", "currency": "EUR", "rate_to_reporting": "1.1"},
            {"rate_date": "2099-12-31", "currency": "EUR", "rate_to_reporting": "1.1"},
            {"rate_date": "2026-02-01", "currency": "GBP", "rate_to_reporting": "10000000"},
            {"rate_date": "2026-02-02", "currency": "GBP", "rate_to_reporting": "1000000"},
        ],
    )


@pytest.mark.spark_parity
def test_hostile_dates_types_and_bounds(spark, tmp_path):
    """Timestamps outside 1970..2100 are bad_value, non-ISO ones and NaN/Infinity in JSON
    bad_type, numbers beyond the contract's bounds bad_value: on both engines, row by row."""
    data = copy_basic(tmp_path / "data")
    _hostile_rows(data)
    _, schema = same_load(spark, data)
    rows = spark_rows(spark, QUARANTINE_SQL.format(schema=schema))
    got = {}
    for table, _file, _row, reason, column, raw_row in rows:
        key = json.loads(raw_row)[contract.TABLES_BY_NAME[table].key[0]]
        got[(table, key)] = (reason, column)
    assert not [k for k in got if str(k[1]).startswith("ok_")]
    for key in ("h_1900", "h_1969", "h_9999", "h_2100", "h_2100_date"):
        assert got[("product_events", key)] == ("bad_value", "occurred_at"), key
    for key in ("h_10000", "h_inf", "h_minf", "h_epoch", "h_tz", "h_off", "h_off15", "h_year"):
        assert got[("product_events", key)] == ("bad_type", "occurred_at"), key
    for key in ("h_nan", "h_nan_lower", "h_inf_json", "h_inf_after_text"):
        assert got[("product_events", key)] == ("bad_type", "properties"), key
    assert got[("subscription_changes", "h_qty")] == ("bad_value", "to_quantity")
    assert got[("subscription_changes", "h_period")] == ("bad_value", "period_end")
    assert got[("plans", "h_tier")] == ("bad_value", "tier_rank")
    assert got[("plans", "h_price")] == ("bad_value", "unit_amount_minor")
    assert got[("plans", "h_seats")] == ("bad_value", "max_seats")
    assert got[("sync_events", "h_attempt")] == ("bad_value", "attempt_number")
    assert got[("invoice_lines", "h_line")] == ("bad_value", "amount_minor")
    fx = {
        (json.loads(raw_row)["rate_date"], json.loads(raw_row)["currency"]): (reason, column)
        for table, _file, _row, reason, column, raw_row in rows
        if table == "fx_rates"
    }
    assert fx[("1900-01-01", "EUR")] == fx[("2100-01-01", "EUR")] == ("bad_value", "rate_date")
    assert fx[("2026-02-01", "GBP")] == ("bad_value", "rate_to_reporting")
    assert ("2099-12-31", "EUR") not in fx and ("2026-02-02", "GBP") not in fx
    accepted = dict(
        spark_rows(
            spark,
            f"select event_id, occurred_at from {schema}.product_events "
            "where event_id in ('ok_plus14', 'ok_nanos', 'ok_2099')",
        )
    )
    assert accepted["ok_plus14"] == dt.datetime(2026, 2, 28, 10, 0)  # +14:00 in UTC
    assert accepted["ok_2099"] == dt.datetime(2099, 12, 31, 23, 59, 59, 999999)
    assert accepted["ok_nanos"].replace(microsecond=0) == dt.datetime(2026, 3, 1, 10, 11, 12)


# DuckDB's digit separators in decimals: one underscore between two digits.
SEPARATORS = ["1__000", "_1", "1_", "1_000.5", "1.0_5", "1e1_0", "1_0e1", "+1_0"]
ODD_COLUMNS = {  # a column of each type, for every odd value
    "product_events.csv": ("occurred_at", "received_at", "properties", "user_id"),
    "plans.csv": ("tier_rank", "self_serve", "min_seats", "unit_amount_minor"),
    "fx_rates.csv": ("rate_date", "rate_to_reporting"),
}


@pytest.mark.spark_parity
def test_odd_values_in_every_type(spark, tmp_path):
    """The loader fuzz test's odd values (test_loader_fuzz.ODD_VALUES: infinity, epoch,
    5-digit years, offsets, NaN, huge numbers, blanks, quotes, line breaks...) in a column
    of every type: the same reason, column and raw row on both engines."""
    data = copy_basic(tmp_path / "data")
    good = {
        "product_events.csv": event("x"),
        "plans.csv": plan("p"),
        "fx_rates.csv": {"currency": "EUR", "rate_to_reporting": "1.1"},
    }
    for name, columns in ODD_COLUMNS.items():
        rows = []
        for i, (column, value) in enumerate(itertools.product(columns, ODD_VALUES + SEPARATORS)):
            row = {**good[name], column: value}
            if name == "product_events.csv":
                row["event_id"] = f"odd_{i}"
            elif name == "plans.csv":
                row["plan_id"] = f"odd_{i}"
            else:
                row.setdefault("rate_date", (dt.date(2000, 1, 1) + dt.timedelta(i)).isoformat())
            rows.append(row)
        append_rows(data / name, rows)
    report = assert_same_load(spark, data)
    assert {"bad_type", "bad_value"} <= reasons(report)


@pytest.mark.spark_parity
def test_columns_are_landed_by_position(spark, tmp_path):
    """Extra columns with any name (rowid, _row_number, _metadata, an upper-case twin of a
    contract column, dots, backticks, quotes, an empty name) are harmless, in CSV and
    in Parquet."""
    extra = ["rowid", "_row_number", "_metadata", "ACCOUNT_ID", "a.b", "a`b", 'a"b', "_c0"]
    csv_dir, parquet_dir = tmp_path / "csv", tmp_path / "parquet"
    copy_basic(csv_dir)
    parquet_dir.mkdir()
    for path in sorted(csv_dir.glob("*.csv")):
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        header = lines[0] + "," + ",".join(f'"{n.replace(chr(34), chr(34) * 2)}"' for n in extra)
        body = [line + "," + ",".join(f"v{i}" for i in range(len(extra))) for line in lines[1:]]
        path.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    to_parquet(csv_dir, parquet_dir)
    # A CSV header ending in a comma: an extra column without a name.
    events = csv_dir / "product_events.csv"
    lines = events.read_text(encoding="utf-8").splitlines()
    events.write_text("\n".join([lines[0] + ",", *(line + ",x" for line in lines[1:])]) + "\n")
    csv_report = assert_same_load(spark, csv_dir)
    parquet_report = assert_same_load(spark, parquet_dir)
    assert csv_report["accounts"]["accepted"] == parquet_report["accounts"]["accepted"] > 0


@pytest.mark.spark_parity
def test_parquet_timestamps_outside_the_range_are_bad_value(spark, tmp_path):
    """Typed Parquet timestamps are taken as they are (no text round trip), then checked
    against the plausible range: 1900 and 2100 are bad_value on both engines."""
    data = copy_basic(tmp_path / "data")
    src = data / "product_events.csv"
    duckdb.connect().execute(
        f"copy (select * replace (case event_id when 'ev_1' then timestamp '1900-01-01' "
        "when 'ev_2' then timestamp '2100-01-01' when 'ev_3' then timestamp '2099-12-31' "
        f"else try_cast(occurred_at as timestamp) end as occurred_at) "
        f"from read_csv('{src}', all_varchar = true)) to '{data / 'product_events.parquet'}'"
    )
    src.unlink()
    report = assert_same_load(spark, data)
    assert report["product_events"]["quarantined_by_reason"].get("bad_value", 0) >= 2


def test_repeated_and_empty_column_names_give_unique_raw_row_keys(spark, tmp_path):
    """Issue 35: the quarantined raw row has one unique key per column on Spark too (the
    same keys as DuckDB's, loader.raw_row_keys), so json.loads returns every value."""
    data = copy_basic(tmp_path / "data")
    events = data / "product_events.csv"
    lines = events.read_text(encoding="utf-8").splitlines()
    header = lines[0] + ",note,note,,note_2,Ünï,Ünï"
    body = [line + ",n1,n2,e,n22,u1,u2" for line in lines[1:]]
    events.write_text("\n".join([header, *body]) + "\n", encoding="utf-8")
    _, schema = same_load(spark, data)  # the same raw rows, byte for byte
    for (text,) in spark_rows(
        spark, f"select raw_row from {schema}.quarantine where table_name = 'product_events'"
    ):
        row = json.loads(text)
        assert [row[k] for k in ("note", "note_3", "_column_10", "note_2", "Ünï", "Ünï_2")] == [
            "n1",
            "n2",
            "e",
            "n22",
            "u1",
            "u2",
        ]


def test_gzip_csv_loads_as_on_duckdb(spark, tmp_path, basic_dir):
    """Issue 35: every table given as .csv.gz loads on Spark exactly as on DuckDB, and as
    the plain CSV does."""
    import gzip

    plain = assert_same_load(spark, basic_dir)
    data = copy_basic(tmp_path / "data")
    for path in sorted(data.glob("*.csv")):
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    assert assert_same_load(spark, data) == plain


def test_zstd_csv_is_refused_on_spark_before_it_starts(tmp_path):
    from upgrade_warehouse.loader import discover
    from upgrade_warehouse.spark.loader import check_readable

    data = copy_basic(tmp_path / "data")
    events = data / "invoice_lines.csv"
    events.rename(data / "invoice_lines.csv.zst")  # not read: refused by name first
    with pytest.raises(UserError, match=r"invoice_lines\.csv\.zst: --engine spark does not read"):
        check_readable(discover(data))
