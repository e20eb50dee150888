"""The exact simulator (``shared/spec/simulator.md``): worked examples, one hand-computed
case per rule, errors, calendar. Every expected value is computed by hand in a comment."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction

import pytest

from test_simulator_cli import EX1_JSON
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.simulator import (
    Plan,
    QuoteError,
    add_months,
    load_plans,
    quote,
    round_half_away,
)
from upgrade_warehouse.simulator.calendar import parse_timestamp

SAMPLE = load_plans()

MAR1 = "2026-03-01T00:00:00Z"
APR1 = "2026-04-01T00:00:00Z"
MID = "2026-03-16T12:00:00Z"  # 15.5 days into a 31-day period: f = 15.5/31 = 1/2


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def plan(pid, tier, interval, price, currency="USD", self_serve=True, lo=None, hi=None, ents=""):
    return Plan(
        pid,
        pid,
        tier,
        interval,
        price,
        currency,
        self_serve,
        lo,
        hi,
        tuple(sorted(e for e in ents.split(";") if e)),
    )


# A small catalog with round numbers for the hand computations.
CAT = {
    p.plan_id: p
    for p in [
        plan("free_m", 0, "month", 0, ents="a"),
        plan("basic_m", 1, "month", 1000, lo=1, hi=10, ents="a;b"),
        plan("basic_y", 1, "year", 10000, ents="a;b"),
        plan("plus_m", 2, "month", 3000, ents="a;b;c"),
        plan("plus_y", 2, "year", 30000, ents="a;b;c"),
        plan("one_m", 1, "month", 1),
        plan("five_m", 1, "month", 5),
        plan("eur_m", 1, "month", 1000, currency="EUR"),
    ]
}


def quote_at_mid(catalog, from_plan, from_quantity, to_plan, to_quantity, **options):
    """The quote of a change at MID of the period MAR1 -> APR1 (f = 1/2)."""
    return quote(
        catalog, from_plan, from_quantity, to_plan, to_quantity, MAR1, APR1, MID, **options
    )


def assert_credit_carried(q, balance_minor: int) -> None:
    """A credit larger than what is owed: nothing due now nor on the next invoice, and
    ``balance_minor`` left on the customer's balance."""
    assert q.amount_due_now_minor == 0
    assert q.next_invoice_amount_minor == 0
    assert q.credit_balance_minor == balance_minor


def lines(q):
    return [(ln.line_type, ln.amount_minor) for ln in q.lines]


# --- the spec's worked examples --------------------------------------------------------------


def test_worked_example_1_second_granularity():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "business_monthly", 3)
    # f = (Apr 1 - Mar 16 12:00) / (Apr 1 - Mar 1) = 15.5 d / 31 d = 1/2
    assert q.remaining_fraction == Fraction(1, 2)
    # credit = -round(2000*3*1/2) = -3000; charge = round(5000*3*1/2) = 7500; net 4500
    assert lines(q) == [("proration_credit", -3000), ("proration_charge", 7500)]
    assert q.proration_net_minor == 4500
    # create_prorations: nothing due now; next invoice Apr 1 = 15000 + 4500 = 19500
    assert q.amount_due_now_minor == 0
    assert q.next_invoice_date == ts(APR1)
    assert q.next_invoice_amount_minor == 19500
    assert q.credit_balance_minor == 0
    assert (q.movement, q.kind, q.timing) == ("expansion", "tier_upgrade", "immediate")
    assert q.effective_at == ts(MID)
    assert q.to_dict()["from"]["mrr_minor"] == 6000
    assert q.to_dict()["to"]["mrr_minor"] == 15000
    assert q.to_dict()["mrr_delta_minor"] == 9000


def test_worked_example_2_day_granularity():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "business_monthly", 3, granularity="day")
    # f = (Apr 1 - Mar 16) / (Apr 1 - Mar 1) in whole days = 16/31
    assert q.remaining_fraction == Fraction(16, 31)
    # credit = -round(6000*16/31 = 3096.77) = -3097; charge = round(15000*16/31 = 7741.94) = 7742
    assert lines(q) == [("proration_credit", -3097), ("proration_charge", 7742)]
    assert q.proration_net_minor == 4645  # 7742 - 3097
    assert q.next_invoice_amount_minor == 19645  # 15000 + 4645


