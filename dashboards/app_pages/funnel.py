"""Funnel and abandonment: step conversion, drop-off points, time to convert, escalation;
for all accounts, one segment, or two segments compared."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, palette, ui
from upgrade_warehouse.dashboard.fmt import format_ts, md_escape, range_label

HEADLINE = [
    "attempts_started",
    "attempts_matured",
    "upgrade_conversion_rate",
    "self_serve_completion_rate",
    "escalation_rate",
    "intent_to_activation_hours_p50",
]

r = ui.ref()
cfg = ui.config()
info = data.build_info(r)
params = info["parameters"]
steps = list(params["funnel_steps"])
catalog = ui.catalog(r)
cur = ui.currency(r)

st.title("Funnel and abandonment")
filters = ui.filter_bar(r, "funnel", trend=True)
if filters.month_from is None:
    st.info("No months in this warehouse yet.")
    st.stop()
period = range_label(filters.month_from, filters.month_to)
ui.warnings_banner(
    r,
    months=[m for m in ui.months(r) if filters.in_range(m)],
    codes=("stale", "latest_month_partial", "quarantined_rows"),
)
st.caption(
    f"Attempts started **{md_escape(period)}** (From and To above; a quarter sets both). "
    "Over several months, counts are added up, each rate is its cases added up (the "
    "numerators over the denominators of the months, not a mean of monthly rates), and "
    "the median and p90 are taken over the attempts of those months. Conversion window: "
    f"an attempt stays open **{params['conversion_window_days']} days** from its first "
    f"step (or until it completes); attempts still inside their window at as_of "
    f"({md_escape(format_ts(info['as_of']))}) are *in progress*, and the rates count only "
    "*matured* attempts (whose window has closed), so that the latest weeks do not lean "
    "upward. "
    f"Escalation events: {md_escape(', '.join(params['escalation_events']))}. "
    + ui.segment_caption(filters)
)
st.caption("Steps: " + " → ".join(md_escape(s) for s in steps))

ranged = data.funnel_range(r, filters.segments, filters.month_from, filters.month_to)
picked = {s: ranged.get(s) for s in filters.segments}
min_count = filters.min_count if filters.segmented else None
if not any(row and row["attempts_started"] for row in picked.values()):
    st.info("No upgrade attempts in these months for these accounts.")
    st.stop()

steps_frame = data.funnel_steps(r, filters.segments, filters.month_from, filters.month_to)
order = [s.label for s in filters.segments]  # A, B: the same colors on every chart
step_labels = [f"{k}. {s}" for k, s in enumerate(steps, start=1)]
steps_frame["step"] = [step_labels[k - 1] for k in steps_frame["step_index"]]

# Headline numbers: the funnel metrics over the range (funnel_data's rules; one month:
# that month's row, the numbers of `metrics --month`, `--by` for a segment).
window = params["conversion_window_days"]
if filters.compare:
    a, b = filters.segments
    st.subheader(f"{a.label} (A) vs {b.label} (B)")
    ui.show_compare(ui.compare_table(r, HEADLINE, picked[a], picked[b], filters.min_count))
    for s in filters.segments:  # rates count matured attempts only: how many are open
        still_open = ui.open_attempts_note(picked[s], f"{period} ({md_escape(s.label)})", window)
        if still_open:
            st.caption(still_open)
else:
    row = picked[filters.segment]
    cols = [c for start in range(0, len(HEADLINE), 3) for c in st.columns(3)]
    for col, metric_id in zip(cols, HEADLINE):
        meta = catalog[metric_id]
        n = ui.cases(row, metric_id)
        col.metric(
            md_escape(meta["label"]),
            ui.metric_text(ui.metric_value(row, metric_id), meta, cur, n, min_count),
            help=md_escape(meta["definition"]) + (f" (over {n:,} cases)" if n is not None else ""),
            border=True,
        )
    still_open = ui.open_attempts_note(row, period, window)
    if still_open:
        st.caption(still_open)


def step_bars(frame, y: str, title: str, color: str | None = None, unit: str = "count") -> None:
    """``y`` by funnel step (A and B side by side in compare mode)."""
    st.altair_chart(
        charts.bars(
            frame,
            "step",
            y,
            unit=unit,
            sort=step_labels,
            color=color,
            series="segment" if filters.compare else None,
            series_order=order,
            title=title,
        ),
        width="stretch",
    )


def two_columns():
    """Side by side; one above the other in compare mode (wider tables)."""
    return (st.container(), st.container()) if filters.compare else st.columns(2)


# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the range
# and the segments kept): the steps and the drop-off first; each other tab holds charts
# and tables the browser draws (docs/dashboard.md, "Speed"). The warnings banner above
# covers every tab.
steps_tab, time_tab, escalation_tab = st.tabs(
    ["Steps and drop-off", "Time to convert", "Escalation and outcomes"],
    key="funnel_tab",
    on_change="rerun",
)

with steps_tab:
    if steps_tab.open:
        left, right = two_columns()
        with left:
            st.subheader("Step conversion")
            if filters.compare:
                a, b = filters.segments
                pairs = []
                for step_index in range(1, len(steps) + 1):
                    sa = steps_frame[
                        (steps_frame["step_index"] == step_index)
                        & (steps_frame["segment"] == a.label)
                    ]
                    sb = steps_frame[
                        (steps_frame["step_index"] == step_index)
                        & (steps_frame["segment"] == b.label)
                    ]
                    pairs.append(
                        (
                            sa["step_conversion_rate"].iloc[0] if len(sa) else None,
                            int(sa["step_conversion_rate__denominator"].iloc[0])
                            if len(sa)
                            else None,
                            sb["step_conversion_rate"].iloc[0] if len(sb) else None,
                            int(sb["step_conversion_rate__denominator"].iloc[0])
                            if len(sb)
                            else None,
                        )
                    )
                step_bars(steps_frame, "attempts_reached", "Attempts reaching each step")
                st.caption("Conversion from the previous step, A vs B.")
                ui.show_compare(
                    ui.rate_compare_table("step", step_labels[1:], pairs[1:], filters.min_count),
                    legend=False,
                )
            else:
                step_bars(steps_frame, "attempts_reached", "Attempts reaching each step")
                shown = steps_frame[
                    ["step", "attempts_reached", "step_reach_rate", "step_conversion_rate"]
                ].copy()
                shown["step_reach_rate"] = [
                    ui.metric_text(v, {"unit": "rate"}, cur, n, min_count)
                    for v, n in zip(
                        steps_frame["step_reach_rate"], steps_frame["step_reach_rate__denominator"]
                    )
                ]
                shown["step_conversion_rate"] = [
                    ui.metric_text(v, {"unit": "rate"}, cur, n, min_count)
                    for v, n in zip(
                        steps_frame["step_conversion_rate"],
                        steps_frame["step_conversion_rate__denominator"],
                    )
                ]
                ui.table(
                    shown,
                    units={"step_reach_rate": "text", "step_conversion_rate": "text"},
                    # Whole in half of 1280 px (400 px).
                    widths={
                        "step": 150,
                        "attempts_reached": 70,
                        "step_reach_rate": 80,
                        "step_conversion_rate": 96,
                    },
                    labels={
                        "step": "Step",
                        "attempts_reached": "Reached",
                        "step_reach_rate": "Of started",
                        "step_conversion_rate": "From previous",
                    },
                    column_config={
                        c: st.column_config.TextColumn(label, alignment="right", width=width)
                        for c, label, width in (
                            ("step_reach_rate", "Of started", 80),
                            ("step_conversion_rate", "From previous", 96),
                        )
                    },
                )

        with right:
            st.subheader("Drop-off points")
            # An attempt that reached the last step completed: it is never abandoned there, so
            # that step (always 0% in the metric) is not drawn.
            abandoned = steps_frame[
                steps_frame["abandonment_by_step"].notna()
                & (steps_frame["step_index"] < len(steps))
            ]
            if abandoned.empty:
                st.info("No abandoned attempts in these months.")
            else:
                step_bars(
                    abandoned,
                    "abandonment_by_step",
                    "Abandoned attempts by the last step reached",
                    palette.LOSS,
                    unit="rate",
                )
                st.caption(
                    "Shares of the abandoned attempts, adding up to 100% "
                    f"(`{catalog['abandonment_by_step']['label']}`, the `abandonment_by_step` "
                    f"metric). The last step ({md_escape(steps[-1])}) is a completion, never an "
                    "abandonment: it is not drawn."
                )

with time_tab:
    if time_tab.open:
        st.subheader("Time to convert")
        hours = data.activation_hours(r, filters.segments, filters.month_from, filters.month_to)
        if hours.empty:
            st.info("No attempt of these months has activated yet.")
        else:
            st.altair_chart(
                charts.binned_histogram(
                    hours,
                    x_title="Hours from first step to activation",
                    color="segment" if filters.compare else "outcome",
                    color_order=order if filters.compare else None,
                ),
                width="stretch",
            )
            p50, p90 = (
                catalog["intent_to_activation_hours_p50"],
                catalog["intent_to_activation_hours_p90"],
            )
            st.caption(
                " · ".join(
                    f"{md_escape(s.label)}: {md_escape(p50['label'])} "
                    f"{ui.metric_text(ui.metric_value(picked[s], p50['metric_id']), p50, cur)}, "
                    f"{md_escape(p90['label'])} "
                    f"{ui.metric_text(ui.metric_value(picked[s], p90['metric_id']), p90, cur)}"
                    for s in filters.segments
                )
                + " (completed attempts whose change has activated)."
            )

with escalation_tab:
    if escalation_tab.open:
        left, right = two_columns()
        with left:
            st.subheader("Escalation by step")
            escalations = steps_frame[steps_frame["attempts_stopped"] > 0].copy()
            if escalations.empty:
                st.info("No attempts in these months.")
            else:
                step_bars(
                    escalations,
                    "attempts_escalated",
                    "Escalated attempts by the last step reached",
                    palette.WARN,
                )
                escalations["step_escalation_rate"] = [
                    ui.metric_text(v, {"unit": "rate"}, cur, n, min_count)
                    for v, n in zip(
                        escalations["step_escalation_rate"],
                        escalations["step_escalation_rate__denominator"],
                    )
                ]
                columns = ["step", "attempts_stopped", "attempts_escalated", "step_escalation_rate"]
                ui.table(
                    escalations[(["segment"] if filters.compare else []) + columns],
                    units={"step_escalation_rate": "text"},
                    widths={
                        "step": 150,
                        "attempts_stopped": 72,
                        "attempts_escalated": 80,
                        "step_escalation_rate": 90,
                    },
                    labels={
                        "segment": "Segment",
                        "step": "Step",
                        "attempts_stopped": "Attempts",
                        "attempts_escalated": "Escalated",
                        "step_escalation_rate": "Share",
                    },
                    column_config={
                        "step_escalation_rate": st.column_config.TextColumn(
                            "Share", alignment="right", width=90, help="Escalated / attempts"
                        )
                    },
                )
        with right:
            st.subheader("Outcomes")
            ui.table(
                pd.DataFrame(
                    [
                        {
                            "outcome": o.replace("_", " ").capitalize(),
                            **{
                                s.label: ui.metric_value(picked[s], f"attempts_{o}")
                                for s in filters.segments
                            },
                        }
                        for o in data.OUTCOMES
                    ]
                ),
                units={s.label: "count" for s in filters.segments},
                width="content",
            )
