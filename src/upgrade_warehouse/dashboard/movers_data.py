""" "What moved" and the MRR bridge on the Monthly review page and in its workbook.

The movements come from :func:`upgrade_warehouse.movers.read_movements` (the very same
function as ``upgrade-warehouse movers``: one comparison, :mod:`upgrade_warehouse.stats`);
this module caches it per warehouse version, turns the movers into sentences, draws the
MRR bridge as a waterfall and writes the "What moved" and "MRR bridge" sheets.

The bridge's ends (``mrr_start``, ``mrr_other``, ``mrr_end`` of metrics.md) are used when
the warehouse has them: start MRR, the five movements, other, end MRR. Without them
(a warehouse built before they existed) the waterfall starts at 0 and ends with the net
new MRR bar.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from .. import movers, warehouse
from ..errors import UserError
from . import palette
from .charts import _fast, waterfall_bars

# Streamlit-free parts, shared with the review pack (upgrade_warehouse.review_pack).
STEP_LABELS = movers.STEP_LABELS
bridge_row = movers.bridge_row
has_ends = movers.has_ends
waterfall_frame = movers.waterfall_frame


def _cache(function):
    import streamlit as st

    from .marts import TTL

    return st.cache_data(ttl=TTL, max_entries=64, show_spinner=False)(function)


@_cache
def movements(ref, month: str) -> movers.Movements | str:
    """ "What moved" of ``month`` against the month before, or the reason there is none
    (text: the first month of the warehouse, or a warehouse built before the movers)."""
    with warehouse.connect(ref.path) as con:
        try:
            movers.check_built(con, ref.path)
            return movers.read_movements(con, month)
        except UserError as exc:
            return str(exc).removeprefix("--month ")


@_fast
def bridge_chart(row: dict, currency: str, title: str = "") -> alt.Chart:
    """The MRR bridge of one segment as a waterfall: totals blue, gains green, losses red,
    each bar's amount above it."""
    return waterfall_bars(
        waterfall_frame(row),
        "step",
        {"total": palette.NET, "gain": palette.GAIN, "loss": palette.LOSS},
        currency,
        title,
    )


def segment_name(dimension: str | None, segment: str | None) -> str:
    if dimension is None:
        return "All accounts"
    name = dimension.replace("_", " ").capitalize()
    return f"{name}: {'(none)' if segment is None else segment}"


def bridge_table(
    data: movers.Movements, dimension: str | None, *, movements: bool = True
) -> pd.DataFrame:
    """The bridge rows of ``dimension`` (None: all accounts), formatted: one row per
    segment, the movements (``movements``; without them: start, other and end), net new
    MRR and the previous month's net new MRR."""
    from .fmt import format_value

    cur = data.reporting_currency
    rows = [r for r in data.bridge if r["dimension"] == dimension]
    keys = [
        k
        for k in ("mrr_start", *(movers.MOVEMENTS if movements else ()), "mrr_other", "mrr_end")
        if k in (rows[0] if rows else {})
    ]
    out = {"Segment": [segment_name(r["dimension"], r["segment"]) for r in rows]}
    for key in (*keys, "net_new_mrr", "previous_net_new_mrr"):
        title = (
            f"{STEP_LABELS['net_new_mrr']} {data.previous_month}"
            if key == "previous_net_new_mrr"
            else STEP_LABELS[key]
        )
        out[title] = [format_value(r.get(key), "money", cur) for r in rows]
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------- workbook


def add_sheets(book, data: movers.Movements) -> None:
    """The "What moved" and "MRR bridge" sheets of the Monthly review workbook (numbers
    stored as numbers: rates as percent, money with the currency's exponent)."""
    from openpyxl.utils import get_column_letter

    from ..exports import append_header, safe_text
    from .review import number_format

    sheet = book.create_sheet("What moved")
    sheet.append(
        [
            (
                f"{data.month} against {data.previous_month}: both months >= {data.min_count} "
                'cases and |z| >= 1.96 (metrics.md "What moved"), ranked by |z|'
            )
        ]
    )
    headers = [
        "Rank",
        "What moved",
        "Metric",
        "Dimension",
        "Segment",
        data.previous_month,
        f"n {data.previous_month}",
        data.month,
        f"n {data.month}",
        "Change (pp)",
        "z",
        "p-value",
        "Metric id",
    ]
    append_header(sheet, headers)
    for rank, m in enumerate(data.movers, start=1):
        c = m.comparison
        sheet.append(
            [
                rank,
                safe_text(movers.sentence(m)),
                safe_text(m.label),
                m.dimension or "all accounts",
                safe_text(m.segment) if m.dimension else None,
                m.previous_value,
                m.previous_n,
                m.value,
                m.n,
                None if c.diff is None else c.diff * 100,
                c.z,
                c.p_value,
                m.metric_id,
            ]
        )
        line = sheet.max_row
        for column in (6, 8):
            sheet.cell(line, column).number_format = "0.0%"
        sheet.cell(line, 10).number_format = "+0.0;-0.0;0.0"
        sheet.cell(line, 11).number_format = "+0.00;-0.00;0.00"
        sheet.cell(line, 12).number_format = "0.0000"
    if not data.movers:
        sheet.append([None, "Nothing moved beyond noise."])
    for column, width in enumerate((6, 90, 30, 20, 20, 12, 10, 12, 10, 12, 8, 10, 30), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A3"

    bridge = book.create_sheet("MRR bridge")
    first = data.bridge[0] if data.bridge else {}
    ends = [k for k in movers.BRIDGE_ENDS if k in first]
    columns = ["Dimension", "Segment"]
    if "mrr_start" in ends:
        columns.append("Start MRR")
    columns += [STEP_LABELS[k] for k in movers.MOVEMENTS]
    if "mrr_other" in ends:
        columns.append("Other")
    if "mrr_end" in ends:
        columns.append("End MRR")
    net = STEP_LABELS["net_new_mrr"]
    columns += [net, f"{net} {data.previous_month}"]
    bridge.append([f"MRR bridge of {data.month} ({data.reporting_currency}, major units)"])
    append_header(bridge, columns)
    money = number_format("money", data.reporting_currency)
    for row in data.bridge:
        values = [
            row["dimension"] or "all accounts",
            safe_text(row["segment"]) if row["dimension"] else None,
        ]
        if "mrr_start" in ends:
            values.append(row.get("mrr_start"))
        values += [row[k] for k in movers.MOVEMENTS]
        if "mrr_other" in ends:
            values.append(row.get("mrr_other"))
        if "mrr_end" in ends:
            values.append(row.get("mrr_end"))
        values += [row["net_new_mrr"], row["previous_net_new_mrr"]]
        bridge.append(values)
        for column in range(3, len(values) + 1):
            bridge.cell(bridge.max_row, column).number_format = money
    for column in range(1, len(columns) + 1):
        bridge.column_dimensions[get_column_letter(column)].width = 20 if column <= 2 else 16
    bridge.freeze_panes = "C3"
