"""The dashboard's login: Streamlit's ``st.login`` / ``st.user`` / ``st.logout`` and who
sees which page (the policy of :mod:`.access`, handed over by the ``dashboard`` command).

``dashboards/app.py`` calls :func:`gate` before anything reads the warehouse, then
registers only :func:`visible` pages with ``st.navigation`` (a page that is not
registered cannot be opened by URL either), and shows :func:`account` in the sidebar.

Logged on the server's stderr (logger ``upgrade_warehouse.dashboard.access``): each login
(once per login, however many tabs), each denial, each logout, and every refusal to serve
without a login. E-mail address, groups and pages only: never a token or a secret.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading

import streamlit as st

from .access import NOT_LISTED, POLICY_ENV, AccessPolicy, Decision, is_loopback
from .fmt import md_escape

LOG = logging.getLogger("upgrade_warehouse.dashboard.access")
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")
_MAX_REMEMBERED = 10_000


def _setup_log() -> None:
    if not LOG.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z"
            )
        )
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
        LOG.propagate = False


_setup_log()


def _clean(value) -> str:
    """One line of printable text (no log injection through a claim)."""
    return re.sub(r"[\x00-\x1f\x7f]", "?", str(value))[:200]


def _code(text: str) -> str:
    """Inline code (an e-mail address shown as text, not as a mailto link)."""
    return "`" + _clean(text).replace("`", "'") + "`"


@st.cache_resource(show_spinner=False)
def _parsed(text: str) -> AccessPolicy:
    return AccessPolicy.from_json(text)


@st.cache_resource(show_spinner=False)
def _logged() -> tuple[set, threading.Lock]:
    return set(), threading.Lock()


def _log_once(key: tuple, level: int, message: str, *args) -> None:
    seen, lock = _logged()
    with lock:
        if key in seen:
            return
        if len(seen) >= _MAX_REMEMBERED:
            seen.clear()
        seen.add(key)
    LOG.log(level, message, *args)


def policy() -> AccessPolicy | None:
    """The access policy of this server; None when it runs without a login."""
    text = os.environ.get(POLICY_ENV)
    if not text:
        return None
    try:
        return _parsed(text)
    except (ValueError, KeyError, TypeError):
        LOG.error("%s is not a valid access policy: serving nothing", POLICY_ENV)
        st.error(
            "The dashboard's access settings are broken: start it again with "
            "`upgrade-warehouse dashboard`."
        )
        st.stop()


def exposed_without_login() -> str | None:
    """Why this page view must not be served without a login, or None.

    The ``dashboard`` command refuses a non-loopback address without a login; this
    covers the app started another way (``streamlit run`` on every interface) and a
    loopback server reached through a reverse proxy.
    """
    address = st.get_option("server.address")
    if address and not is_loopback(address):
        return f"the server listens on {address}"
    headers = st.context.headers
    for name in PROXY_HEADERS:
        if headers.get(name):
            return "it is reached through a proxy"
    ip = st.context.ip_address
    if isinstance(ip, str) and ip:  # None on loopback (and not a str under AppTest)
        return f"it is reached from {ip}"
    return None


def _url_paths(pages: dict) -> list[str]:
    return [p.url_path for section_pages in pages.values() for p in section_pages]


def _only(render, title: str, pages: dict) -> None:
    """Show one page whatever the URL (no sidebar, none of the app's pages registered:
    every url path of the app shows ``render`` instead) and end the run."""
    stand_ins = [
        st.Page(render, title=title, url_path=path, default=i == 0)
        for i, path in enumerate(_url_paths(pages))
    ]
    st.navigation(stand_ins, position="hidden").run()
    st.stop()


def _refused(why: str) -> None:
    st.title("Upgrade Warehouse")
    st.error(f"This dashboard has no login and {md_escape(why)}, so it shows nothing here.")
    st.markdown(
        "To share it, configure a login (docs/deploy.md). Without one it only serves "
        "this machine: `upgrade-warehouse dashboard` on 127.0.0.1, opened directly."
    )


def _login_page() -> None:
    provider = (policy() or AccessPolicy()).provider
    st.title("Upgrade Warehouse")
    st.markdown(
        "Upgrade metrics for RevOps, growth and leadership. Log in with your "
        "company account to see the dashboard."
    )
    if st.button(
        f"Log in with {md_escape(provider)}" if provider else "Log in",
        type="primary",
        icon=":material/login:",
        key="login",
    ):
        st.login()
    st.caption("Only the people on the dashboard's allow-list can see it.")


def _not_allowed_page() -> None:
    decision: Decision = st.session_state["_access_decision"]
    st.title("Not allowed")
    who = _code(decision.email) if decision.email else "an account without an e-mail"
    if decision.reason == NOT_LISTED:
        st.markdown(
            f"You are logged in as {who}, but this dashboard is only shared with "
            "the people on its allow-list, and this account is not one of them."
        )
    else:
        st.markdown(
            f"You are logged in as {who}, but this dashboard cannot be shown to this "
            f"account: {md_escape(decision.reason)}."
        )
    st.markdown(
        "If you need it, ask the person who runs the dashboard to add you, or log "
        "out and log in with another account."
    )
    if st.button("Log out", icon=":material/logout:", key="logout"):
        LOG.info("logout: email=%s", _clean(decision.email or "-"))
        st.logout()


def _login_key(user: dict) -> tuple:
    """One login: the subject and the ID token's issue time (a new tab is not one)."""
    return (user.get("sub") or user.get("email"), user.get("iat"))


def gate(pages: dict) -> Decision | None:
    """Let the run go on only for a viewer who may see the dashboard (``pages``: the
    app's ``st.navigation`` sections, for their url paths).

    Returns None when the server runs without a login (on loopback), the viewer's
    :class:`Decision` when allowed; otherwise draws the login page, the "not allowed"
    page or the refusal, and stops the run (nothing has read the warehouse yet).
    """
    current = policy()
    if current is None:
        why = exposed_without_login()
        if why is None:
            return None
        _log_once(
            ("refused", why), logging.WARNING, "refused: no login is configured and %s", _clean(why)
        )
        _only(lambda: _refused(why), "Upgrade Warehouse", pages)
    user = st.user.to_dict()
    if not user.get("is_logged_in"):
        _only(_login_page, "Log in", pages)
    decision = current.decide(user)
    key = _login_key(user)
    if not decision.allowed:
        _log_once(
            ("denied", *key),
            logging.WARNING,
            "denied: email=%s reason=%s",
            _clean(decision.email or "-"),
            decision.reason,
        )
        st.session_state["_access_decision"] = decision
        _only(_not_allowed_page, "Not allowed", pages)
    _log_once(
        ("login", *key),
        logging.INFO,
        "login: email=%s groups=%s pages=%s",
        _clean(decision.email),
        ",".join(decision.groups) or "-",
        ",".join(sorted(decision.pages)),
    )
    return decision


def visible(pages: dict, decision: Decision | None) -> dict:
    """The sections and pages this viewer may open (all of them without a login)."""
    if decision is None:
        return pages
    kept = {
        section: [p for p in section_pages if decision.may_see(p.url_path)]
        for section, section_pages in pages.items()
    }
    return {section: section_pages for section, section_pages in kept.items() if section_pages}


def account(decision: Decision | None) -> None:
    """Who is logged in, and the Log out button (sidebar); nothing without a login."""
    if decision is None:
        return
    st.caption(f"Logged in as {_code(decision.email)}")
    if st.button("Log out", icon=":material/logout:", key="logout"):
        LOG.info("logout: email=%s", _clean(decision.email))
        st.logout()
