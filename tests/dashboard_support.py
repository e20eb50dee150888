"""Helpers shared by the dashboard tests (AppTest and browser).

- :func:`ops_warehouse`: the fixture warehouse (tests/fixtures/golden accounts, plans,
  changes, events and fx rates + every table of tests/fixtures/operations), built once
  per test session through the CLI and shared by both test files.
- :class:`DashboardServer`: ``upgrade-warehouse dashboard --port N`` in a subprocess of
  its own process group, polled until it answers, always stopped.
- Chromium: Debian's ``/usr/bin/chromium`` driven by Playwright (never downloaded).

Run as a script to save the README screenshots from any warehouse:
``.venv/bin/python tests/dashboard_support.py --warehouse W --out docs/screenshots``.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import CLI, FIXTURES, REPO, made_once, run_cli

GOLDEN_TABLES = ("accounts", "plans", "subscription_changes", "product_events", "fx_rates")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAREHOUSE_ENV = "UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE"

# url path -> page title (the h1 of the page); "" is the default page (Overview).
PAGES = {
    "": "Overview",
    "monthly-review": "Monthly review",
    "funnel": "Funnel and abandonment",
    "cohorts": "Cohorts",
    "revenue": "Revenue and attribution",
    "experiments": "Experiments",
    "operations": "Operations",
    "upsell": "Upsell plays",
    "winback": "Win-back",
    "simulator": "Simulator",
    "data-quality": "Data quality",
}
PAGE_FILES = {
    "Overview": "app_pages/overview.py",
    "Monthly review": "app_pages/monthly_review.py",
    "Funnel and abandonment": "app_pages/funnel.py",
    "Cohorts": "app_pages/cohorts.py",
    "Revenue and attribution": "app_pages/revenue.py",
    "Experiments": "app_pages/experiments.py",
    "Operations": "app_pages/operations.py",
    "Upsell plays": "app_pages/upsell.py",
    "Win-back": "app_pages/winback.py",
    "Simulator": "app_pages/simulator.py",
    "Data quality": "app_pages/data_quality.py",
}

_built: dict[str, tuple[Path, Path]] = {}


def ops_data_dir(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for table in GOLDEN_TABLES:
        shutil.copy(FIXTURES / "golden" / f"{table}.csv", target)
    for path in (FIXTURES / "operations").glob("*.csv"):
        shutil.copy(path, target)
    return target


def ops_warehouse(tmp_path_factory) -> tuple[Path, Path]:
    """(warehouse, data dir) of the fixture warehouse: built once per session."""
    if "ops" not in _built:
        data = ops_data_dir(tmp_path_factory.mktemp("dashboard-data"))

        def make(folder: Path) -> None:
            proc = run_cli("build", "--data-dir", data, "--warehouse", folder / "ops.duckdb")
            assert proc.returncode == 0, proc.stderr
            # the build report, for the tests of what it says (test_dashboard_exports.py)
            (folder / "build.out").write_text(proc.stdout)
            (folder / "build.err").write_text(proc.stderr)

        _built["ops"] = (made_once(tmp_path_factory, "dashboard-wh", make) / "ops.duckdb", data)
    return _built["ops"]


def quarter_of(months: dict, quarter: list[str]) -> dict:
    """attempts_started, _matured and upgrade_conversion_rate over ``quarter``, added
    up here from `metrics` (`--by`) months: started summed; converted matured attempts
    (each month's rate x its matured attempts) over matured attempts summed."""
    rows = [months[m] for m in quarter]
    matured = sum(r["attempts_matured"] for r in rows)
    converted = sum(
        round(r["upgrade_conversion_rate"] * r["attempts_matured"])
        for r in rows
        if r["upgrade_conversion_rate"] is not None
    )
    return {
        "attempts_started": sum(r["attempts_started"] for r in rows),
        "attempts_matured": matured,
        "upgrade_conversion_rate": converted / matured if matured else None,
    }


def unescape(text: str) -> str:
    """Markdown backslash escapes removed (what the browser shows)."""
    return re.sub(r"\\(.)", r"\1", text or "")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def non_loopback_address() -> str:
    """An IPv4 address of this machine that is not loopback (the one the default route
    leaves from, e.g. eth0's), or ``0.0.0.0`` (every interface) when there is none."""
    for probe in ("192.0.2.1", "10.255.255.255", "198.51.100.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                sock.connect((probe, 9))  # UDP: no packet is sent
                address = sock.getsockname()[0]
            except OSError:
                continue
        if not ipaddress.ip_address(address).is_loopback and address != "0.0.0.0":
            with socket.socket() as check, contextlib.suppress(OSError):
                check.bind((address, 0))
                return address
    return "0.0.0.0"


def dashboard_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a test server: no warehouse or login setting from the caller's
    environment, and an empty config directory (not ~/.config/upgrade-warehouse)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != WAREHOUSE_ENV
        and not k.startswith(
            ("UPGRADE_WAREHOUSE_OIDC_", "UPGRADE_WAREHOUSE_ALLOWED_", "UPGRADE_WAREHOUSE_AUTH_")
        )
    }
    env["XDG_CONFIG_HOME"] = str(home / "no-config")
    return {**env, **extra}


def wait_for_health(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Until the Streamlit server at ``url`` answers its health check; RuntimeError when
    its process exits first or it does not answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited with {proc.returncode}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r,
        ):
            if r.status == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"the dashboard did not answer within {timeout} s")


