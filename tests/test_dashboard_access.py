"""Who may see the dashboard, without a browser: the login settings (file and environment),
the allow-list and group pages, loopback addresses, and the `dashboard` command's
refusals (a non-loopback address without a login, a busy port, a bad login config).

The browser side (a real login through a local OIDC provider) is
tests/test_dashboard_login_browser.py.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from conftest import CLI, REPO
from dashboard_support import PAGES, dashboard_env, free_port, non_loopback_address
from upgrade_warehouse.dashboard import access
from upgrade_warehouse.dashboard.command import app_page_ids, app_path
from upgrade_warehouse.errors import UserError

PAGE_IDS = ["overview", *[p for p in PAGES if p]]
SECRET = "s3cr3t-client-secret-value"
COOKIE = "c" * 40
OIDC = f"""
[oidc]
server_metadata_url = "https://idp.example.com/.well-known/openid-configuration"
client_id = "upgrade-warehouse"
client_secret = "{SECRET}"
redirect_uri = "https://dash.example.com/oauth2callback"
cookie_secret = "{COOKIE}"
"""


def write(tmp_path: Path, text: str, name: str = "auth.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def load(tmp_path: Path, text: str, environ: dict | None = None) -> access.LoginConfig | None:
    return access.load_login_config(
        write(tmp_path, text), environ or {}, pages=PAGE_IDS, repository=REPO
    )


def policy(text: str, tmp_path: Path) -> access.AccessPolicy:
    return load(tmp_path, OIDC + text).policy


# -- the allow-list and the groups ---------------------------------------------------------


def test_allow_list_by_email_and_domain(tmp_path):
    p = policy('[access]\nemails = ["CFO@Partner.test"]\ndomains = ["@example.com"]\n', tmp_path)
    assert p.decide(
        {"email": "cfo@partner.test", "email_verified": True}
    ).allowed  # case-insensitive
    assert p.decide({"email": "Ann@EXAMPLE.com", "email_verified": True}).allowed
    for email, reason in [
        ("ceo@partner.test", "not on the allow-list"),  # the e-mail, not its domain
        ("ann@sub.example.com", "not on the allow-list"),  # no subdomain by default
        ("ann@example.com.evil.test", "not on the allow-list"),
        ("", "the provider sent no e-mail address"),
    ]:
        decision = p.decide({"email": email, "email_verified": True})
        assert not decision.allowed and decision.reason == reason, email
        assert not decision.may_see("overview")
    unverified = p.decide({"email": "ann@example.com", "email_verified": False})
    assert not unverified.allowed and "not verified" in unverified.reason
    assert p.decide({"email": "ann@example.com", "email_verified": True}).allowed
    # no group: every page
    assert all(
        p.decide({"email": "ann@example.com", "email_verified": True}).may_see(page)
        for page in PAGE_IDS
    )


def test_group_pages(tmp_path):
    p = policy(
        """
[access]
domains = ["example.com"]
groups_claim = "groups"
default_pages = ["overview"]

[groups.leadership]
emails = ["lead@example.com"]
pages = ["overview", "monthly-review"]

[groups.growth]
domains = ["growth.example.com"]
pages = ["overview", "funnel", "cohorts"]

[groups.revops]
idp_groups = ["RevOps"]
pages = ["*"]
""",
        tmp_path,
    )
    lead = p.decide({"email": "lead@example.com", "email_verified": True})
    assert lead.groups == ("leadership",)
    assert [page for page in PAGE_IDS if lead.may_see(page)] == ["overview", "monthly-review"]
    # a group's members are on the allow-list (growth.example.com is not example.com)
    growth = p.decide({"email": "pm@growth.example.com", "email_verified": True})
    assert growth.allowed and {page for page in PAGE_IDS if growth.may_see(page)} == {
        "overview",
        "funnel",
        "cohorts",
    }
    # the provider's groups claim (a list or one string); allowed through the group alone
    ops = p.decide(
        {"email": "ops@partner.test", "email_verified": True, "groups": ["Staff", "RevOps"]}
    )
    assert ops.allowed and all(ops.may_see(page) for page in PAGE_IDS)
    assert p.decide(
        {"email": "ops@partner.test", "email_verified": True, "groups": "RevOps"}
    ).allowed
    assert not p.decide(
        {"email": "ops@partner.test", "email_verified": True, "groups": ["revops"]}
    ).allowed
    # in two groups: the union of their pages
    both = p.decide({"email": "lead@example.com", "email_verified": True, "groups": ["RevOps"]})
    assert both.groups == ("leadership", "revops") and both.may_see("data-quality")
    # allowed, in no group: default_pages
    plain = p.decide({"email": "ann@example.com", "email_verified": True})
    assert plain.allowed and plain.may_see("overview") and not plain.may_see("funnel")


def test_policy_travels_as_json_without_secrets(tmp_path):
    config = load(
        tmp_path,
        OIDC
        + """
