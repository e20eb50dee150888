"""Overview (leadership): headline KPIs with month-over-month change and targets, trends;
for all accounts, one segment, or two segments compared."""

import streamlit as st

from upgrade_warehouse.dashboard import data, ui
from upgrade_warehouse.dashboard.fmt import format_ts, month_label

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
    when = (
        f"{month_label(month)} up to as_of {format_ts(as_of)} (the latest month may be "
        "partial). Changes are against the previous month"
    )
else:
    when = (
        f"{month_label(month)}. Changes are against "
        f"{month_label(previous_month) if previous_month else 'no previous month'}"
    )
right.caption(f"{when}; targets are set in dashboards/config.toml. {ui.segment_caption(filters)}")

headline = list(cfg.headline)
if filters.compare:
    a, b = filters.segments
    st.subheader(f"{month_label(month)}: {a.label} (A) vs {b.label} (B)")
    ui.show_compare(
        ui.compare_table(
            r,
            [m for m in headline if m in catalog],
            rows.get((a, month)),
            rows.get((b, month)),
            filters.min_count,
        )
    )
else:
    ui.kpi_grid(
        r,
        cfg,
        headline,
        rows,
        filters.segment,
        month,
        all_months,
        min_count=filters.min_count if filters.segmented else None,
    )

st.subheader("Trends")
st.caption(f"{month_label(filters.month_from)} to {month_label(filters.month_to)}.")
trend_ids = [m for m in cfg.trends if m in catalog]
for start in range(0, len(trend_ids), 2):
    cols = st.columns(2)
    for col, metric_id in zip(cols, trend_ids[start : start + 2]):
        ui.trend_chart(col, r, cfg, rows, metric_id, filters)
