"""Widgets and layout pieces shared by the dashboard pages (no SQL here)."""

from __future__ import annotations

import streamlit as st

from ..errors import UserError
from . import data
from .config import DashboardConfig, load_config
from .fmt import format_delta, format_target, format_value, md_escape, month_label


def ref() -> data.Ref:
    """The warehouse version this page run reads (stops the page when it is missing)."""
    try:
        return data.current()
    except data.WarehouseMissing as exc:
        st.error(str(exc))
        st.stop()


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


def catalog(r: data.Ref) -> dict[str, dict]:
    """metric_id -> {section, unit, grain, label, definition}."""
    frame = data.metric_catalog(r)
    return {row["metric_id"]: row for row in frame.to_dict("records")}


def months(r: data.Ref) -> list[str]:
    return [m["month"] for m in data.metrics(r)["months"]]


def currency(r: data.Ref) -> str:
    return data.build_info(r)["reporting_currency"]


def month_select(r: data.Ref, key: str, *, label: str = "Month", include_all: bool = False,
                 default: str | None = "latest", container=st, width: int | str = 260
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
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]  # a month of an older warehouse version
    return container.selectbox(label, options, index=index, key=key, format_func=month_label,
                               width=width)


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


def metric_value(month_row: dict | None, metric_id: str):
    return None if month_row is None else month_row.get(metric_id)


def kpi(container, r: data.Ref, cfg: DashboardConfig, metric_id: str, row: dict | None,
        previous: dict | None, *, history: list | None = None) -> None:
    """One headline KPI: value, month-over-month change, target, definition."""
    meta = catalog(r).get(metric_id)
    if meta is None:
        container.warning(f"Unknown metric id in dashboards/config.toml: {md_escape(metric_id)}")
        return
    unit, cur = meta["unit"], currency(r)
    value = metric_value(row, metric_id)
    prev = metric_value(previous, metric_id)
    delta = None if value is None or prev is None else value - prev
    target = cfg.target(metric_id)
    help_text = md_escape(meta["definition"]) + f" (grain: {md_escape(meta['grain'])})"
    target_line = "No target set"
    if target is not None:
        met = target.met(value)
        status = {True: ":green[:material/check_circle: on target]",
                  False: ":red[:material/error: off target]", None: "no value"}[met]
        target_line = f"Target {format_target(target, unit, cur)}: {status}"
        if target.note:
            help_text += f". Target: {md_escape(target.note)}"
    spark = [v for v in (history or []) if v is not None]
    box = container.container(border=True)
    box.metric(
        md_escape(meta["label"]),
        format_value(value, unit, cur),
        delta=format_delta(delta, unit, cur),
        delta_color="inverse" if metric_id in cfg.lower_is_better else "normal",
        help=help_text,
        chart_data=spark if len(spark) > 1 else None,
        delta_description="vs previous month" if delta is not None else None,
    )
    box.caption(target_line)


def target_badge(cfg: DashboardConfig, metric_id: str, value, unit: str, cur: str) -> str:
    target = cfg.target(metric_id)
    if target is None:
        return ""
    met = target.met(value)
    mark = {True: "on target", False: "OFF TARGET", None: "no value"}[met]
    return f"{format_target(target, unit, cur)} ({mark})"


def metrics_csv(r: data.Ref, month: str | None) -> str:
    """The ``metrics --format csv`` text (all months, or one)."""
    from ..metrics import Metric, to_csv

    result = data.metrics(r)
    if month is not None:
        result = {**result, "months": [m for m in result["months"] if m["month"] == month]}
    metrics = [Metric(m["metric_id"], m["section"], m["unit"], m["label"])
               for m in catalog(r).values()]
    return to_csv(result, metrics)
