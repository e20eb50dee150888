"""Revenue and attribution: MRR bridge, upgrades by channel, attribution accuracy,
mismatched changes, proration checks; for all accounts, one segment, or two compared."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, palette, ui
from upgrade_warehouse.dashboard.fmt import format_value, md_escape, month_label

BRIDGE = ["mrr_new", "mrr_expansion", "mrr_reactivation", "mrr_contraction", "mrr_churn"]
CHANNELS = ["self_serve_upgrades", "sales_assisted_upgrades", "automatic_upgrades"]
KPIS = ["upgrades", "self_serve_share", "net_new_mrr", "arpu_per_upgrade"]

view = ui.month_view("Revenue and attribution", "revenue", empty="The warehouse has no months yet.")
r, cfg, catalog, all_months, filters, rows, month, previous_month, right = view
cur = ui.currency(r)
ui.warnings_banner(r, month)
right.caption(
    f"KPIs and the bridge: {month_label(month)}; trends: {month_label(filters.month_from)} "
    f"to {month_label(filters.month_to)}. {ui.segment_caption(filters)}"
)
segment = filters.segment
row = rows.get((segment, month))
previous = rows.get((segment, previous_month)) if previous_month else None
min_count = filters.min_count if filters.segmented else None


def by_label(colors: dict[str, str]) -> dict[str, str]:
    """Colours keyed by metric id -> keyed by the catalog's labels (the series names)."""
    return {catalog[k]["label"]: c for k, c in colors.items()}


def long_frame(metric_ids: list[str], value_name: str) -> pd.DataFrame:
    """month, <catalog label>, value of several metrics of the segment, in the range."""
    records = [
        {"month": m, "series": catalog[k]["label"], value_name: rows[(segment, m)].get(k)}
        for (s, m) in rows
        if s == segment and filters.in_range(m)
        for k in metric_ids
        if rows[(s, m)].get(k) is not None
    ]
    return pd.DataFrame(records, columns=["month", "series", value_name])


def month_bars(metric_ids: list[str], value_name: str, empty: str, **kwargs) -> None:
    """Several metrics of the segment stacked by month (``empty`` said when none)."""
    frame = long_frame(metric_ids, value_name)
    if frame.empty:
        st.info(empty)
    else:
        st.altair_chart(
            charts.stacked_bars(frame, "month", value_name, "series", **kwargs), width="stretch"
        )


if filters.compare:
    a, b = filters.segments
    st.subheader(f"{month_label(month)}: {a.label} (A) vs {b.label} (B)")
    ui.show_compare(
        ui.compare_table(
            r,
            [*KPIS, *BRIDGE, "attribution_accuracy"],
            rows.get((a, month)),
            rows.get((b, month)),
            filters.min_count,
        )
    )
    cols = st.columns(2)
    for col, metric_id in zip(cols, ["net_new_mrr", "self_serve_share"]):
        meta = catalog[metric_id]
        frame = ui.trend_frame(rows, filters.segments, metric_id, filters, meta)
        if frame.empty:
            col.info(
                f"{md_escape(meta['label'])}: no values in these months"
                + (f" (rates need {filters.min_count} cases)" if filters.segmented else "")
                + "."
            )
        else:
            col.altair_chart(
                charts.trend(
                    frame,
                    meta["unit"],
                    meta["label"],
                    series="segment",
                    series_order=[s.label for s in filters.segments],
                ),
                width="stretch",
            )
    st.stop()

ui.kpi_grid(r, cfg, KPIS, rows, segment, month, all_months, per_row=4, min_count=min_count)
fx_missing = ui.fx_note(r, month, segment)

# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the month
# and the filters kept): the three tabs hold 5 charts, 3 tables and 2 more cards, each
# 30-70 ms of the browser's time (docs/dashboard.md, "Speed"). The warnings banner above
# covers every tab.
bridge_tab, attribution_tab, proration_tab = st.tabs(
    ["MRR bridge", "Attribution", "Proration checks"], key="revenue_tab", on_change="rerun"
)

with bridge_tab:
    if bridge_tab.open:
        st.subheader(f"MRR bridge, {month_label(month)}")
        bridge = pd.DataFrame(
            {
                "step": [catalog[m]["label"] for m in BRIDGE],
                "amount": [ui.metric_value(row, m) for m in BRIDGE],
            }
        )
        if bridge["amount"].isna().all():
            st.info("No revenue movements this month.")
        else:
            st.altair_chart(
                charts.waterfall(bridge, cur, total=catalog["net_new_mrr"]["label"]),
                width="stretch",
            )
            st.caption(
                f"{md_escape(catalog['net_new_mrr']['label'])} "
                f"{format_value(ui.metric_value(row, 'net_new_mrr'), 'money', cur)} = new + "
                "expansion + reactivation + contraction + churn, in the reporting currency."
            )
            if fx_missing:
                st.warning(
                    f"{md_escape(fx_missing)}: their MRR is not in these figures "
                    "(add the rates to fx_rates and rebuild).",
                    icon=":material/warning:",
                )

        # The months of the range and the month's changes by kind run only when opened
        # (on_change="rerun"): two charts and a table a reader asks for, not drawn on
        # every visit (docs/dashboard.md, "Speed").
        by_month = st.expander(
            f"MRR movements and upgrades by channel, {month_label(filters.month_from)} to "
            f"{month_label(filters.month_to)}",
            key="revenue_by_month",
            on_change="rerun",
        )
        with by_month:
            if by_month.open:
                left, right = st.columns(2)
                with left:
                    st.markdown("**MRR movements by month**")
                    month_bars(
                        BRIDGE,
                        "amount",
                        "No revenue movements in these months.",
                        unit="money",
                        y_title=cur,
                        colors=by_label(palette.MOVEMENT_COLORS),
                    )
                with right:
                    st.markdown("**Upgrades by channel**")
                    month_bars(
                        CHANNELS,
                        "upgrades",
                        "No upgrades in these months.",
                        colors=by_label(palette.CHANNEL_COLORS),
                        height=240,
                    )

        by_kind = st.expander(
            f"Changes by movement and kind, {month_label(month)}",
            key="revenue_by_kind",
            on_change="rerun",
        )
        with by_kind:
            if by_kind.open:
                ui.table_or(
                    data.upgrades_by_kind(r, month, segment),
                    "No subscription changes with a movement this month.",
                    currency=cur,
                    units={"mrr_delta_reporting": "money"},
                    labels={
                        "mrr_delta_reporting": "MRR change",
                        "unconverted": "Without an fx rate",
                    },
                )

