"""Overview (leadership): headline KPIs with month-over-month change and targets, trends;
for all accounts, one segment, or two segments compared."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_ts, md_escape, month_label

r = ui.ref()
cfg = ui.config()
catalog = ui.catalog(r)
info = data.build_info(r)
all_months = ui.months(r)

st.title("Overview")
if not all_months:
    st.info("The warehouse has no months yet: nothing happened up to as_of.")
    st.stop()

filters = ui.filter_bar(r, "overview", trend=True)
rows = ui.period_rows(r, filters.segments)
left, right = st.columns([1, 3])
month = ui.month_select(r, key="overview_month", label="Month", container=left)
index = all_months.index(month)
previous_month = all_months[index - 1] if index > 0 else None

as_of = info["as_of"]
if month == as_of.strftime("%Y-%m"):
    when = (f"{month_label(month)} up to as_of {format_ts(as_of)} (the latest month may be "
            "partial). Changes are against the previous month")
else:
    when = (f"{month_label(month)}. Changes are against "
            f"{month_label(previous_month) if previous_month else 'no previous month'}")
right.caption(f"{when}; targets are set in dashboards/config.toml. "
              f"{ui.segment_caption(filters)}")

headline = list(cfg.headline)
if filters.compare:
    a, b = filters.segments
    st.subheader(f"{month_label(month)}: {a.label} (A) vs {b.label} (B)")
    ui.show_compare(ui.compare_table(r, [m for m in headline if m in catalog],
                                     rows.get((a, month)), rows.get((b, month)),
                                     filters.min_count))
else:
    segment = filters.segment
    row = rows.get((segment, month))
    previous = rows.get((segment, previous_month)) if previous_month else None
    per_row = 3  # whole labels and values at 1280 px
    for start in range(0, len(headline), per_row):
        cols = st.columns(per_row)
        for col, metric_id in zip(cols, headline[start:start + per_row]):
            min_count = filters.min_count if filters.segmented else None
            history = ui.history(rows, segment, all_months[: index + 1][-12:], metric_id,
                                 catalog.get(metric_id, {"unit": ""}), min_count)
            ui.kpi(col, r, cfg, metric_id, row, previous, history=history,
                   min_count=min_count)

st.subheader("Trends")
st.caption(f"{month_label(filters.month_from)} to {month_label(filters.month_to)}.")
trend_ids = [m for m in cfg.trends if m in catalog]
for start in range(0, len(trend_ids), 2):
    cols = st.columns(2)
    for col, metric_id in zip(cols, trend_ids[start:start + 2]):
        meta = catalog[metric_id]
        frame = ui.trend_frame(rows, filters.segments, metric_id, filters, meta)
        target = cfg.target(metric_id)
        line = None
        if target is not None:
            line = target.minimum if target.minimum is not None else target.maximum
        if frame.empty:
            col.info(f"{md_escape(meta['label'])}: no values in these months" + (
                f" (rates need {filters.min_count} cases)" if filters.segmented else "") + ".")
            continue
        col.altair_chart(
            charts.trend(pd.DataFrame(frame), meta["unit"], meta["label"], target=line,
                         series="segment" if filters.compare else None,
                         series_order=[s.label for s in filters.segments]),
            width="stretch",
        )
