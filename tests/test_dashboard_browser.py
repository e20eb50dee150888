"""The dashboard in a real browser: `upgrade-warehouse dashboard --port N` in a subprocess,
Debian's headless Chromium driven by Playwright (never downloaded; a missing
/usr/bin/chromium is a failure, not a skip).

Every page renders, a filter changes a number, the simulator shows worked example 1 of
the simulator spec, screenshots can be taken, and the server keeps serving while `build`
publishes a new warehouse to the same path (and shows its as_of after a reload). That
build starts when these tests begin (``dashboard_support.start_publishing``), so the
other tests render pages while it works.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from dashboard_support import (
    PAGES,
    live_dashboard,
    open_page,
    quarter_of,
    start_publishing,
    wait_rendered,
)
from upgrade_warehouse.dashboard.fmt import format_headline
from upgrade_warehouse.metrics import format_value, read_metrics

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    live = live_dashboard(request, tmp_path_factory)
    start_publishing(request, live)
    return live


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


def assert_no_exception(page):
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()


def metric_value(page, label: str):
    metric = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=label)
    )
    return metric.first.locator("[data-testid='stMetricValue']")


def settle(page):
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")


def render(page, served, path: str) -> None:
    """Go to one page through the sidebar (opening the app first when needed) and check
    it rendered; counted when the publishing build ran all along."""
    running = served.build.running()
    title = PAGES[path]
    if not page.url.startswith(served.url):
        open_page(page, served.url, path)
    else:
        page.locator("[data-testid='stSidebarNav'] a", has_text=title).first.click()
        wait_rendered(page, title)
    assert_no_exception(page)
    assert page.locator("[data-testid='stSidebar']").get_by_text("Data as of").count() == 1
    if running and served.build.running():
        served.build.rendered_during_build += 1


def test_every_page_renders(served, page, tmp_path):
    from playwright.sync_api import expect

    for path in PAGES:
        render(page, served, path)
        if path == "":
            # MRR and ARR at month end, then twelve headline KPIs. (Streamlit draws a card
            # as a skeleton first: on a loaded machine the cards come seconds after the run
            # ends, as in test_every_page_is_whole_at_1280_px.)
            expect(page.locator("[data-testid='stMetric']")).to_have_count(14, timeout=20_000)
            # The month's MRR bridge in the first tab; the KPIs' sparklines (one chart)
            # and the six trends (one chart of six panels) only when the Trends tab is
            # opened: issue 36, pages within 4x the floor.
            charts = page.locator("[data-testid='stVegaLiteChart']")
            expect(charts).to_have_count(1, timeout=20_000)
            expect(page.get_by_text("Needs attention")).to_have_count(1)
            page.get_by_role("tab", name="Trends").click()
            expect(charts).to_have_count(2, timeout=20_000)
            expect(page.get_by_text("The headline KPIs, 12 months")).to_have_count(1)
            page.get_by_role("tab", name="MRR bridge").click()
            expect(page.get_by_text("MRR bridge, ", exact=False)).to_have_count(1)
            settle(page)
        elif path == "monthly-review":
            # The fixture's GBP subscription has no fx rate: the warning of `metrics`
            # is at the top of the page (March, the default month).
            expect(page.get_by_text("No USD rate for GBP", exact=False)).to_have_count(1)
        elif path == "data-quality":
            expect(page.get_by_text("No data loaded for invoice_lines")).to_have_count(1)
        if path in ("", "funnel"):  # the two README pages can be captured
            shot = tmp_path / f"{path or 'overview'}.png"
            page.screenshot(path=str(shot))
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert shot.stat().st_size > 20_000


CUT_OFF = """() => {
  const found = [];
  const selector = ['stMetricLabel', 'stMetricValue', 'stMetricDelta']
    .map(id => `[data-testid=${id}], [data-testid=${id}] *`).join(', ');
  for (const el of document.querySelectorAll(selector)) {
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth) {
      found.push(`${el.closest('[data-testid^=stMetric]').dataset.testid}: ` +
                 `${el.innerText} (${el.scrollWidth} > ${el.clientWidth} px)`);
    }
  }
  return found;
}"""
RAW_MISSING = re.compile(r"\b(None|nan|NaN|NaT)\b")
# A select box of the filter bar whose value does not fit its box (From and To read
# "Oct 20" at 1280 px before issue 32's Funnel range). (Other select boxes may cut a
# long value: the Simulator's plan names.)
SELECT_CUT = """() => [...document.querySelectorAll(
    '[data-testid=stMain] [data-testid=stSelectbox] input')]
  .filter(input => ['Segment', 'Segment A', 'Segment B', 'Quarter', 'From', 'To']
    .includes(input.getAttribute('aria-label')))
  .filter(input => input.value && input.scrollWidth > input.clientWidth + 1)
  .map(input => `${input.getAttribute('aria-label')}: ${input.value} ` +
                `(${input.scrollWidth} > ${input.clientWidth} px)`)"""


def test_every_page_is_whole_at_1280_px(served, browser):
    """At 1280 px no metric label, value or delta and no value of the filter bar (segment,
    month range) is cut off (its element's scrollWidth fits its clientWidth) and
    no page shows "None", "nan" or "NaN" (AppTest checks the data behind every
    dataframe: test_dashboard_apptest.raw_missing)."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        for path in PAGES:
            render(page, served, path)
            # (Experiments has no cards: the fixture has no experiment, and its own
            # browser test is tests/test_dashboard_experiments.py.)
            if path not in ("cohorts", "monthly-review", "experiments"):
                # The script may rerun once more (the publishing build swaps the
                # warehouse): wait for the cards rather than count at one instant.
                expect(page.locator("[data-testid='stMetric']").first).to_be_visible(timeout=20_000)
            assert page.evaluate(CUT_OFF) == [], PAGES[path]
            assert page.evaluate(SELECT_CUT) == [], PAGES[path]
            text = page.locator("[data-testid='stMain']").inner_text()
            assert not RAW_MISSING.search(text), (PAGES[path], RAW_MISSING.search(text))
            if path == "simulator":  # the other tab's cards
                page.get_by_role("tab", name="What-if projection").click()
                page.get_by_text("Completion rate").first.wait_for()
                assert page.evaluate(CUT_OFF) == [], "What-if projection"
            if path == "revenue":  # the Attribution tab's cards
                page.get_by_role("tab", name="Attribution").click()
                page.get_by_text("Mismatched changes").first.wait_for()
                settle(page)
                assert page.evaluate(CUT_OFF) == [], "Attribution"
            if path == "operations":  # only the open tab runs: open each one
                for tab, first in (
                    ("Payments", "By payment method"),
                    ("Eligibility", "Rejections by reason"),
                    ("Orders and returns", "Post-purchase orders"),
                ):
                    page.get_by_role("tab", name=tab).click()
                    page.get_by_text(first).first.wait_for()
                    page.wait_for_selector(
                        "[data-testid='stApp'][data-test-script-state='notRunning']"
                    )
                    assert page.evaluate(CUT_OFF) == [], tab
                    text = page.locator("[data-testid='stMain']").inner_text()
                    assert not RAW_MISSING.search(text), (tab, RAW_MISSING.search(text))
    finally:
        context.close()


def test_overview_opens_at_its_url_path(served, page):
    """/overview (the url_path of the login config and the docs) opens the Overview, not
    a "Page not found" dialog."""
    page.goto(f"{served.url}/overview")
    wait_rendered(page, "Overview")
    assert_no_exception(page)
    assert page.get_by_text("Page not found").count() == 0
    page.goto(f"{served.url}/no-such-page")  # a wrong path still says so
    wait_rendered(page, "Overview")
    assert page.get_by_text("Page not found").count() == 1


def test_winback_lists_the_accounts_and_explains_one(served, page):
    """The fixture warehouse lists F4 and F6 (tests/test_winback.py derives it); the page
    shows both, the detail of the top one and the CSV download."""
    from playwright.sync_api import expect

    open_page(page, served.url, "winback")
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    expect(metric_value(page, "Accounts listed")).to_have_text("2")
    grid = main.locator("[data-testid='stDataFrame']").first
    expect(grid).to_be_visible()
    # equal probabilities (no model on so little history): account id order, F4 first
    expect(main).to_contain_text("F4 ·")
    expect(main).to_contain_text("the top account; select a row to see another")
    expect(main.get_by_role("button", name=re.compile("Download these accounts"))).to_be_visible()
    # The plays and the model's figures are tabs that run when opened.
    page.get_by_role("tab", name="Suggested plays").click()
    expect(main).to_contain_text("How a play is chosen")
    page.get_by_role("tab", name="How good is the model").click()
    expect(main).to_contain_text("trained on")


def test_simulator_shows_worked_example_1(served, page):
    from playwright.sync_api import expect

    open_page(page, served.url, "simulator")
    page.get_by_text("Sample catalog", exact=True).click()
    settle(page)

    def fill(label, value):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        settle(page)

    pick(page, "Current plan", re.compile(r"\(pro_monthly\)"))
    pick(page, "New plan", re.compile(r"\(business_monthly\)"))
    fill("Current seats", "3")
    fill("New seats", "3")
    fill("Period start", "2026-03-01T00:00:00Z")
    fill("Period end", "2026-04-01T00:00:00Z")
    fill("Change at", "2026-03-16T12:00:00Z")
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    expect(
        main.get_by_role("heading", name=re.compile("Pro \\(monthly\\) × 3 → Business"))
    ).to_be_visible()
    lines = main.locator("[data-testid='stTable']").first
    expect(lines).to_contain_text("proration_credit")
    expect(lines).to_contain_text("-30.00 USD")
    expect(lines).to_contain_text("proration_charge")
    expect(lines).to_contain_text("75.00 USD")
    expect(main).to_contain_text("Net proration 45.00 USD")
    expect(metric_value(page, "Due now")).to_have_text("0.00 USD")
    expect(metric_value(page, "Next invoice")).to_have_text("195.00 USD")
    expect(main).to_contain_text("on 2026-04-01")
    expect(metric_value(page, "Effective")).to_have_text("2026-03-16")
    # The downgrade alternative runs when its expander is opened: back to the free tier
    # at period end.
    main.get_by_text("Downgrade alternative", exact=True).click()
    expect(main).to_contain_text("Entitlements: current vs lower plan")
    effective = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text="Effective")
    )
    expect(effective.nth(1).locator("[data-testid='stMetricValue']")).to_have_text("2026-04-01")


