"""The loader on hand-built fixture rows: every reason code, counts that reconcile,
raw values kept, CSV and Parquet alike. No dbt here: these tests are fast."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from upgrade_warehouse import contract
from upgrade_warehouse.loader import compute_as_of, duplicate_keys, load_data_dir

# Expected counts, read off the fixture files row by row (tests/fixtures/basic/*.csv).
# Each bad row was written to trip exactly one check; the comment names the row.
EXPECTED = {
    # acc_1..acc_4 good; row 5 no account_id; row 6 created_at "not-a-date";
    # row 7 country "USA" (not alpha-2); row 8 a second acc_1 (first one kept).
    "accounts": (8, 4, {"missing_required": 1, "bad_type": 1, "bad_value": 1, "duplicate_id": 1}),
    # 6 good plans; bad_tier (-1), bad_interval (week), bad_cur ("usd"), bad_seats (10 > 5)
    # are bad_value; bad_bool ("yes") and bad_amount ("12.50") are bad_type.
    "plans": (12, 6, {"bad_value": 4, "bad_type": 2}),
    # ch_1..ch_7 good. ch_8 USD -> EUR plan: currency_mismatch; ch_9 (acc_9 unknown),
    # ch_12 (from plan bad_tier was quarantined), ch_14 (acc_6 was quarantined):
    # unknown_reference; ch_10 to_quantity missing with to_plan_id set; ch_11 initiated_by
    # "robot" and ch_15 period_start after period_end: bad_value; the second ch_2:
    # duplicate_id; ch_16 to_quantity "three": bad_type.
    "subscription_changes": (
        16,
        7,
        {
            "currency_mismatch": 1,
            "unknown_reference": 3,
            "missing_required": 1,
            "bad_value": 2,
            "duplicate_id": 1,
            "bad_type": 1,
        },
    ),
    # ev_1..ev_7 good; ev_8 truncated JSON, ev_9 a JSON array, ev_13 month 13: bad_type;
    # ev_10 acc_404: unknown_reference; ev_11 no event_name; second ev_1: duplicate_id.
    "product_events": (
        13,
        7,
        {"bad_type": 3, "unknown_reference": 1, "missing_required": 1, "duplicate_id": 1},
    ),
    # li_4 ch_99 unknown; li_5 line_type refund; li_6 amount 12.3; li_7 no currency.
    "invoice_lines": (
        7,
        3,
        {"unknown_reference": 1, "bad_value": 1, "bad_type": 1, "missing_required": 1},
    ),
    # pa_4 crypto, pa_5 pending: bad_value; pa_6 amount without currency.
    "payment_attempts": (6, 3, {"bad_value": 2, "missing_required": 1}),
    # op_4 origin partner, op_5 movement upsell: bad_value; op_6 created_at "yesterday".
    "crm_opportunities": (6, 3, {"bad_value": 2, "bad_type": 1}),
    # se_5 attempt 0, se_6 status retrying: bad_value; se_7 no change_id.
    "sync_events": (7, 4, {"bad_value": 2, "missing_required": 1}),
    # ec_4 gold_plan unknown; ec_5 result maybe.
    "eligibility_checks": (5, 3, {"unknown_reference": 1, "bad_value": 1}),
    # uo_4 owner robot, uo_5 outcome won: bad_value; uo_6 no trigger.
    "upsell_offers": (6, 3, {"bad_value": 2, "missing_required": 1}),
    # row 5 repeats (or_1, placed, 2026-02-10T08:00Z) written as +02:00; or_3 status lost.
    "order_status_events": (6, 4, {"duplicate_id": 1, "bad_value": 1}),
    # second (2026-03-01, EUR): duplicate_id; GBP rate 0: bad_value; "abc" and
    # "03/01/2026": bad_type.
    "fx_rates": (7, 3, {"duplicate_id": 1, "bad_value": 1, "bad_type": 2}),
}


def load(data_dir: Path) -> tuple[duckdb.DuckDBPyConnection, dict]:
    con = duckdb.connect()
    report = load_data_dir(data_dir, con)
    return con, report


@pytest.fixture(scope="module")
def loaded(basic_dir):
    return load(basic_dir)


def csv_data_rows(path: Path) -> int:
    """Rows in a CSV file counted independently of the loader (RFC 4180, header excluded)."""
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def test_every_table_reports_hand_computed_counts(loaded):
    _, report = loaded
    assert set(report) == {t.name for t in contract.TABLES}
    for table, (read, accepted, by_reason) in EXPECTED.items():
        got = report[table]
        assert got["read"] == read, table
        assert got["accepted"] == accepted, table
        assert got["quarantined"] == read - accepted, table
        assert got["quarantined_by_reason"] == by_reason, table


def test_every_reason_code_is_produced(loaded):
    _, report = loaded
    produced = {r for t in report.values() for r in t["quarantined_by_reason"]}
    assert produced == set(contract.REASON_CODES)


def test_read_equals_accepted_plus_quarantined_and_matches_the_file(loaded, basic_dir):
    con, report = loaded
    for table, counts in report.items():
        assert counts["read"] == csv_data_rows(basic_dir / f"{table}.csv"), table
        in_raw = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
        in_quarantine = con.execute(
            "select count(*) from raw.quarantine where table_name = ?", [table]
        ).fetchone()[0]
        assert in_raw + in_quarantine == counts["read"], table
    stored = con.execute(
        "select table_name, rows_read, rows_accepted, rows_quarantined from raw.load_report"
    ).fetchall()
    assert {r[0]: r[1:] for r in stored} == {
        t: (c["read"], c["accepted"], c["quarantined"]) for t, c in report.items()
    }


def test_quarantined_rows_keep_raw_values_row_number_and_column(loaded):
    con, _ = loaded
    rows = con.execute(
        "select row_number, reason_code, reason_column, raw_row from raw.quarantine "
        "where table_name = 'accounts' order by row_number"
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (5, "missing_required", "account_id"),
        (6, "bad_type", "created_at"),
        (7, "bad_value", "country"),
        (8, "duplicate_id", "account_id"),
    ]
    bad_type = json.loads(rows[1][3])
    assert bad_type["created_at"] == "not-a-date"  # the value as it came, to fix and reload
    assert bad_type["account_id"] == "acc_6"
    duplicate = json.loads(rows[3][3])
    assert duplicate["crm_notes"] == "second acc_1"  # extra columns are kept in quarantine
    # The first acc_1 by file order is the one kept.
    assert con.execute(
        "select created_at from raw.accounts where account_id = 'acc_1'"
    ).fetchall() == [(__import__("datetime").datetime(2026, 1, 5, 10, 0),)]


def test_duplicate_detection_compares_instants_not_text(loaded):
    con, _ = loaded
    # or_1 placed at 2026-02-10T10:00:00+02:00 is the same instant as 08:00Z.
    (reason, column) = con.execute(
        "select reason_code, reason_column from raw.quarantine "
        "where table_name = 'order_status_events' and row_number = 5"
    ).fetchone()
    assert (reason, column) == ("duplicate_id", "order_id, status, occurred_at")


def test_types_are_parsed_to_utc_and_booleans(loaded):
    con, _ = loaded
    created = dict(con.execute("select account_id, created_at from raw.accounts").fetchall())
    # +02:00 converted to UTC; no offset means UTC.
    assert created["acc_2"].isoformat() == "2026-01-10T07:30:00"
    assert created["acc_3"].isoformat() == "2026-02-01T08:00:00"
    self_serve = dict(con.execute("select plan_id, self_serve from raw.plans").fetchall())
    assert self_serve == {
        "free": True,
        "pro_monthly": True,
        "business_monthly": True,  # "TRUE"
        "pro_annual": True,  # "1"
        "pro_monthly_eur": True,
        "enterprise": False,
    }
    # A quoted field with a comma is one value (RFC 4180).
    assert con.execute(
        "select plan_name from raw.plans where plan_id = 'business_monthly'"
    ).fetchone() == ("Business, monthly",)
    rate = con.execute(
        "select rate_to_reporting from raw.fx_rates where currency = 'EUR' order by rate_date"
    ).fetchall()
    assert [str(r[0]).rstrip("0") for r in rate] == ["1.08", "1.1"]


def test_accepted_rows_keep_file_order(loaded):
    con, _ = loaded
    ids = [r[0] for r in con.execute("select change_id from raw.subscription_changes").fetchall()]
    assert ids == ["ch_1", "ch_2", "ch_3", "ch_4", "ch_5", "ch_6", "ch_7"]


def test_as_of_is_the_latest_event_or_change(loaded):
    con, _ = loaded
    # ev_7 at 2026-03-31T23:00Z is later than every changed_at (latest ch_7, 2026-03-20).
    assert compute_as_of(con).isoformat() == "2026-03-31T23:00:00"


def test_absent_optional_tables_are_empty_and_nothing_fails(tmp_path, basic_dir):
    for table in contract.REQUIRED_TABLES:
        shutil.copy(basic_dir / f"{table}.csv", tmp_path)
    con, report = load(tmp_path)
    for table in contract.TABLES:
        if table.required:
            continue
        assert report[table.name] == {
            "read": 0,
            "accepted": 0,
            "quarantined": 0,
            "quarantined_by_reason": {},
        }
        assert con.execute(f"select count(*) from raw.{table.name}").fetchone() == (0,)
    loaded_flags = dict(con.execute("select table_name, loaded from raw.load_report").fetchall())
    assert loaded_flags["fx_rates"] is False and loaded_flags["accounts"] is True


def to_parquet(src_dir: Path, out_dir: Path) -> None:
    """Write each fixture table as Parquet with every column as a string (so bad values
    survive), except that fully valid tables get real types where pyarrow infers them."""
    for path in src_dir.glob("*.csv"):
        table = pacsv.read_csv(
            path,
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in _header(path)},
                strings_can_be_null=True,
            ),
        )
        pq.write_table(table, out_dir / f"{path.stem}.parquet")


def _header(path: Path) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def test_parquet_loads_like_csv(tmp_path, basic_dir, loaded):
    con_csv, report_csv = loaded
    to_parquet(basic_dir, tmp_path)
    con_pq, report_pq = load(tmp_path)
    assert report_pq == report_csv
    for table in contract.TABLES:
        a = con_csv.execute(f"select * from raw.{table.name}").fetchall()
        b = con_pq.execute(f"select * from raw.{table.name}").fetchall()
        assert a == b, table.name


def test_parquet_with_native_types(tmp_path):
    """Typed Parquet columns (timestamps, ints, booleans) load without going through text."""
    import datetime as dt

    pq.write_table(
        pa.table(
            {
                "account_id": ["a1", "a2"],
                "created_at": pa.array(
                    [dt.datetime(2026, 1, 1, 12), dt.datetime(2026, 1, 2, 12)], pa.timestamp("us")
                ),
                "persona": ["founder", None],
                "acquisition_source": [None, None],
                "segment": [None, None],
                "country": ["FR", None],
                "account_manager_id": [None, None],
            }
        ),
        tmp_path / "accounts.parquet",
    )
    pq.write_table(
        pa.table(
            {
                "plan_id": ["p"],
                "plan_name": ["P"],
                "tier_rank": pa.array([1], pa.int64()),
                "billing_interval": ["month"],
                "unit_amount_minor": pa.array([1000], pa.int64()),
                "currency": ["EUR"],
                "self_serve": [True],
                "min_seats": pa.array([None], pa.int64()),
                "max_seats": pa.array([None], pa.int64()),
                "entitlements": [None],
            }
        ),
        tmp_path / "plans.parquet",
    )
    (tmp_path / "subscription_changes.csv").write_text(
        "change_id,subscription_id,account_id,changed_at,effective_at,from_plan_id,to_plan_id,"
        "from_quantity,to_quantity,initiated_by,channel,period_start,period_end,"
        "proration_behavior,reason_code\n"
        "c1,s1,a1,2026-01-03T00:00:00Z,2026-01-03T00:00:00Z,,p,,2,customer,web,,,,\n"
    )
    (tmp_path / "product_events.csv").write_text(
        "event_id,account_id,user_id,event_name,occurred_at,received_at,properties\n"
        "e1,a2,,activated,2026-01-04T00:00:00Z,,\n"
    )
    con, report = load(tmp_path)
    assert {t: r["accepted"] for t, r in report.items() if r["read"]} == {
        "accounts": 2,
        "plans": 1,
        "subscription_changes": 1,
        "product_events": 1,
    }
    assert con.execute("select created_at from raw.accounts order by 1").fetchall()[0][0] == (
        dt.datetime(2026, 1, 1, 12)
    )
    assert con.execute("select self_serve, tier_rank from raw.plans").fetchone() == (True, 1)


@pytest.mark.parametrize(
    ("rows", "keys", "expected"),
    [
        ([("a", 1), ("b", 1), ("c", 2)], "k", 0),
        ([("a", 1), ("b", 1), ("a", 2)], "k", 1),  # a twice
        ([("a", 1), ("a", 1), ("a", 2), ("b", 3), ("b", 3)], "k", 2),  # a three times, b twice
        ([("a", 1), ("a", 2), ("b", 1), ("b", 2)], "k, n", 0),  # each column repeats, no pair
        ([("a", 1), ("a", 2), ("a", 1)], "k, n", 1),  # (a, 1) twice
    ],
)
def test_duplicate_keys_counts_the_keys_that_repeat(rows, keys, expected):
    """The duplicate check (the hash count first, the keys grouped only when a hash
    repeats) counts the same keys as grouping them."""
    con = duckdb.connect()
    con.execute("create table t (k varchar, n integer)")
    con.executemany("insert into t values (?, ?)", rows)
    assert duplicate_keys(con, "t", keys) == expected


def test_invoice_line_periods_may_be_an_instant_but_not_reversed(tmp_path, basic_dir):
    """data-contract.md: invoice_lines.period_end >= period_start (equal for a one-off
    line); an end before the start is bad_value on period_end. Subscription changes keep
    a period that is not empty."""
    shutil.copytree(basic_dir, tmp_path, dirs_exist_ok=True)
    with open(tmp_path / "invoice_lines.csv", "a") as f:
        f.write(
            "li_oneoff,in_9,acc_1,sub_1,,one_off,500,USD,"
            "2026-03-01T00:00:00Z,2026-03-01T00:00:00Z,2026-03-01T00:00:00Z\n"
            "li_reversed,in_9,acc_1,sub_1,,one_off,500,USD,"
            "2026-03-02T00:00:00Z,2026-03-01T00:00:00Z,2026-03-02T00:00:00Z\n"
        )
    con, _ = load(tmp_path)
    accepted = {r[0] for r in con.execute("select line_id from raw.invoice_lines").fetchall()}
    assert "li_oneoff" in accepted and "li_reversed" not in accepted
    assert con.execute(
        "select reason_code, reason_column from raw.quarantine where raw_row like '%li_reversed%'"
    ).fetchall() == [("bad_value", "period_end")]
