"""Upsell plays: outcomes by trigger, owner and channel."""

import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import md_escape, month_label

r = ui.ref()
cfg = ui.config()

st.title("Upsell plays")
if not ui.no_data_loaded(r, "upsell_offers"):
    st.stop()

month = ui.month_select(
    r, key="upsell_month", include_all=True, default=None, label="Month of the offer"
)
ui.warnings_banner(r, month, codes=("stale", "latest_month_partial", "quarantined_rows"))
# The metrics of the month, or of all months together (dbt's all-months row).
row = ui.period_rows(r, (data.ALL,)).get((data.ALL, month))
cols = st.columns(3)
for col, metric_id in zip(
    cols, ["upsell_offers", "upsell_acceptance_rate", "upsell_deferral_rate"]
):
    ui.kpi(col, r, cfg, metric_id, row, None)
st.caption(
    f"Offers made in {md_escape(month_label(month))} and their outcome at as_of. Rates are "
    "over offers with an outcome (pending offers are left out); *deferred, then "
    "accepted* counts deferred offers whose account accepted a later offer."
)

OUTCOMES = ["accepted", "deferred", "rejected", "no_response", "pending"]
catalog = ui.catalog(r)


def by_play(dimension: str) -> None:
    """Offers by the play's ``dimension``: outcomes as stacked bars over the table."""
    frame = data.upsell_outcomes(r, dimension, month)
    if frame.empty:
        st.info("No offers in this period.")
        return
    long = frame.melt(
        id_vars=["value"], value_vars=OUTCOMES, var_name="outcome", value_name="count"
    )
    # The chart above its table, each the page's width: the table's columns (outcomes,
    # rates, deferred-then-accepted) need the whole width at 1280 px.
    st.altair_chart(
        charts.stacked_bars(
            long,
            "value",
            "count",
            "outcome",
            horizontal=True,
            sort=list(frame["value"]),
            x_title=dimension,
            colors=charts.OUTCOME_COLORS,
        ),
        width="stretch",
    )
    # Whole at 1280 px: short labels and fixed widths. Offers with an outcome (the rates'
    # denominator) = offers - pending: left out of the table.
    shown = frame.drop(columns=["with_outcome"])
    ui.table(
        shown,
        labels={
            "value": dimension.replace("_", " ").capitalize(),
            "no_response": "No reply",
            "deferred_then_accepted": "Def. → acc.",
            "upsell_acceptance_rate": "Accepted %",
            "upsell_deferral_rate": "Deferred %",
        },
        widths={
            "value": 130,
            **dict.fromkeys([*OUTCOMES, "offers", "deferred_then_accepted"], 68),
            "upsell_acceptance_rate": 88,
            "upsell_deferral_rate": 88,
        },
    )


# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the month
# kept): each tab is a chart and a table the browser draws (docs/dashboard.md, "Speed").
dimensions = data.upsell_dimensions(r)
if not dimensions:
    st.info("No offers in this warehouse.")
    st.stop()
tabs = st.tabs([f"By {d}" for d in dimensions], key="upsell_tab", on_change="rerun")
for tab, dimension in zip(tabs, dimensions):
    with tab:
        if tab.open:
            by_play(dimension)
