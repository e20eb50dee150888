"""The Funnel page's month range (issue 32): the funnel over From - To.

- A golden fixture of mart rows (written here, no build): every number over a range
  computed by hand from those rows: counts summed, each rate sum(numerators) /
  sum(denominators) (never a mean of monthly rates), the percentiles over the range's
  attempts, segments as dbt makes them (accepted accounts only).
- On built warehouses: a one-month range is that month's row of the segmented mart and
  of `metrics --month M`, the range of every month the all-months row (the range path
  gives the same values as the rows it replaces); a quarter picked on the page shows
  the sums of the quarter's months of `metrics`.
"""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from conftest import run_cli
from upgrade_warehouse.dashboard import data, notes
from upgrade_warehouse.dashboard.data import ALL, Segment
from upgrade_warehouse.dashboard.fmt import format_value
from upgrade_warehouse.dashboard.funnel_data import (
    RANGE_COUNTS,
    RANGE_PERCENTILES,
    RANGE_RATES,
    RANGE_STEP_COUNTS,
    RANGE_STEP_RATES,
)

FOUNDER = Segment("persona", "founder")
NO_PERSONA = Segment("persona", None)
MARKETER = Segment("persona", "marketer")  # no row in the golden marts
EXACT = {"rel": 1e-12, "abs": 1e-12}

# ------------------------------------------------------------------ golden mart rows

# fct_monthly_metrics_by_segment: month, segment, attempts started / matured, the three
# funnel rates as (numerator, denominator) and attempts by outcome (completed self-serve,
# completed assisted, escalated, abandoned, in progress).
#   month      segment          started matured conv   self   escal  css ca esc ab ip
MONTHLY = [
    ("2026-01-01", "all", "all", 10, 10, (1, 10), (1, 10), (2, 10), 1, 0, 2, 7, 0),
    ("2026-02-01", "all", "all", 30, 30, (9, 30), (6, 30), (3, 30), 6, 3, 0, 21, 0),
    ("2026-03-01", "all", "all", 20, 12, (3, 12), (3, 12), (1, 12), 4, 0, 1, 8, 7),
    ("2026-01-01", "persona", "founder", 1, 1, (1, 1), (1, 1), (0, 1), 1, 0, 0, 0, 0),
    ("2026-02-01", "persona", "founder", 4, 4, (1, 4), (1, 4), (0, 4), 1, 0, 0, 3, 0),
    ("2026-03-01", "persona", "founder", 1, 0, (0, 0), (0, 0), (0, 0), 1, 0, 0, 0, 0),
    ("2026-01-01", "persona", None, 0, 0, (0, 0), (0, 0), (0, 0), 0, 0, 0, 0, 0),
    ("2026-02-01", "persona", None, 1, 1, (1, 1), (1, 1), (0, 1), 1, 0, 0, 0, 0),
    ("2026-03-01", "persona", None, 0, 0, (0, 0), (0, 0), (0, 0), 0, 0, 0, 0, 0),
]
# fct_upgrade_attempts, the completed attempts (the others have no hours and are left
# out here): attempt month, account, intent_to_activation_hours. Accounts: A founder, B
# marketer, C no persona; Z is not an accepted account (not in dim_accounts): dbt's
# segments leave its attempts out, all accounts included.
ATTEMPTS = [
    ("2026-01-01", "A", 1.0),
    ("2026-01-01", "B", 5.0),
    ("2026-02-01", "A", 2.0),
    ("2026-02-01", "C", 10.0),
    ("2026-02-01", "B", None),  # completed, not activated yet
    ("2026-03-01", "B", 3.0),
    ("2026-03-01", "A", 4.0),
    ("2026-03-01", "Z", 100.0),
]
ACCOUNTS = [("A", "founder"), ("B", "marketer"), ("C", None)]
# fct_funnel_steps (all accounts, two steps): month, step, reached, stopped, abandoned,
# escalated, and the four rates as (numerator, denominator): abandonment_by_step
# (abandoned here / abandoned anywhere), step_conversion_rate (reached / reached the step
# before; none for step 1), step_reach_rate (reached / started), step_escalation_rate
# (escalated / stopped).
STEPS = [
    ("2026-01-01", 1, 10, 6, 5, 1, (5, 7), (10, 0), (10, 10), (1, 6)),
    ("2026-01-01", 2, 4, 4, 2, 1, (2, 7), (4, 10), (4, 10), (1, 4)),
    ("2026-02-01", 1, 30, 20, 18, 2, (18, 21), (30, 0), (30, 30), (2, 20)),
    ("2026-02-01", 2, 10, 10, 3, 0, (3, 21), (10, 30), (10, 30), (0, 10)),
]
OUTCOME_COLUMNS = [f"attempts_{o}" for o in data.OUTCOMES]


