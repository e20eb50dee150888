"""The dashboard through Streamlit's AppTest (no browser): every page runs without an
exception, the headline numbers equal the `metrics` command's, empty states, escaping,
the simulator's worked example, and the rules of the code (no SQL in pages, no HTML)."""

from __future__ import annotations

import math
import os
import re
import shutil

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from conftest import REPO, cli_json, run_cli
from dashboard_support import (
    PAGE_FILES,
    PUBLISH_TEST,
    WAREHOUSE_ENV,
    live_dashboard,
    ops_warehouse,
    selected,
    unescape,
)
from upgrade_warehouse.dashboard.charts import VALIDATE_ENV
from upgrade_warehouse.dashboard.config import load_config, parse_config
from upgrade_warehouse.dashboard.fmt import (
    format_delta,
    format_headline,
    format_value,
    md_escape,
)
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.paths import docs_folder

pytestmark = pytest.mark.slow
APP = REPO / "dashboards" / "app.py"


@pytest.fixture(scope="session")
def warehouse(request, tmp_path_factory):
    path = ops_warehouse(tmp_path_factory)[0]
    if selected(request.session, PUBLISH_TEST):
        # The browser tests' server starts now, so that it is up when they begin.
        live_dashboard(request, tmp_path_factory)
    return path


@pytest.fixture(scope="session")
def metrics_json(warehouse):
    return cli_json("metrics", "--warehouse", warehouse, "--format", "json")


@pytest.fixture(scope="session")
def catalog(warehouse):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(  # the monthly metrics (experiments have their own page)
            "select metric_id, unit, label from reference.metric_catalog "
            "where section <> 'experiments'"
        )
        return {m: {"unit": u, "label": label} for m, u, label in rows.fetchall()}


