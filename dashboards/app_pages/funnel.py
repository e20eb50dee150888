"""Funnel and abandonment: step conversion, drop-off points, time to convert, escalation."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_ts, format_value, md_escape, month_label

r = ui.ref()
cfg = ui.config()
info = data.build_info(r)
params = info["parameters"]
steps = list(params["funnel_steps"])
result = data.metrics(r)

st.title("Funnel and abandonment")
month = ui.month_select(r, key="funnel_month", include_all=True)
st.caption(
    f"Attempts started in **{md_escape(month_label(month))}**. Conversion window: an "
    f"attempt stays open **{params['conversion_window_days']} days** from its first step "
    f"(or until it completes); attempts still inside their window at as_of "
    f"({md_escape(format_ts(info['as_of']))}) are *in progress* and not yet resolved. "
    f"Escalation events: {md_escape(', '.join(params['escalation_events']))}."
)
st.caption("Steps: " + " → ".join(md_escape(s) for s in steps))

attempts = data.funnel_attempts(r, month)
if attempts.empty:
    st.info("No upgrade attempts in this period.")
    st.stop()

total = int(attempts["attempts"].sum())
resolved = attempts[attempts["outcome"] != "in_progress"]
n_resolved = int(resolved["attempts"].sum())
completed = int(resolved.loc[resolved["is_completed"], "attempts"].sum())
self_serve = int(resolved.loc[resolved["outcome"] == "completed_self_serve", "attempts"].sum())
escalated = int(resolved.loc[resolved["is_escalated"], "attempts"].sum())

# Headline numbers: the metrics of the month when one is picked (same as `metrics`).
month_row = next((m for m in result["months"] if m["month"] == month), None)
cols = st.columns(5)
if month_row is not None:
    values = {k: month_row[k] for k in (
        "attempts_started", "upgrade_conversion_rate", "self_serve_completion_rate",
        "escalation_rate", "intent_to_activation_hours_p50")}
else:
    values = {
        "attempts_started": total,
        "upgrade_conversion_rate": completed / n_resolved if n_resolved else None,
        "self_serve_completion_rate": self_serve / n_resolved if n_resolved else None,
        "escalation_rate": escalated / n_resolved if n_resolved else None,
        "intent_to_activation_hours_p50": None,
    }
catalog = ui.catalog(r)
for col, (metric_id, value) in zip(cols, values.items()):
    meta = catalog[metric_id]
    col.metric(md_escape(meta["label"]), format_value(value, meta["unit"], ""),
               help=md_escape(meta["definition"]), border=True)
if month_row is None:
    cols[4].caption("Median intent to activation is a monthly metric: pick a month.")

# Step conversion: attempts that reached each step (last_step_index >= k).
by_last = attempts.groupby("last_step_index")["attempts"].sum()
reached = [int(by_last[by_last.index >= k].sum()) for k in range(1, len(steps) + 1)]
funnel = pd.DataFrame({
    "step": [f"{k}. {s}" for k, s in enumerate(steps, start=1)],
    "reached": reached,
})
funnel["share of started"] = funnel["reached"] / total
funnel["from previous step"] = [
    None if k == 0 or reached[k - 1] == 0 else reached[k] / reached[k - 1]
    for k in range(len(steps))
]
funnel["stopped here"] = [reached[k] - (reached[k + 1] if k + 1 < len(steps) else 0)
                          for k in range(len(steps))]

left, right = st.columns(2)
with left:
    st.subheader("Step conversion")
    st.altair_chart(
        charts.bars(funnel, "step", "reached", sort=list(funnel["step"]),
                    title="Attempts reaching each step"),
        width="stretch",
    )
    st.dataframe(
        funnel, hide_index=True, width="stretch",
        column_config={
            "share of started": st.column_config.NumberColumn(format="percent"),
            "from previous step": st.column_config.NumberColumn(format="percent"),
        },
    )

# Drop-off: abandoned attempts by the last step they reached.
abandoned = attempts[attempts["outcome"] == "abandoned"]
drop = (abandoned.groupby(["last_step_index", "last_step"])["attempts"].sum()
        .reset_index().sort_values("last_step_index"))
with right:
    st.subheader("Drop-off points")
    if drop.empty:
        st.info("No abandoned attempts in this period.")
    else:
        drop["share of abandoned"] = drop["attempts"] / drop["attempts"].sum()
        drop["step"] = [f"{i}. {s}" for i, s in zip(drop["last_step_index"], drop["last_step"])]
        st.altair_chart(
            charts.bars(drop, "step", "share of abandoned", unit="rate",
                        sort=list(drop["step"]), color="#d62728",
                        title="Abandoned attempts by the last step reached"),
            width="stretch",
        )
        st.caption(
            "Shares add up to 100% (the `abandonment_by_step` metric when one month is "
            "picked)."
        )

left, right = st.columns(2)
with left:
    st.subheader("Time to convert")
    hours = data.time_to_convert_hours(r, month)
    if hours.empty:
        st.info("No completed attempts in this period.")
    else:
        st.altair_chart(
            charts.histogram(hours, "hours", x_title="hours from first step to completion",
                             color="outcome"),
            width="stretch",
        )
        q = hours["hours"].quantile([0.5, 0.9])
        st.caption(
            f"{len(hours):,} completed attempts · median {q[0.5]:,.1f} h · "
            f"p90 {q[0.9]:,.1f} h (completion, not activation)."
        )

with right:
    st.subheader("Escalation by step")
    esc = attempts.groupby(["last_step_index", "last_step"]).apply(
        lambda g: pd.Series({
            "attempts": int(g["attempts"].sum()),
            "escalated": int(g.loc[g["is_escalated"], "attempts"].sum()),
        }),
        include_groups=False,
    ).reset_index().sort_values("last_step_index")
    esc["escalation share"] = esc["escalated"] / esc["attempts"]
    esc["step"] = [f"{i}. {s}" for i, s in zip(esc["last_step_index"], esc["last_step"])]
    st.altair_chart(
        charts.bars(esc, "step", "escalated", sort=list(esc["step"]), color="#ff7f0e",
                    title="Escalated attempts by the last step reached"),
        width="stretch",
    )
    st.dataframe(
        esc[["step", "attempts", "escalated", "escalation share"]], hide_index=True,
        width="stretch",
        column_config={"escalation share": st.column_config.NumberColumn(format="percent")},
    )

st.subheader("Outcomes")
outcomes = attempts.groupby("outcome")["attempts"].sum().reset_index()
outcomes["share"] = outcomes["attempts"] / total
st.dataframe(outcomes.sort_values("attempts", ascending=False), hide_index=True,
             column_config={"share": st.column_config.NumberColumn(format="percent")})