def test_worked_example_3_interval_switch_month_to_year():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "pro_annual", 3, timing="immediate")
    # credit -round(6000/2) = -3000; subscription = 20000*3 = 60000 for one new year
    assert lines(q) == [("proration_credit", -3000), ("subscription", 60000)]
    assert q.proration_net_minor == -3000
    assert q.amount_due_now_minor == 57000  # 60000 - 3000, invoiced now
    assert (q.period_start, q.period_end) == (ts(MID), ts("2027-03-16T12:00:00Z"))
    assert q.next_invoice_date == ts("2027-03-16T12:00:00Z")
    assert q.next_invoice_amount_minor == 60000
    assert q.credit_balance_minor == 0
    # MRR 6000 -> 60000/12 = 5000
    assert q.mrr_delta_minor == -1000
    assert (q.movement, q.kind) == ("contraction", "interval_switch")
    sub = q.line("subscription")
    assert (sub.period_start, sub.period_end) == (ts(MID), ts("2027-03-16T12:00:00Z"))
    credit = q.line("proration_credit")
    assert (credit.period_start, credit.period_end) == (ts(MID), ts(APR1))


def test_worked_example_3_auto_is_period_end():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "pro_annual", 3)  # auto
    # MRR falls 6000 -> 5000, so auto schedules it at period end: no lines
    assert q.timing == "period_end"
    assert q.lines == ()
    assert q.effective_at == ts(APR1)
    assert q.amount_due_now_minor == 0
    # the next invoice, at the period end, charges the new plan for one year: 60000
    assert (q.next_invoice_date, q.next_invoice_amount_minor) == (ts(APR1), 60000)


def test_worked_example_1_json_object():
    # The spec's JSON object, written out by hand once (shared with the CLI test).
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "business_monthly", 3)
    assert q.to_dict() == EX1_JSON


# --- proration behaviors ----------------------------------------------------------------------


def test_always_invoice_net_due_now():
    q = quote_at_mid(
        SAMPLE,
        "pro_monthly",
        3,
        "business_monthly",
        3,
        proration_behavior="always_invoice",
    )
    assert lines(q) == [("proration_credit", -3000), ("proration_charge", 7500)]
    assert all(ln.invoiced_now for ln in q.lines)
    assert q.amount_due_now_minor == 4500  # -3000 + 7500
    assert q.next_invoice_amount_minor == 15000  # recurring only, nothing pending


def test_none_no_lines():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "business_monthly", 3, proration_behavior="none")
    assert q.lines == ()
    assert (q.proration_net_minor, q.amount_due_now_minor) == (0, 0)
    assert q.next_invoice_amount_minor == 15000


def test_create_prorations_downgrade_credit_balance():
    # plus_m x10 (30000) -> basic_m x1 (1000), f = 1/2, immediate:
    # credit -15000, charge 500, pending -14500; next = 1000 - 14500 < 0 -> 0, balance 13500
    q = quote_at_mid(CAT, "plus_m", 10, "basic_m", 1, timing="immediate")
    assert lines(q) == [("proration_credit", -15000), ("proration_charge", 500)]
    assert_credit_carried(q, 13500)
    assert (q.movement, q.kind) == ("contraction", "tier_downgrade")


def test_always_invoice_downgrade_credit_carried():
    # same lines invoiced now: due = -14500 -> due now 0, 14500 carried;
    # next invoice = max(0, 1000 + 0 - 14500) = 0, balance 13500
    q = quote_at_mid(
        CAT,
        "plus_m",
        10,
        "basic_m",
        1,
        timing="immediate",
        proration_behavior="always_invoice",
    )
    assert_credit_carried(q, 13500)


def test_downgrade_partial_credit_used_by_next_invoice():
    # business_monthly x3 -> pro_monthly x3 at f=1/2, always_invoice:
    # credit -7500, charge 3000 -> due -4500, carried 4500; next = 6000 - 4500 = 1500
    q = quote_at_mid(
        SAMPLE,
        "business_monthly",
        3,
        "pro_monthly",
        3,
        timing="immediate",
        proration_behavior="always_invoice",
    )
    assert lines(q) == [("proration_credit", -7500), ("proration_charge", 3000)]
    assert (q.amount_due_now_minor, q.next_invoice_amount_minor) == (0, 1500)
    assert q.credit_balance_minor == 0
    assert q.entitlements_removed == ("audit_log", "sso")
    assert q.entitlements_added == ()