def ratio(pair):
    numerator, denominator = pair
    return numerator / denominator if denominator else None


@pytest.fixture
def golden_marts(tmp_path) -> data.Ref:
    """A warehouse file holding only the marts the range functions read, with the rows
    above (each monthly rate stored as the mart stores it: value, numerator,
    denominator)."""
    path = tmp_path / "golden.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        rates = ", ".join(
            f"{r} double, {r}__numerator bigint, {r}__denominator bigint" for r in RANGE_RATES
        )
        con.execute(
            "create table marts.fct_monthly_metrics_by_segment (month date, "
            "segment_dimension varchar, segment_value varchar, attempts_started bigint, "
            f"attempts_matured bigint, {rates}, "
            + ", ".join(f"{c} bigint" for c in OUTCOME_COLUMNS)
            + ")"
        )
        # outcomes in data.OUTCOMES order: css, ca, escalated, abandoned, in progress
        for month, dim, value, started, matured, conv, self_, esc, *outcomes in MONTHLY:
            rate_values = [v for pair in (conv, self_, esc) for v in (ratio(pair), *pair)]
            con.execute(
                "insert into marts.fct_monthly_metrics_by_segment values "
                f"({', '.join('?' * (5 + 9 + len(outcomes)))})",
                [month, dim, value, started, matured, *rate_values, *outcomes],
            )
        con.execute(
            "create table marts.fct_upgrade_attempts (attempt_id varchar, account_id "
            "varchar, attempt_month date, outcome varchar, intent_to_activation_hours double)"
        )
        for i, (month, account, hours) in enumerate(ATTEMPTS):
            con.execute(
                "insert into marts.fct_upgrade_attempts values (?, ?, ?, ?, ?)",
                [f"t{i}", account, month, "completed_self_serve", hours],
            )
        con.execute("create table marts.dim_accounts (account_id varchar, persona varchar)")
        con.executemany("insert into marts.dim_accounts values (?, ?)", ACCOUNTS)
        con.execute(
            "create table marts.dim_segments as select * from (values ('all', 0), "
            "('persona', 1)) as t(segment_dimension, dimension_order)"
        )
        step_rates = ", ".join(
            f"{r} double, {r}__numerator bigint, {r}__denominator bigint" for r in RANGE_STEP_RATES
        )
        con.execute(
            "create table marts.fct_funnel_steps (month date, segment_dimension varchar, "
            "segment_value varchar, step_index integer, step_name varchar, "
            + ", ".join(f"{c} bigint" for c in RANGE_STEP_COUNTS)
            + f", {step_rates})"
        )
        for month, step, *counts, aband, conv, reach, esc in STEPS:
            rate_values = [v for pair in (aband, conv, reach, esc) for v in (ratio(pair), *pair)]
            con.execute(
                f"insert into marts.fct_funnel_steps values ({', '.join('?' * 21)})",
                [month, "all", "all", step, f"step_{step}", *counts, *rate_values],
            )
    return data.current(path)