[access]
emails = ["a@partner.test"]
groups_claim = "groups"
[groups.leadership]
emails = ["lead@example.com"]
idp_groups = ["Execs"]
pages = ["overview"]
""",
    )
    text = config.policy.to_json()
    assert SECRET not in text and COOKIE not in text
    assert access.AccessPolicy.from_json(text) == config.policy
    assert access.policy_from_env({access.POLICY_ENV: text}) == config.policy
    assert access.policy_from_env({}) is None
    assert SECRET not in repr(config) and COOKIE not in repr(config)


# -- the settings --------------------------------------------------------------------------


def test_nothing_configured_is_no_login():
    assert access.load_login_config(None, {}) is None


def test_environment_alone_and_overriding_the_file(tmp_path):
    env = {
        access.OIDC_ENV[key]: value
        for key, value in {
            "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration",
            "client_id": "id-from-env",
            "client_secret": SECRET,
            "cookie_secret": COOKIE,
            "redirect_uri": "https://dash.example.com/oauth2callback",
        }.items()
    }
    env[access.ALLOW_ENV["domains"]] = "example.com, partner.test"
    config = access.load_login_config(None, env, pages=PAGE_IDS)
    assert config.oidc["client_id"] == "id-from-env"
    assert config.policy.domains == {"example.com", "partner.test"}
    assert config.policy.provider == "Google"
    assert config.source == "the environment"
    from_file = load(
        tmp_path,
        OIDC + '[access]\nemails = ["a@partner.test"]\n',
        {access.OIDC_ENV["client_id"]: "override"},
    )
    assert from_file.oidc["client_id"] == "override"
    assert from_file.oidc["client_secret"] == SECRET
    assert from_file.policy.provider == "idp.example.com"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[access]\nemails = ["a@example.com"]\n', "missing server_metadata_url, client_id"),
        (OIDC, "allows no one"),
        (
            OIDC.replace("/oauth2callback", "/callback") + '[access]\ndomains = ["example.com"]',
            "must end with /oauth2callback",
        ),
        (OIDC.replace(COOKIE, "short") + '[access]\ndomains = ["example.com"]', "at least 32"),
        (
            OIDC.replace("https://idp", "idp") + '[access]\ndomains = ["example.com"]',
            "absolute http(s) URL",
        ),
        (OIDC + '[access]\ndomain = ["example.com"]', "unknown key 'domain'"),
        (OIDC + '[access]\nemails = ["not-an-email"]', "is not an e-mail address"),
        (
            OIDC + '[access]\ndomains = ["example.com"]\n[groups.x]\nemails = ["a@example.com"]',
            "[groups.x] needs pages",
        ),
        (
            OIDC + '[access]\ndomains = ["example.com"]\n[groups.x]\npages = ["funel"]',
            "unknown page 'funel'",
        ),
        (
            OIDC + '[access]\ndomains = ["example.com"]\n[groups.x]\nidp_groups = ["A"]\n'
            'pages = ["*"]',
            "groups_claim",
        ),
        ("[oidc\n", "not valid TOML"),
    ],
)
def test_bad_settings_are_named(tmp_path, text, message):
    with pytest.raises(UserError, match=None) as error:
        load(tmp_path, text)
    assert message in str(error.value)
    assert SECRET not in str(error.value)


def test_a_config_inside_the_repository_is_refused(tmp_path):
    inside = REPO / "tests" / "auth-in-repo.toml"
    inside.write_text(OIDC + '[access]\ndomains = ["example.com"]\n')
    try:
        with pytest.raises(UserError, match="outside the repository"):
            access.load_login_config(inside, {}, repository=REPO)
    finally:
        inside.unlink()


def test_config_file_lookup(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert access.find_config_file(None, {}) is None  # no default file: no login
    default = tmp_path / "upgrade-warehouse" / "auth.toml"
    default.parent.mkdir()
    default.write_text("")
    assert access.find_config_file(None, {}) == default
    named = tmp_path / "other.toml"
    assert access.find_config_file(None, {access.AUTH_CONFIG_ENV: str(named)}) == named
    assert access.find_config_file(Path("x.toml"), {access.AUTH_CONFIG_ENV: "y"}) == Path("x.toml")
    with pytest.raises(UserError, match="no login config at"):
        access.load_login_config(named, {})  # named but missing: an error, not "no login"


def test_streamlit_secrets_file(tmp_path):
    config = load(
        tmp_path,
        OIDC.replace(
            "[oidc]", '[oidc]\nclient_kwargs = { prompt = "login" }\nprovider_name = "Okta"'
        )
        + '[access]\ndomains = ["example.com"]\n',
    )
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    path = access.write_streamlit_secrets(config, private)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    auth = tomllib.loads(path.read_text())["auth"]
    assert auth == {
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
        "client_id": "upgrade-warehouse",
        "client_secret": SECRET,
        "cookie_secret": COOKIE,
        "redirect_uri": "https://dash.example.com/oauth2callback",
        "client_kwargs": {"prompt": "login"},
    }
    assert config.policy.provider == "Okta"


def test_loopback_addresses():
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert access.is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.0.2.2", "10.1.2.3"):
        assert not access.is_loopback(host), host
    with pytest.raises(UserError, match="not an address"):
        access.is_loopback("no-such-host.invalid")


def test_page_ids_are_the_apps_url_paths():
    assert app_page_ids(app_path()) == PAGE_IDS


# -- the command ---------------------------------------------------------------------------


def dashboard(
    tmp_path: Path, *args: str, env: dict | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    warehouse = tmp_path / "wh.duckdb"
    warehouse.touch()  # the command checks that it exists before anything else
    return subprocess.run(
        [CLI, "dashboard", "--warehouse", str(warehouse), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=dashboard_env(tmp_path, **(env or {})),
        check=False,
    )


@pytest.mark.parametrize("host", ["0.0.0.0", "non-loopback"])
def test_non_loopback_address_without_login_exits_2(tmp_path, host):
    if host == "non-loopback":
        host = non_loopback_address()
    started = time.monotonic()
    proc = dashboard(tmp_path, "--host", host, "--port", str(free_port()))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # one message
    message = lines[0]
    assert message.startswith(f"error: --host {host} is not a loopback address")
    for needed in (
        "~/.config/upgrade-warehouse/auth.toml",
        "--auth-config",
        "server_metadata_url",
        "client_id",
        "client_secret",
        "redirect_uri",
        "cookie_secret",
        "[access] emails and/or domains",
        "docs/deploy.md",
    ):
        assert needed in message, needed
    assert "Serving" not in proc.stderr + proc.stdout and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30  # refused before starting anything


def test_a_bad_login_config_exits_2_even_on_loopback(tmp_path):
    config = write(tmp_path, OIDC)  # nobody allowed
    proc = dashboard(tmp_path, "--auth-config", str(config), "--port", str(free_port()))
    assert proc.returncode == 2 and "allows no one" in proc.stderr, proc.stderr
    proc = dashboard(tmp_path, "--host", "0.0.0.0", env={access.OIDC_ENV["client_id"]: "only-this"})
    assert proc.returncode == 2
    assert "is missing server_metadata_url, client_secret, redirect_uri" in proc.stderr


def test_busy_port_exits_2_before_serving(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = dashboard(tmp_path, "--port", str(port))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use: stop "
        "what is serving there or pick another port with --port N"
    )
    assert "Serving" not in proc.stdout + proc.stderr


def test_world_readable_config_is_warned_about(tmp_path):
    config = write(tmp_path, OIDC + '[access]\ndomains = ["example.com"]\n')
    os.chmod(config, 0o644)
    with socket.socket() as busy:  # stop right after the settings are read
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = dashboard(
            tmp_path, "--auth-config", str(config), "--port", str(busy.getsockname()[1])
        )
    assert proc.returncode == 2 and "already in use" in proc.stderr
    assert f"warning: {config} holds secrets and other users can read it" in proc.stderr
    assert SECRET not in proc.stderr + proc.stdout
