"""Win-back end to end (docs/winback.md): the list holds exactly the activated accounts
without an upgrade, nothing after as_of (or after a training cutoff) reaches a feature,
a label or a score, the `winback` command (cli.md) and the dashboard page.

Warehouses built here, once per session:
- ``golden_early``: tests/fixtures/golden at as_of 2026-03-10 with horizon_days 14
  (hand-checkable list);
- ``generated`` and ``poisoned``: 1,200 generated accounts at as_of 2026-09-15T12:00Z,
  the second with extra rows after as_of that would change everything if they leaked.
The fixture warehouse of the dashboard tests (golden + operations tables, as_of
2026-03-31T12:00Z) is shared with them.
"""

from __future__ import annotations

import io
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from attempts_reference import FUNNEL_STEPS
from conftest import FIXTURES, REPO, run_cli
from dashboard_support import WAREHOUSE_ENV, ops_warehouse, unescape
from upgrade_warehouse.contract import TABLES_BY_NAME
from upgrade_warehouse.generator import GeneratorConfig, generate
from upgrade_warehouse.winback.plays import TRIGGERS

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 9, 15, 12, 0, 0)
AS_OF_TEXT = "2026-09-15T12:00:00Z"
HORIZON = 30
FUNNEL = FUNNEL_STEPS
# data-contract.md: every event that is not a funnel step, escalation, activation or
# experiment exposure is product usage.
NOT_USAGE = (*FUNNEL, "sales_contact_requested", "activated", "experiment_viewed")