# --- interval switches ------------------------------------------------------------------------

JAN1, JAN1_27 = "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"
JUL2 = "2026-07-02T00:00:00Z"  # 183 days before 2027-01-01 in a 365-day year: f = 183/365


def test_interval_switch_year_to_month_credit_carried():
    q = quote(CAT, "plus_y", 2, "plus_m", 2, JAN1, JAN1_27, JUL2)
    # MRR 60000/12 = 5000 -> 6000: expansion, auto = immediate
    assert q.timing == "immediate"
    assert q.remaining_fraction == Fraction(183, 365)
    # credit -round(60000*183/365 = 30082.19) = -30082; subscription 3000*2 = 6000
    assert lines(q) == [("proration_credit", -30082), ("subscription", 6000)]
    # due = -24082 -> nothing now, 24082 carried; next (Aug 2) = max(0, 6000 - 24082) = 0
    assert_credit_carried(q, 18082)  # 24082 - 6000
    assert q.next_invoice_date == ts("2026-08-02T00:00:00Z")
    assert (q.period_start, q.period_end) == (ts(JUL2), ts("2026-08-02T00:00:00Z"))
    assert (q.movement, q.kind) == ("expansion", "interval_switch")


def pro_month_to_year_now(proration_behavior: str):
    """pro_monthly x3 -> pro_annual x3 at MID, taking effect at once."""
    return quote_at_mid(
        SAMPLE,
        "pro_monthly",
        3,
        "pro_annual",
        3,
        timing="immediate",
        proration_behavior=proration_behavior,
    )


def test_interval_switch_invoiced_now_whatever_the_behavior():
    q = pro_month_to_year_now("create_prorations")
    assert all(ln.invoiced_now for ln in q.lines)


def test_interval_switch_none_omits_credit():
    q = pro_month_to_year_now("none")
    # no credit; the subscription line (60000) is still invoiced now
    assert lines(q) == [("subscription", 60000)]
    assert q.proration_net_minor == 0
    assert q.amount_due_now_minor == 60000
    assert (q.next_invoice_date, q.next_invoice_amount_minor) == (ts("2027-03-16T12:00:00Z"), 60000)


def test_interval_switch_to_free_plan_has_no_subscription_line():
    # basic_y x1 (10000/yr) -> free_m: credit -round(10000*183/365 = 5013.70) = -5014
    q = quote(CAT, "basic_y", 1, "free_m", 1, JAN1, JAN1_27, JUL2, timing="immediate")
    assert lines(q) == [("proration_credit", -5014)]
    assert_credit_carried(q, 5014)  # next invoice max(0, 0 - 5014)
    assert (q.movement, q.kind) == ("churn", "tier_downgrade")


def test_offset_naive_inputs_default_end_fractional_mrr():
    # period_start 2026-03-01T00:00+01:00 = 2026-02-28T23:00Z; end = +1 month = 2026-03-28T23:00Z
    # at 2026-03-16T12:00 (naive = UTC): remaining 12 d 11 h = 1076400 s of 28 d = 2419200 s
    q = quote(
        SAMPLE,
        "pro_monthly",
        3,
        "business_annual",
        4,
        "2026-03-01T00:00:00+01:00",
        None,
        "2026-03-16T12:00:00",
    )
    # credit = -round(6000*1076400/2419200 = 2669.64) = -2670; subscription 50000*4 = 200000
    assert lines(q) == [("proration_credit", -2670), ("subscription", 200000)]
    assert q.amount_due_now_minor == 197330
    d = q.to_dict()
    assert d["lines"][0]["period_end"] == "2026-03-28T23:00:00Z"
    # MRR after = 200000/12 = 16666.666..., delta = 16666.67 - 6000 = 10666.666...
    assert q.to_mrr_minor == Fraction(50000, 3)
    assert d["to"]["mrr_minor"] == 16666.666667
    assert d["mrr_delta_minor"] == 10666.666667
    assert d["period"] == {"start": "2026-03-16T12:00:00Z", "end": "2027-03-16T12:00:00Z"}


# --- timing -----------------------------------------------------------------------------------


