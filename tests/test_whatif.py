"""What-if projections (upgrade_warehouse.simulator.whatif).

On the golden warehouse (tests/fixtures/golden; the facts are those of
tests/test_metrics_golden.py, every number below derived by hand in its comment) and on
hand-constructed baselines.

Golden: as_of = 2026-03-31T12:00:00Z, conversion window 14 days; months 2026-01..03.
Attempts (all in March) and their last step index (1 = upgrade_intent ... 6 =
upgrade_completed): f1_1 6, f5_1 6, f7_1 6, f3_1 5 (payment_submitted), f2_1 2
(plan_selected), f1_8 1, f6_1 1, and f4_1 2 but in progress (not resolved).
"""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from attempts_reference import FUNNEL_STEPS
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.simulator.whatif import Baseline, load_baseline, project

STEPS = FUNNEL_STEPS
APPROX = {"rel": 1e-12, "abs": 1e-12}


@pytest.fixture(scope="session")
def golden_wh(golden_warehouse):
    return golden_warehouse


# ----------------------------------------------------------------------------- golden


@pytest.mark.slow
def test_march_baseline(golden_wh):
    b = load_baseline(golden_wh, months=1, end_month="2026-03")
    assert b.months == ("2026-03",)
    assert b.funnel_steps == STEPS
    assert b.reporting_currency == "USD"
    assert b.as_of == datetime(2026, 3, 31, 12, 0)
    # 8 attempts started in March, 7 resolved (f4_1 is in progress).
    assert (b.attempts_started, b.resolved_attempts, b.attempts_per_month) == (8, 7, 8.0)
    # Resolved attempts reaching step k: >=1: 7; >=2: f1_1 f5_1 f7_1 f3_1 f2_1 = 5;
    # >=3, >=4, >=5: f1_1 f5_1 f7_1 f3_1 = 4; >=6: 3.
    assert dict(b.steps_reached) == dict(zip(STEPS, [7, 5, 4, 4, 4, 3], strict=True))
    assert b.step_conversion == pytest.approx(
        {
            "plan_selected": 5 / 7,
            "proration_previewed": 4 / 5,
            "payment_method_selected": 1.0,
            "payment_submitted": 1.0,
            "upgrade_completed": 3 / 4,
        },
        **APPROX,
    )
    # The product telescopes to completed / resolved = 3/7 (upgrade_conversion_rate).
    assert b.completion_rate == pytest.approx(3 / 7, **APPROX)
    # March upgrades: f1c +20.00, c12 +30.00 (sales CRM opportunity), f5c +30.00, f7c +20.00.
    assert (b.upgrades, b.converted_upgrades) == (4, 4)
    assert b.avg_mrr_delta_per_upgrade == pytest.approx(25.0, **APPROX)
    assert b.channel_mix == pytest.approx(
        {"self_serve": 0.75, "sales_assisted": 0.25, "automatic": 0.0}, **APPROX
    )


@pytest.mark.slow
def test_march_projection_with_a_scenario(golden_wh):
    b = load_baseline(golden_wh, months=1, end_month="2026-03")
    p = project(b, {"plan_selected": 1.0}, price_change_pct=0.10, months=12)
    # Baseline: 8 x 3/7 = 24/7 upgrades a month, x 25.00 = 600/7 of MRR.
    first = p.baseline.rows[0]
    assert first.month == "2026-04"  # the month after as_of's
    assert first.attempts == 8.0
    assert first.completed_upgrades == pytest.approx(24 / 7, **APPROX)
    assert first.expansion_mrr == pytest.approx(600 / 7, **APPROX)
    # Scenario: plan_selected 1.0: 1 x 4/5 x 1 x 1 x 3/4 = 3/5; 8 x 3/5 = 4.8 upgrades;
    # 4.8 x 25 x 1.10 = 132.0.
    s = p.scenario.rows[0]
    assert p.completion_rate == pytest.approx(0.6, **APPROX)
    assert s.completed_upgrades == pytest.approx(4.8, **APPROX)
    assert s.expansion_mrr == pytest.approx(132.0, **APPROX)
    assert p.revenue_per_upgrade == pytest.approx(27.5, **APPROX)
    # Delta: 4.8 - 24/7 = 9.6/7 upgrades; 132 - 600/7 = 324/7 MRR a month.
    d = p.delta.rows[0]
    assert d.attempts == 0.0
    assert d.completed_upgrades == pytest.approx(9.6 / 7, **APPROX)
    assert d.expansion_mrr == pytest.approx(324 / 7, **APPROX)
    # Twelve months, 2026-04 .. 2027-03; the scenario adds 132 a month: 1584 in all.
    assert [r.month for r in p.scenario.rows] == (
        [f"2026-{m:02d}" for m in range(4, 13)] + ["2027-01", "2027-02", "2027-03"]
    )
    assert p.scenario.total_expansion_mrr == pytest.approx(1584.0, **APPROX)
    assert p.delta.total_completed_upgrades == pytest.approx(12 * 9.6 / 7, **APPROX)
    # Channel split of the scenario's 4.8 upgrades: 3/4 self-serve, 1/4 sales-assisted.
    assert s.upgrades_by_channel == pytest.approx(
        {"self_serve": 3.6, "sales_assisted": 1.2, "automatic": 0.0}, **APPROX
    )
    assert len(p.to_records()) == 3 * 12