with attribution_tab:
    if attribution_tab.open and ui.no_data_loaded(r, "crm_opportunities"):
        ui.kpi_grid(
            r,
            cfg,
            ["attributed_changes", "attribution_accuracy"],
            rows,
            segment,
            month,
            all_months,
            per_row=4,
            min_count=min_count,
        )
        left, right = st.columns(2)
        with left:
            meta = catalog["attribution_accuracy"]
            accuracy = ui.trend_frame(rows, (segment,), "attribution_accuracy", filters, meta)
            target = cfg.target("attribution_accuracy")
            if accuracy.empty:
                st.info("No attributed changes in these months.")
            else:
                st.altair_chart(
                    charts.trend(
                        accuracy, "rate", meta["label"], target=target.minimum if target else None
                    ),
                    width="stretch",
                )
        with right:
            reasons = pd.DataFrame(
                [
                    {
                        "month": b["month"],
                        "reason": b["breakdown_key"],
                        "changes": b["metric_value"],
                    }
                    for b in data.segment_breakdowns(r, (segment,))
                    if b["metric_id"] == "attribution_mismatches"
                    and filters.in_range(b["month"])
                    and b["metric_value"]
                ],
                columns=["month", "reason", "changes"],
            )
            if reasons.empty:
                st.info("No mismatches in these months.")
            else:
                st.altair_chart(
                    charts.stacked_bars(
                        reasons,
                        "month",
                        "changes",
                        "reason",
                        title=catalog["attribution_mismatches"]["label"],
                    ),
                    width="stretch",
                )

        st.subheader(f"Mismatched changes, {month_label(month)}")
        mismatches = data.attribution_mismatches(r, month, segment)
        if mismatches.empty:
            st.success("Every attributed change of this month matches its CRM record.")
        else:
            reasons_found = sorted(mismatches["mismatch_reason"].dropna().unique())
            picked = st.multiselect(
                "Reasons", reasons_found, default=reasons_found, key="revenue_reasons"
            )
            shown = mismatches[mismatches["mismatch_reason"].isin(picked)]
            st.caption(
                f"{len(shown):,} of {len(mismatches):,} mismatched changes. Amounts in the "
                "plan's currency (the derived MRR change) and as coded in the CRM."
            )
            labels = {
                "changed_at": "Changed at (UTC)",
                "change_id": "Change",
                "account_id": "Account",
                "mismatch_reason": "Reason",
                "movement": "Movement",
                "crm_movement_type": "CRM movement",
                "mrr_delta": "MRR change",
                "crm_mrr_delta_minor": "CRM MRR change",
                "opportunity_id": "Opportunity",
                "crm_origin": "CRM origin",
                "crm_owner_id": "CRM owner",
                "channel": "Channel",
                "currency": "Currency",
                "crm_currency": "CRM currency",
            }
            money = {"mrr_delta": "minor", "crm_mrr_delta_minor": "minor"}
            money_of = {"mrr_delta": "currency", "crm_mrr_delta_minor": "crm_currency"}
            ui.table(shown, labels=labels, units=money, currency=cur, currency_columns=money_of)
            ui.download(
                st,
                "Download mismatches (CSV)",
                lambda: ui.table_csv(
                    shown, labels=labels, units=money, currency=cur, currency_columns=money_of
                ),
                f"attribution-mismatches-{month}.csv",
            )

with proration_tab:
    if proration_tab.open:
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
                    f"{len(checks):,} changes with proration lines in "
                    f"{md_escape(month_label(month))}; "
                    f"{len(wrong):,} billed outside the tolerance. {md_escape(meta['label'])}: "
                    f"{ui.metric_text(ui.metric_value(row, meta['metric_id']), meta, cur)}."
                )
                ui.table(
                    wrong if len(wrong) else checks,
                    currency=cur,
                    labels={
                        "changed_at": "Changed at (UTC)",
                        "change_id": "Change",
                        "account_id": "Account",
                        "proration_behavior": "Proration behavior",
                        "currency": "Currency",
                        "billed_net_minor": "Billed",
                        "expected_net_minor": "Expected",
                        "difference_minor": "Difference",
                        "tolerance_minor": "Tolerance",
                        "check_status": "Status",
                        "is_accurate": "Accurate",
                    },
                    units={"tolerance_minor": "minor", "expected_net_minor": "minor"},
                )
