"""Revenue and attribution: MRR bridge, upgrades by channel, attribution accuracy,
mismatched changes, proration checks."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_value, md_escape, month_label

r = ui.ref()
cfg = ui.config()
result = data.metrics(r)
catalog = ui.catalog(r)
cur = ui.currency(r)
months = result["months"]

st.title("Revenue and attribution")
if not months:
    st.info("The warehouse has no months yet.")
    st.stop()

month = ui.month_select(r, key="revenue_month")
index = next(i for i, m in enumerate(months) if m["month"] == month)
row, previous = months[index], months[index - 1] if index > 0 else None

cols = st.columns(4)
for col, metric_id in zip(cols, ["upgrades", "self_serve_share", "net_new_mrr",
                                 "arpu_per_upgrade"]):
    ui.kpi(col, r, cfg, metric_id, row, previous)

BRIDGE = ["mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_contraction", "mrr_churn"]
SHORT = {"mrr_new": "New", "mrr_expansion": "Expansion", "mrr_reactivation": "Reactivation",
         "mrr_contraction": "Contraction", "mrr_churn": "Churn"}
left, right = st.columns(2)
with left:
    st.subheader(f"MRR bridge, {month_label(month)}")
    bridge = pd.DataFrame({
        "step": [SHORT[m] for m in BRIDGE],
        "amount": [row.get(m) for m in BRIDGE],
    })
    if bridge["amount"].isna().all():
        st.info("No revenue movements this month.")
    else:
        st.altair_chart(charts.waterfall(bridge, cur), width="stretch")
        st.caption(
            f"Net new MRR {format_value(row.get('net_new_mrr'), 'money', cur)} = new + "
            "expansion + reactivation + contraction + churn, in the reporting currency "
            "(changes without an fx rate are left out)."
        )
with right:
    st.subheader("MRR movements by month")
    long = pd.DataFrame([
        {"month": m["month"], "movement": catalog[k]["label"], "amount": m.get(k)}
        for m in months for k in BRIDGE if m.get(k) is not None
    ])
    if long.empty:
        st.info("No revenue movements yet.")
    else:
        st.altair_chart(
            charts.stacked_bars(long, "month", "amount", "movement", unit="money",
                                y_title=cur),
            width="stretch",
        )

left, right = st.columns(2)
with left:
    st.subheader("Upgrades by channel")
    channels = ["self_serve_upgrades", "sales_assisted_upgrades", "automatic_upgrades"]
    frame = pd.DataFrame([
        {"month": m["month"], "channel": catalog[k]["label"], "upgrades": m.get(k)}
        for m in months for k in channels if m.get(k) is not None
    ])
    if frame.empty:
        st.info("No upgrades yet.")
    else:
        st.altair_chart(charts.stacked_bars(frame, "month", "upgrades", "channel"),
                        width="stretch")
with right:
    st.subheader("Changes by movement and kind")
    kinds = data.upgrades_by_kind(r, month)
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
        ui.kpi(col, r, cfg, metric_id, row, previous)
    left, right = st.columns(2)
    with left:
        acc = pd.DataFrame({"month": [m["month"] for m in months],
                            "value": [m.get("attribution_accuracy") for m in months]}).dropna()
        target = cfg.target("attribution_accuracy")
        if acc.empty:
            st.info("No attributed changes yet.")
        else:
            st.altair_chart(
                charts.trend(acc, "rate", catalog["attribution_accuracy"]["label"],
                             target=target.minimum if target else None),
                width="stretch",
            )
    with right:
        reasons = pd.DataFrame([
            {"month": m["month"], "reason": k, "changes": v}
            for m in months for k, v in (m.get("attribution_mismatches") or {}).items()
        ])
        if reasons.empty or reasons["changes"].sum() == 0:
            st.info("No mismatches.")
        else:
            st.altair_chart(
                charts.stacked_bars(reasons, "month", "changes", "reason",
                                    title="Mismatches by reason"),
                width="stretch",
            )

    st.subheader(f"Mismatched changes, {month_label(month)}")
    mismatches = data.attribution_mismatches(r, month)
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
            "Download mismatches (CSV)", shown.to_csv(index=False),
            file_name=f"attribution-mismatches-{month}.csv", mime="text/csv",
            icon=":material/download:",
        )

st.header("Proration checks")
checks = data.proration_checks(r, month)
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
        st.caption(
            f"{len(checks):,} changes with proration lines in {md_escape(month_label(month))}; "
            f"{len(wrong):,} billed outside the tolerance. Proration accuracy: "
            f"{format_value(row.get('proration_accuracy_rate'), 'rate', cur)}."
        )
        st.dataframe(wrong if len(wrong) else checks, hide_index=True, width="stretch")
