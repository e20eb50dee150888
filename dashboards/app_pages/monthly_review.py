"""Monthly review (RevOps): every metric by month, a month picker, CSV download."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import data, ui
from upgrade_warehouse.dashboard.fmt import format_value, month_label

r = ui.ref()
cfg = ui.config()
result = data.metrics(r)
catalog = ui.catalog(r)
cur = ui.currency(r)
months = result["months"]

st.title("Monthly review")
if not months:
    st.info("The warehouse has no months yet.")
    st.stop()

left, right = st.columns([1, 3])
month = ui.month_select(r, key="review_month", container=left)
index = next(i for i, m in enumerate(months) if m["month"] == month)
row, previous = months[index], months[index - 1] if index > 0 else None
right.caption(
    "Every metric of the catalog for the month picked, against the month before. "
    "Rates are shares of their population, money is in the reporting currency "
    f"({cur}); a dash means no value (empty population, or the source table was not "
    "loaded)."
)


def rows_for(metric_id: str, meta: dict) -> list[dict]:
    """One row per scalar metric, one per key of a keyed metric."""
    unit = meta["unit"]
    value = row.get(metric_id)
    prev = previous.get(metric_id) if previous else None
    if isinstance(value, dict) or isinstance(prev, dict) or meta["unit"].endswith("_by_key"):
        keys = list((value or {}).keys())
        keys += [k for k in (prev or {}) if k not in keys]
        return [
            {
                "section": meta["section"],
                "metric": f"{meta['label']} · {key}",
                "metric id": f"{metric_id}.{key}",
                month_label(month): format_value((value or {}).get(key), unit, cur),
                "previous": format_value((prev or {}).get(key), unit, cur),
                "change": ui.change_text((value or {}).get(key), (prev or {}).get(key), unit, cur),
                "target": "",
                "definition": meta["definition"],
            }
            for key in keys
        ]
    return [
        {
            "section": meta["section"],
            "metric": meta["label"],
            "metric id": metric_id,
            month_label(month): format_value(value, unit, cur),
            "previous": format_value(prev, unit, cur),
            "change": ui.change_text(value, prev, unit, cur),
            "target": ui.target_badge(cfg, metric_id, value, unit, cur),
            "definition": meta["definition"],
        }
    ]


table = pd.DataFrame([r_ for mid, meta in catalog.items() for r_ in rows_for(mid, meta)])
sections = list(dict.fromkeys(table["section"]))
picked = st.multiselect("Sections", sections, default=sections, key="review_sections")
st.dataframe(
    table[table["section"].isin(picked)],
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(table), 900),
    column_config={"definition": st.column_config.TextColumn(width="large")},
)

downloads = st.columns(2)
downloads[0].download_button(
    f"Download {month_label(month)} (CSV)",
    ui.metrics_csv(r, month),
    file_name=f"metrics-{month}.csv",
    mime="text/csv",
    icon=":material/download:",
)
downloads[1].download_button(
    "Download all months (CSV)",
    ui.metrics_csv(r, None),
    file_name="metrics.csv",
    mime="text/csv",
    icon=":material/download:",
    help="The same file as `upgrade-warehouse metrics --format csv`.",
)

st.subheader("All months")
wide = {"metric": [], "metric id": []}
for m in months:
    wide[month_label(m["month"])] = []
for metric_id, meta in catalog.items():
    if meta["unit"].endswith("_by_key"):
        keys = []
        for m in months:
            keys += [k for k in (m.get(metric_id) or {}) if k not in keys]
        for key in keys:
            wide["metric"].append(f"{meta['label']} · {key}")
            wide["metric id"].append(f"{metric_id}.{key}")
            for m in months:
                wide[month_label(m["month"])].append(
                    format_value((m.get(metric_id) or {}).get(key), meta["unit"], cur)
                )
        continue
    wide["metric"].append(meta["label"])
    wide["metric id"].append(metric_id)
    for m in months:
        wide[month_label(m["month"])].append(format_value(m.get(metric_id), meta["unit"], cur))
st.dataframe(pd.DataFrame(wide), hide_index=True, width="stretch")