@pytest.fixture(scope="session")
def older_warehouse(warehouse, tmp_path_factory):
    """A copy that looks like an older build: no proration mart, no expectation results,
    upsell offers not loaded; and user text with Markdown in it."""
    path = tmp_path_factory.mktemp("older") / "older.duckdb"
    shutil.copy(warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.execute("drop table if exists marts.fct_proration_checks")
        con.execute("drop table if exists quality.expectation_results")
        con.execute(
            "update raw.load_report set loaded = false, source_file = null, "
            "rows_read = 0, rows_accepted = 0 where table_name = 'upsell_offers'"
        )
        # the dashboard reads the load report and the plans through their marts
        con.execute(
            "update marts.fct_load_report set is_loaded = false, source_file = null, "
            "rows_read = 0, rows_accepted = 0, load_status = 'not_loaded' "
            "where table_name = 'upsell_offers'"
        )
        con.execute("delete from marts.fct_upsell_offers")
        con.execute("delete from marts.fct_upsell_plays")
        con.execute(
            "update raw.plans set plan_name = '**Pro** <b>x</b> :red[big]' where plan_id = 'pro_m'"
        )
        con.execute(
            "update marts.dim_plans set plan_name = '**Pro** <b>x</b> :red[big]' "
            "where plan_id = 'pro_m'"
        )
    return path


def app(path, monkeypatch, title: str = "Overview") -> AppTest:
    monkeypatch.setenv(WAREHOUSE_ENV, str(path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()  # the first run registers the pages (their url paths differ from file names)
    assert not at.exception, [e.message for e in at.exception]
    return at if title == "Overview" else goto(at, title)


def goto(at: AppTest, title: str) -> AppTest:
    at.switch_page(PAGE_FILES[title]).run()
    assert not at.exception, [(e.message, e.stack_trace[-3:]) for e in at.exception]
    assert [unescape(t.value) for t in at.title] == [title]
    return at


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("markdown", "caption", "info", "warning", "success", "error", "subheader")
        for e in getattr(at, kind)
    ]
    return unescape("\n".join(str(p) for p in parts))


def metric_values(at: AppTest) -> dict[str, str]:
    return {unescape(m.label): m.value for m in at.metric}


RAW_MISSING = re.compile(r"\b(None|nan|NaN|NaT|<NA>)\b")


def raw_missing(at: AppTest) -> list[str]:
    """Every "None" / "nan" / "NaN" a page would show: the data behind each dataframe and
    table (cell by cell, headers too), metric values and deltas, and the page's text."""
    found = []
    for kind in ("dataframe", "table"):
        for element in getattr(at, kind):
            frame = element.value
            for column in frame.columns:
                if RAW_MISSING.search(str(column)):
                    found.append(f"{kind} header {column!r}")
                for value in frame[column]:
                    if (
                        value is None
                        or (isinstance(value, float) and math.isnan(value))
                        or (RAW_MISSING.fullmatch(str(value)))
                    ):
                        found.append(f"{kind} column {column!r}: {value!r}")
    for m in at.metric:
        for text in (m.value, m.delta):
            if text is not None and RAW_MISSING.search(str(text)):
                found.append(f"metric {m.label!r}: {text!r}")
    if RAW_MISSING.search(texts(at)):
        found.append("text: " + RAW_MISSING.search(texts(at)).group(0))
    return found


@pytest.mark.parametrize("title", list(PAGE_FILES))
def test_every_page_runs_without_exception(title, warehouse, monkeypatch):
    # Altair turns a channel given as a string or a dict into an object through
    # from_dict, which hashes every class of the Vega-Lite schema each time (about 30 ms
    # a channel, most of a page's time): the charts pass channel objects (charts._tips).
    from altair.utils import schemapi

    slow_channels = []
    init = schemapi._FromDict.__init__

    def counted(converter, *args):
        slow_channels.append(title)
        init(converter, *args)

    monkeypatch.setattr(schemapi._FromDict, "__init__", counted)
    at = app(warehouse, monkeypatch, title)
    assert slow_channels == [], f"{title}: {len(slow_channels)} channels built from_dict"
    assert "Data as of 2026-03-31 12:00 UTC" in unescape(at.sidebar.markdown[0].value).replace(
        "**", ""
    )
    if title in ("Overview", "Revenue and attribution", "Operations", "Upsell plays"):
        month_key = {
            "Overview": "overview_month",
            "Revenue and attribution": "revenue_month",
            "Operations": "operations_month",
            "Upsell plays": "upsell_month",
        }[title]
        assert missing_on_every_tab(at, title) == [], title
        # a month with gaps (no previous month, empty populations)
        at.selectbox(key=month_key).set_value("2026-01").run()
    assert not at.exception
    assert missing_on_every_tab(at, title) == [], title


OPERATIONS_TABS = ("Sync health", "Payments", "Eligibility", "Orders and returns")
# The pages whose tabs run only when open (st.tabs(..., on_change="rerun")): the tabs'
# session-state key and labels, the first tab (the default) first.
PAGE_TABS = {
    "Overview": ("overview_tab", ("MRR bridge", "Trends")),
    "Revenue and attribution": ("revenue_tab", ("MRR bridge", "Attribution", "Proration checks")),
    "Operations": ("operations_tab", OPERATIONS_TABS),
    "Simulator": ("simulator_tab", ("Proration quote", "What-if projection")),
    "Win-back": ("winback_tab", ("Accounts", "Suggested plays", "How good is the model")),
    "Monthly review": (
        "review_tab",
        ("What moved and MRR bridge", "Every metric", "Month by month"),
    ),
    "Funnel and abandonment": (
        "funnel_tab",
        ("Steps and drop-off", "Time to convert", "Escalation and outcomes"),
    ),
    "Cohorts": ("cohorts_tab", ("By activation month", "By cohort age")),
    "Upsell plays": ("upsell_tab", ("By trigger", "By owner", "By channel")),
    "Data quality": ("dq_tab", ("Load report and quarantine", "Expectations and docs")),
}


# The expanders that run only when opened (st.expander(..., on_change="rerun")), by key.
PAGE_EXPANDERS = {
    "Revenue and attribution": ("revenue_by_month", "revenue_by_kind"),
    "Monthly review": ("review_all_movers", "review_bridge_table", "review_definitions"),
    "Cohorts": ("cohorts_table",),
    "Simulator": ("simulator_downgrade",),
    "Data quality": ("dq_parameters", "dq_rows", "dq_expectations"),
}


def missing_on_every_tab(at: AppTest, title: str) -> list[str]:
    """raw_missing of the page, its lazy expanders open; on a page with lazy tabs, of
    each tab opened in turn (only the open tab's content runs)."""
    for key in PAGE_EXPANDERS.get(title, ()):
        at.session_state[key] = True
    if title not in PAGE_TABS:
        at.run()
        return raw_missing(at)
    found = []
    for tab in PAGE_TABS[title][1]:
        open_tab(at, tab, title)
        found += [f"{tab}: {x}" for x in raw_missing(at)]
    open_tab(at, PAGE_TABS[title][1][0], title)  # back to the default tab
    return found


def open_tab(at: AppTest, tab: str, title: str = "Operations") -> None:
    """Open one tab of the page ``title`` (what a click on it does: the page reruns)
    and check the run raised nothing."""
    at.session_state[PAGE_TABS[title][0]] = tab
    at.run()
    assert not at.exception, tab


def test_operations_runs_only_the_open_tab(warehouse, monkeypatch):
    """Each Operations tab draws its charts and tables only when it is open (a page
    change costs the browser 30-70 ms per chart or table); switching tabs reruns the
    page with the other tab's content, the month picked kept."""
    at = app(warehouse, monkeypatch, "Operations")
    at.selectbox(key="operations_month").select_index(1).run()  # a month, not "all"
    month = at.selectbox(key="operations_month").value
    assert month is not None
    subheaders = {}
    for tab in OPERATIONS_TABS:
        open_tab(at, tab)
        assert at.selectbox(key="operations_month").value == month, tab
        assert [t.label for t in at.tabs] == list(OPERATIONS_TABS)
        shown = [t for t in at.tabs if len(t.children)]
        assert [t.label for t in shown] == [tab]
        subheaders[tab] = [unescape(h.value) for h in at.subheader]
    assert "Unresolved handoffs" in subheaders["Sync health"]
    assert subheaders["Payments"][:2] == ["By payment method", "Failures by code"]
    assert "Unresolved handoffs" not in subheaders["Payments"]


@pytest.mark.parametrize("title", [t for t in PAGE_TABS if t != "Operations"])
def test_lazy_tabs_run_only_the_open_tab(title, warehouse, monkeypatch):
    """A page with lazy tabs opens on its first tab, the one its readers read first, and
    draws only the open tab's content; switching tabs keeps the month picked."""
    at = app(warehouse, monkeypatch, title)
    tabs = PAGE_TABS[title][1]
    assert [t.label for t in at.tabs] == list(tabs)
    assert [t.label for t in at.tabs if len(t.children)] == [tabs[0]]
    month_key = {
        "Overview": "overview_month",
        "Revenue and attribution": "revenue_month",
        "Monthly review": "review_month",
    }
    if title in month_key:
        at.selectbox(key=month_key[title]).set_value("2026-02").run()
    for tab in tabs:
        open_tab(at, tab, title)
        assert [t.label for t in at.tabs if len(t.children)] == [tab], tab
        if title in month_key:
            assert at.selectbox(key=month_key[title]).value == "2026-02", tab


def test_overview_headline_numbers_equal_the_metrics_command(
    warehouse, metrics_json, catalog, monkeypatch
):
    at = app(warehouse, monkeypatch)
    cfg = load_config()
    months = {m["month"]: m for m in metrics_json["months"]}
    cur = metrics_json["reporting_currency"]

    def check(month, previous):
        shown = metric_values(at)
        assert len(shown) == len(cfg.headline)
        for metric_id in cfg.headline:
            meta = catalog[metric_id]
            value = months[month][metric_id]
            assert shown[meta["label"]] == format_headline(value, meta["unit"], cur), metric_id
            kpi = next(m for m in at.metric if unescape(m.label) == meta["label"])
            prev = months[previous][metric_id] if previous else None
            expected = (
                None
                if value is None or prev is None
                else format_delta(value - prev, meta["unit"], cur, whole=True)
            )
            assert (kpi.delta or None) == expected, metric_id

    assert at.selectbox(key="overview_month").value == "2026-03"  # the as_of month
    check("2026-03", "2026-02")
    assert metric_values(at)["Self-serve share"] == "75.0%"
    assert metric_values(at)["Net new MRR"] == "100 USD"  # headline money: whole units

    at.selectbox(key="overview_month").set_value("2026-01").run()
    check("2026-01", None)
    assert metric_values(at)["Self-serve share"] == "80.0%"
    assert metric_values(at)["Net new MRR"] == "130 USD"  # 129.60 USD
    captions = texts(at)
    assert "Target ≥ 90.0%" in captions and "Target ≤ 2.0 s" in captions


def test_monthly_review_lists_every_metric_of_the_month(
    warehouse, metrics_json, catalog, monkeypatch
):
    at = app(warehouse, monkeypatch, "Monthly review")
    cur = metrics_json["reporting_currency"]
    # It opens on the last month that ended at or before as_of (2026-03-31T12:00: Feb).
    assert at.selectbox(key="review_month").value == "2026-02"
    open_tab(at, "Every metric", "Monthly review")
    for month, label in (("2026-03", "Mar 2026"), ("2026-02", "Feb 2026")):
        at.selectbox(key="review_month").set_value(month).run()
        # The table of every metric (its tab keeps open when the month changes).
        table = next(d.value for d in at.dataframe if "Section" in d.value.columns)
        assert "Metric id" not in table.columns  # ids do not take the table's width
        shown = dict(zip(table["Metric"], table[label]))
        row = next(m for m in metrics_json["months"] if m["month"] == month)
        for metric_id, meta in catalog.items():
            value = row[metric_id]
            unit = meta["unit"].removesuffix("_by_key")
            if isinstance(value, dict):
                for key, v in value.items():
                    assert shown[f"{meta['label']} · {key}"] == format_value(v, unit, cur)
            elif not meta["unit"].endswith("_by_key"):
                assert shown[meta["label"]] == format_value(value, unit, cur), metric_id


def test_csv_download_is_the_metrics_command_csv(warehouse, monkeypatch):
    from upgrade_warehouse.dashboard import data, ui

    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    proc = run_cli("metrics", "--warehouse", warehouse, "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert ui.metrics_csv(data.current(), None) == proc.stdout
    month = ui.metrics_csv(data.current(), "2026-02").splitlines()
    assert month[0] == proc.stdout.splitlines()[0] and month[1].startswith("2026-02,")
    assert len(month) == 2


def test_other_pages_show_the_metrics_of_the_month(warehouse, metrics_json, monkeypatch):
    at = app(warehouse, monkeypatch, "Funnel and abandonment")
    at.selectbox(key="funnel_from").set_value("2026-03").run()  # the range March only
    at.selectbox(key="funnel_to").set_value("2026-03").run()
    mar = next(m for m in metrics_json["months"] if m["month"] == "2026-03")
    shown = metric_values(at)
    assert shown["Attempts started"] == format_value(mar["attempts_started"], "count", "")
    assert shown["Upgrade conversion rate"] == format_value(
        mar["upgrade_conversion_rate"], "rate", ""
    )
    goto(at, "Revenue and attribution")
    shown = metric_values(at)
    assert shown["Net new MRR"] == "100 USD"
    open_tab(at, "Attribution", "Revenue and attribution")
    shown = metric_values(at)
    assert shown["Attribution accuracy"] == format_value(mar["attribution_accuracy"], "rate", "")
    goto(at, "Cohorts")
    at.segmented_control(key="cohort_dimension").set_value("all").run()
    assert not at.exception


def test_simulator_shows_worked_example_1(warehouse, monkeypatch):
    at = app(warehouse, monkeypatch, "Simulator")
    at.radio(key="sim_source").set_value("sample").run()
    at.selectbox(key="sim_from_plan").set_value("pro_monthly").run()
    at.selectbox(key="sim_to_plan").set_value("business_monthly").run()
    at.number_input(key="sim_from_qty").set_value(3).run()
    at.number_input(key="sim_to_qty").set_value(3).run()
    at.text_input(key="sim_period_start").input("2026-03-01T00:00:00Z").run()
    at.text_input(key="sim_period_end").input("2026-04-01T00:00:00Z").run()
    at.text_input(key="sim_at").input("2026-03-16T12:00:00Z").run()
    assert not at.exception
    shown = {}
    for m in at.metric:  # the quote first, then its downgrade alternative
        shown.setdefault(unescape(m.label), m.value)
    assert shown["Due now"] == "0.00 USD"
    assert shown["Next invoice"] == "195.00 USD"
    assert shown["Effective"] == "2026-03-16"
    lines = at.table[0].value
    assert [unescape(a) for a in lines["amount"]] == ["-30.00 USD", "75.00 USD"]
    page = texts(at)
    assert "on 2026-04-01" in page and "Net proration 45.00 USD" in page
    # The downgrade alternative runs when its expander is opened: back to the free tier
    # at period end.
    assert [e.label for e in at.expander] == ["Downgrade alternative"]
    assert [m.value for m in at.metric if unescape(m.label) == "Effective"] == ["2026-03-16"]
    at.session_state["simulator_downgrade"] = True
    at.run()
    assert not at.exception
    effective = [m.value for m in at.metric if unescape(m.label) == "Effective"]
    assert effective == ["2026-03-16", "2026-04-01"]


def test_whatif_projection_applies_the_scenario(warehouse, monkeypatch):
    at = app(warehouse, monkeypatch, "Simulator")
    open_tab(at, "What-if projection", "Simulator")
    steps = [
        "plan_selected",
        "proration_previewed",
        "payment_method_selected",
        "payment_submitted",
        "upgrade_completed",
    ]
    for step in steps:
        at.number_input(key=f"whatif_step_{step}").set_value(50.0).run()
    at.number_input(key="whatif_price").set_value(10.0).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = {unescape(m.label): m.value for m in at.metric}
    assert shown["Completion rate"] == "3.1%"  # 0.5 ** 5
    assert "Expansion MRR in 12 months" in shown
    # Only the open tab runs; the inputs of a tab are kept while the other one is open.
    open_tab(at, "Proration quote", "Simulator")
    assert "Completion rate" not in {unescape(m.label) for m in at.metric}
    at.number_input(key="sim_from_qty").set_value(7).run()
    open_tab(at, "What-if projection", "Simulator")
    assert at.number_input(key="whatif_price").value == 10.0
    assert at.number_input(key="whatif_step_plan_selected").value == 50.0
    assert {unescape(m.label): m.value for m in at.metric}["Completion rate"] == "3.1%"
    open_tab(at, "Proration quote", "Simulator")
    assert at.number_input(key="sim_from_qty").value == 7


def test_simulator_reports_invalid_input(warehouse, monkeypatch):
    at = app(warehouse, monkeypatch, "Simulator")
    at.radio(key="sim_source").set_value("sample").run()
    at.text_input(key="sim_at").input("2026-05-01T00:00:00Z").run()
    assert not at.exception
    assert any("outside the billing period" in unescape(e.value) for e in at.error)


def test_empty_states_of_an_older_warehouse(older_warehouse, monkeypatch):
    at = app(older_warehouse, monkeypatch, "Upsell plays")
    assert "No data loaded for upsell_offers" in texts(at)
    goto(at, "Revenue and attribution")
    open_tab(at, "Proration checks", "Revenue and attribution")
    assert "proration-check mart (marts.fct_proration_checks) is not in this warehouse" in (
        texts(at)
    )
    goto(at, "Data quality")
    open_tab(at, "Expectations and docs", "Data quality")
    page = texts(at)
    assert "quality.expectation_results) is not in this warehouse" in page
    assert "No Data Docs next to this warehouse" in page
    goto(at, "Operations")  # every optional table of the operations fixture is loaded
    for tab in OPERATIONS_TABS:
        open_tab(at, tab)
        assert "No data loaded" not in texts(at), tab
        assert len(at.dataframe) > 0, tab


def test_data_quality_reads_the_load_report_and_expectations(warehouse, monkeypatch):
    at = app(warehouse, monkeypatch, "Data quality")
    report = at.dataframe[0].value
    assert set(report["Table"]) >= {"accounts", "plans", "invoice_lines"}
    assert dict(zip(report["Table"], report["Status"]))["invoice_lines"] == "not loaded"
    assert "No data loaded for invoice_lines" in texts(at)
    open_tab(at, "Expectations and docs", "Data quality")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        has_results = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'quality' and table_name = 'expectation_results'"
        ).fetchone()[0]
    if has_results:
        assert metric_values(at)["Expectations"] != "0"
        assert (docs_folder(warehouse) / "index.html").is_file()
        assert any(b.label == "Open Data Docs" for b in at.get("link_button"))


def test_user_text_is_escaped(older_warehouse, monkeypatch):
    at = app(older_warehouse, monkeypatch, "Simulator")
    at.radio(key="sim_source").set_value("warehouse").run()
    at.selectbox(key="sim_from_plan").set_value("free").run()
    at.selectbox(key="sim_to_plan").set_value("pro_m").run()
    assert not at.exception
    heading = at.subheader[0].value
    assert "**Pro**" not in heading and r"\*\*Pro\*\*" in heading
    assert r"\<b\>" in heading and r"\:red\[big\]" in heading
    assert unescape(heading).startswith("Free × 3 → **Pro** <b>x</b> :red[big] × 3")


def test_md_escape_and_formats():
    assert md_escape("a*b_c [x](javascript:alert(1)) <i>") == (
        r"a\*b\_c \[x\]\(javascript\:alert\(1\)\) \<i\>"
    )
    assert format_delta(0.0321, "rate", "USD") == "+3.2 pp"
    assert format_delta(-0.0001, "rate", "USD") == "±0.0 pp"
    assert format_delta(-12, "count", "USD") == "-12"
    assert format_delta(1234.5, "money", "USD") == "+1,234.50 USD"
    assert format_delta(0.4, "seconds", "USD") == "+0.4 s"


def test_config_holds_the_targets():
    cfg = load_config(REPO / "dashboards" / "config.toml")
    assert cfg.target("self_serve_share").minimum == 0.90
    assert cfg.target("processing_latency_seconds_p95").maximum == 2.0
    assert cfg.target("processing_latency_seconds_p95").met(1.9) is True
    assert cfg.target("self_serve_share").met(0.75) is False
    assert "self_serve_share" in cfg.headline
    with pytest.raises(UserError, match=r"targets\.x needs min or max"):
        parse_config({"targets": {"x": {"note": "n"}}})
    with pytest.raises(UserError, match=r"targets\.x\.min must be a number"):
        parse_config({"targets": {"x": {"min": "high"}}})


def test_pages_hold_no_sql_and_no_html():
    pages = sorted((REPO / "dashboards" / "app_pages").glob("*.py"))
    assert len(pages) == len(PAGE_FILES)
    sql = re.compile(
        r"\b(select|insert|update|delete|create|drop)\b\s.*\b(from|into|table)\b"
        r"|duckdb|\.execute\(|\.sql\(",
        re.IGNORECASE,
    )
    for path in [*pages, REPO / "dashboards" / "app.py"]:
        text = path.read_text()
        assert not sql.search(text), f"{path.name} has SQL or a connection"
    package = REPO / "src" / "upgrade_warehouse" / "dashboard"
    for path in [*pages, REPO / "dashboards" / "app.py", *package.glob("*.py")]:
        assert "unsafe_allow_html" not in path.read_text(), path.name
        assert "st.html(" not in path.read_text(), path.name


def test_dashboard_command_needs_a_warehouse(tmp_path):
    proc = run_cli("dashboard", "--warehouse", tmp_path / "missing.duckdb", "--port", "9")
    assert proc.returncode == 2
    assert "no warehouse at" in proc.stderr and "upgrade-warehouse build" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_users_server_skips_the_chart_schema_checks_and_the_gc_after_each_run(tmp_path):
    """What a page costs the server besides its queries: without the tests' variable
    Altair's debug mode is off (no schema check when a chart object is made or turned
    into Vega-Lite; the tests keep them on), and Streamlit does not run a full garbage
    collection after every script run (0.1 s a page change)."""
    import subprocess
    import sys

    from upgrade_warehouse.dashboard.command import streamlit_command

    command = streamlit_command(tmp_path / "app.py", "127.0.0.1", 8501, None)
    assert command[command.index("--runner.postScriptGC") + 1] == "false"
    probe = """
import pandas as pd
from altair.utils import schemapi
from upgrade_warehouse.dashboard import charts
calls = []
check = schemapi.SchemaBase.validate.__func__
schemapi.SchemaBase.validate = classmethod(lambda cls, *a, **k: calls.append(1) or check(cls, *a, **k))
frame = pd.DataFrame({"month": ["2026-01", "2026-02"], "value": [0.1, 0.2]})
chart = charts.trend(frame, "rate", "Rate", target=0.15)
chart.to_dict()
print(schemapi.DEBUG_MODE, len(calls))
"""
    env = {k: v for k, v in os.environ.items() if k != VALIDATE_ENV}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "0"], out.stdout + out.stderr
    tested = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**env, VALIDATE_ENV: "1"},
        check=True,
    )
    debug, checks = tested.stdout.split()
    assert debug == "True" and int(checks) > 0, tested.stdout
