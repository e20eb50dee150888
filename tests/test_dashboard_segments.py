"""Segments on the dashboard through Streamlit's AppTest: the all-months funnel comes from
dbt, a segment's numbers equal `metrics --by`, small segments say "too few", compare mode
shows two segments, and every page with the filter bar takes a dimension.

In a module of its own, after the browser tests: the fixture warehouse is the session's
(``dashboard_support.ops_warehouse``), and the browser tests' publishing build, started
while test_dashboard_apptest.py runs, still has pages to render during it."""

from __future__ import annotations

import json

import pytest

from conftest import cli_json, run_cli
from dashboard_support import ops_warehouse
from test_dashboard_apptest import app, goto, metric_values, texts
from upgrade_warehouse.dashboard.data import Segment
from upgrade_warehouse.dashboard.fmt import format_value

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory):
    return ops_warehouse(tmp_path_factory)[0]


@pytest.fixture(scope="session")
def metrics_json(warehouse):
    return cli_json("metrics", "--warehouse", warehouse, "--format", "json")


def test_funnel_all_months_numbers_come_from_dbt(warehouse, metrics_json, monkeypatch):
    """Every attempt of the fixture starts in March: the funnel of every month (the
    default range: the months added up by the data layer, nothing on the page) equals
    March's metrics."""
    at = app(warehouse, monkeypatch, "Funnel and abandonment")
    assert at.selectbox(key="funnel_from").value == "2026-01"  # every month
    assert at.selectbox(key="funnel_to").value == "2026-03"
    mar = next(m for m in metrics_json["months"] if m["month"] == "2026-03")
    shown = metric_values(at)
    for metric_id, label, unit in (
        ("attempts_started", "Attempts started", "count"),
        ("upgrade_conversion_rate", "Upgrade conversion rate", "rate"),
        ("escalation_rate", "Escalation rate", "rate"),
        ("intent_to_activation_hours_p50", "Intent to activation median", "hours"),
    ):
        assert shown[label] == format_value(mar[metric_id], unit, ""), metric_id


def test_segment_views_and_compare_mode(warehouse, monkeypatch):
    proc = run_cli("metrics", "--warehouse", warehouse, "--by", "persona", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    founder = next(s for s in json.loads(proc.stdout)["segments"] if s["segment"] == "founder")
    mar = next(m for m in founder["months"] if m["month"] == "2026-03")
    at = app(warehouse, monkeypatch, "Funnel and abandonment")
    at.segmented_control(key="funnel_dim").set_value("persona").run()
    values = at.selectbox(key="funnel_value").options
    assert "founder (6)" in values and "(none) (1)" in values  # with their accounts
    at.selectbox(key="funnel_value").set_value(Segment("persona", "founder")).run()
    at.selectbox(key="funnel_from").set_value("2026-03").run()  # the range March only
    assert not at.exception
    shown = metric_values(at)
    assert shown["Attempts started"] == format_value(mar["attempts_started"], "count", "")
    # 5 matured attempts: far below the minimum count of 30.
    assert shown["Upgrade conversion rate"] == "too few"
    assert 'say "too few"' in texts(at)
    # Compare mode: both segments side by side.
    at.toggle(key="funnel_compare").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["metric", "A", "B", "A − B", "beyond noise"]
    assert "Attempts started" in list(table["metric"])
    # The Overview, Cohorts and Revenue pages have the filter bar too.
    for title, key in (
        ("Overview", "overview_dim"),
        ("Cohorts", "cohort_dimension"),
        ("Revenue and attribution", "revenue_dim"),
    ):
        goto(at, title)
        at.segmented_control(key=key).set_value("persona").run()
        assert not at.exception, title


def test_cohort_chips_follow_the_picked_dimension(warehouse, monkeypatch):
    """Switching the Cohorts breakdown from persona to segment shows the segment values
    as chips (all of them picked), never the personas picked before (issue 32)."""
    at = app(warehouse, monkeypatch, "Cohorts")
    at.segmented_control(key="cohort_dimension").set_value("persona").run()
    personas = at.multiselect(key="cohorts_values_persona")
    assert {s.value for s in personas.value} >= {"founder", "marketer"}
    personas.unselect(personas.value[0]).run()  # a choice of the user's
    at.segmented_control(key="cohort_dimension").set_value("segment").run()
    assert not at.exception
    chips = at.multiselect(key="cohorts_values_segment")
    assert {s.dimension for s in chips.value} == {"segment"}
    # Every segment value picked (the default), none of the personas.
    assert len(chips.value) == len(chips.options) >= 2
    assert not {s.value for s in chips.value} & {"founder", "marketer", "engineer"}


def test_quarter_presets_set_the_month_range(warehouse, monkeypatch):
    """The month range of the filter bar has quarter presets: the fixture's months are
    January to March 2026, one quarter; picking it sets From and To to its months."""
    from upgrade_warehouse.dashboard.filters import quarters

    assert quarters(["2025-11", "2025-12", "2026-01", "2026-02", "2026-04"]) == {
        "2026 Q2": ("2026-04", "2026-04"),
        "2026 Q1": ("2026-01", "2026-02"),
        "2025 Q4": ("2025-11", "2025-12"),
    }
    at = app(warehouse, monkeypatch, "Cohorts")
    at.selectbox(key="cohorts_from").set_value("2026-02").run()
    at.selectbox(key="cohorts_to").set_value("2026-02").run()
    assert at.selectbox(key="cohorts_quarter").options == ["Pick…", "2026 Q1"]
    at.selectbox(key="cohorts_quarter").set_value("2026 Q1").run()
    assert not at.exception
    assert at.selectbox(key="cohorts_from").value == "2026-01"
    assert at.selectbox(key="cohorts_to").value == "2026-03"
    assert at.selectbox(key="cohorts_quarter").value is None  # free for the next pick
