"""Cohorts (growth PMs): post-activation self-serve upgrade rate by activation month."""

import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_value, md_escape

DIMENSIONS = {
    "all": "All accounts",
    "persona": "Persona",
    "acquisition_source": "Acquisition source",
    "segment": "Segment",
    "country": "Country",
    "feature_use": "Feature use before activation",
}

r = ui.ref()
params = data.build_info(r)["parameters"]

st.title("Cohorts")
st.caption(
    "Accounts by the month of their first activation event "
    f"({md_escape(', '.join(params['activation_events']))}). A cohort member is *matured* "
    f"once {params['activation_window_days']} days (the activation window) have passed "
    "by as_of, and *converted* when it made a self-serve upgrade within that window. "
    "The rate is converted / matured."
)

available = data.cohort_dimensions(r)
options = [d for d in DIMENSIONS if d in available] + [d for d in available if d not in DIMENSIONS]
if not options:
    st.info("No activated accounts yet.")
    st.stop()
left, right = st.columns([2, 1])
dimension = left.segmented_control(
    "Breakdown", options, default="persona" if "persona" in options else options[0],
    format_func=lambda d: DIMENSIONS.get(d, md_escape(d)), key="cohort_dimension",
) or options[0]
min_matured = right.number_input(
    "Hide cells with fewer matured accounts than", min_value=0, value=1, step=1,
    key="cohort_min_matured",
)

frame = data.cohorts(r, dimension)
if frame.empty:
    st.info("No activated accounts yet.")
    st.stop()

shown = frame[frame["matured_activated_accounts"] >= min_matured]
if shown.empty:
    st.info("No cohort has that many matured accounts.")
else:
    st.altair_chart(
        charts.heatmap(shown, x="month", y="dimension_value",
                       value="post_activation_self_serve_rate",
                       title=f"Post-activation self-serve upgrade rate by "
                             f"{DIMENSIONS.get(dimension, dimension).lower()}"),
        width="stretch",
    )

st.subheader("Totals over all cohorts")
totals = (frame.groupby("dimension_value")[
    ["activated_accounts", "matured_activated_accounts", "converted_matured_accounts"]]
    .sum().reset_index())
totals["post_activation_self_serve_rate"] = [
    c / m if m else None
    for c, m in zip(totals["converted_matured_accounts"], totals["matured_activated_accounts"])
]
totals = totals.sort_values("matured_activated_accounts", ascending=False)
st.dataframe(
    totals, hide_index=True, width="stretch",
    column_config={
        "dimension_value": DIMENSIONS.get(dimension, dimension),
        "post_activation_self_serve_rate": st.column_config.NumberColumn(
            "post-activation self-serve rate", format="percent"),
    },
)
if dimension == "all" and len(frame):
    latest = frame.iloc[-1]
    st.caption(
        f"Latest cohort {latest['month']}: "
        f"{format_value(latest['post_activation_self_serve_rate'], 'rate', '')} "
        f"of {int(latest['matured_activated_accounts']):,} matured accounts."
    )

with st.expander("Cohort table"):
    st.dataframe(
        frame, hide_index=True, width="stretch",
        column_config={
            "post_activation_self_serve_rate": st.column_config.NumberColumn(
                "post-activation self-serve rate", format="percent"),
        },
    )
