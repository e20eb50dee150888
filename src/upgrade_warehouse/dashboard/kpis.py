"""Headline numbers: metric values as text, the KPI cards with sparkline and target, the grid."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import data, stats
from .config import DashboardConfig
from .context import catalog, currency
from .data import Segment
from .fmt import (
    format_delta,
    format_headline,
    format_target,
    format_value,
    md_escape,
    month_label,
    target_status,
)
from .notes import MONEY_AT_MONTH_END, MONEY_OF_CHANGES, fx_note, month_end_fx_note

DIRECTION_COLORS = {"higher": "normal", "lower": "inverse", "neutral": "off"}


def metric_value(month_row: dict | None, metric_id: str):
    return None if month_row is None else month_row.get(metric_id)


def cases(row: dict | None, metric_id: str) -> int | None:
    """The number of cases a rate of ``row`` is over (its denominator), when known."""
    return None if row is None else row.get(f"{metric_id}__denominator")


# ---------------------------------------------------------------------------- numbers


def open_attempts_note(row: dict | None, period: str, window_days) -> str | None:
    """How many of ``row``'s attempts are still inside their conversion window (the
    funnel rates count matured attempts only), as a caption for ``period`` (e.g.
    "Oct 2026"); None when every attempt has matured."""
    started = metric_value(row, "attempts_started")
    matured = metric_value(row, "attempts_matured")
    if not started or matured is None or started <= matured:
        return None
    still = started - matured
    return (
        f":material/hourglass_top: Funnel rates of {period} are over {matured:,} matured "
        f"attempts: {still:,} of the {started:,} started {'is' if still == 1 else 'are'} "
        f"still inside the {window_days}-day window at as_of and not counted yet."
    )


def metric_text(
    value, meta: dict, cur: str, n: int | None = None, min_count: int | None = None
) -> str:
    """A metric value as people read it; a rate over fewer than ``min_count`` cases (when
    both are given) is "too few". NaN (a null from a data frame) is no value."""
    value, n = _missing(value), _missing(n)
    if value is None:
        return format_value(None, meta["unit"], cur)
    if (
        min_count is not None
        and n is not None
        and meta["unit"] in ("rate", "rate_by_key")
        and not stats.enough(n, min_count)
    ):
        return stats.TOO_FEW
    return format_value(value, meta["unit"], cur)


def _missing(value):
    """None for None, NaN and pandas' NA; the value otherwise."""
    try:
        return None if value is None or pd.isna(value) else value
    except (TypeError, ValueError):  # not a scalar
        return value


def change_text(value, previous, unit: str, cur: str) -> str:
    """The change from ``previous`` to ``value`` (empty when either is missing)."""
    if value is None or previous is None:
        return ""
    return format_delta(value - previous, unit, cur) or ""


def kpi(
    container,
    r: data.Ref,
    cfg: DashboardConfig,
    metric_id: str,
    row: dict | None,
    previous: dict | None,
    *,
    min_count: int | None = None,
    note: str | None = None,
) -> None:
    """One headline KPI: value, month-over-month change, target, definition. With
    ``min_count`` (a segment view) a rate over fewer cases says "too few". (Its sparkline
    is drawn by :func:`sparklines`, all the cards' in one chart.)"""
    meta = catalog(r).get(metric_id)
    if meta is None:
        container.warning(f"Unknown metric id in dashboards/config.toml: {md_escape(metric_id)}")
        return
    unit, cur = meta["unit"], currency(r)
    value = metric_value(row, metric_id)
    prev = metric_value(previous, metric_id)
    n = cases(row, metric_id)
    too_few = metric_text(value, meta, cur, n, min_count) == stats.TOO_FEW
    prev_too_few = metric_text(prev, meta, cur, cases(previous, metric_id), min_count) == (
        stats.TOO_FEW
    )
    delta = None if value is None or prev is None or too_few or prev_too_few else value - prev
    target = cfg.target(metric_id)
    help_text = md_escape(meta["definition"]) + f" (grain: {md_escape(meta['grain'])})"
    if too_few:
        help_text += f". Only {n:,} cases (fewer than {min_count}): too few for a rate."
    elif n is not None and min_count is not None:
        help_text += f". Over {n:,} cases."
    target_line = "No target set"
    if target is not None:
        met = None if too_few else target.met(value)
        status = {
            True: ":green[:material/check_circle: on target]",
            False: ":red[:material/error: off target]",
            None: stats.TOO_FEW if too_few else "no value",
        }[met]
        target_line = f"Target {format_target(target, unit, cur)}: {status}"
        if target.note:
            help_text += f". Target: {md_escape(target.note)}"
    box = container.container(border=True)
    text = metric_text(value, meta, cur, n, min_count)
    if not too_few and value is not None:
        text = format_headline(value, unit, cur)  # money in whole units: fits at 1280 px
    box.metric(
        md_escape(meta["label"]),
        text,
        delta=format_delta(delta, unit, cur, whole=True),
        delta_color=DIRECTION_COLORS.get(meta["direction"], "off"),
        help=help_text,
    )
    box.caption(target_line)
    if note:
        box.caption(f":orange[:material/warning:] {md_escape(note)}")


