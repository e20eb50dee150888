"""Experiments (growth PMs): A/B tests of the upgrade flow, each variation against the
control with its 95% interval, verdicts in words, the sample-ratio check, the guardrail
and revenue per account beside the conversion metrics, a persona breakdown, exports."""

import streamlit as st

from upgrade_warehouse.dashboard import charts, ui
from upgrade_warehouse.dashboard import experiments_data as xd
from upgrade_warehouse.dashboard.fmt import format_ts, md_escape

r = ui.built_page("Experiments", xd.available, "experiments")

result = xd.results(r)
infos = xd.metric_infos(r)
currency = result["reporting_currency"]
min_accounts = result["min_accounts"]
experiments = {e["experiment_id"]: e for e in result["experiments"]}
if not experiments:
    st.info(
        "No experiment in this warehouse: no `experiment_viewed` event carries both an "
        "experiment_id and a variation_id (docs/experiments.md)."
    )
    st.stop()


left, right = st.columns([2, 3])
experiment_id = left.selectbox(
    "Experiment",
    list(experiments),
    format_func=lambda x: xd.picker_label(experiments[x]),
    key="experiment_id",
)
e = experiments[experiment_id]
right.caption(
    f"Control **{md_escape(e['control'])}**; exposures from "
    f"{md_escape(format_ts(xd.parse_ts(e['first_exposure'])))} to "
    f"{md_escape(format_ts(xd.parse_ts(e['last_exposure'])))}. "
    f"Each account counts from its first exposure, over the {result['window_days']} days "
    f"after it, once that window has closed (matured); {e['multiple_exposures']:,} "
    "accounts that saw two or more variations are left out. A verdict needs at least "
    f"{min_accounts:,} matured accounts on each side and p < 0.05."
)

if e["srm_warning"]:
    st.error(xd.srm_sentence(e), icon=":material/warning:")
else:
    st.caption(xd.srm_sentence(e))

rows = xd.variation_rows(e, infos, min_accounts, currency)
control = xd.control_of(e)

# The headline verdicts: a conversion metric of choice, the guardrail and revenue.
conversion_ids = [m for m in infos if infos[m].kind == "conversion"]
default = (
    conversion_ids.index("self_serve_upgrade_rate")
    if "self_serve_upgrade_rate" in conversion_ids
    else 0
)
primary = st.selectbox(
    "Conversion metric",
    conversion_ids,
    index=default,
    format_func=lambda m: infos[m].label,
    key="experiment_metric",
)
columns = st.columns(3)
for column, metric_id, heading in (
    (columns[0], primary, "Conversion"),
    (columns[1], xd.GUARDRAIL, "Guardrail"),
    (columns[2], xd.REVENUE, "Revenue"),
):
    info = xd.info_of(infos, metric_id)
    with column:
        st.subheader(heading)
        st.markdown(f"**{md_escape(info.label)}**")
        for row in rows:
            if row["metric_id"] != metric_id:
                continue
            value = xd.amount(row["value"], info.unit, currency)
            who = xd.variation_label(row["variation_id"], row["is_control"])
            st.markdown(f"{md_escape(who)}: **{md_escape(value)}** of {row['n']:,} accounts")
            if row["verdict"]:
                st.markdown(md_escape(row["verdict"]))

# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the
# experiment and the metric picked kept): the verdicts and their intervals first; every
# metric of every variation and the persona breakdown when opened (docs/dashboard.md,
# "Speed"). The sample-ratio verdict above covers every tab.
interval_tab, variations_tab, persona_tab = st.tabs(
    ["Intervals", "Variations", "By persona"], key="experiments_tab", on_change="rerun"
)


def persona_rows():
    """The chosen metric in each persona (the workbook's By persona sheet too)."""
    by_persona = xd.results(r, "persona")
    return xd.segment_rows(by_persona, experiment_id, primary, infos, min_accounts, currency)


with interval_tab:
    if interval_tab.open:
        st.subheader("Difference against the control, with its 95% interval")
        rate_frame = xd.interval_frame(rows, "rate")
        money_frame = xd.interval_frame(rows, "money")
        variation_order = [
            v["variation_id"] for v in e["variations"] if v["variation_id"] != e["control"]
        ]
        metric_order = [infos[m].label for m in infos if infos[m].unit == "rate"]
        if rate_frame.empty and money_frame.empty:
            st.info("No interval yet: a side has no matured account.")
        else:
            chart_left, chart_right = st.columns([3, 2])
            if not rate_frame.empty:
                chart_left.altair_chart(
                    charts.intervals(
                        rate_frame,
                        unit_title="percentage points",
                        metric_order=metric_order,
                        variation_order=variation_order,
                    ),
                    width="stretch",
                )
            if not money_frame.empty:
                chart_right.altair_chart(
                    charts.intervals(
                        money_frame,
                        unit_title=f"revenue per account, {currency}",
                        variation_order=variation_order,
                    ),
                    width="stretch",
                )
            st.caption(
                "A dot is the difference, the bar its 95% interval; an interval that crosses the "
                "dashed line at 0 is compatible with no effect."
            )

with variations_tab:
    if variations_tab.open:
        table = xd.table_frame(rows, currency)
        ui.text_table(
            table.drop(columns=["Verdict"]),  # in words below: the table fits the page at 1280 px
            {
                "Metric": 175,
                "Variation": 85,
                "Value": 75,
                "Accounts (n)": 75,
                "Difference": 80,
                "95% interval": 95,
                "p-value": 60,
            },
            most=700,
            column_config={
                "Beats control": st.column_config.TextColumn(
                    "Beats ctrl", width=70, help="Chance to beat the control: Phi(z)."
                ),
            },
        )
        with st.expander("Verdict for each metric"):
            st.markdown(
                "\n".join(
                    f"- **{md_escape(row['Metric'])}**: {md_escape(row['Verdict'])}"
                    for row in table.to_dict("records")
                    if row["Verdict"]
                )
                or "No comparison yet."
            )

        downloads = st.columns(2)
        ui.download(
            downloads[0],
            f"{experiment_id} (CSV)",
            lambda: xd.experiment_csv(result, experiment_id),
            f"experiment-{experiment_id}.csv",
            "The experiment's rows of `upgrade-warehouse experiments --format csv`.",
        )
        ui.download(
            downloads[1],
            f"{experiment_id} workbook (Excel)",
            lambda: xd.experiment_xlsx(result, e, rows, persona_rows(), format_ts(result["as_of"])),
            f"experiment-{experiment_id}.xlsx",
            "About, every metric of every variation (numbers with formats) and the persona "
            "breakdown.",
        )

with persona_tab:
    if persona_tab.open:
        personas = persona_rows()
        st.caption(
            f"{md_escape(infos[primary].label)} in each persona: the same comparison over the "
            "persona's accounts only (the control stays the experiment's)."
        )
        verdicts = [
            f"- **{md_escape(row['Segment'])}**: {md_escape(row['Verdict'])}"
            for row in personas.to_dict("records")
            if row["Verdict"]
        ]
        if verdicts:
            st.markdown("\n".join(verdicts))
        ui.text_table(personas.drop(columns=["Verdict"]))  # verdicts in words above
