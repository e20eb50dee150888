"""Operations: sync health, payments, eligibility rejections, post-purchase orders."""

import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import md_escape, month_label

r = ui.ref()
catalog = ui.catalog(r)


def metric_label(metric_id: str) -> str:
    return catalog[metric_id]["label"]


st.title("Operations")
month = ui.month_select(
    r,
    key="operations_month",
    include_all=True,
    default=None,
    label="Month of the change / attempt / check",
)
label = md_escape(month_label(month))

sync_tab, pay_tab, elig_tab, order_tab = st.tabs(
    ["Sync health", "Payments", "Eligibility", "Orders and returns"]
)

with sync_tab:
    if ui.no_data_loaded(r, "sync_events"):
        st.caption(
            f"Handoffs of changes made in {label}: one per (change, target system). A "
            "handoff is resolved by its first succeeded or manual_override attempt."
        )
        targets = data.sync_by_target(r, month)
        if targets.empty:
            st.info("No handoffs in this period.")
        else:
            st.dataframe(
                targets,
                hide_index=True,
                width="stretch",
                column_config={
                    "sync_failure_rate": st.column_config.NumberColumn(
                        metric_label("sync_failure_rate"), format="percent"
                    ),
                    "sync_unresolved_rate": st.column_config.NumberColumn(
                        metric_label("sync_unresolved_rate"), format="percent"
                    ),
                    "sync_manual_override_rate": st.column_config.NumberColumn(
                        metric_label("sync_manual_override_rate"), format="percent"
                    ),
                    "time_to_sync_seconds_p50": st.column_config.NumberColumn(
                        metric_label("time_to_sync_seconds_p50"), format="%.1f"
                    ),
                },
            )
            st.subheader("Unresolved handoffs")
            unresolved = data.unresolved_handoffs(r, month)
            if unresolved.empty:
                st.success("Every handoff of this period is resolved.")
            else:
                st.caption(f"{len(unresolved):,} handoffs to act on, oldest first.")
                st.dataframe(
                    unresolved,
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "unresolved_age_days": st.column_config.NumberColumn(
                            "age (days)", format="%.1f"
                        )
                    },
                )

with pay_tab:
    if ui.no_data_loaded(r, "payment_attempts"):
        methods = data.payments_by_method(r, month)
        if methods.empty:
            st.info(f"No payment attempts in {label}.")
        else:
            left, right = st.columns(2)
            with left:
                st.subheader("By payment method")
                st.altair_chart(
                    charts.bars(
                        methods,
                        "payment_method",
                        "success_rate",
                        unit="rate",
                        title=f"{metric_label('payment_success_rate_by_method')}, "
                        f"{month_label(month)}",
                    ),
                    width="stretch",
                )
                st.dataframe(
                    methods,
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "success_rate": st.column_config.NumberColumn(
                            metric_label("payment_success_rate"), format="percent"
                        )
                    },
                )
            with right:
                st.subheader("Failures by code")
                failures = data.payment_failures(r, month)
                if failures.empty:
                    st.success("No failed payments.")
                else:
                    st.altair_chart(
                        charts.stacked_bars(
                            failures, "failure_code", "failed", "payment_method", horizontal=True
                        ),
                        width="stretch",
                    )
                    st.dataframe(failures, hide_index=True, width="stretch")

with elig_tab:
    if ui.no_data_loaded(r, "eligibility_checks"):
        totals = data.eligibility_totals(r, month)
        reasons = data.eligibility_rejections(r, month)
        st.caption(
            f"{totals['checks']:,} eligibility checks in {label}, {totals['rejected']:,} "
            "rejected. *Overridden* = rejected, later approved by hand (a false-positive "
            "reject)."
        )
        if reasons.empty:
            st.info("No rejections in this period.")
        else:
            left, right = st.columns(2)
            left.altair_chart(
                charts.bars(reasons, "rejection_reason", "rejected", title="Rejections by reason"),
                width="stretch",
            )
            right.dataframe(
                reasons,
                hide_index=True,
                width="stretch",
                column_config={
                    "false_positive_reject_rate": st.column_config.NumberColumn(
                        metric_label("false_positive_reject_rate"), format="percent"
                    )
                },
            )

with order_tab:
    if ui.no_data_loaded(r, "order_status_events"):
        st.caption(
            "Post-purchase orders (such as device returns) by their status at as_of, "
            "whatever the month picked."
        )
        status = data.order_status(r)
        if status.empty:
            st.info("No orders.")
        else:
            left, right = st.columns(2)
            left.altair_chart(
                charts.bars(status, "current_status", "orders", title="Orders by status"),
                width="stretch",
            )
            right.dataframe(
                status,
                hide_index=True,
                width="stretch",
                column_config={
                    "oldest_open_days": st.column_config.NumberColumn(
                        "oldest open (days)", format="%.1f"
                    )
                },
            )
            st.subheader(metric_label("orders_open"))
            open_ = data.open_orders(r)
            if open_.empty:
                st.success("No open orders.")
            else:
                st.dataframe(
                    open_,
                    hide_index=True,
                    width="stretch",
                    column_config={
                        "age_days": st.column_config.NumberColumn("age (days)", format="%.1f")
                    },
                )