def test_a_range_adds_up_counts_and_the_cases_behind_each_rate(golden_marts):
    got = data.funnel_range(golden_marts, (ALL, FOUNDER, NO_PERSONA), "2026-02", "2026-03")
    row = got[ALL]
    # Counts: February + March.
    assert row["attempts_started"] == 30 + 20 == 50
    assert row["attempts_matured"] == 30 + 12 == 42
    assert [row[c] for c in OUTCOME_COLUMNS] == [6 + 4, 3 + 0, 0 + 1, 21 + 8, 0 + 7]
    # Rates: the cases added up, (9 + 3) / (30 + 12) = 12 / 42 = 28.57%, not the mean of
    # the months' rates ((30% + 25%) / 2 = 27.5%).
    assert row["upgrade_conversion_rate__numerator"] == 12
    assert row["upgrade_conversion_rate__denominator"] == 42
    assert row["upgrade_conversion_rate"] == pytest.approx(12 / 42, **EXACT)
    assert row["upgrade_conversion_rate"] != pytest.approx((9 / 30 + 3 / 12) / 2)
    assert row["self_serve_completion_rate"] == pytest.approx((6 + 3) / 42, **EXACT)
    assert row["escalation_rate"] == pytest.approx((3 + 1) / 42, **EXACT)
    # Percentiles over the range's attempts of accepted accounts: 2, 10, 3, 4 (B's
    # February attempt has not activated; Z is not an accepted account: with its 100 h
    # the median would be 4). Sorted 2, 3, 4, 10: p50 at position 1.5 = 3 + 0.5 x 1 =
    # 3.5; p90 at position 2.7 = 4 + 0.7 x (10 - 4) = 8.2.
    assert row["intent_to_activation_hours_p50"] == pytest.approx(3.5, **EXACT)
    assert row["intent_to_activation_hours_p90"] == pytest.approx(8.2, **EXACT)
    assert row["month_from"] == "2026-02" and row["month_to"] == "2026-03"
    # A segment: founders, 1 of 4 matured attempts converted in February, none matured
    # in March (its attempt completed inside its window); their hours in the range: A's
    # 2.0 and 4.0: p50 3.0, p90 2 + 0.9 x 2 = 3.8.
    founder = got[FOUNDER]
    assert founder["attempts_started"] == 4 + 1
    assert founder["attempts_matured"] == 4 + 0
    assert founder["upgrade_conversion_rate"] == pytest.approx(1 / 4, **EXACT)
    assert founder["upgrade_conversion_rate__denominator"] == 4
    assert founder["intent_to_activation_hours_p50"] == pytest.approx(3.0, **EXACT)
    assert founder["intent_to_activation_hours_p90"] == pytest.approx(3.8, **EXACT)
    # The accounts without a persona (a null value is a segment): C's February attempt,
    # converted and activated after 10 h.
    none = got[NO_PERSONA]
    assert none["attempts_started"] == 1 and none["upgrade_conversion_rate"] == 1.0
    assert none["escalation_rate"] == 0.0
    assert none["intent_to_activation_hours_p50"] == 10.0
    # Types as `metrics` gives them: counts int, rates and hours float.
    assert type(row["attempts_started"]) is int and type(row["escalation_rate"]) is float


def test_every_month_and_the_order_of_the_ends(golden_marts):
    # January to March, the ends given the other way round: 13 of 52 converted (25%);
    # hours 1, 5, 2, 10, 3, 4 -> sorted 1, 2, 3, 4, 5, 10: p50 at 2.5 = 3.5, p90 at 4.5 =
    # 5 + 0.5 x 5 = 7.5.
    row = data.funnel_range(golden_marts, (ALL,), "2026-03", "2026-01")[ALL]
    assert (row["month_from"], row["month_to"]) == ("2026-01", "2026-03")
    assert row["attempts_started"] == 60 and row["attempts_matured"] == 52
    assert row["upgrade_conversion_rate"] == pytest.approx(13 / 52, **EXACT)
    assert row["intent_to_activation_hours_p50"] == pytest.approx(3.5, **EXACT)
    assert row["intent_to_activation_hours_p90"] == pytest.approx(7.5, **EXACT)
    # Founders over January to March: A's 1, 2, 4 -> p50 2, p90 at 1.8 = 2 + 0.8 x 2;
    # (1 + 1 + 0) of (1 + 4 + 0) matured attempts converted.
    founder = data.funnel_range(golden_marts, (FOUNDER,), "2026-01", "2026-03")[FOUNDER]
    assert founder["upgrade_conversion_rate"] == pytest.approx(2 / 5, **EXACT)
    assert founder["intent_to_activation_hours_p50"] == pytest.approx(2.0, **EXACT)
    assert founder["intent_to_activation_hours_p90"] == pytest.approx(3.6, **EXACT)
    # A month without attempts: 0 started, the rates over 0 cases and the percentiles of
    # no attempt are no value; a segment without rows is left out.
    got = data.funnel_range(golden_marts, (NO_PERSONA, MARKETER), "2026-03", "2026-03")
    assert got[NO_PERSONA]["attempts_started"] == 0
    assert got[NO_PERSONA]["upgrade_conversion_rate"] is None
    assert got[NO_PERSONA]["intent_to_activation_hours_p50"] is None
    assert MARKETER not in got


