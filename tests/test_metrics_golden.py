"""The golden data set (tests/fixtures/golden) against values computed by hand from
shared/spec/metrics.md. Every expected number below is derived in its comment from the
fixture rows; none was copied from the code's output.

as_of = 2026-03-31T12:00:00Z: the latest product event (a1_last), later than every
subscription change. Windows: conversion 14 days, activation 14 days.
"""

from __future__ import annotations

import json

import duckdb
import pytest

from attempts_reference import FUNNEL_STEPS
from conftest import FIXTURES, cli_json, run_cli

pytestmark = pytest.mark.slow
APPROX = {"rel": 1e-9, "abs": 1e-9}
# March's abandonment by step, the same for all accounts and for the founder segment: three
# abandoned attempts, at upgrade_intent (f1_8), plan_selected (f2_1), payment_submitted (f3_1).
ABANDONED_AT_STEPS_1_2_5 = {
    "upgrade_intent": 1 / 3,
    "plan_selected": 1 / 3,
    "proration_previewed": 0.0,
    "payment_method_selected": 0.0,
    "payment_submitted": 1 / 3,
    "upgrade_completed": 0.0,
}


# The golden data set built once per session (conftest.golden_warehouse):
# test_spark_golden.py runs these tests again on a build with --engine spark.
@pytest.fixture(scope="session")
def golden(golden_warehouse):
    return golden_warehouse


@pytest.fixture(scope="session")
def metrics_json(golden):
    return cli_json("metrics", "--warehouse", golden, "--format", "json")


def month(metrics_json, m):
    (row,) = [r for r in metrics_json["months"] if r["month"] == m]
    return row


def upgrades_by_initiator(row) -> tuple[int, int, int]:
    """A month's upgrades split by who made them: self-serve, sales-assisted, automatic."""
    return (row["self_serve_upgrades"], row["sales_assisted_upgrades"], row["automatic_upgrades"])


def query(path, sql):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


# ----------------------------------------------------------------------------- shape


def test_json_shape(metrics_json):
    assert metrics_json["as_of"] == "2026-03-31T12:00:00Z"
    assert metrics_json["reporting_currency"] == "USD"
    assert metrics_json["parameters"] == {
        "conversion_window_days": 14,
        "activation_window_days": 14,
        "as_of": "2026-03-31T12:00:00Z",
        "reporting_currency": "USD",
        "funnel_steps": list(FUNNEL_STEPS),  # metrics.md's default steps
        "activation_events": ["activated"],
        "escalation_events": ["sales_contact_requested"],
        "amount_tolerance_minor": 1,
        "movers_min_count": 30,
        # metrics.md's parameter table (every parameter): the experiment defaults.
        "experiment_events": ["experiment_viewed"],
        "experiment_window_days": 14,
        "experiment_min_accounts": 100,
    }
    # Earliest fact (c1, 2026-01-05) to the as_of month, in order.
    assert [m["month"] for m in metrics_json["months"]] == ["2026-01", "2026-02", "2026-03"]
    ids = [
        line.split(",")[0]
        for line in (FIXTURES.parent.parent / "seeds" / "metric_catalog.csv")
        .read_text()
        .splitlines()[1:]
        # metrics.md: not those of "Experiments", which have their own command
        if line.split(",")[1] != "experiments"
    ]
    assert len(ids) == 51
    for m in metrics_json["months"]:
        assert list(m) == ["month", *ids]


# ----------------------------------------------------------------------------- revenue


def test_revenue_facts_per_change(golden):
    rows = {
        r[0]: r[1:]
        for r in query(
            golden,
            "select change_id, movement, kind, mrr_before, mrr_after, mrr_delta, is_upgrade, "
            "channel from marts.fct_subscription_changes",
        )
    }
    assert rows["c1"] == ("none", "created", 0, 0, 0, False, "self_serve")  # free plan: 0 -> 0
    # A1: c2 free -> pro_m is the first MRR > 0 of the account: new.
    assert rows["c2"][:3] == ("new", "tier_upgrade", 0)
    assert rows["c3"][:2] == ("churn", "cancelled")
    # A1 comes back on a new subscription: MRR 0 -> 4000 after having had MRR (c2): reactivation.
    assert rows["c4"] == ("reactivation", "created", 0, 4000, 4000, True, "self_serve")
    # Yearly: 20000 * 3 / 12 = 5000 a month; initiated_by sales.
    assert rows["c5"] == ("new", "created", 0, 5000, 5000, True, "sales_assisted")
    # Renewal of the same plan and quantity: delta 0.
    assert rows["c6"] == ("renewal", "renewal", 5000, 5000, 0, False, "automatic")
    # 1 -> 3 seats by the system: 2000 -> 6000.
    assert rows["c8"] == ("expansion", "seat_expansion", 2000, 6000, 4000, True, "automatic")
    assert rows["c10"] == ("contraction", "seat_reduction", 3600, 1800, -1800, False, "self_serve")
    # Initiated by the customer, but a sales CRM opportunity carries c12.
    assert rows["c12"] == ("expansion", "tier_upgrade", 2000, 5000, 3000, True, "sales_assisted")


def test_currency_conversion(golden):
    rows = dict(
        query(golden, "select change_id, mrr_delta_reporting from marts.fct_subscription_changes")
    )
    assert rows["c9"] == pytest.approx(39.6)  # 3600 EUR minor = 36.00 EUR x 1.10 (rate of 01-01)
    assert rows["c10"] == pytest.approx(-21.6)  # -18.00 EUR x 1.20 (rate of 02-01)
    assert rows["c11"] is None  # GBP has no rate: unconverted
    assert rows["c5"] == pytest.approx(50.0)  # USD converts at 1