def test_keeps_serving_while_build_publishes(served, page):
    """The server keeps answering while `build` replaces the file it reads; after a
    reload the page shows the new warehouse's as_of."""
    build = served.build
    paths = list(PAGES)
    current = ""
    i = 0
    while build.running():
        current = paths[i % len(paths)]
        render(page, served, current)
        i += 1
        time.sleep(2)  # leave the CPU to the build
    assert build.wait() == 0, build.log()[-3000:]
    assert build.rendered_during_build > 0, "the build ended before a page was rendered"
    if i == 0:
        open_page(page, served.url, current)
    page.reload()  # the page opened before the publish, reloaded after it
    wait_rendered(page, PAGES[current])
    assert_no_exception(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    assert sidebar.get_by_text("2026-03-31 00:00 UTC").count() == 1, sidebar.inner_text()
    open_page(page, served.url, "data-quality")
    assert metric_value(page, "Data as of (UTC)").inner_text() == "2026-03-31 00:00"


def test_a_filter_changes_a_number(served, page):
    from playwright.sync_api import expect

    if served.build.proc is not None:
        served.build.wait()  # numbers of the published warehouse, not a moving target
    months = {m["month"]: m for m in read_metrics(served.path)["months"]}
    latest, first = max(months), min(months)
    open_page(page, served.url, "")
    value = metric_value(page, "Net new MRR")
    expect(value).to_have_text(format_headline(months[latest]["net_new_mrr"], "money", "USD"))
    before = value.inner_text()
    pick(page, "Month", "Jan 2026")
    expected = format_headline(months[first]["net_new_mrr"], "money", "USD")
    expect(value).to_have_text(expected)
    assert expected != before
    expect(metric_value(page, "Self-serve share")).to_have_text(
        format_value(months[first]["self_serve_share"], "rate", "USD")
    )


# ----------------------------------------------------------------------------- segments


@pytest.fixture(scope="module")
def every_rate_served(tmp_path_factory):
    """The dashboard on its own copy of the fixture warehouse with ``min_count = 1`` in
    its config, so that every rate of the small fixture is shown as a number."""
    import os
    import shutil
    from unittest import mock

    from conftest import REPO
    from dashboard_support import DashboardServer, ops_warehouse
    from upgrade_warehouse.dashboard.config import CONFIG_ENV

    warehouse, _ = ops_warehouse(tmp_path_factory)
    home = tmp_path_factory.mktemp("segments-served")
    path = home / "warehouse.duckdb"
    shutil.copy(warehouse, path)
    config = home / "config.toml"
    text = (REPO / "dashboards" / "config.toml").read_text()
    assert "\nmin_count = 30\n" in text
    config.write_text(text.replace("\nmin_count = 30\n", "\nmin_count = 1\n"))
    server = DashboardServer(path, home / "server.log")
    with mock.patch.dict(os.environ, {CONFIG_ENV: str(config)}):
        server.start()
    try:
        yield server, path
    finally:
        server.stop()


def pick_dimension(page, label: str) -> None:
    page.locator("[data-testid='stButtonGroup'] button", has_text=label).first.click()
    settle(page)


def pick(page, select_label: str, option: str | re.Pattern, attempts: int = 3) -> None:
    """Choose ``option`` in the select box labelled ``select_label``. The list can close
    again when it opens while the page is still settling (it then never shows the
    option): wait for the script to be idle and click again, up to ``attempts`` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator("[data-testid='stSelectbox']").filter(
        has=page.locator("label", has_text=select_label)
    )
    choice = page.get_by_role("option", name=option).first
    for attempt in range(1, attempts + 1):
        settle(page)
        box.first.click()
        try:
            choice.click(timeout=5_000)
            break
        except PlaywrightTimeout:
            if attempt == attempts:
                raise
            page.keyboard.press("Escape")
    settle(page)


def by_persona(path) -> dict:
    from conftest import run_cli

    proc = run_cli("metrics", "--warehouse", path, "--by", "persona", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


FUNNEL_KPIS = [
    "attempts_started",
    "upgrade_conversion_rate",
    "self_serve_completion_rate",
    "escalation_rate",
    "intent_to_activation_hours_p50",
]


def test_funnel_by_persona_shows_what_metrics_by_persona_gives(every_rate_served, page):
    from playwright.sync_api import expect

    server, path = every_rate_served
    result = by_persona(path)
    catalog = {m.metric_id: m for m in read_catalog_of(path)}
    segments = {s["segment"]: {m["month"]: m for m in s["months"]} for s in result["segments"]}
    open_page(page, server.url, "funnel")
    pick_dimension(page, "Persona")
    pick(page, "From", "Mar 2026")  # To is the last month: the range March only
    checked = 0
    for value, option in (
        ("founder", re.compile(r"^founder \(\d")),
        (None, re.compile(r"^\(none\) \(\d")),
    ):
        pick(page, "Segment", option)
        expected = segments[value]["2026-03"]
        assert expected["attempts_started"] > 0  # a segment with attempts that month
        for metric_id in FUNNEL_KPIS:
            meta = catalog[metric_id]
            expect(metric_value(page, meta.label)).to_have_text(
                format_value(expected[metric_id], meta.unit, "USD")
            )
            checked += 1
        assert_no_exception(page)
    assert checked == 2 * len(FUNNEL_KPIS)


def test_funnel_compare_mode_shows_both_segments(every_rate_served, page):
    """Compare mode over a quarter picked with its preset: both segments' numbers are
    their months' `metrics --by persona` added up."""
    from playwright.sync_api import expect

    server, path = every_rate_served
    segments = {
        s["segment"]: {m["month"]: m for m in s["months"]} for s in by_persona(path)["segments"]
    }
    open_page(page, server.url, "funnel")
    pick_dimension(page, "Persona")
    pick(page, "From", "Feb 2026")
    pick(page, "To", "Feb 2026")
    pick(page, "Quarter", "2026 Q1")  # sets From and To to January and March
    page.get_by_text("Compare", exact=True).first.click()
    settle(page)
    pick(page, "Segment A", re.compile(r"^founder \(\d"))
    pick(page, "Segment B", re.compile(r"^\(none\) \(\d"))
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    expect(main).to_contain_text("Attempts started Jan 2026 to Mar 2026")
    expect(main.get_by_role("heading", name="founder (A) vs (none) (B)")).to_be_visible()
    table = page.locator("[data-testid='stDataFrame']").first
    q1 = ["2026-01", "2026-02", "2026-03"]
    a, b = quarter_of(segments["founder"], q1), quarter_of(segments[None], q1)
    assert a["attempts_started"] > 0 and b["attempts_started"] > 0
    grid = table.locator("[role='gridcell']")
    expect(grid.nth(0)).to_have_text("Attempts started")  # the grid redraws after the
    expect(grid.nth(1)).to_have_text(str(a["attempts_started"]))  # heading: wait for it
    expect(grid.nth(2)).to_have_text(str(b["attempts_started"]))
    cells = [c.inner_text() for c in grid.all()]
    rows = {cells[i]: cells[i + 1 : i + 5] for i in range(0, len(cells), 5)}
    conversion = rows["Upgrade conversion rate"]
    assert conversion[0].startswith(format_value(a["upgrade_conversion_rate"], "rate", ""))
    assert conversion[1].startswith(format_value(b["upgrade_conversion_rate"], "rate", ""))
    # min_count 1: a difference, beyond noise or not, with the p-value of the comparison.
    assert re.fullmatch(r"(yes|no) \(p (= 0\.\d{3}|< 0\.001)\)", conversion[3]), conversion[3]


def test_a_segment_of_few_accounts_says_too_few(served, page):
    """The default minimum count (30) is far above any rate of the fixture's segments."""
    from playwright.sync_api import expect

    open_page(page, served.url, "funnel")
    pick_dimension(page, "Persona")
    assert_no_exception(page)
    expect(metric_value(page, "Upgrade conversion rate")).to_have_text("too few")
    expect(page.locator("[data-testid='stMain']")).to_contain_text('say "too few"')


def read_catalog_of(path):
    from upgrade_warehouse.warehouse import connect, read_catalog

    with connect(path) as con:
        return read_catalog(con)


# Every table (a Streamlit dataframe: glide-data-grid draws it on a canvas inside a
# scroller, `.dvn-scroller`, and keeps the visible cells' text in an accessible
# table) and every chart of the page shown: a table whose columns are wider than its
# frame scrolls sideways (scroller scrollWidth > clientWidth); a chart wider than its
# element is cut off. Hidden ones (a closed tab) are skipped: the tabs are opened one by
# one. (The frame's own scrollWidth is not measured: Streamlit puts its resize handle
# 9 px over the frame's right edge, on every table.)
NOT_FITTING = """() => {
  const found = [];
  const shown = el => el.getClientRects().length > 0 && el.clientWidth > 0;
  const name = el => {
    const head = [...el.querySelectorAll('th')].slice(0, 3).map(th => th.innerText);
    return head.length ? head.join(' | ') : (el.getAttribute('aria-label') || '');
  };
  for (const frame of document.querySelectorAll('[data-testid=stMain] [data-testid=stDataFrame]')) {
    if (!shown(frame)) continue;
    const scroller = frame.querySelector('.dvn-scroller');
    if (scroller && scroller.scrollWidth > scroller.clientWidth + 1) {
      found.push(`table [${name(frame)}]: ${scroller.scrollWidth} > ${scroller.clientWidth} px`);
    }
  }
  const charts = '[data-testid=stMain] [data-testid=stVegaLiteChart]';
  for (const chart of document.querySelectorAll(charts)) {
    if (!shown(chart)) continue;
    if (chart.scrollWidth > chart.clientWidth + 1) {
      found.push(`chart: ${chart.scrollWidth} > ${chart.clientWidth} px`);
    }
    const drawn = chart.querySelector('canvas, svg');
    if (drawn && drawn.getBoundingClientRect().width > chart.clientWidth + 1) {
      found.push(`chart drawing: ${drawn.getBoundingClientRect().width} > ${chart.clientWidth} px`);
    }
  }
  return found;
}"""
BAD_CELLS = """() => [...document.querySelectorAll(
    '[data-testid=stMain] [data-testid=stDataFrame] [role=gridcell]')]
  .map(td => td.innerText.trim())
  .filter(text => ['None', 'nan', 'NaN', 'NaT', '<NA>', 'null'].includes(text))"""
TABS = {
    "": ("MRR bridge", "Trends"),
    "revenue": ("MRR bridge", "Attribution", "Proration checks"),
    "winback": ("Accounts", "Suggested plays", "How good is the model"),
    "monthly-review": ("What moved and MRR bridge", "Every metric", "Month by month"),
    "funnel": ("Steps and drop-off", "Time to convert", "Escalation and outcomes"),
    "cohorts": ("By activation month", "By cohort age"),
    "upsell": ("By trigger", "By owner", "By channel"),
    "data-quality": ("Load report and quarantine", "Expectations and docs"),
    "operations": ("Sync", "Payments", "Eligibility", "Orders and returns"),
    "simulator": ("Proration quote", "What-if projection"),
}


def open_expanders(page) -> None:
    """Open every closed expander shown (a click on its summary, as a reader does)."""
    page.evaluate(
        """() => document.querySelectorAll(
              '[data-testid=stMain] [data-testid=stExpander] details:not([open]) > summary')
            .forEach(s => { if (s.getClientRects().length > 0) s.click(); })"""
    )
    page.wait_for_timeout(300)
    settle(page)


def wait_tables_drawn(page) -> None:
    """Until every shown table has its cells (glide draws after the script ends)."""
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stDataFrame]')]
              .filter(f => f.getClientRects().length > 0)
              .every(f => f.querySelector('[role=gridcell], .dvn-scroller'))""",
        timeout=20_000,
    )
    page.wait_for_timeout(300)  # the grid's first layout


def test_every_table_and_chart_fits_at_1280_px(served, browser):
    """At 1280 px, on every page (each tab, each expander open), no table scrolls
    sideways and no chart is wider than its element; no table cell reads None or nan."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    problems = {}
    try:
        page = context.new_page()
        for path in PAGES:
            render(page, served, path)
            for tab in TABS.get(path, (None,)):
                where = PAGES[path] + (f" / {tab}" if tab else "")
                if tab:
                    page.get_by_role("tab", name=tab).click()
                    page.wait_for_timeout(300)  # the rerun the click starts (lazy tabs)
                    settle(page)
                open_expanders(page)
                wait_tables_drawn(page)
                found = page.evaluate(NOT_FITTING) + page.evaluate(BAD_CELLS)
                if found:
                    problems[where] = found
    finally:
        context.close()
    assert not problems, "\n".join(f"{where}: {found}" for where, found in problems.items())
