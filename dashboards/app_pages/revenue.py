"""Revenue and attribution: MRR bridge, upgrades by channel, attribution accuracy,
mismatched changes, proration checks; for all accounts, one segment, or two compared."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_value, md_escape, month_label
from upgrade_warehouse.exports import safe_pandas

BRIDGE = ["mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_contraction", "mrr_churn"]
CHANNELS = ["self_serve_upgrades", "sales_assisted_upgrades", "automatic_upgrades"]
KPIS = ["upgrades", "self_serve_share", "net_new_mrr", "arpu_per_upgrade"]

r = ui.ref()
cfg = ui.config()
catalog = ui.catalog(r)
cur = ui.currency(r)
all_months = ui.months(r)

st.title("Revenue and attribution")
if not all_months:
    st.info("The warehouse has no months yet.")
    st.stop()

filters = ui.filter_bar(r, "revenue", trend=True)
rows = ui.period_rows(r, filters.segments)
left, right = st.columns([1, 3])
month = ui.month_select(r, key="revenue_month", container=left)
index = all_months.index(month)
previous_month = all_months[index - 1] if index > 0 else None
right.caption(
    f"KPIs and the bridge: {month_label(month)}; trends: {month_label(filters.month_from)} "
    f"to {month_label(filters.month_to)}. {ui.segment_caption(filters)}"
)
segment = filters.segment
row = rows.get((segment, month))
previous = rows.get((segment, previous_month)) if previous_month else None
min_count = filters.min_count if filters.segmented else None


def long_frame(metric_ids: list[str], value_name: str) -> pd.DataFrame:
    """month, <catalog label>, value of several metrics of the segment, in the range."""
    records = [
        {"month": m, "series": catalog[k]["label"], value_name: rows[(segment, m)].get(k)}
        for (s, m) in rows if s == segment and filters.in_range(m)
        for k in metric_ids if rows[(s, m)].get(k) is not None
    ]
    return pd.DataFrame(records, columns=["month", "series", value_name])


if filters.compare:
    a, b = filters.segments
    st.subheader(f"{month_label(month)}: {a.label} (A) vs {b.label} (B)")
    ui.show_compare(ui.compare_table(r, [*KPIS, *BRIDGE, "attribution_accuracy"],
                                     rows.get((a, month)), rows.get((b, month)),
                                     filters.min_count))
    cols = st.columns(2)
    for col, metric_id in zip(cols, ["net_new_mrr", "self_serve_share"]):
        meta = catalog[metric_id]
        frame = ui.trend_frame(rows, filters.segments, metric_id, filters, meta)
        if frame.empty:
            col.info(f"{md_escape(meta['label'])}: no values in these months" + (
                f" (rates need {filters.min_count} cases)" if filters.segmented else "") + ".")
        else:
            col.altair_chart(charts.trend(frame, meta["unit"], meta["label"],
                                          series="segment",
                                          series_order=[s.label for s in filters.segments]),
                          width="stretch")
    st.stop()

cols = st.columns(4)
for col, metric_id in zip(cols, KPIS):
    ui.kpi(col, r, cfg, metric_id, row, previous, min_count=min_count)

left, right = st.columns(2)
with left:
    st.subheader(f"MRR bridge, {month_label(month)}")
    bridge = pd.DataFrame({
        "step": [catalog[m]["label"] for m in BRIDGE],
        "amount": [ui.metric_value(row, m) for m in BRIDGE],
    })
    if bridge["amount"].isna().all():
        st.info("No revenue movements this month.")
    else:
        st.altair_chart(charts.waterfall(bridge, cur), width="stretch")
        st.caption(
            f"{md_escape(catalog['net_new_mrr']['label'])} "
            f"{format_value(ui.metric_value(row, 'net_new_mrr'), 'money', cur)} = new + "
            "expansion + reactivation + contraction + churn, in the reporting currency "
            "(changes without an fx rate are left out)."
        )
with right:
    st.subheader("MRR movements by month")
    movements = long_frame(BRIDGE, "amount")
    if movements.empty:
        st.info("No revenue movements in these months.")
    else:
        st.altair_chart(
            charts.stacked_bars(movements, "month", "amount", "series", unit="money",
                                y_title=cur),
            width="stretch",
        )

left, right = st.columns(2)
with left:
    st.subheader("Upgrades by channel")
    channels = long_frame(CHANNELS, "upgrades")
    if channels.empty:
        st.info("No upgrades in these months.")
    else:
        st.altair_chart(charts.stacked_bars(channels, "month", "upgrades", "series"),
                        width="stretch")
with right:
    st.subheader("Changes by movement and kind")
    kinds = data.upgrades_by_kind(r, month, segment)
    if kinds.empty:
        st.info("No subscription changes with a movement this month.")
    else:
        st.dataframe(
            kinds, hide_index=True, width="stretch",
            column_config={"mrr_delta_reporting": st.column_config.NumberColumn(
                f"MRR change ({cur})", format="%.2f")},
        )

st.header("Attribution")
if ui.no_data_loaded(r, "crm_opportunities"):
    cols = st.columns(4)
    for col, metric_id in zip(cols, ["attributed_changes", "attribution_accuracy"]):
        ui.kpi(col, r, cfg, metric_id, row, previous, min_count=min_count)
    left, right = st.columns(2)
    with left:
        meta = catalog["attribution_accuracy"]
        accuracy = ui.trend_frame(rows, (segment,), "attribution_accuracy", filters, meta)
        target = cfg.target("attribution_accuracy")
        if accuracy.empty:
            st.info("No attributed changes in these months.")
        else:
            st.altair_chart(
                charts.trend(accuracy, "rate", meta["label"],
                             target=target.minimum if target else None),
                width="stretch",
            )
    with right:
        reasons = pd.DataFrame(
            [{"month": b["month"], "reason": b["breakdown_key"], "changes": b["metric_value"]}
             for b in data.segment_breakdowns(r, (segment,))
             if b["metric_id"] == "attribution_mismatches" and filters.in_range(b["month"])
             and b["metric_value"]],
            columns=["month", "reason", "changes"],
        )
        if reasons.empty:
            st.info("No mismatches in these months.")
        else:
            st.altair_chart(
                charts.stacked_bars(reasons, "month", "changes", "reason",
                                    title=catalog["attribution_mismatches"]["label"]),
                width="stretch",
            )

    st.subheader(f"Mismatched changes, {month_label(month)}")
    mismatches = data.attribution_mismatches(r, month, segment)
    if mismatches.empty:
        st.success("Every attributed change of this month matches its CRM record.")
    else:
        reasons_found = sorted(mismatches["mismatch_reason"].dropna().unique())
        picked = st.multiselect("Reasons", reasons_found, default=reasons_found,
                                key="revenue_reasons")
        shown = mismatches[mismatches["mismatch_reason"].isin(picked)]
        st.caption(
            f"{len(shown):,} of {len(mismatches):,} mismatched changes. The CRM amount "
            "is in minor units as coded; the derived MRR change is in minor units of the "
            "plan currency."
        )
        st.dataframe(shown, hide_index=True, width="stretch")
        st.download_button(
            "Download mismatches (CSV)", safe_pandas(shown).to_csv(index=False),
            file_name=f"attribution-mismatches-{month}.csv", mime="text/csv",
            icon=":material/download:",
        )

st.header("Proration checks")
checks = data.proration_checks(r, month, segment)
if checks is None:
    ui.not_built(
        "The proration-check mart (marts.fct_proration_checks)",
        "It is added by a newer build; rebuild the warehouse to see billed vs expected "
        "proration.",
    )
elif ui.no_data_loaded(r, "invoice_lines"):
    if checks.empty:
        st.info("No prorated changes this month.")
    else:
        wrong = checks[~checks["is_accurate"].fillna(False)]
        meta = catalog["proration_accuracy_rate"]
        st.caption(
            f"{len(checks):,} changes with proration lines in {md_escape(month_label(month))}; "
            f"{len(wrong):,} billed outside the tolerance. {md_escape(meta['label'])}: "
            f"{ui.metric_text(ui.metric_value(row, meta['metric_id']), meta, cur)}."
        )
        st.dataframe(wrong if len(wrong) else checks, hide_index=True, width="stretch")