def test_january_revenue(metrics_json):
    jan = month(metrics_json, "2026-01")
    # Upgrades (delta > 0): c7 +2000, c2 +2000, c9 +3600 EUR, c5 +5000 (sales), c12a +2000.
    assert jan["upgrades"] == 5
    assert upgrades_by_initiator(jan) == (4, 1, 0)
    assert jan["self_serve_share"] == pytest.approx(4 / 5)
    # USD: 20 + 20 + 39.60 + 50 + 20 = 149.60 over 5 upgrades.
    assert jan["arpu_per_upgrade"] == pytest.approx(149.6 / 5, **APPROX)
    assert jan["mrr_new"] == pytest.approx(149.6, **APPROX)
    assert jan["mrr_churn"] == pytest.approx(-20.0)  # c3
    assert jan["mrr_expansion"] == jan["mrr_reactivation"] == jan["mrr_contraction"] == 0
    assert jan["net_new_mrr"] == pytest.approx(129.6, **APPROX)
    assert jan["processing_latency_seconds_p50"] is None  # no payment carries a January change


def test_february_revenue_with_an_unconverted_upgrade(metrics_json):
    feb = month(metrics_json, "2026-02")
    # Upgrades: c11 (GBP, no rate), c4 reactivation +40, c8 expansion +40 (system), f5a new +20.
    assert feb["upgrades"] == 4
    assert upgrades_by_initiator(feb) == (3, 0, 1)
    assert feb["self_serve_share"] == pytest.approx(0.75)
    # c11 cannot be converted and is left out: (40 + 40 + 20) / 3.
    assert feb["arpu_per_upgrade"] == pytest.approx(100 / 3, rel=1e-6)
    assert feb["mrr_new"] == pytest.approx(20.0)  # f5a only (c11 left out)
    assert feb["mrr_reactivation"] == pytest.approx(40.0)
    assert feb["mrr_expansion"] == pytest.approx(40.0)
    assert feb["mrr_contraction"] == pytest.approx(-21.6)
    assert feb["net_new_mrr"] == pytest.approx(20 + 40 + 40 - 21.6)
    # c4 paid at 23:59:50 the day before: 10 s.
    assert feb["processing_latency_seconds_p50"] == pytest.approx(10.0)


def test_march_revenue_and_latency(metrics_json):
    mar = month(metrics_json, "2026-03")
    # f1c +2000 new, c12 +3000 (sales), f5c +3000, f7c +2000 new.
    assert mar["upgrades"] == 4
    assert mar["sales_assisted_upgrades"] == 1
    assert mar["arpu_per_upgrade"] == pytest.approx((20 + 30 + 30 + 20) / 4)
    assert mar["mrr_new"] == pytest.approx(40.0)
    assert mar["mrr_expansion"] == pytest.approx(60.0)
    assert mar["net_new_mrr"] == pytest.approx(100.0)
    # Latency covers self-serve upgrades only: f1c 10:30:00 - 10:29:30 (latest succeeded; the
    # failed p1 does not count) = 30, f5c 10:00:00 - 09:59:59 (latest of two successes) = 1.
    # c12 (paid by invoice 2 s earlier) is sales-assisted (a sales opportunity carries it): out.
    # Sorted [1, 30]: p50 = 15.5; p95 at position 0.95 * 1: 1 + 0.95 * (30 - 1) = 28.55.
    assert mar["processing_latency_seconds_p50"] == pytest.approx(15.5)
    assert mar["processing_latency_seconds_p95"] == pytest.approx(28.55)


# ----------------------------------------------------------------------------- funnel


def test_attempts(golden):
    rows = {
        r[0]: r[1:]
        for r in query(
            golden, "select attempt_id, last_step, outcome from marts.fct_upgrade_attempts"
        )
    }
    assert rows == {
        # Repeated intent f1_2 (10:05) is inside the open attempt; completes at 10:30.
        "f1_1": ("upgrade_completed", "completed_self_serve"),
        # An intent after the completion starts a new attempt; nothing follows it.
        "f1_8": ("upgrade_intent", "abandoned"),
        # proration_previewed at 09:01 comes before plan_selected (09:02): it does not count.
        "f2_1": ("plan_selected", "abandoned"),
        # Completion at start + 14 days + 1 second: outside the window.
        "f3_1": ("payment_submitted", "abandoned"),
        # Started 03-25: start + 14 days (04-08) is after as_of.
        "f4_1": ("plan_selected", "in_progress"),
        # Escalated at 09:30, completed at 10:00.
        "f5_1": ("upgrade_completed", "completed_assisted"),
        # Escalated the next day, never completed, window over.
        "f6_1": ("upgrade_intent", "escalated"),
        # Completion exactly at start + 14 days: the window is inclusive.
        "f7_1": ("upgrade_completed", "completed_self_serve"),
    }


def test_funnel_metrics(metrics_json):
    mar = month(metrics_json, "2026-03")
    assert mar["attempts_started"] == 8
    # Matured (start + 14 days <= as_of 03-31 12:00, i.e. started by 03-17 12:00): every
    # attempt but f4_1 (03-25) = 7, the population of the three rates (here the same as
    # the resolved ones: f4_1 is the only one in progress). Completed f1_1, f5_1, f7_1.
    assert mar["attempts_matured"] == 7
    assert mar["upgrade_conversion_rate"] == pytest.approx(3 / 7)
    assert mar["self_serve_completion_rate"] == pytest.approx(2 / 7)  # f1_1, f7_1
    assert mar["escalation_rate"] == pytest.approx(2 / 7)  # f5_1 (completed), f6_1
    # Abandoned: f1_8 at upgrade_intent, f2_1 at plan_selected, f3_1 at payment_submitted.
    assert mar["abandonment_by_step"] == pytest.approx(ABANDONED_AT_STEPS_1_2_5)
    # f1_1: entitlements sync failed 10:31, succeeded 12:00 -> 12:00 - 10:00 = 2 h.
    # f5_1: f5c has no entitlements sync rows -> effective_at 10:00 - 09:00 = 1 h.
    # f7_1: f7c's only entitlements sync failed -> not activated yet, left out.
    assert mar["intent_to_activation_hours_p50"] == pytest.approx(1.5)
    assert mar["intent_to_activation_hours_p90"] == pytest.approx(1.0 + 0.9 * (2.0 - 1.0))
    jan = month(metrics_json, "2026-01")
    assert jan["attempts_started"] == 0 and jan["upgrade_conversion_rate"] is None
    assert set(jan["abandonment_by_step"].values()) == {None}  # no abandoned attempts