def test_the_steps_of_a_range(golden_marts):
    frame = data.funnel_steps(golden_marts, (ALL,), "2026-01", "2026-02")
    one, two = frame.to_dict("records")
    assert (one["step_index"], two["step_index"]) == (1, 2)
    assert (one["attempts_reached"], two["attempts_reached"]) == (40, 14)
    assert (one["attempts_stopped"], two["attempts_stopped"]) == (26, 14)
    # Step 2 from step 1: (4 + 10) / (10 + 30) = 35%, not the mean of 40% and 33.3%.
    assert two["step_conversion_rate"] == pytest.approx(14 / 40, **EXACT)
    assert two["step_conversion_rate__denominator"] == 40
    assert pd.isna(one["step_conversion_rate"])  # no step before the first: no value
    assert two["step_reach_rate"] == pytest.approx(14 / 40, **EXACT)
    # Abandonments: 5 + 18 = 23 and 2 + 3 = 5 of 28, adding up to 100%.
    assert one["abandonment_by_step"] == pytest.approx(23 / 28, **EXACT)
    assert two["abandonment_by_step"] == pytest.approx(5 / 28, **EXACT)
    # Escalated / stopped: (1 + 2) / (6 + 20) and (1 + 0) / (4 + 10).
    assert one["step_escalation_rate"] == pytest.approx(3 / 26, **EXACT)
    assert two["step_escalation_rate"] == pytest.approx(1 / 14, **EXACT)
    assert list(frame["segment"]) == ["All accounts", "All accounts"]


def test_the_range_covers_the_funnel_section_of_the_catalog():
    """Every scalar metric of the catalog's funnel section is summed, a ratio of sums or
    a percentile over a range (a new funnel metric must say which)."""
    from conftest import REPO

    lines = (REPO / "seeds" / "metric_catalog.csv").read_text().splitlines()[1:]
    funnel = {
        line.split(",")[0]
        for line in lines
        if line.split(",")[1] == "funnel" and not line.split(",")[2].endswith("_by_key")
    }
    assert funnel == {*RANGE_COUNTS[:2], *RANGE_RATES, *RANGE_PERCENTILES}


def test_the_warnings_of_a_range(monkeypatch):
    """The banner of a range shows each warning that concerns one of its months."""
    warnings = [
        {"code": "stale", "message": "old"},
        {"code": "fx_missing", "message": "gbp", "months": ["2026-01"]},
        {"code": "latest_month_partial", "message": "partial", "month": "2026-03"},
    ]
    monkeypatch.setattr(notes.data, "metrics", lambda r: {"warnings": warnings})
    codes = [w["code"] for w in notes.warnings_of(None, months=["2026-01", "2026-02"])]
    assert codes == ["stale", "fx_missing"]
    codes = [w["code"] for w in notes.warnings_of(None, months=["2026-02", "2026-03"])]
    assert codes == ["stale", "latest_month_partial"]
    assert notes.warnings_of(None, months=["2026-02"], codes=("latest_month_partial",)) == []


# ------------------------------------------------------------------ built warehouses


