"""Monthly review (RevOps): every metric by month, a month picker, CSV download."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import data, review, ui
from upgrade_warehouse.dashboard.fmt import format_ts, format_value, month_label

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
month = ui.month_select(r, key="review_month", container=left)
index = next(i for i, m in enumerate(months) if m["month"] == month)
previous_month = months[index - 1]["month"] if index > 0 else None
month_warnings = ui.warnings_banner(r, month)
right.caption(
    "Every metric of the catalog for the month picked, against the month before. "
    "Rates are shares of their population (changes in percentage points), money is in "
    f"the reporting currency ({cur}); a dash means no value (empty population, or the "
    "source table was not loaded)."
)

rows = review.review_rows(result, catalog, month, cfg, cur)
table = review.review_table(rows, month, previous_month, cur)
sections = list(dict.fromkeys(table["Section"]))
picked = st.multiselect("Sections", sections, default=sections, key="review_sections")
shown = table[table["Section"].isin(picked)]
# Widths in pixels: whole values and targets at 1280 px; the definition last (scroll).
numbers = {
    c: st.column_config.TextColumn(c, alignment="right", width=110) for c in table.columns[2:5]
}
st.dataframe(
    shown.drop(columns=["Metric id"]),
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(shown), 900),
    column_config={
        "Section": st.column_config.TextColumn(width=90),
        "Metric": st.column_config.TextColumn(width=280),
        **numbers,
        "Target": st.column_config.TextColumn(width=160),
        "Definition": st.column_config.TextColumn(width="large"),
    },
)

downloads = st.columns(3)
downloads[0].download_button(
    f"{month_label(month)} as shown (CSV)",
    lambda: review.review_csv(table, month_warnings),  # made when clicked: no cost on a page run
    file_name=f"monthly-review-{month}.csv",
    mime="text/csv",
    icon=":material/download:",
    help="The table above: labels, formatted values, change and target (one row per "
    "metric, the metric id last).",
)
downloads[1].download_button(
    f"{month_label(month)} workbook (Excel)",
    lambda: review.review_xlsx(
        rows, month, previous_month, cur, format_ts(info["as_of"]), month_warnings
    ),
    file_name=f"monthly-review-{month}.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    icon=":material/table_view:",
    help="One sheet per section; values are numbers with number formats.",
)
downloads[2].download_button(
    "All months, raw (CSV)",
    lambda: ui.metrics_csv(r, None),
    file_name="metrics.csv",
    mime="text/csv",
    icon=":material/download:",
    help="The same file as `upgrade-warehouse metrics --format csv` (metric ids, "
    "fractions, major units): for scripts.",
)

st.subheader("All months")
wide = {"Metric": []}
for m in months:
    wide[month_label(m["month"])] = []
for metric_id, meta in catalog.items():
    if meta["unit"].endswith("_by_key"):
        keys = []
        for m in months:
            keys += [k for k in (m.get(metric_id) or {}) if k not in keys]
        for key in keys:
            wide["Metric"].append(f"{meta['label']} · {key}")
            for m in months:
                wide[month_label(m["month"])].append(
                    format_value((m.get(metric_id) or {}).get(key), meta["unit"], cur)
                )
        continue
    wide["Metric"].append(meta["label"])
    for m in months:
        wide[month_label(m["month"])].append(format_value(m.get(metric_id), meta["unit"], cur))
st.dataframe(
    pd.DataFrame(wide),
    hide_index=True,
    width="stretch",
    column_config={
        "Metric": st.column_config.TextColumn(width=280, pinned=True),
        **{month_label(m["month"]): st.column_config.TextColumn(alignment="right") for m in months},
    },
)