@pytest.mark.slow
def test_three_month_window_ending_in_march(golden_wh):
    b = load_baseline(golden_wh, months=3, end_month="2026-03")
    assert b.months == ("2026-01", "2026-02", "2026-03")
    # January and February have no attempts: 8 / 3 a month; the rates are March's.
    assert b.attempts_per_month == pytest.approx(8 / 3, **APPROX)
    assert b.completion_rate == pytest.approx(3 / 7, **APPROX)
    # Upgrades: January 5 (149.60), February 4 of which c11 (GBP, no rate) unconverted
    # (40 + 40 + 20 = 100), March 4 (100): 349.60 over 12 converted.
    assert (b.upgrades, b.converted_upgrades) == (13, 12)
    assert b.avg_mrr_delta_per_upgrade == pytest.approx(349.6 / 12, rel=1e-12)
    # Channels over 13 upgrades: sales_assisted c5, c12; automatic c8; the other 10 self-serve.
    assert b.channel_mix == pytest.approx(
        {"self_serve": 10 / 13, "sales_assisted": 2 / 13, "automatic": 1 / 13}, **APPROX
    )


@pytest.mark.slow
def test_default_window_is_the_full_resolved_months(golden_wh):
    # March is not resolved at as_of (04-01 + 14 days > 03-31T12:00); February is
    # (03-01 + 14 days <= as_of). The warehouse starts in January: 2 months, not 3.
    b = load_baseline(golden_wh, months=3)
    assert b.months == ("2026-01", "2026-02")
    assert (b.attempts_started, b.attempts_per_month) == (0, 0.0)
    assert set(b.step_conversion.values()) == {None}  # no resolved attempt
    # January 5 upgrades (149.60), February 3 converted of 4 (100): 249.60 / 8.
    assert b.avg_mrr_delta_per_upgrade == pytest.approx(31.2, rel=1e-12)
    # Channels over 9 upgrades: sales_assisted c5, automatic c8, 7 self-serve.
    assert b.channel_mix == pytest.approx(
        {"self_serve": 7 / 9, "sales_assisted": 1 / 9, "automatic": 1 / 9}, **APPROX
    )
    # Without baseline rates, a projection needs an override for every step.
    with pytest.raises(UserError, match="no baseline conversion for step 'plan_selected'"):
        project(b)
    p = project(b, dict.fromkeys(STEPS[1:], 0.5))
    assert p.completion_rate == pytest.approx(0.5**5, **APPROX)
    assert p.scenario.rows[0].completed_upgrades == 0.0  # 0 attempts a month
    assert p.delta.rows[0].expansion_mrr == 0.0


@pytest.mark.slow
def test_load_errors(golden_wh, tmp_path):
    with pytest.raises(UserError, match="no warehouse"):
        load_baseline(tmp_path / "missing.duckdb")
    with pytest.raises(UserError, match="end_month must be YYYY-MM"):
        load_baseline(golden_wh, end_month="March")
    with pytest.raises(UserError, match="no baseline months"):
        load_baseline(golden_wh, end_month="2025-06")
    with pytest.raises(UserError, match="months must be"):
        load_baseline(golden_wh, months=0)


# ----------------------------------------------------------------------------- hand-built


def baseline(**kw) -> Baseline:
    values = {
        "funnel_steps": ("a", "b", "c"),
        "attempts_per_month": 100.0,
        "step_conversion": {"b": 0.5, "c": 0.4},
        "avg_mrr_delta_per_upgrade": 50.0,
        "channel_mix": {"self_serve": 0.75, "sales_assisted": 0.25},
        "as_of": datetime(2026, 11, 15, 8, 0),
    }
    values.update(kw)
    return Baseline(**values)