def test_period_end_timing_explicit():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "business_monthly", 3, timing="period_end")
    assert q.lines == ()
    assert q.effective_at == ts(APR1)
    assert (q.next_invoice_date, q.next_invoice_amount_minor) == (ts(APR1), 15000)
    assert (q.period_start, q.period_end) == (ts(MAR1), ts(APR1))


def test_auto_same_mrr_is_immediate_renewal():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "pro_monthly", 3)
    # delta 0 does not lower MRR -> immediate; credit -3000, charge 3000
    assert q.timing == "immediate"
    assert lines(q) == [("proration_credit", -3000), ("proration_charge", 3000)]
    assert (q.movement, q.kind, q.proration_net_minor) == ("renewal", "renewal", 0)


def test_auto_seat_reduction_is_period_end():
    q = quote_at_mid(SAMPLE, "pro_monthly", 3, "pro_monthly", 2)
    assert (q.timing, q.kind, q.movement) == ("period_end", "seat_reduction", "contraction")
    assert q.next_invoice_amount_minor == 4000


# --- granularity ------------------------------------------------------------------------------


def test_day_granularity_last_day():
    at = "2026-03-31T23:59:59Z"
    q = quote(SAMPLE, "pro_monthly", 3, "business_monthly", 3, MAR1, APR1, at, granularity="day")
    # f = (Apr 1 - Mar 31) / 31 = 1/31: credit -round(193.55) = -194, charge round(483.87) = 484
    assert lines(q) == [("proration_credit", -194), ("proration_charge", 484)]
    s = quote(SAMPLE, "pro_monthly", 3, "business_monthly", 3, MAR1, APR1, at)
    # 1 second of 2678400: 6000/2678400 and 15000/2678400 both round to 0
    assert lines(s) == [("proration_credit", 0), ("proration_charge", 0)]


def test_at_period_start_is_full_period():
    q = quote(SAMPLE, "pro_monthly", 3, "business_monthly", 3, MAR1, APR1, MAR1)
    assert lines(q) == [("proration_credit", -6000), ("proration_charge", 15000)]


# --- rounding ---------------------------------------------------------------------------------


def test_round_half_away_from_zero():
    assert round_half_away(Fraction(5, 2)) == 3  # banker's rounding would give 2
    assert round_half_away(Fraction(-5, 2)) == -3
    assert round_half_away(Fraction(1, 2)) == 1
    assert round_half_away(Fraction(-1, 2)) == -1
    assert round_half_away(Fraction(7, 3)) == 2
    assert round_half_away(Fraction(-7, 3)) == -2
    assert round_half_away(Fraction(8, 3)) == 3
    assert round_half_away(0) == 0


def test_lines_round_half_away_from_zero():
    # one_m (1/seat) x1 -> five_m (5/seat) x1 at f = 1/2:
    # credit = -round(0.5) = -1 (not 0), charge = round(2.5) = 3 (not 2)
    q = quote_at_mid(CAT, "one_m", 1, "five_m", 1)
    assert lines(q) == [("proration_credit", -1), ("proration_charge", 3)]
    # five_m x1 -> one_m x1: credit = -round(2.5) = -3, charge = round(0.5) = 1
    q = quote_at_mid(CAT, "five_m", 1, "one_m", 1, timing="immediate")
    assert lines(q) == [("proration_credit", -3), ("proration_charge", 1)]


# --- free plans, entitlements, sales ------------------------------------------------------------


def test_free_from_plan_no_credit_line_counts_as_new():
    q = quote_at_mid(CAT, "free_m", 1, "basic_m", 1)
    assert lines(q) == [("proration_charge", 500)]  # round(1000/2)
    assert q.next_invoice_amount_minor == 1500  # 1000 + 500
    assert (q.movement, q.kind) == ("new", "tier_upgrade")
    assert q.entitlements_added == ("b",)


def test_free_to_plan_no_charge_line_churn():
    q = quote_at_mid(CAT, "basic_m", 2, "free_m", 1, timing="immediate")
    assert lines(q) == [("proration_credit", -1000)]  # -round(2000/2)
    assert (q.next_invoice_amount_minor, q.credit_balance_minor) == (0, 1000)
    assert q.movement == "churn"
    assert q.entitlements_removed == ("b",)


def test_free_to_free_is_none():
    q = quote_at_mid(CAT, "free_m", 1, "free_m", 2)
    assert q.lines == ()
    assert (q.movement, q.kind) == ("none", "seat_expansion")


