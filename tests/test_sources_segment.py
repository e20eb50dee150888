"""Segment / RudderStack layouts -> product_events (sources.md "Segment and RudderStack";
docs/sources.md). The mapping is called directly; the expected rows are worked
out by hand from the fixture files in tests/fixtures/segment/ (the comments say how)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from upgrade_warehouse.errors import UserError
from upgrade_warehouse.sources.base import QUARANTINE_COLUMNS
from upgrade_warehouse.sources.segment import map_events, slug

FIXTURE = Path(__file__).parent / "fixtures" / "segment"

# (event_id, account_id, user_id, event_name, occurred_at, properties), in tracks order.
EXPECTED = [
    # event table upgrade_intent has account_id acc_A for m-001 (way 1); "Upgrade Intent"
    # -> upgrade_intent; context_page_path is a context_* column (not a property), CSV
    # numbers stay text ("3")
    (
        "m-001",
        "acc_A",
        "u1",
        "upgrade_intent",
        "2026-03-01T09:00:00Z",
        {"entry_point": "pricing_page", "seats": "3"},
    ),
    # no account_id in its event table row: context_group_id acc_A (way 2)
    (
        "m-002",
        "acc_A",
        "u1",
        "plan_selected",
        "2026-03-01T09:01:00Z",
        {"to_plan_id": "pro_monthly_usd", "annual": "false"},
    ),
    # u2's groups: acc_B from 02-01, acc_C from 03-05T00:00Z; 03-01T10:00Z -> acc_B (way 3)
    (
        "m-003",
        "acc_B",
        "u2",
        "upgrade_intent",
        "2026-03-01T10:00:00Z",
        {"entry_point": "settings, billing"},
    ),
    # exactly at the move (at or before is inclusive) -> acc_C
    (
        "m-004",
        "acc_C",
        "u2",
        "upgrade_intent",
        "2026-03-05T00:00:00Z",
        {"entry_point": "feature_gate_modal", "seats": "10"},
    ),
    # 2026-03-04T20:00-05:00 = 03-05T01:00Z, after the move -> acc_C (as text it sorts before)
    (
        "m-005",
        "acc_C",
        "u2",
        "plan_selected",
        "2026-03-04T20:00:00-05:00",
        {"to_plan_id": "business_monthly_usd", "annual": "true"},
    ),
    # no user_id (not identified yet): the anonymous_id anon_9; group row g-4 (01-15,
    # sent after identify: user_id u9 and anonymous_id anon_9) says acc_A;
    # experiment_id / variation_id are text, the quote in note escaped
    (
        "m-006",
        "acc_A",
        "anon_9",
        "experiment_viewed",
        "2026-02-10T12:00:00Z",
        {"experiment_id": "42", "variation_id": "1", "note": 'said "hi"'},
    ),
    # m-007: u3 has no group, no context_group_id, no account_id column -> quarantined
    # the duplicate of m-001 is kept (the loader makes it duplicate_id); its properties
    # and account come from the FIRST m-001 row of upgrade_intent (not acc_B / email / 7)
    (
        "m-001",
        "acc_A",
        "u1",
        "upgrade_intent",
        "2026-03-01T09:00:05Z",
        {"entry_point": "pricing_page", "seats": "3"},
    ),
    # m-008: u2 at 01-20, before its first group (02-01) -> quarantined
    # event table account_id acc_B wins over context_group_id acc_C and u1's group acc_A
    (
        "m-009",
        "acc_B",
        "u1",
        "plan_selected",
        "2026-03-06T08:00:00Z",
        {"to_plan_id": "starter_monthly_usd"},
    ),
]


@pytest.mark.parametrize("shape", ["segment", "rudderstack"])
def test_hand_made_fixture(shape):
    out = map_events(FIXTURE, shape, {})
    events = out.tables["product_events"]
    got = [
        (
            r["event_id"],
            r["account_id"],
            r["user_id"],
            r["event_name"],
            r["occurred_at"],
            json.loads(r["properties"]),
        )
        for r in events.iter_rows(named=True)
    ]
    assert got == EXPECTED
    # received_at passes through; key order = the event table's column order
    assert events["received_at"][0] == "2026-03-01T09:00:02Z"
    assert events["properties"][0] == '{"entry_point":"pricing_page","seats":"3"}'
    assert set(events["_source_table"]) == {"tracks"}

    q = out.quarantine
    assert list(q.columns) == list(QUARANTINE_COLUMNS)
    assert q.select(
        "table_name", "source_file", "row_number", "reason_code", "reason_column"
    ).rows() == [
        ("tracks", "tracks.csv", 7, "missing_required", "account_id"),
        ("tracks", "tracks.csv", 9, "missing_required", "account_id"),
    ]
    raw = json.loads(q["raw_row"][0])
    assert raw["id"] == "m-007" and raw["user_id"] == "u3" and raw["anonymous_id"] is None
    assert list(raw) == pl.read_csv(FIXTURE / "tracks.csv", n_rows=0).columns

    counts = out.sources["product_events"]["tracks"]
    # 10 tracks rows = 8 mapped + 2 quarantined; pages / identifies are not read
    assert (counts.read, counts.mapped, counts.quarantined, counts.skipped) == (10, 8, 2, {})
    assert counts.balanced()
    assert set(out.sources["product_events"]) == {"tracks"}


def test_group_traits_latest_value_per_trait():
    traits = map_events(FIXTURE, "segment", {}).group_traits
    # acc_A: g-1 (01-01) founder/organic/smb, then g-4 (01-15) sets only
    # acquisition_source=referral -> founder, referral, smb. acc_C never sets a source.
    assert traits.rows() == [
        ("acc_A", "founder", "referral", "smb"),
        ("acc_B", "marketer", "paid_search", "smb"),
        ("acc_C", "engineer", None, "mid_market"),
    ]
    assert traits.columns == ["account_id", "persona", "acquisition_source", "segment"]


def test_parquet_numbers_stay_numbers(tmp_path):
    utc = UTC
    pl.DataFrame(
        {
            "id": ["p1", "p2"],
            "event": ["Checkout Step", "Checkout Step"],
            "timestamp": [
                datetime(2026, 3, 1, 9, tzinfo=utc),
                datetime(2026, 3, 2, 9, 30, tzinfo=utc),
            ],
            "received_at": [datetime(2026, 3, 1, 9, 0, 1, tzinfo=utc), None],
            "user_id": ["u1", "u1"],
            "context_group_id": ["acc_A", "acc_A"],
        }
    ).write_parquet(tmp_path / "tracks.parquet")
    pl.DataFrame(
        {
            "id": ["p1", "p2"],
            "seats": [3, None],
            "amount": [12.5, float("nan")],
            "annual": [True, False],
            "experiment_id": [42, 7],
            "label": ["a", None],
            "context_ip": ["1.2.3.4", "1.2.3.4"],
        }
    ).write_parquet(tmp_path / "checkout_step.parquet")
    events = map_events(tmp_path, "segment", {}).tables["product_events"]
    assert events["event_name"].to_list() == ["checkout_step", "checkout_step"]
    # typed numbers and booleans stay JSON numbers / booleans; experiment_id is always
    # text; nulls and NaN (not JSON) are left out; context_* is not a property
    assert json.loads(events["properties"][0]) == {
        "seats": 3,
        "amount": 12.5,
        "annual": True,
        "experiment_id": "42",
        "label": "a",
    }
    assert json.loads(events["properties"][1]) == {"annual": False, "experiment_id": "7"}
    assert events["occurred_at"].to_list() == [
        "2026-03-01T09:00:00.000000Z",
        "2026-03-02T09:30:00.000000Z",
    ]
    assert events["received_at"].to_list() == ["2026-03-01T09:00:01.000000Z", None]


def test_event_without_table_and_reserved_names(tmp_path):
    shutil.copy(FIXTURE / "tracks.csv", tmp_path / "tracks.csv")
    shutil.copy(FIXTURE / "groups.csv", tmp_path / "groups.csv")
    out = map_events(tmp_path, "segment", {})
    events = out.tables["product_events"]
    # no event tables at all: every event still maps, properties null, accounts from
    # context_group_id and groups only (m-001 now has no account_id column: u1's group acc_A)
    assert events.height == 8
    assert events["properties"].null_count() == 8
    assert events.filter(pl.col("event_id") == "m-009")["account_id"].to_list() == ["acc_C"]


def test_missing_tracks_or_column_is_a_load_error(tmp_path):
    with pytest.raises(UserError, match="tracks"):
        map_events(tmp_path, "segment", {})
    (tmp_path / "tracks.csv").write_text("id,event\nx,y\n")
    with pytest.raises(UserError, match=r"tracks\.csv: missing required column timestamp"):
        map_events(tmp_path, "segment", {})


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Upgrade Intent", "upgrade_intent"),
        ("upgrade_intent", "upgrade_intent"),
        ("UpgradeIntent", "upgrade_intent"),
        ("  Sign-up / Start!  ", "sign_up_start"),
        ("Step 2 Done", "step_2_done"),
    ],
)
def test_slug(name, expected):
    assert slug(name) == expected


def test_round_trip_of_a_generated_data_set(tmp_path):
    """A generated contract data set written as Segment then mapped back gives its
    product_events (same rows, same order, same properties)."""
    from upgrade_warehouse.generator import GeneratorConfig, generate
    from upgrade_warehouse.sources.segment_export import to_events_shape

    contract = tmp_path / "contract"
    generate(contract, GeneratorConfig(accounts=40, months=3, seed=5))
    to_events_shape(contract, tmp_path / "segment", "segment")
    tracks = pl.read_csv(tmp_path / "segment" / "tracks.csv", infer_schema=False)
    # the converter uses all three ways to name the account
    assert tracks["context_group_id"].null_count() not in (0, tracks.height)
    out = map_events(tmp_path / "segment", "segment", {})
    original = pl.read_csv(contract / "product_events.csv", infer_schema=False)
    mapped = out.tables["product_events"]
    cols = ["event_id", "account_id", "user_id", "event_name", "occurred_at", "received_at"]
    assert mapped.select(cols).equals(original.select(cols))
    props = [json.loads(p) if p else {} for p in original["properties"]]
    assert [json.loads(p) for p in mapped["properties"]] == props
    assert out.quarantine.height == 0
