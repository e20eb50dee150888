"""The dashboard behind a login.

- AppTest (no server): the gate with the policy the command hands to the app; the login
  page, the "not allowed" page and the pages of a group; the refusal to serve without a
  login on a non-loopback address even when the app is started another way.
- A browser (Playwright + Debian's /usr/bin/chromium): a local OpenID Connect provider
  (``oidc-provider-mock`` on 127.0.0.1, started here in a thread) and
  ``upgrade-warehouse dashboard --host <an address of this machine that is not
  loopback>`` with a login config in a temporary directory. Before login the page has no
  data; an allowed user logs in and sees the pages of their group; a page outside their
  group cannot be opened by URL; a user outside the allow-list sees no number; each
  login and denial is logged, no secret is.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from types import SimpleNamespace

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from conftest import REPO
from dashboard_support import (
    PAGE_FILES,
    PAGES,
    WAREHOUSE_ENV,
    DashboardServer,
    live_dashboard,
    new_page,
    non_loopback_address,
    ops_warehouse,
    unescape,
)
from upgrade_warehouse.dashboard import access
from upgrade_warehouse.dashboard.fmt import format_headline
from upgrade_warehouse.metrics import read_metrics

pytestmark = pytest.mark.slow
APP = REPO / "dashboards" / "app.py"
CLIENT_SECRET = "client-secret-for-the-login-test"
COOKIE_SECRET = "cookie-secret-for-the-login-test-0123456789"
LEADERSHIP = ["Overview", "Monthly review"]
ACCESS = """
[access]
domains = ["example.com"]
groups_claim = "groups"

[groups.leadership]
emails = ["lead@example.com"]
pages = ["overview", "monthly-review"]

[groups.revops]
idp_groups = ["RevOps"]
pages = ["*"]
"""
# The users of the local provider: lead is in the leadership group; ops is allowed only
# through the provider's groups claim (partner.test is not an allowed domain); eve is on
# no list. No digit in eve's e-mail: her page must show no number at all.
USERS = {
    "lead": {"email": "lead@example.com", "email_verified": True, "name": "Lea Lead"},
    "ops": {
        "email": "ops@partner.test",
        "email_verified": True,
        "name": "Otto Ops",
        "groups": ["Staff", "RevOps"],
    },
    "eve": {"email": "eve@outsider.test", "email_verified": True, "name": "Eve"},
}


def auth_toml(metadata_url: str, redirect_uri: str) -> str:
    return f"""
