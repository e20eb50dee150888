"""The Experiments page in a real browser at 1280 px (issue 33), on the demo's data set
with its A/B tests of known effect (conftest.experiments_generated): the verdict
sentences, the interval chart, the sample-ratio warning, the persona breakdown, no
cut-off values and no None / nan; and the exports' content (AppTest)."""

from __future__ import annotations

import io
import re
import shutil

import pytest

from conftest import REPO
from dashboard_support import WAREHOUSE_ENV, DashboardServer, open_page

pytestmark = pytest.mark.slow

# Every element of the page's main area whose text is wider than its box (values cut
# off), whatever its kind (markdown, captions, cards, the table's cells are canvas).
CUT_OFF = """() => {
  const found = [];
  for (const el of document.querySelectorAll(
      "[data-testid='stMain'] [data-testid='stMarkdownContainer'] *, " +
      "[data-testid='stMain'] [data-testid='stCaptionContainer'] *, " +
      "[data-testid='stMain'] [data-testid='stSelectbox'] *")) {
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.innerText.slice(0, 60)} (${el.scrollWidth} > ${el.clientWidth} px)`);
    }
  }
  return found;
}"""
RAW_MISSING = re.compile(r"\b(None|nan|NaN|NaT)\b")


@pytest.fixture(scope="module")
def served(experiments_generated, tmp_path_factory):
    home = tmp_path_factory.mktemp("experiments-served")
    path = home / "warehouse.duckdb"
    shutil.copy(experiments_generated / "wh.duckdb", path)
    server = DashboardServer(path, home / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def choose(page, label: str, option: str) -> None:
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.click()
    page.get_by_role("option", name=re.compile(re.escape(option))).first.click()
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    page.wait_for_timeout(500)


def test_experiments_page_at_1280_px(served, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        page = context.new_page()
        open_page(page, served.url, "experiments")
        assert page.locator("[data-testid='stException']").count() == 0
        # The broken 60/40 assignment.
        choose(page, "Experiment", "annual_nudge")
        main = page.locator("[data-testid='stMain']")
        text = main.inner_text()
        assert "Assignment is broken: do not trust these results" in text
        # The persona-specific effect: marketers' plan_selected rises.
        choose(page, "Experiment", "pricing_copy")
        choose(page, "Conversion metric", "Reached plan selected")
        text = main.inner_text()
        assert re.search(
            r"treatment raises reached plan selected by \d+\.\d points, 95% interval", text
        )
        assert "Assignment looks sound" in text
        # The guardrail and revenue per account beside the conversion metric.
        for heading in ("Conversion", "Guardrail", "Revenue"):
            assert page.get_by_role("heading", name=heading).count() >= 1, heading
        assert "Payment failure rate (accounts)" in text and "Revenue per account" in text
        # The interval chart (rates, and revenue per account).
        charts = page.locator("[data-testid='stVegaLiteChart']")
        charts.first.wait_for()
        assert charts.count() == 2
        # A persona breakdown with too few accounts for a verdict in some persona, and the
        # marketers' significant rise.
        # (The persona breakdown is a tab that runs when opened.)
        choose(page, "Experiment", "upgrade_modal")
        page.get_by_role("tab", name="By persona").click()
        main.get_by_text("in each persona: the same comparison").wait_for()
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        text = main.inner_text()
        assert re.search(r"too few accounts yet: \d+ of 100", text), text[:2000]
        assert page.evaluate(CUT_OFF) == []
        assert not RAW_MISSING.search(text), RAW_MISSING.search(text)
        shot = tmp_path / "experiments.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 30_000
    finally:
        context.close()


def test_exports_of_an_experiment(experiments_generated, monkeypatch):
    from openpyxl import load_workbook
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(WAREHOUSE_ENV, str(experiments_generated / "wh.duckdb"))
    at = AppTest.from_file(str(REPO / "dashboards" / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("app_pages/experiments.py").run()
    assert not at.exception
    at.selectbox(key="experiment_id").set_value("pricing_copy").run()
    assert not at.exception
    from upgrade_warehouse.dashboard import data
    from upgrade_warehouse.dashboard import experiments_data as xd

    ref = data.current(experiments_generated / "wh.duckdb")
    result = xd.results(ref)
    (e,) = [x for x in result["experiments"] if x["experiment_id"] == "pricing_copy"]
    rows = xd.variation_rows(e, xd.metric_infos(ref), result["min_accounts"], "USD")
    book = load_workbook(io.BytesIO(xd.experiment_xlsx(result, e, rows, None, "as of")))
    assert book.sheetnames == ["About", "Variations"]
    sheet = book["Variations"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Metric", "Variation", "Value", "n"]
    values = {(r[1], r[13]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
    treated = values["treatment", "step_reach.plan_selected"]
    m = next(v for v in e["variations"] if v["variation_id"] == "treatment")["metrics"]
    assert treated[2] == pytest.approx(m["step_reach.plan_selected"]["value"])
    assert treated[11] is True  # significant
    csv_text = xd.experiment_csv(result, "pricing_copy")
    assert csv_text.splitlines()[0].startswith("experiment_id,")
    assert all(line.startswith("pricing_copy,") for line in csv_text.splitlines()[1:])