def stop_group(proc: subprocess.Popen | None, owner, timeout: float) -> None:
    """Stop the process group a test started (SIGTERM, SIGKILL after ``timeout`` seconds)
    and close its owner's log file."""
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    with contextlib.suppress(AttributeError):
        owner._log.close()


class DashboardServer:
    """``upgrade-warehouse dashboard`` in the background, as a user starts it (on
    127.0.0.1 by default; ``host`` and ``args`` for the login tests)."""

    def __init__(
        self, warehouse: Path, log: Path, host: str = "127.0.0.1", args: tuple[str, ...] = ()
    ):
        self.warehouse = warehouse
        self.host = host
        self.port = free_port(host)
        local = "127.0.0.1" if host == "0.0.0.0" else host
        self.url = f"http://{local}:{self.port}"
        self.log_path = log
        self.args = args
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> DashboardServer:
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [
                CLI,
                "dashboard",
                "--warehouse",
                str(self.warehouse),
                "--port",
                str(self.port),
                "--host",
                self.host,
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
            env=dashboard_env(self.log_path.parent),
        )
        try:
            wait_for_health(self.url, self.proc, timeout)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}:\n{self.log()}") from None
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server's process group (the one this object started)."""
        stop_group(self.proc, self, timeout=10)


class PublishingBuild:
    """``upgrade-warehouse build`` publishing to the served path, in the background."""

    def __init__(self, data: Path, warehouse: Path, log: Path, as_of: str):
        self.args = [
            CLI,
            "build",
            "--data-dir",
            str(data),
            "--warehouse",
            str(warehouse),
            "--var",
            f"as_of={as_of}",
        ]
        self.log_path = log
        self.proc: subprocess.Popen | None = None
        self.rendered_during_build = 0  # pages a browser rendered while it ran

    def start(self) -> PublishingBuild:
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.args, stdout=self._log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
        )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float = 600) -> int:
        return self.proc.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_group(self.proc, self, timeout=30)


NEW_AS_OF = "2026-03-31T00:00:00Z"  # the fixture's own as_of is 2026-03-31T12:00:00Z
PUBLISH_TEST = "test_keeps_serving_while_build_publishes"
_live: dict[str, SimpleNamespace] = {}


def selected(session, name: str) -> bool:
    return any(getattr(item, "originalname", item.name) == name for item in session.items)


def live_dashboard(request, tmp_path_factory) -> SimpleNamespace:
    """The dashboard server of the session, on a copy of the fixture warehouse in a
    directory of its own; stopped when the session ends.

    Its ``build`` publishes a new warehouse (as_of moved back 12 hours) to the served
    path; the browser tests start it (``start_publishing``) when they begin, so that
    they render pages while it works and the session stays short.
    """
    if "live" not in _live:
        warehouse, data = ops_warehouse(tmp_path_factory)
        home = tmp_path_factory.mktemp("served")
        path = home / "warehouse.duckdb"
        shutil.copy(warehouse, path)
        server = DashboardServer(path, home / "server.log")
        request.config.add_cleanup(server.stop)
        server.start()
        build = PublishingBuild(data, path, home / "build.log", NEW_AS_OF)
        request.config.add_cleanup(build.stop)
        _live["live"] = SimpleNamespace(
            server=server, url=server.url, path=path, data=data, home=home, build=build
        )
    return _live["live"]


def start_publishing(request, live: SimpleNamespace) -> None:
    """Start the publishing build once, when the publish test is selected. (A build takes
    seconds now: started with the server, it ended before the browser tests began.)"""
    if selected(request.session, PUBLISH_TEST) and live.build.proc is None:
        live.build.start()


def launch_chromium(playwright):
    if not CHROMIUM.exists():
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium (`make browser`, i.e. "
            "`apt-get install -y chromium`); browsers are never downloaded"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@contextlib.contextmanager
def chromium():
    """Debian's Chromium through Playwright, closed on leaving."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def new_page(browser, width: int = 1280, height: int = 900, **options):
    """A page in a new context of ``browser`` (closed after), its viewport ``width`` x
    ``height`` (``options``: browser.new_context's others, e.g. extra_http_headers)."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="module")
def browser():
    """The tests' browser (every browser test uses it), one per test module: Debian's
    Chromium (never downloaded; tests/conftest.py loads this module's fixtures)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with chromium() as launched:
        yield launched


def wait_rendered(page, title: str, timeout: float = 30_000) -> None:
    """Until the page's h1 is shown and its script run finished."""
    page.wait_for_selector(f"[data-testid='stMain'] h1:has-text('{title}')", timeout=timeout)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


def open_page(page, base_url: str, path: str, timeout: float = 30_000) -> None:
    page.goto(f"{base_url}/{path}")
    wait_rendered(page, PAGES[path], timeout)


def save_screenshots(browser, base_url: str, out: Path, pages=("", "funnel")) -> list[Path]:
    """Screenshots of the pages (default: Overview and Funnel) as ``out/<page>.png``."""
    names = {"": "overview"}
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    try:
        page = context.new_page()
        for path in pages:
            open_page(page, base_url, path)
            page.wait_for_timeout(1000)  # let the charts finish drawing
            target = out / f"{names.get(path, path)}.png"
            page.screenshot(path=str(target))
            saved.append(target)
    finally:
        context.close()
    return saved


def main(argv: list[str]) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Save dashboard screenshots.")
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        server = DashboardServer(args.warehouse.resolve(), Path(tmp) / "server.log").start()
        try:
            with chromium() as browser:
                for path in save_screenshots(browser, server.url, args.out):
                    print(path)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