def test_project_hand_built_baseline():
    p = project(baseline(), {"c": 0.8}, price_change_pct=-0.2, months=3)
    # Baseline: 100 x 0.5 x 0.4 = 20 upgrades a month, x 50 = 1000.
    # Scenario: 100 x 0.5 x 0.8 = 40 upgrades, x 50 x (1 - 0.2) = 1600.
    assert [r.month for r in p.scenario.rows] == ["2026-12", "2027-01", "2027-02"]
    assert [(r.completed_upgrades, r.expansion_mrr) for r in p.baseline.rows] == [
        (pytest.approx(20.0), pytest.approx(1000.0))
    ] * 3
    assert [r.cumulative_expansion_mrr for r in p.scenario.rows] == pytest.approx(
        [1600, 3200, 4800]
    )
    assert [(r.completed_upgrades, r.expansion_mrr) for r in p.delta.rows] == [
        (pytest.approx(20.0), pytest.approx(600.0))
    ] * 3
    assert p.step_conversion == {"b": 0.5, "c": 0.8}
    assert p.baseline_step_conversion == {"b": 0.5, "c": 0.4}
    assert p.revenue_per_upgrade == pytest.approx(40.0)
    assert p.scenario.rows[0].upgrades_by_channel == pytest.approx(
        {"self_serve": 30.0, "sales_assisted": 10.0}
    )
    assert p.delta.total_expansion_mrr == pytest.approx(1800.0)  # 600 x 3


def test_no_overrides_means_no_delta():
    p = project(baseline())
    assert p.months == 12 and len(p.scenario.rows) == 12
    assert all(r.completed_upgrades == 0 and r.expansion_mrr == 0 for r in p.delta.rows)


def test_boundary_rates_and_no_revenue_baseline():
    # Rates 0 and 1 are allowed; without an MRR per upgrade the MRR is None (not an error).
    p = project(baseline(avg_mrr_delta_per_upgrade=None), {"b": 1, "c": 0})
    assert p.scenario.rows[0].completed_upgrades == 0.0
    assert p.scenario.rows[0].expansion_mrr is None
    assert p.delta.rows[0].expansion_mrr is None
    assert p.revenue_per_upgrade is None


def test_missing_baseline_rate_with_override_is_used_on_both_sides():
    p = project(baseline(step_conversion={"b": None, "c": 0.4}), {"b": 0.25, "c": 0.5})
    # Baseline: 100 x 0.25 x 0.4 = 10; scenario: 100 x 0.25 x 0.5 = 12.5.
    assert p.baseline.rows[0].completed_upgrades == pytest.approx(10.0)
    assert p.scenario.rows[0].completed_upgrades == pytest.approx(12.5)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"zzz": 0.5}, "unknown funnel step 'zzz' \\(steps: a, b, c\\)"),
        ({"a": 0.5}, "'a' is the first funnel step"),
        ({"b": 1.5}, "must be in \\[0, 1\\], not 1.5"),
        ({"c": -0.1}, "must be in \\[0, 1\\], not -0.1"),
        ({"b": math.nan}, "must be a number in \\[0, 1\\]"),
        ({"b": "0.5"}, "must be a number in \\[0, 1\\]"),
        ({"b": True}, "must be a number in \\[0, 1\\]"),
    ],
)
def test_bad_overrides(overrides, message):
    with pytest.raises(UserError, match=message):
        project(baseline(), overrides)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"months": 0}, "months must be a whole number >= 1"),
        ({"months": 2.5}, "months must be a whole number >= 1"),
        ({"price_change_pct": -1.5}, "price_change_pct must be a fraction >= -1"),
        ({"price_change_pct": math.inf}, "price_change_pct must be a fraction >= -1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(UserError, match=message):
        project(baseline(), **kwargs)


def test_bad_baseline_rate():
    with pytest.raises(UserError, match="the baseline conversion for step 'c' must be in"):
        project(baseline(step_conversion={"b": 0.5, "c": 2.0}))


def test_without_as_of_months_are_unlabelled():
    p = project(baseline(as_of=None), months=2)
    assert [(r.month_index, r.month) for r in p.scenario.rows] == [(1, None), (2, None)]
