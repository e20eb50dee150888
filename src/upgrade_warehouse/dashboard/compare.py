"""Segments side by side: per-segment rows, trends, compare tables and the trend chart."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import data, stats
from .config import DashboardConfig
from .context import catalog, currency
from .data import Segment
from .filters import Filters
from .fmt import (
    format_delta,
    format_p_value,
    format_value,
    md_escape,
)
from .kpis import cases, change_text, metric_text, metric_value

# -------------------------------------------------------------------- segment numbers


def period_rows(r: data.Ref, segments: tuple[Segment, ...]) -> dict[tuple, dict]:
    """(segment, month or None for all months) -> that row of the segmented mart."""
    return {(row["segment"], row["month"]): row for row in data.segment_metrics(r, segments)}


def trend_frame(
    rows: dict[tuple, dict],
    segments: tuple[Segment, ...],
    metric_id: str,
    filters: Filters,
    meta: dict,
) -> pd.DataFrame:
    """month, value, segment of one metric in the month range (rates of too few cases
    left out in segment views)."""
    records = []
    for (segment, month), row in rows.items():
        if segment not in segments or not filters.in_range(month):
            continue
        value = row.get(metric_id)
        if value is None:
            continue
        if (
            filters.segmented
            and metric_text(value, meta, "", cases(row, metric_id), filters.min_count)
            == stats.TOO_FEW
        ):
            continue
        records.append({"month": month, "value": value, "segment": segment.label})
    frame = pd.DataFrame(records, columns=["month", "value", "segment"])
    return frame.sort_values("month") if len(frame) else frame


def compare_table(
    r: data.Ref, metric_ids: list[str], a: dict | None, b: dict | None, min_count: int
) -> pd.DataFrame:
    """metric | A | B | A − B | beyond noise: scalar metrics of two rows of the segmented
    mart side by side."""
    cat, cur = catalog(r), currency(r)
    out = []
    for metric_id in metric_ids:
        meta = cat[metric_id]
        va, vb = metric_value(a, metric_id), metric_value(b, metric_id)
        if meta["unit"] == "rate":
            c = stats.compare_rates(va, cases(a, metric_id), vb, cases(b, metric_id), min_count)
            out.append(_compare_row(meta, cur, c, min_count))
        else:
            out.append(
                {
                    "metric": meta["label"],
                    "A": format_value(va, meta["unit"], cur),
                    "B": format_value(vb, meta["unit"], cur),
                    "A − B": change_text(va, vb, meta["unit"], cur) or "–",
                    "beyond noise": "",
                }
            )
    return pd.DataFrame(out)


def rate_compare_table(
    label_column: str, labels: list[str], pairs: list[tuple], min_count: int
) -> pd.DataFrame:
    """``labels[i]`` | A | B | A − B | beyond noise for rates given as
    (a, a_cases, b, b_cases) pairs (e.g. the step conversions of two segments)."""
    meta = {"label": "", "unit": "rate"}
    rows = []
    for label, (a, a_n, b, b_n) in zip(labels, pairs):
        row = _compare_row(meta, "", stats.compare_rates(a, a_n, b, b_n, min_count), min_count)
        row[label_column] = label
        del row["metric"]
        rows.append(row)
    return pd.DataFrame(rows, columns=[label_column, "A", "B", "A − B", "beyond noise"])


def _compare_row(meta: dict, cur: str, c: stats.RateComparison, min_count: int) -> dict:
    def shown(value, n):
        text = metric_text(value, meta, cur, n if n is not None else 0, min_count)
        return text + (f" (n={n:,})" if n and value is not None else "")

    if c.difference is None:
        noise = "too few" if c.too_few and c.a is not None and c.b is not None else "–"
    else:
        noise = "yes" if c.beyond_noise else "no"
        if c.p_value is not None:
            p = format_p_value(c.p_value)
            noise += f" (p {p})" if p.startswith("<") else f" (p = {p})"
    return {
        "metric": meta["label"],
        "A": shown(c.a, c.a_n),
        "B": shown(c.b, c.b_n),
        "A − B": format_delta(c.difference, "rate", cur) or "–"
        if c.difference is not None
        else "–",
        "beyond noise": noise,
    }


def show_compare(frame: pd.DataFrame, legend: bool = True) -> None:
    """A compare table, every row visible, and what its columns mean."""
    st.dataframe(frame, hide_index=True, width="stretch", height=38 + 35 * len(frame))
    if legend:
        compare_legend()


def compare_legend() -> None:
    st.caption(
        "A − B in percentage points. *Beyond noise*: the two-proportion test of "
        "docs/metrics.md (as for experiments) gives p < 0.05; *too few*: one of them is "
        "over fewer cases than the minimum count of dashboards/config.toml."
    )


def trend_chart(
    container,
    r: data.Ref,
    cfg: DashboardConfig,
    rows: dict[tuple, dict],
    metric_id: str,
    filters: Filters,
) -> None:
    """One metric by month over the filters' range, its target as a dashed line."""
    from . import charts

    meta = catalog(r)[metric_id]
    frame = trend_frame(rows, filters.segments, metric_id, filters, meta)
    target = cfg.target(metric_id)
    line = None
    if target is not None:
        line = target.minimum if target.minimum is not None else target.maximum
    if frame.empty:
        container.info(
            f"{md_escape(meta['label'])}: no values in these months"
            + (f" (rates need {filters.min_count} cases)" if filters.segmented else "")
            + "."
        )
        return
    container.altair_chart(
        charts.trend(
            frame,
            meta["unit"],
            meta["label"],
            target=line,
            series="segment" if filters.compare else None,
            series_order=[s.label for s in filters.segments],
        ),
        width="stretch",
    )


def trend_grid(
    r: data.Ref,
    cfg: DashboardConfig,
    rows: dict[tuple, dict],
    metric_ids: list[str],
    filters: Filters,
    *,
    columns: int = 2,
) -> None:
    """Several metrics by month over the filters' range as one chart (a panel each, its
    unit in its title, rates in %), each target a dashed line; a metric without a value
    in these months is named below it."""
    from . import charts

    cat, cur = catalog(r), currency(r)
    frames, order, empty = [], [], []
    for metric_id in metric_ids:
        meta = cat[metric_id]
        frame = trend_frame(rows, filters.segments, metric_id, filters, meta)
        if frame.empty:
            empty.append(meta["label"])
            continue
        factor, suffix = charts.shown_unit(meta["unit"], cur)
        title = f"{meta['label']} ({suffix})" if suffix else meta["label"]
        target = cfg.target(metric_id)
        line = None
        if target is not None:
            line = target.minimum if target.minimum is not None else target.maximum
        frame["text"] = [format_value(v, meta["unit"], cur) for v in frame["value"]]
        frame["value"] = frame["value"] * factor
        frame["target"] = None if line is None else line * factor
        frame["metric"] = title
        frames.append(frame)
        order.append(title)
    if frames:
        st.altair_chart(
            charts.trend_grid(
                pd.concat(frames, ignore_index=True),
                order,
                columns=columns,
                series="segment" if filters.compare else None,
                series_order=[s.label for s in filters.segments],
            ),
            width="content",
        )
    if empty:
        st.info(
            f"No values in these months for {md_escape(', '.join(empty))}"
            + (f" (rates need {filters.min_count} cases)" if filters.segmented else "")
            + "."
        )
