"""Data quality: what each load read, accepted and quarantined (by reason), expectation
results, Data Docs, as_of."""

import json

import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_ts, md_escape

r = ui.ref()
info = data.build_info(r)

st.title("Data quality")
cols = st.columns([3, 1.4, 2.6])
cols[0].metric(
    "Data as of (UTC)",
    info["as_of"].strftime("%Y-%m-%d %H:%M"),
    border=True,
    help="Events after as_of are ignored by every metric. Exactly: "
    + format_ts(info["as_of"])
    + ".",
)
cols[1].metric(
    "Currency",
    info["reporting_currency"],
    border=True,
    help="The reporting currency of every money figure.",
)
cols[2].metric(
    "Published",
    info["published_at"].strftime("%Y-%m-%d %H:%M"),
    border=True,
    help="When this warehouse file was published by `upgrade-warehouse build`.",
)
parameters = st.expander("Build parameters", key="dq_parameters", on_change="rerun")
with parameters:
    if parameters.open:
        st.json(info["parameters"])

# Only the open tab runs (on_change="rerun"; switching tabs reruns the page): what the
# load read, accepted and held back first; the expectations and the documentation when
# opened (docs/dashboard.md, "Speed").
load_tab, expectations_tab = st.tabs(
    ["Load report and quarantine", "Expectations and docs"], key="dq_tab", on_change="rerun"
)

with load_tab:
    if load_tab.open:
        # ---------------------------------------------------------------------- load report
        st.subheader("Load report")
        # The headers of the load report and the sources table (a label per column name).
        ROW_LABELS = {
            "table_name": "Table",
            "source_table": "Source table",
            "rows_read": "Read",
            "rows_accepted": "Accepted",
            "rows_mapped": "Mapped",
            "rows_skipped": "Skipped",
            "rows_quarantined": "Quarantined",
            "accepted_share": "Accepted share",
            "skipped_by_rule": "Skipped by rule",
            "quarantined_by_reason": "Quarantined by reason",
        }
        report = data.load_report(r)
        ui.table(report, every_row=True, labels=ROW_LABELS)
        not_loaded = list(report.loc[~report["loaded"], "table_name"])
        if not_loaded:
            st.caption(
                "No data loaded for "
                + ", ".join(md_escape(t) for t in not_loaded)
                + ": optional tables; their metrics are null."
            )

        # ------------------------------------------------------------------------- sources
        sources = data.source_report(r)
        if sources is not None and not sources.empty:
            st.subheader("Sources (sources.yml)")
            st.caption(
                "Landed tables mapped to the contract (docs/sources.md): every row read was "
                "mapped, skipped by a named rule or quarantined with a reason."
            )
            shown = sources.drop(columns=["source_shape"])  # the shape is in the load report's file
            ui.table(shown, every_row=True, labels=ROW_LABELS)

        # ----------------------------------------------------------------------- quarantine
        st.subheader("Quarantined rows by reason")
        reasons = data.quarantine_by_reason(r)
        if reasons.empty:
            st.success("No row was quarantined.")
        else:
            totals = data.quarantine_by_table_and_reason(r)
            left, right = st.columns(2)
            left.altair_chart(
                charts.stacked_bars(
                    totals,
                    "table_name",
                    "rows",
                    "reason_code",
                    horizontal=True,
                    height="fit",
                    title="Quarantined rows by table and reason",
                ),
                width="stretch",
            )
            ui.table(
                reasons,
                labels={"table_name": "Table", "reason_code": "Reason"},
                container=right,
                space=ui.HALF,
            )

            # The rows themselves run only when opened (on_change="rerun": two pickers and a
            # table not drawn on every visit; docs/dashboard.md, "Speed").
            rows_box = st.expander(
                "Quarantined rows, as they came (to fix and reload)",
                key="dq_rows",
                on_change="rerun",
            )
            with rows_box:
                if rows_box.open:
                    fcols = st.columns(2)
                    table, reason = (
                        col.selectbox(
                            label,
                            [None, *sorted(reasons[column].unique())],
                            key=key,
                            format_func=lambda v, every=every: every if v is None else v,
                        )
                        for col, label, column, key, every in zip(
                            fcols,
                            ("Table", "Reason"),
                            ("table_name", "reason_code"),
                            ("dq_table", "dq_reason"),
                            ("All tables", "All reasons"),
                        )
                    )
                    rows = data.quarantined_rows(r, table, reason)
                    st.caption(
                        f"First {len(rows):,} rows (file order). Row 1 is the first data row."
                    )
                    ui.table(
                        rows,
                        # Whole at 1280 px; the row as it came is cut to its column (hover
                        # or widen it).
                        widths={
                            "table_name": 110,
                            "source_file": 130,
                            "row_number": 56,
                            "reason_code": 120,
                            "reason_column": 100,
                            "raw_row": 290,
                        },
                        labels={
                            "table_name": "Table",
                            "source_file": "File",
                            "row_number": "Row",
                            "reason_code": "Reason",
                            "reason_column": "Column",
                            "raw_row": "Row as it came",
                        },
                    )

with expectations_tab:
    if expectations_tab.open:
        # --------------------------------------------------------------------- expectations
        st.subheader("Expectation results")
        results = data.expectation_results(r)
        if results is None:
            ui.not_built(
                "Expectation results (quality.expectation_results)",
                "The Great Expectations gate adds them to the warehouse; rebuild with a version "
                "that has it.",
            )
        elif results.empty:
            st.info("No expectations were run for this warehouse.")
        else:
            failed = results[~results["success"].fillna(False)]
            blocking = failed[failed["severity"] == "blocking"]
            cols = st.columns(3)
            cols[0].metric("Expectations", f"{len(results):,}", border=True)
            cols[1].metric("Failed (warning)", f"{len(failed) - len(blocking):,}", border=True)
            cols[2].metric("Failed (blocking)", f"{len(blocking):,}", border=True)
            ui.table(data.expectation_summary(r))
            every = st.expander(
                f"Every expectation ({len(results):,}), failed first",
                key="dq_expectations",
                on_change="rerun",
            )
            with every:
                if every.open:
                    shown = results.copy()
                    shown["details"] = [
                        d if isinstance(d, str) or d is None else json.dumps(d)
                        for d in shown["details"]
                    ]
                    ui.table(shown, widths={"details": "large"}, labels={"success": "Passed"})

        st.subheader("Data Docs")
        docs = data.data_docs_path(r)
        if docs is None:
            st.info(
                "No Data Docs next to this warehouse yet (expected at "
                f"{md_escape(str(data.data_docs_path_expected(r)))})."
            )
        else:
            st.link_button("Open Data Docs", docs.as_uri(), icon=":material/open_in_new:")
            st.caption("Browsers may block file links from a web page: open this file instead.")
            st.code(str(docs), language=None)

        st.subheader("Model documentation")
        st.link_button("Open the dbt docs", data.dbt_docs_url(), icon=":material/account_tree:")
        st.caption(
            "Every model, column, test and the lineage from the raw exports to each page, "
            "served by `upgrade-warehouse docs` (or `make docs`) on this machine."
        )