def test_entitlements_sorted_diff():
    q = quote_at_mid(SAMPLE, "free", 1, "business_monthly", 3)
    # free: core; business: api, audit_log, core, integrations, sso
    assert q.entitlements_added == ("api", "audit_log", "integrations", "sso")
    assert q.entitlements_removed == ()
    d = quote_at_mid(SAMPLE, "business_monthly", 3, "free", 1).to_dict()
    assert d["entitlements_removed"] == ["api", "audit_log", "integrations", "sso"]
    assert d["entitlements_added"] == []


def test_requires_sales_is_not_an_error():
    q = quote(SAMPLE, "pro_annual", 30, "enterprise_annual", 30, JAN1, JAN1_27, JUL2)
    assert q.requires_sales is True
    # credit -round(600000*183/365 = 300821.92) = -300822
    # charge round(3600000*183/365 = 1804931.51) = 1804932
    assert lines(q) == [("proration_credit", -300822), ("proration_charge", 1804932)]
    assert q.next_invoice_amount_minor == 3600000 + 1804932 - 300822
    assert "scim" in q.entitlements_added
    assert quote_at_mid(SAMPLE, "pro_monthly", 3, "business_monthly", 3).requires_sales is False


def test_to_quantity_defaults_to_from_quantity():
    q = quote(SAMPLE, "pro_monthly", 4, "business_monthly", period_start=MAR1, at=MID)
    assert q.to_quantity == 4
    assert q.period_end == ts(APR1)  # default: start + one month


# --- calendar ---------------------------------------------------------------------------------


def test_add_months_clamps_to_month_end():
    jan31 = datetime(2026, 1, 31, 10, 30, 5, tzinfo=UTC)
    assert add_months(jan31, 1) == datetime(2026, 2, 28, 10, 30, 5, tzinfo=UTC)
    assert add_months(jan31, 2) == datetime(2026, 3, 31, 10, 30, 5, tzinfo=UTC)
    assert add_months(datetime(2024, 1, 31, tzinfo=UTC), 1) == datetime(2024, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 1) == datetime(2027, 1, 15, tzinfo=UTC)


def test_add_year_to_feb_29():
    assert add_months(datetime(2024, 2, 29, 8, tzinfo=UTC), 12) == datetime(
        2025, 2, 28, 8, tzinfo=UTC
    )
    assert add_months(datetime(2024, 2, 29, tzinfo=UTC), 48) == datetime(2028, 2, 29, tzinfo=UTC)


def test_default_period_end_clamped_in_quote():
    q = quote(
        SAMPLE,
        "pro_monthly",
        3,
        "business_monthly",
        3,
        "2026-01-31T10:00:00Z",
        None,
        "2026-02-01T00:00:00Z",
    )
    assert q.period_end == ts("2026-02-28T10:00:00Z")
    q = quote(
        SAMPLE,
        "pro_annual",
        3,
        "business_annual",
        3,
        "2024-02-29T00:00:00Z",
        None,
        "2024-03-01T00:00:00Z",
    )
    assert q.period_end == ts("2025-02-28T00:00:00Z")


def test_interval_switch_new_period_clamped():
    # month -> year at Feb 29 2028: the new period ends Feb 28 2029
    q = quote(
        SAMPLE,
        "pro_monthly",
        1,
        "pro_annual",
        1,
        "2028-02-10T00:00:00Z",
        None,
        "2028-02-29T08:00:00Z",
        timing="immediate",
    )
    assert q.next_invoice_date == ts("2029-02-28T08:00:00Z")
    # year -> month at Jan 31: the new period ends Feb 28
    q = quote(
        SAMPLE,
        "pro_annual",
        1,
        "pro_monthly",
        1,
        "2026-01-01T00:00:00Z",
        None,
        "2026-01-31T00:00:00Z",
    )
    assert q.next_invoice_date == ts("2026-02-28T00:00:00Z")


def test_parse_timestamp_forms():
    utc = ts("2026-03-01T00:00:00Z")
    assert parse_timestamp("2026-03-01T00:00:00Z") == utc
    assert parse_timestamp("2026-03-01T01:30:00+01:30") == utc
    assert parse_timestamp("2026-02-28T19:00:00-0500") == utc
    assert parse_timestamp("2026-03-01T00:00:00") == utc
    assert parse_timestamp("2026-03-01") == utc
    assert parse_timestamp("2026-03-01 00:00") == utc
    assert parse_timestamp("2026-03-01T00:00:00.999Z") == utc  # sub-second dropped
    assert parse_timestamp(datetime(2026, 3, 1)) == utc


