"""Upgrade Warehouse dashboard: the Streamlit entry point (``upgrade-warehouse dashboard``).

Pages are files in ``app_pages/`` wired with ``st.navigation``; all data access goes
through ``upgrade_warehouse.dashboard.data`` (short-lived read-only connections,
parameterized queries, cached per published warehouse version). The warehouse path
comes from ``$UPGRADE_WAREHOUSE_DASHBOARD_WAREHOUSE`` (set by the ``dashboard`` command).

With a login configured (``dashboard --host``, docs/deploy.md), ``login.gate()`` runs
before anything reads the warehouse and only the pages of the viewer's groups are
registered with ``st.navigation``: another page cannot be opened by URL either. The
first page is the default (served at ``/``); the login config names pages by url_path.
"""

from __future__ import annotations

import streamlit as st

from upgrade_warehouse.dashboard import data, login, ui, winback_data
from upgrade_warehouse.dashboard.fmt import format_ts, md_escape

st.set_page_config(
    page_title="Upgrade Warehouse",
    page_icon=":material/trending_up:",
    layout="wide",
)

PAGES = {
    "Leadership": [
        st.Page(
            "app_pages/overview.py",
            title="Overview",
            icon=":material/dashboard:",
            url_path="overview",
        ),
    ],
    "Review": [
        st.Page(
            "app_pages/monthly_review.py",
            title="Monthly review",
            icon=":material/calendar_month:",
            url_path="monthly-review",
        ),
        st.Page(
            "app_pages/funnel.py",
            title="Funnel and abandonment",
            icon=":material/filter_alt:",
            url_path="funnel",
        ),
        st.Page(
            "app_pages/cohorts.py", title="Cohorts", icon=":material/grid_on:", url_path="cohorts"
        ),
        st.Page(
            "app_pages/revenue.py",
            title="Revenue and attribution",
            icon=":material/payments:",
            url_path="revenue",
        ),
        st.Page(
            "app_pages/experiments.py",
            title="Experiments",
            icon=":material/science:",
            url_path="experiments",
        ),
    ],
    "Operations": [
        st.Page(
            "app_pages/operations.py",
            title="Operations",
            icon=":material/sync_alt:",
            url_path="operations",
        ),
        st.Page(
            "app_pages/upsell.py",
            title="Upsell plays",
            icon=":material/campaign:",
            url_path="upsell",
        ),
        st.Page(
            "app_pages/winback.py",
            title="Win-back",
            icon=":material/person_search:",
            url_path="winback",
        ),
    ],
    "Tools": [
        st.Page(
            "app_pages/simulator.py",
            title="Simulator",
            icon=":material/calculate:",
            url_path="simulator",
        ),
        st.Page(
            "app_pages/data_quality.py",
            title="Data quality",
            icon=":material/fact_check:",
            url_path="data-quality",
        ),
    ],
}

viewer = login.gate(PAGES)  # None without a login; stops on the login / "not allowed" page
visible = login.visible(PAGES, viewer)
ui.default_page_alias(visible)  # /overview opens Overview, not "Page not found"
page = st.navigation(visible)

ref = ui.ref()
info = data.build_info(ref)
with st.sidebar:
    st.markdown(f"**Data as of** {md_escape(format_ts(info['as_of']))}")
    st.caption(
        f"Reporting currency {md_escape(info['reporting_currency'])} · published "
        f"{md_escape(info['published_at'].strftime('%Y-%m-%d %H:%M %Z'))}"
    )
    st.caption(f"Warehouse: {md_escape(ref.path)}")
    if st.button(
        "Reload data",
        icon=":material/refresh:",
        help="Clear the cached query results and read the warehouse again.",
    ):
        st.cache_data.clear()
        winback_data.winback_scores.clear()  # shared per warehouse version, not cache_data
        st.rerun()
    login.account(viewer)

# Pages that still mean something without an accepted account: why the rows were held
# back, and the price of a plan change.
WITHOUT_ACCOUNTS = {"data-quality", "simulator"}
if data.has_accounts(ref) or page.url_path in WITHOUT_ACCOUNTS:
    page.run()
else:
    st.title(page.title)
    st.info(
        "Nothing to show: the warehouse has no accepted account (accounts.csv is empty, or "
        "every account row was quarantined), so no metric has an account to count. The "
        "Data quality page shows why each row was held back.",
        icon=":material/info:",
    )