# ----------------------------------------------------------------------------- activation


def test_post_activation_rate(metrics_json):
    # January: A1 (upgrade c2 four days later), A3 (c7 half a day later), A2 (only a sales
    # change before activation and a renewal): 2 of 3 matured convert. A1's second
    # activation event in February does not count again.
    jan = month(metrics_json, "2026-01")
    assert (jan["activated_accounts"], jan["matured_activated_accounts"]) == (3, 3)
    assert jan["post_activation_self_serve_rate"] == pytest.approx(2 / 3)
    # February: F6 (never upgrades), F1 (f1c 9 days later), F5 (f5c 9 days later).
    feb = month(metrics_json, "2026-02")
    assert (feb["activated_accounts"], feb["matured_activated_accounts"]) == (3, 3)
    assert feb["post_activation_self_serve_rate"] == pytest.approx(2 / 3)
    # March: F7 (f7c exactly 14 days later: inclusive), F4 (03-20) and A6 (03-25) are
    # immature at as_of 03-31.
    mar = month(metrics_json, "2026-03")
    assert (mar["activated_accounts"], mar["matured_activated_accounts"]) == (3, 1)
    assert mar["post_activation_self_serve_rate"] == pytest.approx(1.0)


def test_cohort_breakdowns(golden):
    rows = {
        (str(r[0])[:7], r[1], r[2]): r[3:]
        for r in query(
            golden,
            "select activation_month, dimension, dimension_value, activated_accounts, "
            "matured_activated_accounts, converted_matured_accounts, "
            "post_activation_self_serve_rate from marts.fct_activation_cohorts",
        )
    }
    assert rows[("2026-01", "all", "all")] == (3, 3, 2, pytest.approx(2 / 3))
    assert rows[("2026-01", "persona", "founder")] == (2, 2, 2, 1.0)  # A1, A3
    assert rows[("2026-01", "persona", "marketer")] == (1, 1, 0, 0.0)  # A2
    # Feature use: A1 sent report_created twice and dashboard_shared once before
    # activating; A3 dashboard_shared once; A2 nothing.
    assert rows[("2026-01", "feature_use", "report_created")][:3] == (1, 1, 1)
    assert rows[("2026-01", "feature_use", "dashboard_shared")][:3] == (1, 1, 1)
    assert rows[("2026-01", "feature_use", "(none)")][:3] == (1, 1, 0)
    # March: immature accounts count as activated, not matured; the rate is over matured.
    assert rows[("2026-03", "persona", "engineer")] == (2, 1, 1, 1.0)  # F7 matured, F4 not
    assert rows[("2026-03", "persona", "marketer")] == (1, 0, 0, None)  # A6 immature


def test_cohort_upgrade_curve(golden):
    """fct_cohort_upgrade_curve by hand. First self-serve upgrade at or after activation:
    A1 (activated 01-06 00:00) c2 01-10 00:00 = 4 days; A3 (01-07 12:00) c7 01-08 00:00 =
    0.5 day; A2 (01-16) none (a sales change before, an automatic renewal); F6 (02-01)
    none; F1 (02-20) f1c 03-01 10:30 = 9.44 days; F5 (02-25) f5c 03-06 10:00 = 9.42 days
    (f5a is before its activation); F7 (03-02) f7c 03-16 = 14 days; F4 (03-20) and A6
    (03-25, c12 before) none. A point needs the cohort's last activation + d <= as_of
    (03-31 12:00): January's last is A2 01-16 (74.5 days: d <= 74), February's F5 02-25
    (34.5: d <= 34), March's A6 03-25 (6.5: d <= 6)."""
    rows = {
        (str(r[0])[:7], r[1]): r[2:]
        for r in query(
            golden,
            "select activation_month, days_since_activation, cohort_accounts, "
            "upgraded_accounts, cumulative_self_serve_upgrade_rate "
            "from marts.fct_cohort_upgrade_curve",
        )
    }
    days = lambda month: sorted(d for m, d in rows if m == month)
    assert days("2026-01") == list(range(75))
    assert days("2026-02") == list(range(35))
    assert days("2026-03") == list(range(7))
    assert {m for m, _ in rows} == {"2026-01", "2026-02", "2026-03"}
    # January: nobody at day 0, A3 from day 1, A1 from day 4 (exactly 4 days: inclusive)
    assert rows[("2026-01", 0)] == (3, 0, 0.0)
    for d in (1, 2, 3):
        assert rows[("2026-01", d)] == (3, 1, pytest.approx(1 / 3)), d
    for d in (4, 30, 74):
        assert rows[("2026-01", d)] == (3, 2, pytest.approx(2 / 3)), d
    # February: F1 and F5 both between 9 and 10 days
    assert rows[("2026-02", 9)] == (3, 0, 0.0)
    assert rows[("2026-02", 10)] == (3, 2, pytest.approx(2 / 3))
    assert rows[("2026-02", 34)] == (3, 2, pytest.approx(2 / 3))
    # March: F7's upgrade at 14 days is past the last point (6)
    assert all(rows[("2026-03", d)] == (3, 0, 0.0) for d in range(7))
    # day 14 of a whole cohort is its post-activation rate (window 14 days): 2/3 and 2/3
    assert rows[("2026-01", 14)][2] == pytest.approx(2 / 3)
    assert rows[("2026-02", 14)][2] == pytest.approx(2 / 3)


def test_metrics_of_absent_optional_tables_are_null(metrics_json):
    # The golden set has no eligibility_checks, upsell_offers, order_status_events or
    # invoice_lines: their metrics are null in every month, counts included.
    for m in metrics_json["months"]:
        for key in (
            "eligibility_rejection_rate",
            "false_positive_reject_rate",
            "upsell_offers",
            "upsell_acceptance_rate",
            "orders_placed",
            "orders_open",
            "order_completion_days_p50",
            "proration_checked_changes",
        ):
            assert m[key] is None, key
    # Its sync_events and crm_opportunities are there: those sections are filled.
    assert month(metrics_json, "2026-03")["handoffs"] == 3  # (f1c|f7c, entitlements), (f5c, crm)
    assert month(metrics_json, "2026-01")["attributed_changes"] == 6