[oidc]
server_metadata_url = "{metadata_url}"
provider_name = "Test IdP"
client_id = "upgrade-warehouse-test"
client_secret = "{CLIENT_SECRET}"
redirect_uri = "{redirect_uri}"
cookie_secret = "{COOKIE_SECRET}"
{ACCESS}"""


# -- AppTest -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return ops_warehouse(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def policy_json(tmp_path_factory):
    home = tmp_path_factory.mktemp("apptest-auth")
    path = home / "auth.toml"
    path.write_text(
        auth_toml(
            "https://idp.example.com/.well-known/openid-configuration",
            "https://dash.example.com/oauth2callback",
        )
    )
    config = access.load_login_config(path, {})
    return config.policy.to_json()


def run_app(
    monkeypatch, warehouse, policy: str | None, user: dict | None, page: str | None = None
) -> AppTest:
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    if policy is None:
        monkeypatch.delenv(access.POLICY_ENV, raising=False)
    else:
        monkeypatch.setenv(access.POLICY_ENV, policy)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.user = user if user is not None else {}
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def app_text(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("title", "markdown", "caption", "info", "warning", "error")
        for e in getattr(at, kind)
    ]
    return unescape("\n".join(str(p) for p in parts))


def test_login_page_shows_no_data(monkeypatch, warehouse, policy_json):
    at = run_app(monkeypatch, warehouse, policy_json, {"is_logged_in": False})
    assert [t.value for t in at.title] == ["Upgrade Warehouse"]
    assert [b.label for b in at.button] == ["Log in with Test IdP"]
    assert not at.metric and not at.dataframe and not at.sidebar.children
    assert not re.search(r"\d", app_text(at))


def test_not_allowed_page(monkeypatch, warehouse, policy_json):
    user = {"is_logged_in": True, "sub": "eve", "iat": 1, "email": "eve@outsider.test"}
    user["email_verified"] = True
    at = run_app(monkeypatch, warehouse, policy_json, user)
    assert [t.value for t in at.title] == ["Not allowed"]
    assert "eve@outsider.test" in app_text(at) and "allow-list" in app_text(at)
    assert [b.label for b in at.button] == ["Log out"]
    assert not at.metric and not at.dataframe and not re.search(r"\d", app_text(at))
    unverified = dict(user, email="ann@example.com", email_verified=False)
    at = run_app(monkeypatch, warehouse, policy_json, unverified)
    assert [t.value for t in at.title] == ["Not allowed"]
    assert "the e-mail address is not verified" in app_text(at)


def test_allowed_user_sees_the_pages_of_their_group(monkeypatch, warehouse, policy_json):
    lead = {"is_logged_in": True, "sub": "lead", "iat": 1, "email": "lead@example.com"}
    lead["email_verified"] = True
    at = run_app(monkeypatch, warehouse, policy_json, lead)
    assert [t.value for t in at.title] == ["Overview"]
    assert len(at.metric) == 14  # MRR and ARR at month end, then the 12 headline KPIs
    assert "Logged in as lead@example.com" in unescape(
        "\n".join(c.value for c in at.sidebar.caption)
    ).replace("`", "")
    at = run_app(monkeypatch, warehouse, policy_json, lead, PAGE_FILES["Monthly review"])
    assert [unescape(t.value) for t in at.title] == ["Monthly review"]
    # a page outside the group is not registered: AppTest cannot even switch to it
    with pytest.raises(ValueError, match="Could not find a navigation page") as error:
        at.switch_page(PAGE_FILES["Funnel and abandonment"])
    assert (
        "overview.py" in str(error.value)
        and "funnel.py'" not in str(error.value).split("Known pages")[1]
    )


def test_no_login_on_a_network_address_shows_nothing(monkeypatch, warehouse):
    """`streamlit run` on 0.0.0.0 (not through the command) without a login."""
    previous = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        at = run_app(monkeypatch, warehouse, None, {})
    finally:
        st_config.set_option("server.address", previous)
    assert [t.value for t in at.title] == ["Upgrade Warehouse"]
    assert "has no login" in app_text(at) and not at.metric
    at = run_app(monkeypatch, warehouse, None, {})  # loopback (the default): no login
    assert [t.value for t in at.title] == ["Overview"] and len(at.metric) == 14


# -- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider():
    """oidc-provider-mock on 127.0.0.1 (a free port), in a thread of this process."""
    import werkzeug.serving
    from oidc_provider_mock import User, app

    users = [User(sub=sub, claims=claims) for sub, claims in USERS.items()]
    server = werkzeug.serving.make_server("127.0.0.1", 0, app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture(scope="module")
def served(provider, warehouse, tmp_path_factory):
    """The dashboard on a non-loopback address of this machine, behind the login."""
    home = tmp_path_factory.mktemp("login-served")
    host = non_loopback_address()
    auth = home / "auth.toml"
    server = DashboardServer(
        warehouse, home / "server.log", host=host, args=("--auth-config", str(auth))
    )
    auth.write_text(
        auth_toml(
            f"{provider}/.well-known/openid-configuration",
            f"http://{host if host != '0.0.0.0' else '127.0.0.1'}:{server.port}/oauth2callback",
        )
    )
    auth.chmod(0o600)
    server.start(timeout=120)
    try:
        yield SimpleNamespace(server=server, url=server.url, host=host, home=home)
    finally:
        server.stop()


@pytest.fixture
def page(browser):
    with new_page(browser) as page:
        yield page


def settled(page, timeout: float = 60_000) -> None:
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def heading(page, title: str, timeout: float = 60_000) -> None:
    page.wait_for_selector(f"[data-testid='stMain'] h1:has-text('{title}')", timeout=timeout)
    settled(page, timeout)


def nav_titles(page) -> list[str]:
    links = page.locator("[data-testid='stSidebarNav'] a")
    return [link.inner_text().strip().splitlines()[-1] for link in links.all()]  # no icon


def visible_text(page) -> str:
    return page.locator("[data-testid='stApp']").inner_text()


def log_in(page, served, sub: str, expect_title: str) -> None:
    page.goto(served.url)
    heading(page, "Upgrade Warehouse")
    page.get_by_role("button", name="Log in with Test IdP").click()
    page.wait_for_url(re.compile(r".*/oauth2/authorize\?.*"), timeout=60_000)
    page.get_by_role("button", name=sub, exact=True).click()
    page.wait_for_url(f"{served.url}/", timeout=60_000)  # the callback sends users to /
    heading(page, expect_title)


def log_line(served, text: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in served.server.log().splitlines():
            if text in line:
                return line
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged:\n{served.server.log()[-3000:]}")


def test_serves_a_non_loopback_address_only_after_login(served, page, tmp_path):
    assert not access.is_loopback(served.host)
    line = log_line(served, f"Serving the dashboard on http://{served.host}:{served.server.port}")
    assert "login with Test IdP" in line
    for path in ("", "funnel"):
        page.goto(f"{served.url}/{path}")
        heading(page, "Upgrade Warehouse")
        text = visible_text(page)
        assert "Log in with Test IdP" in text
        assert not re.search(r"\d", text), text  # no number at all
        for testid in (
            "stMetric",
            "stDataFrame",
            "stTable",
            "stVegaLiteChart",
            "stSidebarNav",
            "stSidebar",
        ):
            assert page.locator(f"[data-testid='{testid}']").count() == 0, (path, testid)
        assert page.locator("[role='dialog']").count() == 0  # no "page not found" either
    shot = tmp_path / "login.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_leadership_sees_its_pages_and_no_other(served, page, warehouse):
    from playwright.sync_api import expect

    log_in(page, served, "lead", "Overview")
    assert nav_titles(page) == LEADERSHIP
    months = read_metrics(warehouse)["months"]
    metric = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text="Net new MRR")
    )
    expect(metric.first.locator("[data-testid='stMetricValue']")).to_have_text(
        format_headline(months[-1]["net_new_mrr"], "money", "USD")
    )
    expect(page.locator("[data-testid='stSidebar']")).to_contain_text(
        "Logged in as lead@example.com"
    )
    page.goto(f"{served.url}/monthly-review")
    heading(page, "Monthly review")
    for path in ("funnel", "data-quality"):
        page.goto(f"{served.url}/{path}")
        heading(page, "Overview")  # not registered: Streamlit runs the default page
        expect(page.get_by_text("Page not found")).to_be_visible()
        assert page.locator(f"[data-testid='stMain'] h1:has-text('{PAGES[path]}')").count() == 0
        assert nav_titles(page) == LEADERSHIP
    line = log_line(served, "login: email=lead@example.com")
    assert "groups=leadership pages=monthly-review,overview" in line


def test_revops_group_from_the_provider_sees_every_page(served, page):
    log_in(page, served, "ops", "Overview")
    assert nav_titles(page) == list(PAGES.values())
    page.goto(f"{served.url}/funnel")
    heading(page, "Funnel and abandonment")
    assert "groups=revops pages=*" in log_line(served, "login: email=ops@partner.test")


def test_outsider_sees_no_number(served, page, tmp_path):
    log_in(page, served, "eve", "Not allowed")
    for path in ("", "monthly-review"):
        if path:
            page.goto(f"{served.url}/{path}")
            heading(page, "Not allowed")
        text = visible_text(page)
        assert "eve@outsider.test" in text and "allow-list" in text
        assert not re.search(r"\d", text), text
        for testid in ("stMetric", "stDataFrame", "stVegaLiteChart", "stSidebarNav"):
            assert page.locator(f"[data-testid='{testid}']").count() == 0, (path, testid)
    shot = tmp_path / "not-allowed.png"
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    line = log_line(served, "denied: email=eve@outsider.test")
    assert "reason=not on the allow-list" in line
    # Log out: through the provider's end-session page back to the login page
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/oauth2/end_session\?.*"), timeout=60_000)
    page.get_by_role("button", name="End session").click()
    heading(page, "Upgrade Warehouse")
    assert "Log in with Test IdP" in visible_text(page)
    log_line(served, "logout: email=eve@outsider.test")


def test_no_login_through_a_proxy_shows_nothing(request, tmp_path_factory, browser):
    """The loopback server without a login (the session's), reached through a reverse
    proxy (X-Forwarded-For): the app refuses to show data; opened directly it shows it."""
    from playwright.sync_api import expect

    live = live_dashboard(request, tmp_path_factory)
    for headers, title in (
        ({"X-Forwarded-For": "203.0.113.7"}, "Upgrade Warehouse"),
        ({}, "Overview"),
    ):
        with new_page(browser, extra_http_headers=headers) as page:
            page.goto(live.url)
            heading(page, title)
            metrics = page.locator("[data-testid='stMetric']")
            if headers:
                assert "has no login and it is reached through a proxy" in visible_text(page)
                assert metrics.count() == 0
            else:
                expect(metrics).to_have_count(14)


def test_log_holds_no_secret(served):
    with urllib.request.urlopen(f"{served.url}/_stcore/health", timeout=10) as response:
        assert response.status == 200
    log = served.server.log()
    assert CLIENT_SECRET not in log and COOKIE_SECRET not in log
    assert "eyJ" not in log  # no JSON Web Token (ID or access token)
    assert not list(served.home.rglob("secrets.toml"))  # the secrets file is elsewhere