@pytest.mark.slow
def test_one_month_and_every_month_are_the_marts_rows(tmp_path_factory):
    """On the fixture warehouse: the range of one month gives that month's row of
    fct_monthly_metrics_by_segment (the `metrics --month M` numbers for all accounts), the
    range of every month the all-months row, value for value (the range path replaces
    the rows it used to read); the steps of one month are fct_funnel_steps' rows."""
    from dashboard_support import ops_warehouse

    path = ops_warehouse(tmp_path_factory)[0]
    r = data.current(path)
    segments = (ALL, FOUNDER, NO_PERSONA)
    rows = {(row["segment"], row["month"]): row for row in data.segment_metrics(r, segments)}
    months = sorted({m for _, m in rows if m is not None})
    assert months == ["2026-01", "2026-02", "2026-03"]
    compared = 0
    for month in [*months, None]:
        ends = (month, month) if month else (months[0], months[-1])
        got = data.funnel_range(r, segments, *ends)
        for segment in segments:
            want = rows[(segment, month)]
            for key, value in got[segment].items():
                if key in ("segment", "month_from", "month_to"):
                    continue
                assert value == want[key] and type(value) is type(want[key]), (month, key)
                compared += 1
    assert compared == 4 * 3 * (len(RANGE_COUNTS) + 3 * len(RANGE_RATES) + 2)
    # `metrics --month 2026-03` (all accounts): the page's numbers of March.
    proc = run_cli("metrics", "--warehouse", path, "--month", "2026-03", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (march,) = json.loads(proc.stdout)["months"]
    got = data.funnel_range(r, (ALL,), "2026-03", "2026-03")[ALL]
    for metric_id in [*RANGE_COUNTS[:2], *RANGE_RATES, *RANGE_PERCENTILES]:
        assert got[metric_id] == march[metric_id], metric_id
    assert march["attempts_started"] == 8  # the golden fixture's March attempts
    # The steps of March: fct_funnel_steps' rows.
    with duckdb.connect(str(path), read_only=True) as con:
        mart = con.execute(
            "select * from marts.fct_funnel_steps where month = date '2026-03-01' "
            "and segment_dimension = 'all' order by step_index"
        ).df()
    frame = data.funnel_steps(r, (ALL,), "2026-03", "2026-03")
    assert len(frame) == len(mart) == 6
    for column in [*RANGE_STEP_COUNTS, *RANGE_STEP_RATES]:
        for got_value, want in zip(frame[column], mart[column]):
            assert got_value == want or (pd.isna(got_value) and pd.isna(want)), column


@pytest.mark.slow
def test_a_quarter_on_the_funnel_page_is_the_sum_of_its_months(experiments_generated, monkeypatch):
    """The demo's data set (13 months): picking a quarter preset on the Funnel page sets
    From and To to its months, and the headline numbers are those months' `metrics`
    added up in this test: attempts started summed, upgrade conversion = the summed
    converted matured attempts (each month's rate x matured attempts, a whole number)
    over the summed matured attempts."""
    from dashboard_support import quarter_of
    from test_dashboard_apptest import app, metric_values

    path = experiments_generated / "wh.duckdb"
    proc = run_cli("metrics", "--warehouse", path, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    months = {m["month"]: m for m in json.loads(proc.stdout)["months"]}
    at = app(path, monkeypatch, "Funnel and abandonment")
    # Default: every month of the warehouse.
    assert at.selectbox(key="funnel_from").value == min(months)
    assert at.selectbox(key="funnel_to").value == max(months)
    quarter = at.selectbox(key="funnel_quarter")
    picked = next(q for q in quarter.options if q.endswith("Q3"))  # a whole quarter
    quarter.set_value(picked).run()
    assert not at.exception
    first, last = at.selectbox(key="funnel_from").value, at.selectbox(key="funnel_to").value
    year = picked[:4]
    assert (first, last) == (f"{year}-07", f"{year}-09")
    quarter_months = [f"{year}-{m:02d}" for m in (7, 8, 9)]
    summed = quarter_of(months, quarter_months)
    shown = metric_values(at)
    assert shown["Attempts started"] == f"{summed['attempts_started']:,}"
    assert shown["Attempts matured"] == f"{summed['attempts_matured']:,}"
    assert shown["Upgrade conversion rate"] == format_value(
        summed["upgrade_conversion_rate"], "rate", ""
    )
    text = " ".join(c.value for c in at.caption)
    assert f"Attempts started **Jul {year} to Sep {year}**" in text