def build(data: Path, warehouse: Path, *args: str) -> Path:
    proc = run_cli("build", "--data-dir", data, "--warehouse", warehouse, *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return warehouse


def query(warehouse: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(sql).pl()


def listed(warehouse: Path) -> set[str]:
    return set(
        query(warehouse, "select account_id from marts.winback_account_scores").get_column(
            "account_id"
        )
    )


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def generated_data(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("winback-data")
    generate(out, GeneratorConfig(accounts=1200, seed=5))
    return out


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def add_future_rows(data: Path, target: Path) -> Path:
    """A copy of ``data`` plus, for every account, rows after AS_OF that would make it
    look ready to buy (and be listed or not) if anything after as_of leaked: an
    activation, a pricing-page visit and 30 exports within a minute of as_of, a
    self-serve upgrade a day later, an eligibility rejection, a pending upsell offer and
    a failed payment."""
    shutil.copytree(data, target)
    read = lambda name: pl.read_csv(data / f"{name}.csv", infer_schema=False)
    changes = read("subscription_changes")
    currency = (
        changes.filter(pl.col("from_plan_id").is_null())
        .sort("changed_at")
        .group_by("account_id", maintain_order=True)
        .first()
        .select("account_id", pl.col("to_plan_id").str.split("_").list.last().alias("cur"))
    )
    extra: dict[str, list[dict]] = {
        t: []
        for t in (
            "product_events",
            "subscription_changes",
            "eligibility_checks",
            "upsell_offers",
            "payment_attempts",
        )
    }
    at = lambda seconds: _ts(AS_OF + timedelta(seconds=seconds))
    for account, cur in currency.iter_rows():
        plan = f"pro_monthly_{cur}"
        events = extra["product_events"]
        events.append(
            {
                "event_id": f"poison_act_{account}",
                "account_id": account,
                "event_name": "activated",
                "occurred_at": at(1),
            }
        )
        events.append(
            {
                "event_id": f"poison_int_{account}",
                "account_id": account,
                "event_name": "upgrade_intent",
                "occurred_at": at(2),
                "properties": '{"entry_point":"pricing_page"}',
            }
        )
        events += [
            {
                "event_id": f"poison_exp_{account}_{k}",
                "account_id": account,
                "event_name": "export_downloaded",
                "occurred_at": at(3 + k),
            }
            for k in range(30)
        ]
        extra["subscription_changes"].append(
            {
                "change_id": f"poison_chg_{account}",
                "subscription_id": f"poison_sub_{account}",
                "account_id": account,
                "changed_at": at(86_400),
                "effective_at": at(86_400),
                "to_plan_id": plan,
                "to_quantity": "1",
                "initiated_by": "customer",
                "channel": "web",
            }
        )
        extra["eligibility_checks"].append(
            {
                "check_id": f"poison_elg_{account}",
                "account_id": account,
                "target_plan_id": plan,
                "checked_at": at(60),
                "result": "rejected",
                "reason_code": "min_seats",
            }
        )
        extra["upsell_offers"].append(
            {
                "offer_id": f"poison_off_{account}",
                "account_id": account,
                "trigger": "feature_gate",
                "owner": "automated",
                "channel": "in_app",
                "offered_plan_id": plan,
                "offered_at": at(60),
            }
        )
        extra["payment_attempts"].append(
            {
                "attempt_id": f"poison_pay_{account}",
                "account_id": account,
                "attempted_at": at(70),
                "payment_method": "new_card",
                "status": "failed",
                "failure_code": "card_declined",
                "amount_minor": "100",
                "currency": cur.upper(),
            }
        )
    for name, rows in extra.items():
        columns = TABLES_BY_NAME[name].column_names
        frame = pl.DataFrame(
            [{c: r.get(c) for c in columns} for r in rows], schema=dict.fromkeys(columns, pl.String)
        )
        pl.concat([read(name), frame]).write_csv(target / f"{name}.csv")
    return target


@pytest.fixture(scope="session")
def generated(generated_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("winback-wh") / "generated.duckdb"
    return build(generated_data, out, "--var", f"as_of={AS_OF_TEXT}")


@pytest.fixture(scope="session")
def poisoned(generated_data, tmp_path_factory) -> Path:
    data = add_future_rows(generated_data, tmp_path_factory.mktemp("poison") / "data")
    out = tmp_path_factory.mktemp("winback-wh") / "poisoned.duckdb"
    return build(data, out, "--var", f"as_of={AS_OF_TEXT}")


@pytest.fixture(scope="session")
def golden_early(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("winback-golden") / "golden.duckdb"
    return build(
        FIXTURES / "golden", out, "--var", "as_of=2026-03-10T00:00:00Z", "--var", "horizon_days=14"
    )


# ------------------------------------------------------------------ who is on the list


def test_list_is_exactly_the_activated_accounts_without_an_upgrade(tmp_path_factory):
    """Golden fixture at its as_of 2026-03-31T12:00Z. Activated (first `activated`
    event): A1 01-06, A3 01-07, A2 01-16, F6 02-01, F1 02-20, F5 02-25, F7 03-02,
    F4 03-20, A6 03-25 (A4, A5, F2, F3 never). Upgrades (mrr_delta > 0) at or before
    as_of: A1 c2 (free -> pro_m), A3 c7 (created on pro_m: movement new), A2 c5 (sales,
    new), F1 f1c, F5 f5a, F7 f7c, A6 c12a (before its activation: still an upgrade).
    F6 and F4 have none (F6 has no change at all, F4 neither)."""
    warehouse = ops_warehouse(tmp_path_factory)[0]
    assert listed(warehouse) == {"F4", "F6"}


def test_list_at_an_earlier_as_of(golden_early):
    """Same fixture at as_of 2026-03-10: F4 (activated 03-20) and A6 (03-25) are not yet
    activated; F7 (activated 03-02) upgrades only on 03-16, after as_of, so it is listed;
    F1 (f1c 03-01) and F5 (f5a 02-10) have upgraded; F6 has not."""
    assert listed(golden_early) == {"F6", "F7"}
    model = query(golden_early, "select * from marts.winback_model").to_dicts()[0]
    assert model["as_of"] == datetime(2026, 3, 10) and model["horizon_days"] == 14
    assert model["model_kind"] in ("base_rate", "none")  # far too little history
    assert model["auc"] is None


def test_absent_optional_tables_give_null_features(golden_early):
    """The golden fixture has payment_attempts but no eligibility_checks or
    upsell_offers: their features are null (not 0); nothing fails."""
    f = query(golden_early, "select * from marts.fct_winback_features")
    assert f.height > 0
    for column in (
        "eligibility_checks_total",
        "eligibility_rejections_30d",
        "upsell_offers_total",
        "upsell_offers_pending",
    ):
        assert f.get_column(column).null_count() == f.height, column
    assert f.get_column("payment_failures_total").null_count() == 0


# ------------------------------------------------------------------------------ leakage


def test_rows_after_as_of_change_no_feature_label_or_score(generated, poisoned):
    assert (
        query(
            poisoned, "select count(*) as n from raw.product_events where event_id like 'poison%'"
        )["n"][0]
        == 1200 * 32
    )
    assert (
        query(
            poisoned,
            "select count(*) as n from raw.subscription_changes where change_id like 'poison%'",
        )["n"][0]
        == 1200
    )
    for table, order in (
        ("marts.fct_winback_features", "account_id, cutoff_at"),
        ("marts.fct_winback_signal_counts", "account_id, cutoff_at, signal_kind, signal_name"),
        ("marts.winback_account_scores", "rank"),
        ("marts.winback_model", "as_of"),
        ("marts.winback_calibration", "bin"),
        ("marts.winback_coefficients", "feature"),
    ):
        a = query(generated, f"select * from {table} order by {order}")
        b = query(poisoned, f"select * from {table} order by {order}")
        assert a.height > 0, table
        assert a.equals(b), table


@pytest.fixture(scope="session")
def raw(generated_data):
    def read(name):
        return pl.read_csv(generated_data / f"{name}.csv", infer_schema=False).with_columns(
            pl.col(c).str.to_datetime("%Y-%m-%dT%H:%M:%SZ")
            for c in TABLES_BY_NAME[name].column_names
            if TABLES_BY_NAME[name].column(c).type == "ts"
        )

    return read


@pytest.mark.parametrize("weeks_back", [0, 10])
def test_a_training_snapshot_recomputed_from_the_raw_files(generated, raw, weeks_back):
    """The snapshot at cutoff c = as_of - 30 days - weeks_back weeks, recomputed from the
    generated files with polars (independently of the SQL): who is eligible, the label,
    and features that use only rows at or before c."""
    c = AS_OF - timedelta(days=HORIZON + 7 * weeks_back)
    events = raw("product_events").filter(pl.col("occurred_at") <= AS_OF)
    activated = (
        events.filter(pl.col("event_name") == "activated")
        .group_by("account_id")
        .agg(pl.col("occurred_at").min().alias("activated_at"))
    )
    plans = raw("plans").select(
        "plan_id",
        (
            pl.col("unit_amount_minor").cast(pl.Float64)
            / pl.when(pl.col("billing_interval") == "year").then(12).otherwise(1)
        ).alias("unit"),
    )
    changes = (
        raw("subscription_changes")
        .filter(pl.col("changed_at") <= AS_OF)
        .join(plans.rename({"plan_id": "from_plan_id", "unit": "f"}), on="from_plan_id", how="left")
        .join(plans.rename({"plan_id": "to_plan_id", "unit": "t"}), on="to_plan_id", how="left")
        .with_columns(
            (
                pl.col("t").fill_null(0) * pl.col("to_quantity").cast(pl.Float64).fill_null(0)
                - pl.col("f").fill_null(0) * pl.col("from_quantity").cast(pl.Float64).fill_null(0)
            ).alias("delta")
        )
        .filter(pl.col("delta") > 0)
    )
    sales = (
        raw("crm_opportunities")
        .filter((pl.col("origin") == "sales") & (pl.col("created_at") <= AS_OF))
        .get_column("change_id")
        .drop_nulls()
    )
    upgraded_by_c = set(changes.filter(pl.col("changed_at") <= c).get_column("account_id"))
    eligible = activated.filter(
        (pl.col("activated_at") <= c) & ~pl.col("account_id").is_in(list(upgraded_by_c))
    )
    self_serve = changes.filter(
        (pl.col("initiated_by") == "customer")
        & ~pl.col("change_id").is_in(sales.to_list())
        & (pl.col("changed_at") > c)
        & (pl.col("changed_at") <= c + timedelta(days=HORIZON))
    )
    expected_label = {
        a: a in set(self_serve.get_column("account_id")) for a in eligible.get_column("account_id")
    }

    f = query(
        generated,
        f"select * from marts.fct_winback_features "
        f"where cutoff_at = timestamp '{c:%Y-%m-%d %H:%M:%S}'",
    )
    assert not f.get_column("is_scoring").any()
    assert dict(zip(f["account_id"], f["upgraded_within_horizon"])) == expected_label
    assert sum(expected_label.values()) > 0  # the check can fail on a label

    usage = events.filter(~pl.col("event_name").is_in(NOT_USAGE) & (pl.col("occurred_at") <= c))
    ids = eligible.get_column("account_id").to_list()
    usage = usage.filter(pl.col("account_id").is_in(ids))
    last14 = usage.filter(pl.col("occurred_at") > c - timedelta(days=14))
    want = {(a, n): k for a, n, k in last14.group_by("account_id", "event_name").len().iter_rows()}
    sig = query(
        generated,
        f"select account_id, signal_name, count_14d, count_total, days_since_last "
        f"from marts.fct_winback_signal_counts where signal_kind = 'usage' and "
        f"cutoff_at = timestamp '{c:%Y-%m-%d %H:%M:%S}'",
    )
    got = {(a, n): k for a, n, k, _, _ in sig.iter_rows() if k}
    assert got == want
    totals = {(a, n): k for a, n, k in usage.group_by("account_id", "event_name").len().iter_rows()}
    assert {(a, n): t for a, n, _, t, _ in sig.iter_rows()} == totals
    # whole days from the latest such event to the cutoff (floor)
    latest = usage.group_by("account_id", "event_name").agg(pl.col("occurred_at").max())
    days = {(a, n): (c - t) // timedelta(days=1) for a, n, t in latest.iter_rows()}
    assert {(a, n): d for a, n, _, _, d in sig.iter_rows()} == days

    # fct_winback_features' usage and upgrade-flow columns (summed per window bucket in
    # SQL): events in the last 14 / 30 days, distinct days with one in the last 30
    # (whole days before the cutoff), whole days since the latest
    def day(col: str = "occurred_at") -> pl.Expr:
        return ((pl.lit(c) - pl.col(col)).dt.total_seconds() // 86_400).alias("day")

    last30 = usage.filter(pl.col("occurred_at") > c - timedelta(days=30))
    visits = events.filter(
        (pl.col("event_name") == FUNNEL[0])
        & (pl.col("occurred_at") <= c)
        & (pl.col("occurred_at") > c - timedelta(days=30))
        & pl.col("account_id").is_in(ids)
    )
    expected_usage = {
        a: (
            last14.filter(pl.col("account_id") == a).height,
            last30.filter(pl.col("account_id") == a).height,
            last30.filter(pl.col("account_id") == a).select(day()).n_unique(),
            visits.filter(pl.col("account_id") == a).select(day()).n_unique(),
        )
        for a in ids
    }
    last_day = dict(usage.group_by("account_id").agg(pl.col("occurred_at").max()).iter_rows())
    for row in f.iter_rows(named=True):
        a = row["account_id"]
        got_usage = (
            row["usage_events_14d"],
            row["usage_events_30d"],
            row["active_days_30d"],
            row["upgrade_visit_days_30d"],
        )
        assert got_usage == expected_usage[a], a
        since = (c - last_day[a]) // timedelta(days=1) if a in last_day else None
        assert row["days_since_last_usage"] == since, a
    # not vacuous: accounts active on several days, and some with upgrade-flow visits
    assert max(v[2] for v in expected_usage.values()) > 3
    assert any(v[3] for v in expected_usage.values())

    offers = raw("upsell_offers").filter(pl.col("offered_at") <= c)
    pending = offers.filter(pl.col("outcome_at").is_null() | (pl.col("outcome_at") > c))
    pending_n = dict(pending.group_by("account_id").len().iter_rows())
    failures = raw("payment_attempts").filter(
        (pl.col("attempted_at") <= c) & (pl.col("status") == "failed")
    )
    failures_n = dict(failures.group_by("account_id").len().iter_rows())
    act = dict(activated.iter_rows())
    for row in f.iter_rows(named=True):
        a = row["account_id"]
        assert row["upsell_offers_pending"] == pending_n.get(a, 0), a
        assert row["payment_failures_total"] == failures_n.get(a, 0), a
        assert row["days_since_activation"] == pytest.approx(
            (c - act[a]).total_seconds() / 86_400
        ), a


def test_the_scoring_snapshot_recomputed_from_the_raw_files(generated, raw):
    """The scoring snapshot (cutoff = as_of) of every listed account, recomputed from the
    generated files with polars: the counts of each usage event in the last 14 and 30
    days and in all its history, the days since the latest, and the account's active
    days and users in the last 30 days. An account's events older than its oldest
    snapshot's windows are stored as one row (int_winback__event_days): the totals and
    the latest day must still be those of the whole history."""
    day = timedelta(days=1)
    f = query(generated, "select * from marts.fct_winback_features where is_scoring")
    ids = f.get_column("account_id").to_list()
    events = raw("product_events").filter(
        (pl.col("occurred_at") <= AS_OF) & pl.col("account_id").is_in(ids)
    )
    usage = events.filter(~pl.col("event_name").is_in(NOT_USAGE))
    # "the last N days" before as_of: occurred_at in (as_of - N days, as_of]
    expected = {
        (a, n): (k14, k30, total, (AS_OF - last) // day)
        for a, n, k14, k30, total, last in usage.group_by("account_id", "event_name")
        .agg(
            (pl.col("occurred_at") > AS_OF - 14 * day).sum().alias("k14"),
            (pl.col("occurred_at") > AS_OF - 30 * day).sum().alias("k30"),
            pl.len().alias("total"),
            pl.col("occurred_at").max().alias("last"),
        )
        .iter_rows()
    }
    sig = query(
        generated,
        "select account_id, signal_name, count_14d, count_30d, count_total, days_since_last "
        "from marts.fct_winback_signal_counts where signal_kind = 'usage' and "
        f"cutoff_at = timestamp '{AS_OF:%Y-%m-%d %H:%M:%S}'",
    )
    assert {(a, n): tuple(v) for a, n, *v in sig.iter_rows()} == expected
    # not vacuous: histories longer than the windows, whose totals need the old rows
    assert sum(total > k30 for _, k30, total, _ in expected.values()) > 100
    # ... and they were stored collapsed: fewer rows than days with usage
    stored = query(
        generated,
        "select count(*) as n from intermediate.int_winback__event_days "
        "where signal_kind = 'usage' and account_id in "
        "(select account_id from marts.fct_winback_features where is_scoring)",
    ).item()
    days_used = usage.select(
        "account_id", "event_name", (AS_OF - pl.col("occurred_at")).dt.total_days()
    )
    assert stored < days_used.unique().height

    recent = events.filter(pl.col("occurred_at") > AS_OF - 30 * day)
    recent_usage = recent.filter(~pl.col("event_name").is_in(NOT_USAGE))
    users = dict(
        recent.drop_nulls("user_id")
        .group_by("account_id")
        .agg(pl.col("user_id").n_unique())
        .iter_rows()
    )
    active_days = dict(
        recent_usage.group_by("account_id")
        .agg((AS_OF - pl.col("occurred_at")).dt.total_days().n_unique())
        .iter_rows()
    )
    usage_30d = dict(recent_usage.group_by("account_id").len().iter_rows())
    last_usage = dict(usage.group_by("account_id").agg(pl.col("occurred_at").max()).iter_rows())
    for row in f.iter_rows(named=True):
        a = row["account_id"]
        assert row["active_users_30d"] == users.get(a, 0), a
        assert row["active_days_30d"] == active_days.get(a, 0), a
        assert row["usage_events_30d"] == usage_30d.get(a, 0), a
        want_last = (AS_OF - last_usage[a]) // day if a in last_usage else None
        assert row["days_since_last_usage"] == want_last, a
    assert sum(users.values()) > 0 and len(last_usage) > len(users) // 2


# ---------------------------------------------------------------------------- command


def test_winback_json(generated):
    proc = run_cli("winback", "--warehouse", generated, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert list(out) == ["as_of", "horizon_days", "model", "accounts"]
    assert out["as_of"] == AS_OF_TEXT and out["horizon_days"] == HORIZON
    assert list(out["model"]) == ["auc", "validated_on"]
    assert 0.5 < out["model"]["auc"] <= 1 and "snapshots" in out["model"]["validated_on"]
    accounts = out["accounts"]
    # cli.md's keys first, then the CSV's other columns under the CSV's names (the rank
    # is the list's order): the play, segment, persona, plan and account manager
    csv_text = run_cli("winback", "--warehouse", generated, "--format", "csv").stdout
    header = csv_text.splitlines()[0].split(",")
    spec_keys = ["account_id", "activated_at", "probability", "reasons"]
    extra = [c for c in header if c not in ("rank", *spec_keys)]
    assert {"play_trigger", "play_owner", "play_channel", "segment", "persona"} <= set(extra)
    assert all(list(a) == spec_keys + extra for a in accounts)
    assert {a["play_trigger"] for a in accounts} <= set(TRIGGERS)
    assert all(a["segment"] and a["persona"] for a in accounts)
    # the same values as the CSV, row for row
    csv_rows = pl.read_csv(io.StringIO(csv_text), infer_schema=False).to_dicts()
    assert len(csv_rows) == len(accounts)
    for a, row in zip(accounts, csv_rows, strict=True):
        for key in ("account_id", "play_trigger", "play_owner", "play_channel", "segment"):
            assert a[key] == row[key], key
        for key in ("persona", "plan_id", "account_manager_id"):
            assert a[key] == row[key], key
    p = [a["probability"] for a in accounts]
    assert p == sorted(p, reverse=True) and all(0 <= x <= 1 for x in p)
    assert any(a["reasons"] for a in accounts)
    # every activated account with no upgrade at or before as_of, and only those
    expected = query(
        generated,
        f"""
        select account_id from marts.dim_accounts
        where activated_at <= timestamp '{AS_OF:%Y-%m-%d %H:%M:%S}'
          and account_id not in (select account_id from marts.fct_subscription_changes
                                 where is_upgrade)""",
    )
    assert {a["account_id"] for a in accounts} == set(expected.get_column("account_id"))
    assert len(accounts) == len(expected)
    top = json.loads(
        run_cli("winback", "--warehouse", generated, "--format", "json", "--top", "5").stdout
    )
    assert top["accounts"] == accounts[:5]


def test_winback_csv_and_table(generated):
    proc = run_cli("winback", "--warehouse", generated, "--format", "csv", "--top", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("rank,account_id,activated_at,probability,reasons,play_trigger")
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]
    proc = run_cli("winback", "--warehouse", generated, "--top", "2")
    assert proc.returncode == 0, proc.stderr
    assert "Win-back list" in proc.stdout and "validation AUC" in proc.stdout


def test_winback_errors(generated, tmp_path):
    proc = run_cli("winback", "--warehouse", tmp_path / "nope.duckdb")
    assert proc.returncode == 2 and "no warehouse at" in proc.stderr
    assert "Traceback" not in proc.stderr
    old = tmp_path / "old.duckdb"
    shutil.copy(generated, old)
    with duckdb.connect(str(old)) as con:
        for name in ("account_scores", "model", "calibration", "coefficients"):
            con.execute(f"drop table marts.winback_{name}")
    proc = run_cli("winback", "--warehouse", old)
    assert proc.returncode == 2, proc.stderr
    assert "built before win-back existed" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1  # one message
    proc = run_cli("winback", "--warehouse", generated, "--top", "0")
    assert proc.returncode == 2 and "--top" in proc.stderr
    proc = run_cli("winback", "--warehouse", generated, "--format", "xml")
    assert proc.returncode == 2


def test_horizon_days_reaches_the_model(golden_early):
    """golden_early is built with --var horizon_days=14: the training cutoffs are 14 days
    and more before as_of; the metrics JSON does not list it (not a metric parameter)."""
    offsets = query(
        golden_early,
        "select distinct cutoff_offset_days as d from intermediate.int_winback__cutoffs order by d",
    )["d"].to_list()
    assert offsets[:3] == [0, 14, 21]
    proc = run_cli("metrics", "--warehouse", golden_early, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "horizon_days" not in json.loads(proc.stdout)["parameters"]


# ---------------------------------------------------------------------------- quality

# The held-out AUC of the model on the generated 10M-event set (bench/bench_scale.py
# BASELINE_AUC: 72,829 validation snapshots, 1,134 upgrades, so its own standard error is
# about 0.005). Same generator, same model: a small data set's AUC scatters around it by
# its sampling error, not by more.
LARGE_SET_AUC = 0.8921


def hanley_mcneil_se(auc: float, positives: int, negatives: int) -> float:
    """Standard error of an AUC (Hanley & McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)) / (
        positives * negatives
    )
    return var**0.5


def test_model_auc_on_a_fixed_seed(generated):
    """1,200 generated accounts (seed 5, deterministic): a validated logistic regression
    whose held-out AUC (the latest weeks of snapshots, trained on what was known before
    them) is no more than 3 standard errors (of an AUC at this fixture's counts, taken at
    the 10M set's AUC) below the 10M set's 0.8921. Here 17 upgrades among the validation
    snapshots give a threshold of about 0.74 (the model scores 0.786); a model without
    its behavioural signals scores 0.5-0.7 at this size (docs/winback.md: 0.795 without
    the generator's signals on 20,000 accounts), a random one 0.5 +- 0.07."""
    model = query(generated, "select * from marts.winback_model").to_dicts()[0]
    assert model["model_kind"] == "logistic_regression"
    upgrades = model["validation_upgrades"]
    rows = model["validation_rows"]
    assert upgrades >= 10, model  # MIN_UPGRADES: enough for the model to be validated
    threshold = LARGE_SET_AUC - 3 * hanley_mcneil_se(LARGE_SET_AUC, upgrades, rows - upgrades)
    assert 0.7 < threshold < LARGE_SET_AUC  # the rule gives a threshold that can fail
    assert model["auc"] >= threshold, (model["auc"], threshold, upgrades, rows)


# -------------------------------------------------------------------------- dashboard


APP = REPO / "dashboards" / "app.py"


def winback_page(path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv(WAREHOUSE_ENV, str(path))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("app_pages/winback.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert [unescape(t.value) for t in at.title] == ["Win-back"]
    return at


def test_page_shows_the_ranked_list_and_filters_it(generated, monkeypatch):
    out = json.loads(run_cli("winback", "--warehouse", generated, "--format", "json").stdout)
    at = winback_page(generated, monkeypatch)
    shown = {unescape(m.label): m.value for m in at.metric}
    assert shown["Accounts listed"] == f"{len(out['accounts']):,}"
    assert shown["Model AUC (validation)"] == f"{out['model']['auc']:.2f}"
    table = at.dataframe[0].value
    assert list(table["account"]) == [a["account_id"] for a in out["accounts"]]
    # the bar shows the probability in percent, one decimal (format_probability's rule)
    assert list(table["probability"]) == pytest.approx(
        [100 * a["probability"] for a in out["accounts"]]
    )
    segments = query(
        generated,
        "select segment, count(*) as n from "
        "marts.winback_account_scores group by segment order by n",
    )
    segment, n = segments.row(0)
    at.multiselect(key="winback_segment").set_value([segment]).run()
    assert not at.exception
    assert len(at.dataframe[0].value) == n < len(out["accounts"])
    assert set(at.dataframe[0].value["segment"]) == {segment}
    owners = set(
        query(generated, "select play_owner from marts.winback_account_scores")["play_owner"]
    )
    assert owners <= {"automated", "sales", "customer_success"}


def test_page_on_a_warehouse_built_before_winback(generated, tmp_path, monkeypatch):
    old = tmp_path / "old.duckdb"
    shutil.copy(generated, old)
    with duckdb.connect(str(old)) as con:
        con.execute("drop table marts.winback_model")
    at = winback_page(old, monkeypatch)
    assert "built before win-back existed" in unescape("\n".join(i.value for i in at.info))
