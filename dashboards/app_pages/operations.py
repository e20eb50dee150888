"""Operations: sync health, payments, eligibility rejections, post-purchase orders."""

import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.data import ALL
from upgrade_warehouse.dashboard.fmt import md_escape, month_label

r = ui.ref()
catalog = ui.catalog(r)


def metric_label(metric_id: str) -> str:
    return catalog[metric_id]["label"]


def labels(frame) -> dict[str, str]:
    """The catalog's label of every column that is a metric id."""
    return {c: catalog[c]["label"] for c in frame.columns if c in catalog}


def bars_beside_table(
    frame, x: str, y: str, title: str, empty: str, more: dict[str, str] | None = None
) -> bool:
    """A bar chart of ``y`` by ``x`` with the table beside it (labels: the catalog's and
    ``more``), or ``empty`` said when there is no row; whether there was one."""
    if frame.empty:
        st.info(empty)
        return False
    left, right = st.columns(2)
    left.altair_chart(charts.bars(frame, x, y, title=title), width="stretch")
    ui.table(frame, labels={**labels(frame), **(more or {})}, container=right, space=ui.HALF)
    return True


cfg = ui.config()
all_months = ui.months(r)
cur = ui.currency(r)
KPIS = [
    "sync_failure_rate",
    "sync_unresolved_rate",
    "time_to_sync_seconds_p50",
    "payment_success_rate",
    "false_positive_reject_rate",
    "orders_open",
]

st.title("Operations")
left, right = st.columns([1, 3])
month = ui.month_select(
    r,
    key="operations_month",
    include_all=True,
    default=None,
    label="Month of the change / attempt / check",
    container=left,
)
ui.warnings_banner(r, month, codes=("stale", "latest_month_partial", "quarantined_rows"))
label = md_escape(month_label(month))
right.caption(
    "KPIs of the month picked against the month before (all months: the whole period) "
    "and the targets of dashboards/config.toml; each tab shows its trends over every "
    "month, then the detail."
)
rows = ui.period_rows(r, (ALL,))
every_month = ui.all_accounts(all_months)
ui.kpi_grid(r, cfg, KPIS, rows, ALL, month, all_months)


def trends(*metric_ids: str) -> None:
    """The metrics by month: one chart of a panel each (several charts cost the browser
    one draw each), or one trend at half the width."""
    if len(metric_ids) > 1:
        ui.trend_grid(r, cfg, rows, list(metric_ids), every_month, columns=len(metric_ids))
        return
    cols = st.columns(2)  # half width: a trend reads at 1280 px
    ui.trend_chart(cols[0], r, cfg, rows, metric_ids[0], every_month)


# Only the open tab runs (on_change="rerun"; switching tabs reruns the page): each chart
# or table costs the browser 30-70 ms to draw, and the four tabs hold 8 charts and 7
# tables (docs/dashboard.md, "Speed").
sync_tab, pay_tab, elig_tab, order_tab = st.tabs(
    ["Sync health", "Payments", "Eligibility", "Orders and returns"],
    key="operations_tab",
    on_change="rerun",
)

with sync_tab:
    if sync_tab.open and ui.no_data_loaded(r, "sync_events"):
        trends("sync_failure_rate", "sync_unresolved_rate")
        st.caption(
            f"Handoffs of changes made in {label}: one per (change, target system). A "
            "handoff is resolved by its first succeeded or manual_override attempt."
        )
        targets = data.sync_by_target(r, month)
        if targets.empty:
            st.info("No handoffs in this period.")
        else:
            # Whole at 1280 px: short headers and fixed widths (the full labels are the
            # KPI cards' above).
            ui.table(
                targets,
                labels={
                    "target_system": "Target system",
                    "first_attempt_failed": "1st failed",
                    "dead_letters": "Dead letters",
                    "sync_failure_rate": "Failure %",
                    "sync_unresolved_rate": "Unresolved %",
                    "sync_manual_override_rate": "Manual %",
                    "time_to_sync_seconds_p50": "Sync median",
                },
                widths={
                    "target_system": 110,
                    "handoffs": 76,
                    "first_attempt_failed": 78,
                    "unresolved": 84,
                    "dead_letters": 90,
                    "sync_failure_rate": 80,
                    "sync_unresolved_rate": 98,
                    "sync_manual_override_rate": 80,
                    "time_to_sync_seconds_p50": 96,
                },
            )
            st.subheader("Unresolved handoffs")
            unresolved = data.unresolved_handoffs(r, month)
            if unresolved.empty:
                st.success("Every handoff of this period is resolved.")
            else:
                st.caption(f"{len(unresolved):,} handoffs to act on, oldest first.")
                # changed_at is left out: Age (days from changed_at to as_of) says it.
                ui.table(
                    unresolved.drop(columns=["changed_at"]),
                    labels={
                        **labels(unresolved),
                        "target_system": "Target",
                        "last_attempt_status": "Last status",
                        "last_error_code": "Last error",
                        "last_attempted_at": "Last attempt",
                        "is_dead_letter": "Dead letter",
                        "unresolved_age_days": "Age",
                    },
                    widths={
                        "target_system": 84,
                        "change_id": 80,
                        "account_id": 80,
                        "attempts": 68,
                        "last_attempt_status": 92,
                        "last_error_code": 92,
                        "last_attempted_at": 136,
                        "is_dead_letter": 80,
                        "unresolved_age_days": 56,
                    },
                )

with pay_tab:
    if pay_tab.open and ui.no_data_loaded(r, "payment_attempts"):
        trends("payment_success_rate")
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
                ui.table(
                    methods,
                    labels={
                        **labels(methods),
                        "success_rate": metric_label("payment_success_rate"),
                    },
                    space=ui.HALF,
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
                    ui.table(failures, labels=labels(failures), space=ui.HALF)

with elig_tab:
    if elig_tab.open and ui.no_data_loaded(r, "eligibility_checks"):
        trends("false_positive_reject_rate")
        totals = data.eligibility_totals(r, month)
        reasons = data.eligibility_rejections(r, month)
        st.caption(
            f"{totals['checks']:,} eligibility checks in {label}, {totals['rejected']:,} "
            "rejected. *Overridden* = rejected, later approved by hand (a false-positive "
            "reject)."
        )
        bars_beside_table(
            reasons,
            "rejection_reason",
            "rejected",
            "Rejections by reason",
            "No rejections in this period.",
        )

with order_tab:
    if order_tab.open and ui.no_data_loaded(r, "order_status_events"):
        st.caption(
            "Post-purchase orders (such as device returns) by their status at as_of, "
            "whatever the month picked."
        )
        status = data.order_status(r)
        more = {"oldest_open_days": "Oldest open"}
        if bars_beside_table(
            status, "current_status", "orders", "Orders by status", "No orders.", more
        ):
            st.subheader(metric_label("orders_open"))
            open_ = data.open_orders(r)
            if open_.empty:
                st.success("No open orders.")
            else:
                ui.table(open_, labels={**labels(open_), "age_days": "Age"})
