"""Overview (leadership): headline KPIs with month-over-month change and targets, trends."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_ts, md_escape, month_label

r = ui.ref()
cfg = ui.config()
result = data.metrics(r)
catalog = ui.catalog(r)
info = data.build_info(r)
months = result["months"]

st.title("Overview")
if not months:
    st.info("The warehouse has no months yet: nothing happened up to as_of.")
    st.stop()

month = ui.month_select(r, key="overview_month", label="Month")
index = next(i for i, m in enumerate(months) if m["month"] == month)
row, previous = months[index], months[index - 1] if index > 0 else None

as_of = info["as_of"]
if month == as_of.strftime("%Y-%m"):
    st.caption(
        f"{month_label(month)} up to as_of {format_ts(as_of)} (the latest month may be "
        "partial). Changes are against the previous month; targets are set in "
        "dashboards/config.toml."
    )
else:
    st.caption(
        f"{month_label(month)}. Changes are against "
        f"{month_label(previous['month']) if previous else 'no previous month'}; "
        "targets are set in dashboards/config.toml."
    )

per_row = 4
headline = list(cfg.headline)
for start in range(0, len(headline), per_row):
    cols = st.columns(per_row)
    for col, metric_id in zip(cols, headline[start:start + per_row]):
        history = [m.get(metric_id) for m in months[: index + 1]][-12:]
        ui.kpi(col, r, cfg, metric_id, row, previous, history=history)

st.subheader("Trends")
trend_ids = [m for m in cfg.trends if m in catalog]
for start in range(0, len(trend_ids), 2):
    cols = st.columns(2)
    for col, metric_id in zip(cols, trend_ids[start:start + 2]):
        meta = catalog[metric_id]
        frame = pd.DataFrame(
            {"month": [m["month"] for m in months],
             "value": [m.get(metric_id) for m in months]}
        ).dropna()
        target = cfg.target(metric_id)
        line = None
        if target is not None:
            line = target.minimum if target.minimum is not None else target.maximum
        if frame.empty:
            col.info(f"{md_escape(meta['label'])}: no values yet.")
            continue
        col.altair_chart(
            charts.trend(frame, meta["unit"], meta["label"], target=line), width="stretch"
        )
