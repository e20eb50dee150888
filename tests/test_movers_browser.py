"""The Monthly review's "What moved" and MRR bridge in a real browser (Debian's Chromium
through Playwright), on the hand-computed fixture of test_movers.py (tests/fixtures/movers),
and the review pack (`upgrade-warehouse review`) opened from disk and printed to A4."""

from __future__ import annotations

import re

import pytest

from conftest import run_cli
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
            (
                "Eligibility rejection rate in paid_search (acquisition_source) rose from 25.0% "
                "to 60.0% (40 -> 40 checks), beyond noise"
            ),
            (
                "Payment success rate across all accounts fell from 80.0% to 50.0% "
                "(50 -> 50 payment attempts), beyond noise"
            ),
            (
                "Eligibility rejection rate in organic (acquisition_source) fell from 75.0% to "
                "42.5% (40 -> 40 checks), beyond noise"
            ),
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


# Every element's box inside the page's width (none cut at the right edge), and no
# element whose content overflows its own box.
OUTSIDE = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      found.push(`${el.tagName}: ${(el.textContent || '').slice(0, 40)} [${box.left}, ${box.right}] > ${width}`);
    }
  }
  if (document.documentElement.scrollWidth > width) found.push(`page ${document.documentElement.scrollWidth} > ${width}`);
  return found;
}"""
# A4 (210 mm) less the pack's @page margins (12 mm each side), at 96 px per inch.
A4_PRINTABLE_PX = int((210 - 2 * 12) / 25.4 * 96)


@pytest.fixture(scope="module")
def review_html(movers_warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("review") / "review-2026-02.html"
    proc = run_cli("review", "--warehouse", movers_warehouse, "--month", "2026-02", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_review_pack_opens_from_disk(review_html, browser, tmp_path):
    text = review_html.read_text()
    # Self-contained: no script, no link to another file or the network.
    assert "<script" not in text and "http://" not in text.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "https://" not in text and "<link" not in text and "<img" not in text
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    try:
        page = context.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(review_html.as_uri())
        assert requests == [review_html.as_uri()]  # nothing else is fetched
        body = page.locator("body").inner_text()
        assert "Monthly review: Feb 2026" in body
        for heading in (
            "Headline metrics against their targets",
            "What moved",
            "MRR bridge",
            "Funnel",
            "Data quality of this build",
        ):
            assert page.get_by_role("heading", name=heading).count() == 1
        assert (
            "Payment success rate across all accounts fell from 80.0% to 50.0% "
            "(50 -> 50 payment attempts), beyond noise"
        ) in body
        # Headline: payment success rate 50.0% against the >= 90.0% target.
        row = page.locator("tr", has_text="Payment success rate").first.inner_text()
        assert "50.0%" in row and "80.0%" in row and "off target" in row
        # The waterfall: 6 bars without mrr_start/mrr_end (5 movements + net), 8 with.
        bars = page.locator("svg.chart").first.locator("rect").count()
        assert bars in (6, 8)
        assert "No row was quarantined" in body
        assert "Freshness: Data as of 2026-03-02 00:00 UTC" in body and "stale" in body
        assert not RAW_MISSING.search(body), RAW_MISSING.search(body)
        assert page.evaluate(OUTSIDE) == []
        page.screenshot(path=str(tmp_path / "review-1280.png"), full_page=True)
    finally:
        context.close()


def test_review_pack_prints_to_a4(review_html, browser, tmp_path):
    context = browser.new_context(viewport={"width": A4_PRINTABLE_PX, "height": 1000})
    try:
        page = context.new_page()
        page.goto(review_html.as_uri())
        page.emulate_media(media="print")
        assert page.evaluate(OUTSIDE) == []
        page.screenshot(path=str(tmp_path / "review-print.png"), full_page=True)
        pdf = tmp_path / "review.pdf"
        page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True)
        content = pdf.read_bytes()
        assert content[:5] == b"%PDF-"
        pages = content.count(b"/Type /Page") - content.count(b"/Type /Pages")
        assert 1 <= pages <= 4, pages
    finally:
        context.close()