def target_badge(cfg: DashboardConfig, metric_id: str, value, unit: str, cur: str) -> str:
    return target_status(cfg, metric_id, value, unit, cur, badge=True)


def history(
    rows: dict[tuple, dict],
    segment: Segment,
    months: list[str],
    metric_id: str,
    meta: dict,
    min_count: int | None,
) -> list:
    """The metric of ``segment`` in ``months`` (a KPI's sparkline); rates of too few
    cases (with ``min_count``) are gaps."""
    values = []
    for month in months:
        row = rows.get((segment, month))
        value = metric_value(row, metric_id)
        if (
            min_count is not None
            and metric_text(value, meta, "", cases(row, metric_id), min_count) == stats.TOO_FEW
        ):
            value = None
        values.append(value)
    return values


def kpi_grid(
    r: data.Ref,
    cfg: DashboardConfig,
    metric_ids: list[str],
    rows: dict[tuple, dict],
    segment: Segment,
    month: str | None,
    all_months: list[str],
    *,
    per_row: int = 3,
    min_count: int | None = None,
    with_sparklines: bool = True,
) -> None:
    """Headline cards, ``per_row`` a row (three: whole labels and values at 1280 px),
    each with the change against the month before and its target, then their 12-month
    sparklines as one chart (:func:`kpi_sparklines`; ``with_sparklines=False``: the
    page draws them elsewhere); money built from subscription changes says which
    changes it leaves out."""
    index = all_months.index(month) if month in all_months else None
    row = rows.get((segment, month))
    previous = (
        rows.get((segment, all_months[index - 1])) if index is not None and index > 0 else None
    )
    note = None
    if any(m in MONEY_OF_CHANGES for m in metric_ids):
        note = fx_note(r, month, segment)
    month_end_note = None
    if any(m in MONEY_AT_MONTH_END for m in metric_ids):
        month_end_note = month_end_fx_note(r, month)
    for start in range(0, len(metric_ids), per_row):
        cols = st.columns(per_row)
        for col, metric_id in zip(cols, metric_ids[start : start + per_row]):
            kpi(
                col,
                r,
                cfg,
                metric_id,
                row,
                previous,
                min_count=min_count,
                note=note
                if metric_id in MONEY_OF_CHANGES
                else month_end_note
                if metric_id in MONEY_AT_MONTH_END
                else None,
            )
    if with_sparklines:
        kpi_sparklines(
            r, metric_ids, rows, segment, month, all_months, per_row=per_row, min_count=min_count
        )


def kpi_sparklines(
    r: data.Ref,
    metric_ids: list[str],
    rows: dict[tuple, dict],
    segment: Segment,
    month: str | None,
    all_months: list[str],
    *,
    per_row: int = 3,
    min_count: int | None = None,
) -> None:
    """The sparklines of :func:`kpi_grid`'s cards: each metric over the 12 months up to
    ``month``, one chart laid out as the cards (``per_row`` a row)."""
    index = all_months.index(month) if month in all_months else None
    months_shown = all_months[: index + 1][-12:] if index is not None else []
    sparklines(r, metric_ids, rows, segment, months_shown, min_count, columns=per_row)


def moved(values: list, direction: str) -> str:
    """How a metric moved from the first to the last of ``values`` shown (gaps left out)
    against its good direction (the catalog's ``higher`` / ``lower``): a key of
    :data:`.charts.MOVED`. No change, fewer than two values or a metric without a good
    direction (``neutral``) is the grey one."""
    from .charts import MOVED

    good, bad, flat = MOVED
    shown = [v for v in values if v is not None]
    if len(shown) < 2 or direction not in ("higher", "lower") or shown[-1] == shown[0]:
        return flat
    return good if (shown[-1] > shown[0]) == (direction == "higher") else bad


def sparklines(
    r: data.Ref,
    metric_ids: list[str],
    rows: dict[tuple, dict],
    segment: Segment,
    months_shown: list[str],
    min_count: int | None,
    *,
    columns: int = 4,
) -> None:
    """The cards' sparklines (each metric over ``months_shown``) as one chart, coloured
    by whether the metric moved its good way over those months (:func:`moved`)."""
    from . import charts

    cat, cur = catalog(r), currency(r)
    records, order = [], []
    for metric_id in metric_ids:
        meta = cat.get(metric_id)
        if meta is None:
            continue
        values = history(rows, segment, months_shown, metric_id, meta, min_count)
        how = moved(values, meta["direction"])
        order.append(meta["label"])
        records += [
            {
                "metric": meta["label"],
                "month": month,
                "value": value,
                "text": format_value(value, meta["unit"], cur),
                "moved": how,
            }
            for month, value in zip(months_shown, values)
            if value is not None
        ]
    if len(months_shown) < 2 or not records:
        return
    width = {3: 235, 4: 170, 5: 130}.get(columns, 170)
    st.altair_chart(
        charts.sparklines(
            pd.DataFrame(records),
            order,
            f"{month_label(months_shown[0])} to {month_label(months_shown[-1])}, "
            "each on its own scale",
            columns=columns,
            size=(width, 34),
        ),
        width="content",
    )
