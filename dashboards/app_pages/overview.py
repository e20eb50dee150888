"""Overview (leadership): what needs attention, MRR and ARR at month end and the
headline KPIs with month-over-month change and targets, the month's MRR bridge, trends;
for all accounts, one segment, or two segments compared."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import (
    format_target,
    format_ts,
    format_value,
    md_escape,
    month_label,
)

# MRR at month start + these + other = MRR at month end.
BRIDGE = [
    "mrr_new",
    "mrr_expansion",
    "mrr_reactivation",
    "mrr_contraction",
    "mrr_churn",
    "mrr_other",
]

view = ui.month_view(
    "Overview", "overview", empty="The warehouse has no months yet: nothing happened up to as_of."
)
r, cfg, catalog, all_months, filters, rows, month, previous_month, right = view
info = data.build_info(r)

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

# Needs attention: off-target headline KPIs of the month, then the warnings of the data.
row = rows.get((filters.segments[0], month))
attention = []
for metric_id in cfg.headline:
    target = cfg.target(metric_id)
    meta = catalog.get(metric_id)
    value = ui.metric_value(row, metric_id)
    if target is None or meta is None or value is None or filters.compare:
        continue
    n = ui.cases(row, metric_id)
    if filters.segmented and n is not None and n < filters.min_count:
        continue
    if target.met(value) is False:
        attention.append(
            f"**{md_escape(meta['label'])}** is off target: "
            f"{md_escape(format_value(value, meta['unit'], ui.currency(r)))} "
            f"({md_escape(format_target(target, meta['unit'], ui.currency(r)))})"
        )
attention += [md_escape(w["message"]) for w in ui.warnings_of(r, month)]
with st.container(border=True, key="needs_attention"):
    if attention:
        st.markdown(
            ":orange[:material/warning:] **Needs attention**\n"
            + "\n".join(f"- {line}" for line in attention)
        )
    else:
        st.markdown(":green[:material/check_circle:] **Nothing needs attention this month.**")

headline = list(cfg.headline)
trends = [m for m in cfg.trends if m in catalog]
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
    st.subheader("Trends")
    st.caption(f"{month_label(filters.month_from)} to {month_label(filters.month_to)}.")
    ui.trend_grid(r, cfg, rows, trends, filters)
    st.stop()

min_count = filters.min_count if filters.segmented else None
ui.kpi_grid(
    r,
    cfg,
    headline,
    rows,
    filters.segment,
    month,
    all_months,
    min_count=min_count,
    with_sparklines=False,  # in the Trends tab
)
# Rates of a month count matured attempts only: say how many are still open.
still_open = ui.open_attempts_note(
    row, month_label(month), info["parameters"].get("conversion_window_days")
)
if still_open:
    st.caption(still_open)

# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the month
# and the filters kept): the Trends tab's two charts of 14 and 6 panels cost the browser
# more than the rest of the page (docs/dashboard.md, "Speed"). The Needs attention strip
# above covers both tabs.
bridge_tab, trends_tab = st.tabs(["MRR bridge", "Trends"], key="overview_tab", on_change="rerun")

with bridge_tab:
    has_bridge = row is not None and all(m in catalog for m in [*BRIDGE, "mrr_start", "mrr_end"])
    if bridge_tab.open and not has_bridge:
        st.info(f"No MRR bridge for {month_label(month)}.")
    elif bridge_tab.open:
        st.subheader(f"MRR bridge, {month_label(month)}")
        bridge = pd.DataFrame(
            {
                "step": [catalog[m]["label"] for m in BRIDGE],
                "amount": [ui.metric_value(row, m) for m in BRIDGE],
            }
        )
        cur = ui.currency(r)
        st.altair_chart(
            charts.waterfall(
                bridge,
                cur,
                total=catalog["mrr_end"]["label"],
                start=(catalog["mrr_start"]["label"], ui.metric_value(row, "mrr_start")),
            ),
            width="stretch",
        )
        st.caption(
            f"{md_escape(catalog['mrr_start']['label'])} "
            f"{md_escape(format_value(ui.metric_value(row, 'mrr_start'), 'money', cur))} + the "
            f"five movements + other = {md_escape(catalog['mrr_end']['label'])} "
            f"{md_escape(format_value(ui.metric_value(row, 'mrr_end'), 'money', cur))}. "
            "Other is what the movements do not explain: fx revaluation, and changes made in "
            "one month that take effect in another (a scheduled cancellation)."
        )

with trends_tab:
    if trends_tab.open:
        st.subheader("The headline KPIs, 12 months")
        ui.kpi_sparklines(
            r, headline, rows, filters.segment, month, all_months, min_count=min_count
        )
        st.subheader("Trends")
        st.caption(f"{month_label(filters.month_from)} to {month_label(filters.month_to)}.")
        ui.trend_grid(r, cfg, rows, trends, filters)