# ----------------------------------------------------------------------------- command


def test_month_filter_and_formats(golden, metrics_json):
    proc = run_cli("metrics", "--warehouse", golden, "--format", "json", "--month", "2026-02")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["months"] == [month(metrics_json, "2026-02")]
    proc = run_cli("metrics", "--warehouse", golden, "--format", "csv")
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("month,attempts_started,attempts_matured,upgrade_conversion_rate,")
    assert len(lines) == 4 and lines[3].startswith("2026-03,8,")
    proc = run_cli("metrics", "--warehouse", golden, "--month", "2026-03")
    assert proc.returncode == 0
    assert "42.9%" in proc.stdout  # upgrade conversion 3/7, formatted
    assert "100.00 USD" in proc.stdout  # net new MRR in March


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--month", "2026-13"], "--month"),
        (["--month", "2025-01"], "2025-01"),
        (["--format", "xml"], "--format"),
    ],
)
def test_metrics_bad_input(golden, args, needle):
    proc = run_cli("metrics", "--warehouse", golden, *args)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr


def test_metrics_without_a_warehouse(tmp_path):
    proc = run_cli("metrics", "--warehouse", tmp_path / "none.duckdb")
    assert proc.returncode == 2 and "build" in proc.stderr


def test_vars_change_the_numbers(tmp_path):
    """`build --var` reaches the models: a 1-day conversion window and an earlier as_of."""
    path = tmp_path / "w.duckdb"
    proc = run_cli(
        "build",
        "--data-dir",
        FIXTURES / "golden",
        "--warehouse",
        path,
        "--var",
        "conversion_window_days=1",
        "--var",
        "as_of=2026-03-20T00:00:00+00:00",
        "--var",
        "funnel_steps=upgrade_intent,plan_selected",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(run_cli("metrics", "--warehouse", path, "--format", "json").stdout)
    assert out["as_of"] == "2026-03-20T00:00:00Z"
    assert out["parameters"]["funnel_steps"] == ["upgrade_intent", "plan_selected"]
    mar = month(out, "2026-03")
    # Two steps, 1-day window, events after 03-20 ignored (f4 is gone). Attempts:
    # f1_1 completes at plan_selected 10:10 (f1_2 inside it); f1_8 11:00 abandoned;
    # f2_1 completes at 09:02; f3_1 at 01:00; f5_1 at 09:40 (escalated 09:30: assisted);
    # f6_1 abandoned but escalated 03-08 09:00 (exactly start + 1 day, inclusive);
    # f7_1 completes at 01:00. 7 attempts, all resolved (windows end before 03-20).
    assert mar["attempts_started"] == 7
    assert mar["upgrade_conversion_rate"] == pytest.approx(5 / 7)
    assert mar["self_serve_completion_rate"] == pytest.approx(4 / 7)
    assert mar["escalation_rate"] == pytest.approx(2 / 7)
    # Changes after 03-20 are ignored too; f7c (03-16) is in: upgrades f1c, c12, f5c, f7c.
    assert mar["upgrades"] == 4


# ----------------------------------------------------------------------------- segments
# `metrics --by persona` (metrics.md "Segments"). Personas of tests/fixtures/golden:
# founder A1 A3 F1 F2 F3 F6; marketer A2 A6; engineer A4 A5 F4 F7; none (empty cell) F5.
# Every value below is derived from the fixture rows (see the comments of the tests
# above for the facts of each change, attempt, payment and handoff).


@pytest.fixture(scope="session")
def by_persona(golden):
    proc = run_cli("metrics", "--warehouse", golden, "--by", "persona", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def segment_month(by_persona, value, m):
    (segment,) = [s for s in by_persona["segments"] if s["segment"] == value]
    (row,) = [r for r in segment["months"] if r["month"] == m]
    return row


def test_by_persona_shape(by_persona, metrics_json):
    assert list(by_persona) == [
        "as_of",
        "reporting_currency",
        "parameters",
        "dimension",
        "segments",
        "warnings",
    ]
    assert by_persona["dimension"] == "persona"
    assert by_persona["parameters"] == metrics_json["parameters"]
    # One entry per persona among the accounts, by value, the accounts without one last.
    assert [s["segment"] for s in by_persona["segments"]] == [
        "engineer",
        "founder",
        "marketer",
        None,
    ]
    for segment in by_persona["segments"]:
        assert list(segment) == ["segment", "months"]
        # Every month of the unsegmented object, with every metric id, in the same order.
        assert [m["month"] for m in segment["months"]] == ["2026-01", "2026-02", "2026-03"]
        for m in segment["months"]:
            assert list(m) == list(metrics_json["months"][0])


def test_by_persona_null_segment(by_persona):
    """F5 (no persona): activated 02-25; f5a (02-10, +20.00 new, self-serve); f5_1 (03-06,
    escalated at 09:30, completed at 10:00: completed_assisted) and its change f5c (+30.00
    expansion, self-serve, paid by p4 and p5, the latest succeeded at 09:59:59); handoff
    (f5c, crm) succeeded at the first attempt 10:01; no CRM record for f5a or f5c."""
    jan, feb, mar = (segment_month(by_persona, None, m) for m in ("2026-01", "2026-02", "2026-03"))
    # January: nothing happened to F5. Counts are 0, rates of empty populations null.
    assert jan["attempts_started"] == 0 and jan["upgrade_conversion_rate"] is None
    assert jan["upgrades"] == 0 and jan["self_serve_share"] is None
    assert jan["arpu_per_upgrade"] is None and jan["net_new_mrr"] == 0
    assert jan["payment_success_rate"] is None and jan["payment_success_rate_by_method"] is None
    assert jan["handoffs"] == 0 and jan["sync_failure_rate"] is None
    assert jan["attributed_changes"] == 0 and jan["attribution_accuracy"] is None
    # February: f5a is F5's first MRR > 0: new, +2000 USD minor = 20.00; its only upgrade.
    assert (feb["upgrades"], feb["self_serve_upgrades"], feb["sales_assisted_upgrades"]) == (
        1,
        1,
        0,
    )
    assert feb["self_serve_share"] == 1.0
    assert feb["arpu_per_upgrade"] == pytest.approx(20.0, **APPROX)
    assert feb["mrr_new"] == pytest.approx(20.0, **APPROX)
    assert feb["net_new_mrr"] == pytest.approx(20.0, **APPROX)
    assert feb["processing_latency_seconds_p50"] is None  # no payment carries f5a
    # Activated 02-25, matured (03-11 <= as_of), f5c on 03-06 is inside the window: 1 / 1.
    assert (feb["activated_accounts"], feb["matured_activated_accounts"]) == (1, 1)
    assert feb["post_activation_self_serve_rate"] == 1.0
    # f5a has no CRM record: missing_record.
    assert feb["attributed_changes"] == 1 and feb["attribution_accuracy"] == 0.0
    assert feb["attribution_mismatches"] == {
        "missing_record": 1,
        "wrong_direction": 0,
        "wrong_movement": 0,
        "wrong_amount": 0,
    }
    # March funnel: f5_1 only, resolved, completed and escalated.
    assert mar["attempts_started"] == 1
    assert mar["upgrade_conversion_rate"] == 1.0
    assert mar["self_serve_completion_rate"] == 0.0
    assert mar["escalation_rate"] == 1.0
    assert set(mar["abandonment_by_step"].values()) == {None}  # nothing abandoned
    # f5c has no entitlements sync rows: activated at effective_at 10:00, started 09:00.
    assert mar["intent_to_activation_hours_p50"] == pytest.approx(1.0, **APPROX)
    assert mar["intent_to_activation_hours_p90"] == pytest.approx(1.0, **APPROX)
    # f5c: pro_m -> biz_m, 2000 -> 5000: expansion +30.00, self-serve.
    assert mar["upgrades"] == 1 and mar["self_serve_share"] == 1.0
    assert mar["mrr_expansion"] == pytest.approx(30.0, **APPROX)
    assert mar["net_new_mrr"] == pytest.approx(30.0, **APPROX)
    # 10:00:00 - 09:59:59 (the latest succeeded payment) = 1 s.
    assert mar["processing_latency_seconds_p50"] == pytest.approx(1.0, **APPROX)
    assert mar["processing_latency_seconds_p95"] == pytest.approx(1.0, **APPROX)
    # p4 and p5 (saved_card) succeeded: 2 / 2.
    assert mar["payment_success_rate"] == 1.0
    assert mar["payment_success_rate_by_method"] == {"saved_card": 1.0}
    # (f5c, crm): first attempt succeeded, resolved 60 s after changed_at.
    assert mar["handoffs"] == 1
    assert (
        mar["sync_failure_rate"],
        mar["sync_unresolved_rate"],
        mar["sync_dead_letters"],
        mar["sync_manual_override_rate"],
    ) == (0.0, 0.0, 0, 0.0)
    assert mar["time_to_sync_seconds_p50"] == pytest.approx(60.0, **APPROX)
    assert mar["attributed_changes"] == 1 and mar["attribution_accuracy"] == 0.0
    # Tables the golden set does not have stay null in every segment.
    assert mar["upsell_offers"] is None and mar["orders_open"] is None


def test_by_persona_founder_segment(by_persona):
    """Founders A1 A3 F1 F2 F3 F6."""
    jan, feb, mar = (
        segment_month(by_persona, "founder", m) for m in ("2026-01", "2026-02", "2026-03")
    )
    # January: c7 (A3, +20 new), c2 (A1, +20 new), both self-serve; c3 (A1) churn -20.
    assert (jan["upgrades"], jan["self_serve_upgrades"]) == (2, 2)
    assert jan["arpu_per_upgrade"] == pytest.approx(20.0, **APPROX)
    assert jan["mrr_new"] == pytest.approx(40.0, **APPROX)
    assert jan["mrr_churn"] == pytest.approx(-20.0, **APPROX)
    assert jan["net_new_mrr"] == pytest.approx(20.0, **APPROX)
    # A1 and A3 activated in January and converted within 14 days (c2, c7): 2 / 2.
    assert (jan["activated_accounts"], jan["post_activation_self_serve_rate"]) == (2, 1.0)
    # February: c4 (A1, reactivation +40, self-serve), c8 (A3, expansion +40, system).
    assert (feb["upgrades"], feb["self_serve_upgrades"], feb["automatic_upgrades"]) == (2, 1, 1)
    assert feb["self_serve_share"] == 0.5
    assert feb["net_new_mrr"] == pytest.approx(80.0, **APPROX)
    assert feb["processing_latency_seconds_p50"] == pytest.approx(10.0, **APPROX)  # c4: p6
    # F6 (never upgrades) and F1 (f1c 9 days later) activated in February: 1 / 2.
    assert (feb["matured_activated_accounts"], feb["post_activation_self_serve_rate"]) == (2, 0.5)
    assert feb["payment_success_rate_by_method"] == {"wallet": 1.0}  # p6
    # March funnel: f1_1 completed self-serve; f1_8, f2_1, f3_1 abandoned at steps 1, 2
    # and 5; f6_1 escalated. 5 attempts, all resolved.
    assert mar["attempts_started"] == 5
    assert mar["upgrade_conversion_rate"] == pytest.approx(1 / 5)
    assert mar["self_serve_completion_rate"] == pytest.approx(1 / 5)
    assert mar["escalation_rate"] == pytest.approx(1 / 5)
    assert mar["abandonment_by_step"] == pytest.approx(ABANDONED_AT_STEPS_1_2_5)
    # f1_1: activated 12:00 (entitlements sync s2), started 10:00: the only value, 2 h.
    assert mar["intent_to_activation_hours_p50"] == pytest.approx(2.0, **APPROX)
    # p1 (new_card) failed, p2 (saved_card) succeeded: 1 / 2.
    assert mar["payment_success_rate"] == 0.5
    assert mar["payment_success_rate_by_method"] == {"new_card": 0.0, "saved_card": 1.0}
    # f1c: new +20; latency 10:30:00 - 10:29:30 = 30 s; handoff (f1c, entitlements)
    # failed first, resolved 12:00 (5400 s).
    assert mar["mrr_new"] == pytest.approx(20.0, **APPROX)
    assert mar["processing_latency_seconds_p50"] == pytest.approx(30.0, **APPROX)
    assert (mar["handoffs"], mar["sync_failure_rate"], mar["sync_unresolved_rate"]) == (1, 1.0, 0.0)
    assert mar["time_to_sync_seconds_p50"] == pytest.approx(5400.0, **APPROX)


def test_segment_counts_add_up_to_the_unsegmented_counts(by_persona, metrics_json):
    counts = [
        k
        for k, v in metrics_json["months"][0].items()
        if k != "month" and (isinstance(v, int) and not isinstance(v, bool))
    ]
    assert {
        "attempts_started",
        "upgrades",
        "activated_accounts",
        "handoffs",
        "attributed_changes",
    } <= set(counts)
    for total in metrics_json["months"]:
        for metric_id in counts:
            parts = [
                segment_month(by_persona, s["segment"], total["month"])[metric_id]
                for s in by_persona["segments"]
            ]
            assert sum(parts) == total[metric_id], (total["month"], metric_id)
        for reason, n in total["attribution_mismatches"].items():
            assert (
                sum(
                    segment_month(by_persona, s["segment"], total["month"])[
                        "attribution_mismatches"
                    ][reason]
                    for s in by_persona["segments"]
                )
                == n
            )
    # Money adds up too (the segments partition the changes).
    for total in metrics_json["months"]:
        assert sum(
            segment_month(by_persona, s["segment"], total["month"])["net_new_mrr"]
            for s in by_persona["segments"]
        ) == pytest.approx(total["net_new_mrr"])


def test_rates_are_not_averages_of_segment_rates(by_persona, metrics_json):
    # March conversion: 3 completed of 7 resolved. By persona: engineer 1/1 (f7_1; f4_1 is
    # in progress), founder 1/5, marketer no attempt (null), none 1/1 (f5_1).
    mar = month(metrics_json, "2026-03")
    rates = {
        s["segment"]: segment_month(by_persona, s["segment"], "2026-03")["upgrade_conversion_rate"]
        for s in by_persona["segments"]
    }
    assert rates == {"engineer": 1.0, "founder": pytest.approx(0.2), "marketer": None, None: 1.0}
    assert mar["upgrade_conversion_rate"] == pytest.approx(3 / 7)
    mean = (1.0 + 0.2 + 1.0) / 3
    assert abs(mar["upgrade_conversion_rate"] - mean) > 0.3  # 0.43 vs 0.73
    # February self-serve share: 3 of 4 upgrades; founder 1/2, engineer 1/1 (c11), none 1/1.
    feb = month(metrics_json, "2026-02")
    shares = [
        segment_month(by_persona, s, "2026-02")["self_serve_share"]
        for s in ("engineer", "founder", None)
    ]
    assert shares == [1.0, 0.5, 1.0]
    assert feb["self_serve_share"] == pytest.approx(0.75)
    assert sum(shares) / 3 == pytest.approx(2.5 / 3)
    # February activation cohort: F6 and F1 (founders, 1 of 2 converted), F5 (no persona,
    # converted): 2 / 3 for all accounts, while the mean of the segment rates is 0.75.
    rates = [
        segment_month(by_persona, s, "2026-02")["post_activation_self_serve_rate"]
        for s in ("founder", None)
    ]
    assert rates == [0.5, 1.0]
    assert month(metrics_json, "2026-02")["post_activation_self_serve_rate"] == pytest.approx(2 / 3)


def test_by_with_month_csv_table_and_bad_dimension(golden, by_persona):
    proc = run_cli(
        "metrics",
        "--warehouse",
        golden,
        "--by",
        "persona",
        "--month",
        "2026-02",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [s["segment"] for s in out["segments"]] == ["engineer", "founder", "marketer", None]
    for segment in out["segments"]:
        assert segment["months"] == [segment_month(by_persona, segment["segment"], "2026-02")]
    proc = run_cli("metrics", "--warehouse", golden, "--by", "persona", "--format", "csv")
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(
        "persona,month,attempts_started,attempts_matured,upgrade_conversion_rate,"
    )
    assert len(lines) == 1 + 4 * 3
    assert lines[1].startswith("engineer,2026-01,0,")
    # No persona (an empty cell): f5_1 started, matured (03-06 + 14 days <= as_of), 1/1, 0/1, 1/1.
    assert lines[-1].startswith(",2026-03,1,1,1.0,0.0,1.0,")
    proc = run_cli("metrics", "--warehouse", golden, "--by", "persona", "--month", "2026-03")
    assert proc.returncode == 0, proc.stderr
    assert "founder" in proc.stdout and "(none)" in proc.stdout
    assert "20.0%" in proc.stdout  # founder conversion 1/5
    proc = run_cli("metrics", "--warehouse", golden, "--by", "plan")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "--by 'plan'" in proc.stderr and "persona, acquisition_source, segment, country" in (
        proc.stderr
    )
    for dimension in ("acquisition_source", "segment", "country"):
        proc = run_cli("metrics", "--warehouse", golden, "--by", dimension, "--format", "json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["dimension"] == dimension


# ----------------------------------------------------------------------------- matured, MRR end
# The golden data plus three rows, built at as_of 2026-03-06T12:00:00Z with a 3-day
# conversion window (made once per session):
# - c13: A2 cancels its yearly subscription s_a2 (pro_y x 3 = 20000 x 3 / 12 = 5000 USD
#   minor a month) on 02-25, effective 03-05 (a scheduled cancellation);
# - EUR rates 1.15 on 01-20, 1.25 on 03-05 and 1.30 on 03-20 (after as_of: never used),
#   besides 1.10 on 01-01 and 1.20 on 02-01.
EXTRA_CHANGE = (
    "c13,s_a2,A2,2026-02-25T00:00:00Z,2026-03-05T00:00:00Z,pro_y,,3,,customer,web,,,,cancel\n"
)
EXTRA_RATES = "2026-01-20,EUR,1.15\n2026-03-05,EUR,1.25\n2026-03-20,EUR,1.30\n"
# Two bad rows (quarantined, in no metric): an event and a rate with impossible dates.
BAD_EVENT = "bad_1,A1,u,report_created,2026-02-30T00:00:00Z,,\n"
BAD_RATE = "2026-13-01,EUR,1.50\n"


@pytest.fixture(scope="session")
def early(tmp_path_factory):
    import shutil

    from conftest import made_once

    def make(folder):
        data = folder / "data"
        shutil.copytree(FIXTURES / "golden", data)
        with (data / "subscription_changes.csv").open("a") as f:
            f.write(EXTRA_CHANGE)
        with (data / "fx_rates.csv").open("a") as f:
            f.write(EXTRA_RATES + BAD_RATE)
        with (data / "product_events.csv").open("a") as f:
            f.write(BAD_EVENT)
        proc = run_cli(
            "build",
            "--data-dir",
            data,
            "--warehouse",
            folder / "early.duckdb",
            "--var",
            "as_of=2026-03-06T12:00:00Z",
            "--var",
            "conversion_window_days=3",
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    path = made_once(tmp_path_factory, "golden-early", make) / "early.duckdb"
    proc = run_cli("metrics", "--warehouse", path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return path, json.loads(proc.stdout)


def test_rates_are_over_matured_attempts_not_resolved_ones(early):
    """as_of 03-06 12:00, window 3 days. March attempts (events after as_of ignored):
    f1_1 03-01 10:00 completed self-serve 10:30, window ends 03-04 10:00: matured;
    f1_8 03-01 11:00 abandoned at upgrade_intent, ends 03-04 11:00: matured;
    f2_1 03-03 09:00 abandoned at plan_selected, ends 03-06 09:00 <= 12:00: matured;
    f7_1 03-02 00:00 abandoned at payment_submitted (completion 03-16 outside the window),
      ends 03-05: matured;
    f3_1 03-04 00:00 ends 03-07: in progress, not matured;
    f5_1 03-06 09:00 escalated 09:30, completed 10:00 (completed_assisted), ends 03-09:
      resolved but not matured.
    Over the 5 resolved attempts (all but f3_1) conversion would be 2/5 = 40%: the
    quick completion of f5_1 counts while attempts of the same days that will be
    abandoned do not yet. Over the 4 matured ones: 1/4 = 25% (reported)."""
    _, out = early
    mar = month(out, "2026-03")
    assert mar["attempts_started"] == 6
    assert mar["attempts_matured"] == 4
    resolved_rate = 2 / 5  # f1_1, f5_1 of f1_1, f1_8, f2_1, f7_1, f5_1
    assert mar["upgrade_conversion_rate"] == pytest.approx(1 / 4)  # f1_1
    assert mar["upgrade_conversion_rate"] != pytest.approx(resolved_rate)
    assert mar["self_serve_completion_rate"] == pytest.approx(1 / 4)  # resolved: 1/5
    assert mar["escalation_rate"] == 0.0  # resolved: f5_1, 1/5
    rows = dict(
        query(
            early[0],
            "select attempt_id, is_matured from marts.fct_upgrade_attempts "
            "where attempt_month = date '2026-03-01'",
        )
    )
    assert rows == {
        "f1_1": True,
        "f1_8": True,
        "f2_1": True,
        "f7_1": True,
        "f3_1": False,
        "f5_1": False,
    }


def test_mrr_end_per_month(early):
    """MRR at each month's end, by subscription (USD unless said; EUR at the latest rate
    on or before the month's last day, the as_of month: as_of's date 03-06):
    January (effective before 02-01; EUR 1.15 of 01-20): s_a3 c7 pro_m 20.00, s_a4 c9
      2 x 18.00 EUR = 36.00 x 1.15 = 41.40, s_a2 c5 50.00, s_a6 c12a 20.00 (s_a1 was
      cancelled by c3): 131.40. The movements convert c9 at its own date's rate (1.10):
      net new 129.60, so other = 131.40 - 0 - 129.60 = 1.80 (revaluation 36 x 0.05).
    February (EUR 1.20): s_a1b c4 40.00, s_a2 still c6 50.00 (c13 was made on 02-25 but
      takes effect on 03-05), s_a3 c8 60.00, s_a4 c10 18 EUR x 1.20 = 21.60, s_a6 20.00,
      s_f5 f5a 20.00; s_a5 (GBP, no rate) left out: 211.60. Net new: 78.40 of the golden
      set (c11 left out) + c13 churn -50.00 = 28.40; other = 211.60 - 131.40 - 28.40 =
      51.80 (+50.00 of c13 not in effect yet, +1.80 revaluation: 41.40 - 21.60 = 19.80
      implied against 21.60).
    March, up to as_of 03-06 12:00 (EUR 1.25 of 03-05; 1.30 of 03-20 is later): s_a1b
      40.00, s_a2 cancelled (c13, effective 03-05), s_a3 60.00, s_a4 18 x 1.25 = 22.50,
      s_a6 c12 biz_m 50.00, s_f1 f1c 20.00, s_f5 f5c (03-06 10:00) 50.00, s_f7 still free
      (f7c is after as_of): 242.50. Net new: f1c +20, c12 +30, f5c +30 = 80.00; other =
      242.50 - 211.60 - 80.00 = -49.10 (-50.00 c13 in effect, +0.90 revaluation)."""
    _, out = early
    expected = {
        "2026-01": (0.0, 129.6, 131.4, 1.8),
        "2026-02": (131.4, 28.4, 211.6, 51.8),
        "2026-03": (211.6, 80.0, 242.5, -49.1),
    }
    for m, (start, net_new, end, other) in expected.items():
        row = month(out, m)
        assert row["mrr_start"] == pytest.approx(start, **APPROX), m
        assert row["net_new_mrr"] == pytest.approx(net_new, **APPROX), m
        assert row["mrr_end"] == pytest.approx(end, **APPROX), m
        assert row["arr_end"] == pytest.approx(12 * end, **APPROX), m
        assert row["mrr_other"] == pytest.approx(other, **APPROX), m
    assert month(out, "2026-02")["mrr_churn"] == pytest.approx(-50.0)  # c13, month of changed_at
    # The scheduled cancellation: in force at February's end, gone at March's.
    rows = query(
        early[0],
        "select strftime(month, '%Y-%m'), change_id, mrr_end_reporting "
        "from marts.fct_mrr_month_end where subscription_id = 's_a2' order by month",
    )
    assert rows == [("2026-01", "c5", 50.0), ("2026-02", "c6", 50.0)]
    # The GBP subscription is there, unconverted.
    rows = query(
        early[0],
        "select strftime(month, '%Y-%m'), mrr_end, mrr_end_reporting "
        "from marts.fct_mrr_month_end where subscription_id = 's_a5' order by month",
    )
    assert rows == [("2026-02", 1500.0, None), ("2026-03", 1500.0, None)]


def test_mrr_bridge_by_segment(early):
    """Personas: A2 marketer (c13), A4 engineer (EUR); the bridge holds per segment and the
    segments' mrr_end add up to all accounts'."""
    path, out = early
    proc = run_cli("metrics", "--warehouse", path, "--by", "persona", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    by = json.loads(proc.stdout)
    # Marketers A2 and A6: February end s_a2 50 + s_a6 20 = 70; March s_a6 c12 50.
    feb = segment_month(by, "marketer", "2026-02")
    mar = segment_month(by, "marketer", "2026-03")
    assert feb["mrr_end"] == pytest.approx(70.0) and mar["mrr_end"] == pytest.approx(50.0)
    # March: start 70, c12 +30 expansion, c13's -50 is February's churn: other -50.
    assert mar["mrr_start"] == pytest.approx(70.0)
    assert mar["net_new_mrr"] == pytest.approx(30.0)
    assert mar["mrr_other"] == pytest.approx(-50.0)
    for total in out["months"]:
        parts = [segment_month(by, s["segment"], total["month"]) for s in by["segments"]]
        assert sum(p["mrr_end"] for p in parts) == pytest.approx(total["mrr_end"])
        for p in parts:
            assert round(p["mrr_start"] + p["net_new_mrr"] + p["mrr_other"], 6) == round(
                p["mrr_end"], 6
            )


# ----------------------------------------------------------------------------- warnings


def test_warnings_of_the_golden_build(golden, metrics_json):
    """as_of 2026-03-31 12:00 (the month's last day: not partial); built today, months
    later: stale. GBP has no rate: c11 (February, +15.00 GBP new) is left out of the
    movements, and s_a5 (c11's subscription) out of MRR at the end of February and
    March. No row was quarantined."""
    warnings = metrics_json["warnings"]
    assert [w["code"] for w in warnings] == ["stale", "fx_missing"]
    stale, fx = warnings
    assert stale["as_of"] == "2026-03-31T12:00:00Z" and stale["age_days"] > 2
    assert "2026-03-31 12:00 UTC" in stale["message"]
    assert fx["currency"] == "GBP"
    assert (fx["changes"], fx["change_months"]) == (1, ["2026-02"])
    assert (fx["subscriptions"], fx["subscription_months"]) == (1, ["2026-02", "2026-03"])
    assert fx["months"] == ["2026-02", "2026-03"]
    assert "GBP" in fx["message"] and "USD" in fx["message"]


def test_warnings_of_a_partial_month_with_quarantined_rows(early):
    """as_of 2026-03-06 12:00: March is not over (5.5 of 31 days since 03-01 00:00). The
    impossible dates of one product event and one fx rate are quarantined."""
    _, out = early
    codes = [w["code"] for w in out["warnings"]]
    assert codes == ["stale", "latest_month_partial", "fx_missing", "quarantined_rows"]
    partial = out["warnings"][1]
    assert (partial["month"], partial["days_covered"], partial["days_in_month"]) == (
        "2026-03",
        5.5,
        31,
    )
    quarantined = out["warnings"][3]
    assert quarantined["rows"] == 2
    assert quarantined["by_table"] == {"fx_rates": 1, "product_events": 1}


def test_warnings_in_every_format(golden, metrics_json):
    fx = metrics_json["warnings"][1]["message"]
    # --by carries the same list.
    proc = run_cli("metrics", "--warehouse", golden, "--by", "persona", "--format", "json")
    assert json.loads(proc.stdout)["warnings"] == metrics_json["warnings"]
    # Table: below the table (rich wraps long lines: compare the words).
    proc = run_cli("metrics", "--warehouse", golden, "--month", "2026-03")
    assert proc.returncode == 0
    tail = " ".join(proc.stdout.split("Proration accuracy rate")[-1].split())
    assert "Warning (fx_missing): " + " ".join(fx.split()) in tail
    assert "Warning (stale)" in tail
    # CSV: the data stays a plain CSV (no comment line); the warnings go to stderr.
    proc = run_cli("metrics", "--warehouse", golden, "--format", "csv")
    assert proc.stdout.startswith("month,") and "warning" not in proc.stdout.lower()
    assert f"warning (fx_missing): {fx}" in proc.stderr


def test_every_column_of_the_headline_marts_is_documented(golden):
    """dbt's docs site describes every column of fct_monthly_metrics and
    fct_monthly_metrics_by_segment as built (schema YAML, checked in test_docs)."""
    from test_docs import HEADLINE_MARTS, documented_columns

    for model in HEADLINE_MARTS:
        built = query(
            golden,
            "select column_name from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{model}'",
        )
        names = [row[0] for row in built]
        assert len(names) > 40, model
        documented = documented_columns(model)
        missing = [n for n in names if not documented.get(n, "").strip()]
        assert not missing, (model, missing)
