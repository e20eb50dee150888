"""Cohorts (growth PMs): post-activation self-serve upgrade rate by activation month, by
an account attribute or feature use, with a compare mode."""

import streamlit as st

from upgrade_warehouse.dashboard import charts, data, stats, ui
from upgrade_warehouse.dashboard.data import Segment
from upgrade_warehouse.dashboard.fmt import md_escape, month_label

RATE = "post_activation_self_serve_rate"

r = ui.ref()
params = data.build_info(r)["parameters"]
catalog = ui.catalog(r)
meta = catalog[RATE]

st.title("Cohorts")
st.caption(
    "Accounts by the month of their first activation event "
    f"({md_escape(', '.join(params['activation_events']))}). A cohort member is *matured* "
    f"once {params['activation_window_days']} days (the activation window) have passed "
    "by as_of, and *converted* when it made a self-serve upgrade within that window. "
    "The rate is converted / matured."
)

ui.warnings_banner(r, codes=("stale", "quarantined_rows"))
available = data.cohort_dimensions(r)
if not available:
    st.info("No activated accounts yet.")
    st.stop()
order = data.segment_dimensions(r)  # the account attributes first, then feature use
breakdowns = sorted(
    (d for d in available if d != "all"),
    key=lambda d: (order.index(d) if d in order else len(order), d),
)
frames = {d: data.cohorts(r, d) for d in available}


NONE = "(none)"  # the cohort tables' name for accounts without a value


def values_of(dimension: str) -> list[tuple[str, int]]:
    """Each value of a breakdown with its activated accounts (all cohorts), (none) last."""
    totals = frames[dimension][frames[dimension]["month"].isna()]
    pairs = list(zip(totals["dimension_value"], totals["activated_accounts"]))
    return sorted(pairs, key=lambda pair: (pair[0] == NONE, pair[0]))


filters = ui.filter_bar(
    r,
    "cohorts",
    trend=True,
    multi=True,
    dimensions=breakdowns,
    values_of=values_of,
    dimension_key="cohort_dimension",
    default_dimension="persona",
)
frame = frames[filters.dimension]
if frame.empty:
    st.info("No activated accounts yet.")
    st.stop()
picked = [s.value for s in filters.segments]
frame = frame[frame["dimension_value"].isin(picked)]
by_month = frame[[filters.in_range(m) for m in frame["month"]]].copy()
by_month["enough"] = [
    stats.enough(n, filters.min_count) for n in by_month["matured_activated_accounts"]
]
totals = frame[frame["month"].isna()].copy()
name = ui.dimension_label(filters.dimension)
st.caption(
    f"Cohorts {month_label(filters.month_from)} to {month_label(filters.month_to)}. Cells "
    f"with fewer than {filters.min_count} matured accounts are greyed out (too few for a "
    "rate; dashboards/config.toml)."
)

# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the filters
# kept): the cohorts by activation month first, the curves by cohort age when opened
# (docs/dashboard.md, "Speed"). The warnings banner above covers both tabs.
month_tab, age_tab = st.tabs(
    ["By activation month", "By cohort age"], key="cohorts_tab", on_change="rerun"
)

with month_tab:
    if month_tab.open:
        if filters.compare:
            a, b = filters.segments
            st.subheader(f"{md_escape(a.label)} (A) vs {md_escape(b.label)} (B)")
            months_shown = sorted(set(by_month["month"]))

            def cohort(segment: Segment, month):
                """(rate, matured accounts) of one segment's cohort (month None = all cohorts)."""
                if segment.dimension == "all":
                    rows = frames["all"]
                else:
                    rows = frames[filters.dimension]
                    rows = rows[rows["dimension_value"] == segment.value]
                rows = rows[rows["month"].isna()] if month is None else rows[rows["month"] == month]
                if rows.empty:
                    return None, 0
                return rows[RATE].iloc[0], int(rows["matured_activated_accounts"].iloc[0])

            labels = [month_label(m) for m in months_shown] + ["All cohorts"]
            pairs = [(*cohort(a, m), *cohort(b, m)) for m in [*months_shown, None]]
            ui.show_compare(ui.rate_compare_table("cohort", labels, pairs, filters.min_count))
        elif by_month.empty:
            st.info("No cohort in these months.")
        else:
            st.altair_chart(
                charts.heatmap(
                    by_month,
                    x="month",
                    y="dimension_value",
                    value=RATE,
                    shown="enough",
                    note="",
                    y_sort=picked,
                    title=f"{meta['label']} by {name.lower()}",
                ),
                width="stretch",
            )

        st.subheader("Totals over all cohorts")
        totals["rate"] = [
            ui.metric_text(v, meta, "", n, filters.min_count)
            for v, n in zip(totals[RATE], totals["matured_activated_accounts"])
        ]
        ui.table(
            totals.sort_values("matured_activated_accounts", ascending=False)[
                [
                    "dimension_value",
                    "activated_accounts",
                    "matured_activated_accounts",
                    "converted_matured_accounts",
                    "rate",
                ]
            ],
            units={"rate": "text"},
            column_config={"rate": st.column_config.TextColumn(meta["label"], alignment="right")},
            labels={
                "dimension_value": name,
                "activated_accounts": catalog["activated_accounts"]["label"],
                "matured_activated_accounts": catalog["matured_activated_accounts"]["label"],
                "converted_matured_accounts": "Converted matured accounts",
                "rate": meta["label"],
            },
        )
        st.caption(
            "All cohorts together: the same definition over every activation month "
            "(computed in dbt, not added up here)."
        )

        cohort_table = st.expander("Cohort table", key="cohorts_table", on_change="rerun")
        with cohort_table:
            if cohort_table.open:
                ui.table(
                    by_month.drop(columns=["enough"]),
                    labels={
                        "month": "Activation month",
                        "dimension_value": name,
                        "activated_accounts": catalog["activated_accounts"]["label"],
                        "matured_activated_accounts": catalog["matured_activated_accounts"][
                            "label"
                        ],
                        "converted_matured_accounts": "Converted matured accounts",
                        RATE: meta["label"],
                    },
                )

with age_tab:
    if age_tab.open:
        curve = data.cohort_curve(r)
        curve = curve[[filters.in_range(m) for m in curve["month"]]]
        if curve.empty:
            st.info("No cohort in these months (or the warehouse was built before this view).")
        else:
            st.altair_chart(
                charts.age_curves(
                    curve,
                    "days_since_activation",
                    "cumulative_self_serve_upgrade_rate",
                    "month",
                    x_title="Days since activation",
                    title="Share of each activation month that made a self-serve upgrade",
                ),
                width="stretch",
            )
            st.caption(
                "All accounts of each activation month (the segment picked above does not split "
                "it): the share with a self-serve upgrade within that many days of activating, up "
                "to day 90. A line stops on the last day its whole cohort has been observed by "
                "as_of, so it never falls and the latest cohorts are short (docs/metrics.md, "
                '"Cohort upgrade curve").'
            )