# --- errors -----------------------------------------------------------------------------------


def _err(**overrides):
    args = {
        "from_plan_id": "pro_monthly",
        "from_quantity": 3,
        "to_plan_id": "business_monthly",
        "to_quantity": 3,
        "period_start": MAR1,
        "period_end": APR1,
        "at": MID,
    }
    args.update(overrides)
    with pytest.raises(QuoteError) as info:
        quote(SAMPLE, **args)
    assert isinstance(info.value, UserError)
    return str(info.value)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"from_plan_id": "nope"}, "unknown from plan 'nope'"),
        ({"to_plan_id": "nope"}, "unknown to plan 'nope'"),
        ({"to_plan_id": "pro_monthly_eur"}, "currency mismatch: from plan 'pro_monthly' is USD"),
        ({"at": "2026-02-28T23:59:59Z"}, "outside the billing period"),
        ({"at": APR1}, "outside the billing period"),  # the end is excluded
        ({"at": "2026-05-01T00:00:00Z"}, "at 2026-05-01T00:00:00Z is outside"),
        ({"to_quantity": 2}, "to_quantity 2 is below the minimum of 3 seats"),
        ({"to_quantity": 251}, "to_quantity 251 is above the maximum of 250 seats"),
        ({"from_quantity": -1}, "from_quantity must be a whole number >= 0"),
        ({"to_quantity": -4}, "to_quantity must be a whole number >= 0"),
        ({"from_quantity": 2.5}, "from_quantity must be a whole number"),
        ({"at": "yesterday"}, "at is not a valid ISO 8601 timestamp: 'yesterday'"),
        ({"period_start": "2026-02-30T00:00:00Z"}, "period_start is not a valid ISO 8601"),
        ({"period_end": "2026-13-01"}, "period_end is not a valid ISO 8601"),
        ({"at": None}, "at is required"),
        ({"period_end": MAR1}, "period_end 2026-03-01T00:00:00Z is not after period_start"),
        ({"proration_behavior": "sometimes"}, "unknown proration_behavior 'sometimes'"),
        ({"granularity": "hour"}, "unknown granularity 'hour'"),
        ({"timing": "later"}, "unknown timing 'later'"),
    ],
)
def test_errors_name_the_problem(overrides, expected):
    assert expected in _err(**overrides)


def test_error_day_granularity_needs_a_day():
    msg = _err(
        period_start="2026-03-01T00:00:00Z",
        period_end="2026-03-01T12:00:00Z",
        at="2026-03-01T06:00:00Z",
        granularity="day",
    )
    assert "day granularity" in msg


def test_from_quantity_not_checked_against_seat_limits():
    # only the to plan's min/max seats are checked: business x2 -> business x3 is fine
    q = quote_at_mid(SAMPLE, "business_monthly", 2, "business_monthly", 3)
    assert q.kind == "seat_expansion"


def test_sample_catalog():
    assert SAMPLE["pro_monthly"].unit_amount_minor == 2000
    assert SAMPLE["business_monthly"].unit_amount_minor == 5000
    assert (SAMPLE["pro_annual"].unit_amount_minor, SAMPLE["pro_annual"].billing_interval) == (
        20000,
        "year",
    )
    assert SAMPLE["free"].unit_amount_minor == 0
    assert SAMPLE["enterprise_annual"].self_serve is False
    assert any(p.currency == "EUR" for p in SAMPLE.values())
    assert "business_annual" in SAMPLE


def test_load_plans_rejects_bad_rows(tmp_path):
    bad = tmp_path / "plans.csv"
    bad.write_text(
        "plan_id,plan_name,tier_rank,billing_interval,unit_amount_minor,currency,self_serve\n"
        "x,X,1,week,100,USD,true\n"
    )
    with pytest.raises(UserError, match="billing_interval"):
        load_plans(bad)
    bad.write_text("plan_id,plan_name\nx,X\n")
    with pytest.raises(UserError, match="missing required column 'tier_rank'"):
        load_plans(bad)
