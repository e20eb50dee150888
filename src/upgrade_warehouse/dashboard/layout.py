"""Page skeletons the pages share: the month view's header, the not-built stop, downloads."""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from . import data
from .compare import period_rows
from .config import DashboardConfig
from .context import catalog, config, month_select, months, not_built, ref
from .filters import Filters, filter_bar


class MonthView(NamedTuple):
    """What a page with a filter bar, a trend range and a month picker reads."""

    r: data.Ref
    cfg: DashboardConfig
    catalog: dict[str, dict]
    months: list[str]
    filters: Filters
    rows: dict[tuple, dict]
    month: str
    previous_month: str | None
    caption: object  # the container right of the month picker


def month_view(title: str, key: str, *, empty: str) -> MonthView:
    """The page's title, the filter bar (with a month range) and the month picker
    (``<key>_month``); ``empty`` is said and the page stops when there is no month."""
    r = ref()
    cfg = config()
    cat = catalog(r)
    all_months = months(r)
    st.title(title)
    if not all_months:
        st.info(empty)
        st.stop()
    filters = filter_bar(r, key, trend=True)
    rows = period_rows(r, filters.segments)
    left, right = st.columns([1, 3])
    month = month_select(r, key=f"{key}_month", container=left)
    index = all_months.index(month)
    previous_month = all_months[index - 1] if index > 0 else None
    return MonthView(r, cfg, cat, all_months, filters, rows, month, previous_month, right)


def built_page(
    title: str, available, feature: str, *, what: str | None = None, note: str = ""
) -> data.Ref:
    """The page's warehouse version and title; the page stops with "``what`` (default: the
    title) is not in this warehouse yet" when ``available(r)`` says it was built before
    ``feature`` existed (``note`` ends the rebuild hint)."""
    r = ref()
    st.title(title)
    require(
        available(r),
        what or title,
        f"This warehouse was built before {feature} existed: rebuild it with "
        f"`upgrade-warehouse build`{note}.",
    )
    return r


def require(available: bool, what: str, hint: str) -> None:
    """Say "``what`` is not in this warehouse yet. ``hint``" and stop the page when the
    warehouse was built before it existed."""
    if not available:
        not_built(what, hint)
        st.stop()


MIME = {
    "csv": ("text/csv", ":material/download:"),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ":material/table_view:",
    ),
}


def download(container, label: str, make, file_name: str, help: str | None = None) -> None:
    """A download button whose file (``make()``, called when clicked: no cost on a page
    run) is CSV or Excel by ``file_name``'s extension."""
    mime, icon = MIME[file_name.rsplit(".", 1)[-1]]
    container.download_button(label, make, file_name=file_name, mime=mime, icon=icon, help=help)
