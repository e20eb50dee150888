"""The page run's context: warehouse version, config, catalog, months, currency, empty states."""

from __future__ import annotations

import streamlit as st

from ..errors import UserError
from . import data
from .config import DashboardConfig, load_config
from .fmt import (
    md_escape,
    month_label,
)


def ref() -> data.Ref:
    """The warehouse version this page run reads (stops the page when it is missing or
    was built by an older version)."""
    try:
        r = data.current()
    except data.WarehouseMissing as exc:
        st.error(str(exc))
        st.stop()
    missing = data.missing_marts(r)
    if missing:
        st.error(
            f"This warehouse ({md_escape(r.path)}) was built by an older version of "
            f"upgrade-warehouse: it has no {md_escape(', '.join(missing))}. Run "
            "`upgrade-warehouse build` again to see it here."
        )
        st.stop()
    return r


@st.cache_resource(show_spinner=False)
def _config(path_mtime: tuple) -> DashboardConfig:
    return load_config()


def config() -> DashboardConfig:
    from .config import config_path

    path = config_path()
    try:
        stamp = (str(path), path.stat().st_mtime_ns if path.is_file() else 0)
        return _config(stamp)
    except UserError as exc:
        st.error(f"dashboard config: {exc}")
        st.stop()


# Looked up dozens of times a run (each KPI, label, table header): one shared object per
# published warehouse version, not a copy per call as st.cache_data gives. Read it only.
_shared = st.cache_resource(max_entries=8, show_spinner=False)


@_shared
def catalog(r: data.Ref) -> dict[str, dict]:
    """metric_id -> {section, unit, direction, grain, label, definition} (read-only)."""
    frame = data.metric_catalog(r)
    return {row["metric_id"]: row for row in frame.to_dict("records")}


def months(r: data.Ref) -> list[str]:
    return [m["month"] for m in data.metrics(r)["months"]]


@_shared
def currency(r: data.Ref) -> str:
    return data.build_info(r)["reporting_currency"]


def month_select(
    r: data.Ref,
    key: str,
    *,
    label: str = "Month",
    include_all: bool = False,
    default: str | None = "latest",
    container=st,
    width: int | str = 260,
) -> str | None:
    """A month picker (newest first). Returns ``YYYY-MM`` or None for all months."""
    options: list[str | None] = list(reversed(months(r)))
    if include_all:
        options = [None, *options]
    if not options:
        return None
    index = 0
    if default not in ("latest", None) and default in options:
        index = options.index(default)
    _forget_invalid(key, options)  # a month of an older warehouse version
    return container.selectbox(
        label, options, index=index, key=key, format_func=month_label, width=width
    )


def _forget_invalid(key: str, options: list) -> None:
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def no_data_loaded(r: data.Ref, *tables: str) -> bool:
    """Show "no data loaded for X" for optional raw tables that were not loaded.

    Returns True when every table was loaded (the caller can go on).
    """
    loaded = data.loaded_tables(r)
    missing = [t for t in tables if not loaded.get(t, False)]
    for table in missing:
        st.info(
            f"No data loaded for {md_escape(table)}: the last build had no "
            f"{md_escape(table)} file, so this section is empty (its metrics are null, "
            "not zero)."
        )
    return not missing


def not_built(what: str, hint: str) -> None:
    st.info(f"{what} is not in this warehouse yet. {hint}")


def default_page_alias(pages: dict[str, list]) -> None:
    """Let the default page also open at its own url_path (``/overview``).

    ``st.navigation`` serves the first page at ``/`` and gives it the path "", so a link
    or bookmark to ``/overview`` (the url_path the login config and the docs use) would
    show "Page not found". When the browser asks for the default page by its url_path,
    the intent is reset to the default page before ``st.navigation`` resolves it. (This
    uses Streamlit's page manager; if that changes, the page still opens at ``/``.)
    """
    first = next((p for group in pages.values() for p in group), None)
    if first is None:
        return
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        manager = ctx.pages_manager if ctx is not None else None
        wanted = getattr(first, "_url_path", None)
        if (
            manager is not None
            and wanted
            and not manager.intended_page_script_hash
            and manager.intended_page_name == wanted
        ):
            manager.set_script_intent("", "")
    except (AttributeError, ImportError, TypeError):  # another Streamlit version
        return
