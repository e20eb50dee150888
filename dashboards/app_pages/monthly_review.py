"""Monthly review (RevOps): what moved beyond noise and the MRR bridge of the month
picked, then every metric by month, CSV and Excel downloads."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import data, movers_data, review, ui
from upgrade_warehouse.dashboard.fmt import format_ts, format_value, md_escape, month_label

r = ui.ref()
cfg = ui.config()
result = data.metrics(r)
catalog = ui.catalog(r)
cur = ui.currency(r)
info = data.build_info(r)
months = result["months"]

st.title("Monthly review")
if not months:
    st.info("The warehouse has no months yet.")
    st.stop()

left, right = st.columns([1, 3])
# The last month that ended at or before as_of (metrics.md "What moved"), not the
# as_of month, which is still under way.
month = ui.month_select(
    r, key="review_month", container=left, default=movers_data.movers.default_month(info["as_of"])
)
index = next(i for i, m in enumerate(months) if m["month"] == month)
previous_month = months[index - 1]["month"] if index > 0 else None
month_warnings = ui.warnings_banner(r, month)
right.caption(
    "What moved and the MRR bridge of the month picked; in the other tabs, every metric "
    "of the catalog for that month against the month before, and the months before it. "
    "Rates are shares of their population (changes in percentage points), money is in "
    f"the reporting currency ({cur}); a dash means no value (empty population, or the "
    "source table was not loaded)."
)

SENTENCES = 10  # movers as sentences; the rest in the expander's table
moved = movers_data.movements(r, month)


def show_moved() -> None:
    """What moved beyond noise, as sentences (every mover in a table when opened)."""
    st.subheader(f"What moved in {month_label(month)}")
    if not moved.movers:
        st.write(
            f"Nothing moved beyond noise against {month_label(moved.previous_month)} "
            f"(rates over at least {moved.min_count} cases in both months)."
        )
    for m in moved.movers[:SENTENCES]:
        arrow = "▲" if (m.comparison.diff or 0) > 0 else "▼"
        good = movers_data.movers.is_good_news(m)
        mark = arrow if good is None else f":{'green' if good else 'red'}[{arrow}]"
        st.markdown(f"{mark} {md_escape(movers_data.movers.sentence(m))}")
    st.caption(
        f"{month_label(moved.month)} against {month_label(moved.previous_month)}, in all "
        "accounts and in each segment of persona, acquisition source, segment and country: "
        f"a rate moved beyond noise when both months have at least {moved.min_count} cases "
        "and the change is at least 1.96 standard errors (|z| >= 1.96, a two-sided 5% test); "
        "largest |z| first. Green: good news by the metric's direction; red: bad news."
    )
    if len(moved.movers) > SENTENCES:
        every_mover = st.expander(
            f"All {len(moved.movers)} movers", key="review_all_movers", on_change="rerun"
        )
        with every_mover:
            if every_mover.open:
                st.dataframe(
                    pd.DataFrame(
                        {
                            "What moved": [movers_data.movers.sentence(m) for m in moved.movers],
                            "z": [f"{m.comparison.z:+.2f}" for m in moved.movers],
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                )


def show_bridge() -> None:
    """The MRR bridge as waterfalls: all accounts, and a segment picked."""
    st.subheader(f"MRR bridge, {month_label(moved.month)}")
    everyone = movers_data.bridge_row(moved, None, None)
    dimensions = list(dict.fromkeys(b["dimension"] for b in moved.bridge if b["dimension"]))
    left_chart, right_chart = st.columns(2)
    with left_chart:
        st.altair_chart(movers_data.bridge_chart(everyone, cur, "All accounts"), width="stretch")
    if not dimensions:
        right_chart.info("No account attributes to split the bridge by.")
        return
    with right_chart:
        picks = st.columns(2)
        dimension = picks[0].selectbox(
            "Dimension", dimensions, key="review_bridge_dimension", format_func=ui.dimension_label
        )
        segments = [b for b in moved.bridge if b["dimension"] == dimension]
        biggest = max(range(len(segments)), key=lambda i: abs(segments[i]["net_new_mrr"] or 0))
        picked_segment = picks[1].selectbox(
            "Segment",
            range(len(segments)),
            index=biggest,
            key=f"review_bridge_segment_{dimension}",
            format_func=lambda i: (
                "(none)" if segments[i]["segment"] is None else str(segments[i]["segment"])
            ),
        )
        row = segments[picked_segment]
        st.altair_chart(
            movers_data.bridge_chart(row, cur, movers_data.segment_name(dimension, row["segment"])),
            width="stretch",
        )
    ends = movers_data.has_ends(everyone)
    st.caption(
        (
            "Start MRR + new + expansion + reactivation + contraction + churn + other = end MRR "
            "(other: what the movements do not explain, such as fx revaluation or a change "
            "that takes effect in another month)"
            if ends
            else "New + expansion + reactivation + contraction + churn = net new MRR"
        )
        + f", in the reporting currency ({cur}). The segment picked first is the one with "
        "the largest net new MRR either way."
    )
    by_segment = st.expander(
        f"MRR bridge by {ui.dimension_label(dimension)}",
        key="review_bridge_table",
        on_change="rerun",
    )
    with by_segment:
        if by_segment.open:
            # Start, net new, other and end of each segment fit the page at 1280 px; the
            # movements of one segment are in the chart above, of all in the workbook.
            bridge = movers_data.bridge_table(moved, dimension, movements=False)
            ui.text_table(bridge, ui.fit_widths(bridge, ui.FULL))
            st.caption(
                "New, expansion, reactivation, contraction and churn of a segment: the chart "
                "above (pick the segment); of every segment: the workbook's MRR bridge sheet."
            )


def show_every_metric() -> None:
    """Every metric of the month against the month before, and the downloads."""
    st.subheader(f"Every metric, {month_label(month)}")
    rows = review.review_rows(result, catalog, month, cfg, cur)
    table = review.review_table(rows, month, previous_month, cur)
    sections = list(dict.fromkeys(table["Section"]))
    picked = st.multiselect("Sections", sections, default=sections, key="review_sections")
    shown = table[table["Section"].isin(picked)]
    # Widths in pixels: the whole table fits the page at 1280 px; the definitions below
    # it (and in the CSV and the workbook).
    numbers = {
        c: st.column_config.TextColumn(c, alignment="right", width=110) for c in table.columns[2:5]
    }
    ui.text_table(
        shown.drop(columns=["Definition", "Metric id"]),
        {"Section": 72, "Metric": 230, "Target": 140},
        column_config=numbers,
    )
    definitions = st.expander("Definitions", key="review_definitions", on_change="rerun")
    with definitions:
        if definitions.open:
            st.markdown(
                "\n".join(
                    f"- **{md_escape(label)}**: {md_escape(definition)}"
                    for label, definition in dict(zip(shown["Metric"], shown["Definition"])).items()
                )
            )

    downloads = st.columns(3)
    ui.download(
        downloads[0],
        f"{month_label(month)} as shown (CSV)",
        lambda: review.review_csv(table, month_warnings),
        f"monthly-review-{month}.csv",
        "The table above: labels, formatted values, change and target (one row per "
        "metric, the metric id last).",
    )
    ui.download(
        downloads[1],
        f"{month_label(month)} workbook (Excel)",
        lambda: review.review_xlsx(
            rows,
            month,
            previous_month,
            cur,
            format_ts(info["as_of"]),
            month_warnings,
            movements=None if isinstance(moved, str) else moved,
        ),
        f"monthly-review-{month}.xlsx",
        "What moved, the MRR bridge, then one sheet per section; values are numbers "
        "with number formats.",
    )
    ui.download(
        downloads[2],
        "All months, raw (CSV)",
        lambda: ui.metrics_csv(r, None),
        "metrics.csv",
        "The same file as `upgrade-warehouse metrics --format csv` (metric ids, "
        "fractions, major units): for scripts.",
    )


SHOWN_MONTHS = 5  # at 1280 px; the raw CSV (tab Every metric) has every month


def show_month_by_month() -> None:
    """Every metric in the SHOWN_MONTHS months up to the month picked."""
    st.subheader("Month by month")
    recent = months[max(0, index + 1 - SHOWN_MONTHS) : index + 1]
    st.caption(f"The {len(recent)} months up to {month_label(month)}; the raw CSV has every month.")
    wide = {"Metric": []}
    for m in recent:
        wide[month_label(m["month"])] = []
    for metric_id, meta in catalog.items():
        if meta["unit"].endswith("_by_key"):
            keys = []
            for m in recent:
                keys += [k for k in (m.get(metric_id) or {}) if k not in keys]
            for key in keys:
                wide["Metric"].append(f"{meta['label']} · {key}")
                for m in recent:
                    wide[month_label(m["month"])].append(
                        format_value((m.get(metric_id) or {}).get(key), meta["unit"], cur)
                    )
            continue
        wide["Metric"].append(meta["label"])
        for m in recent:
            wide[month_label(m["month"])].append(format_value(m.get(metric_id), meta["unit"], cur))
    st.dataframe(
        pd.DataFrame(wide),
        hide_index=True,
        width="stretch",
        column_config={
            "Metric": st.column_config.TextColumn(width=250, pinned=True),
            **{
                month_label(m["month"]): st.column_config.TextColumn(alignment="right", width=100)
                for m in recent
            },
        },
    )


# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the month
# kept): What moved and the MRR bridge first, as RevOps reads the month; the other tabs
# hold the two large tables (docs/dashboard.md, "Speed"). The warnings banner above
# covers every tab.
moved_tab, every_tab, months_tab = st.tabs(
    ["What moved and MRR bridge", "Every metric", "Month by month"],
    key="review_tab",
    on_change="rerun",
)
with moved_tab:
    if moved_tab.open and isinstance(moved, str):
        st.info(f"No month-over-month comparison: {md_escape(moved)}")
    elif moved_tab.open:
        show_moved()
        show_bridge()
with every_tab:
    if every_tab.open:
        show_every_metric()
with months_tab:
    if months_tab.open:
        show_month_by_month()
