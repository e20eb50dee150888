"""The Monthly review's "What moved" and MRR bridge in a real browser (Debian's Chromium
through Playwright), on the hand-computed fixture of test_movers.py (tests/fixtures/movers),
and the review pack (`upgrade-warehouse review`) opened from disk and printed to A4."""

from __future__ import annotations

import re

import pytest

from conftest import FIXTURES, made_once, run_cli
from dashboard_support import DashboardServer, open_page

pytestmark = pytest.mark.slow

RAW_MISSING = re.compile(r"\b(None|nan|NaN|NaT|undefined)\b")
# Text elements wider than their box (text cut off): markdown, captions, headings,
# widget labels and selected values of the main area.
CUT_OFF = """() => {
  const found = [];
  const selector = ['stMarkdownContainer', 'stCaptionContainer', 'stHeading',
                    'stWidgetLabel', 'stSelectbox']
    .map(id => `[data-testid=stMain] [data-testid=${id}], [data-testid=stMain] [data-testid=${id}] *`)
    .join(', ');
  for (const el of document.querySelectorAll(selector)) {
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${el.tagName}: ${(el.innerText || '').slice(0, 60)} ` +
                 `(${el.scrollWidth} > ${el.clientWidth})`);
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def movers_warehouse(tmp_path_factory):
    def make(folder):
        proc = run_cli(
            "build", "--data-dir", FIXTURES / "movers", "--warehouse", folder / "wh.duckdb"
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    return made_once(tmp_path_factory, "movers", make) / "wh.duckdb"


@pytest.fixture(scope="module")
def served(movers_warehouse, tmp_path_factory):
    home = tmp_path_factory.mktemp("movers-served")
    server = DashboardServer(movers_warehouse, home / "server.log").start()
    try:
        yield server
    finally:
        server.stop()


def test_monthly_review_says_what_moved_at_1280_px(served, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        open_page(page, served.url, "monthly-review")
        main = page.locator("[data-testid='stMain']")
        # The default month is the last complete one: Feb 2026 (as_of 2026-03-02).
        main.get_by_text("What moved in Feb 2026").wait_for()
        text = main.inner_text()
        sentences = [
            "Eligibility rejection rate in paid_search (acquisition_source) rose from 25.0% "
            "to 60.0% (40 -> 40 checks), beyond noise",
            "Payment success rate across all accounts fell from 80.0% to 50.0% "
            "(50 -> 50 payment attempts), beyond noise",
            "Eligibility rejection rate in organic (acquisition_source) fell from 75.0% to "
            "42.5% (40 -> 40 checks), beyond noise",
        ]
        # Streamlit's markdown shows "->" as an arrow.
        sentences = [s.replace("->", "\u2192") for s in sentences]
        for s in sentences:
            assert s in text, text[:3000]
        positions = [text.index(s) for s in sentences]
        assert positions == sorted(positions)  # ranked: |z| 3.39, 3.31, ..., 3.13
        # The too-few segment (25 attempts) is not said to move.
        assert "Payment success rate in paid_search" not in text
        assert "MRR bridge, Feb 2026" in text
        charts = main.locator("[data-testid='stVegaLiteChart']")
        charts.nth(1).wait_for()
        assert charts.count() == 2  # all accounts, and the segment picked
        page.wait_for_timeout(500)
        # The waterfall is drawn (Vega renders a canvas or an SVG with marks).
        drawn = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
            ".map(c => c.querySelectorAll('canvas, svg').length)"
        )
        assert all(n > 0 for n in drawn), drawn
        assert not RAW_MISSING.search(text), RAW_MISSING.search(text)
        assert page.evaluate(CUT_OFF) == []
        width = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert width[0] <= width[1]
        shot = tmp_path / "monthly-review.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
        charts.first.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / "bridge.png"))
    finally:
        context.close()
