"""Tables on a page: the formatted dataframe widget and the CSV downloads of what is shown."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import data
from .context import catalog


def rows_height(rows: int, most: int | None = None) -> int:
    """The height in pixels of a dataframe showing ``rows`` rows (at most ``most``)."""
    height = 38 + 35 * rows
    return height if most is None else min(height, most)


# Pixels a table may take at 1280 px: the main column (784 px inside an expander or a
# bordered box, less the grid's scrollbar) and half of it (st.columns(2)).
FULL, HALF = 760, 380
_NAMED = {"small": 75, "medium": 200, "large": 400}


def fit_widths(
    frame: pd.DataFrame, space: int, fixed: dict[str, int | str] | None = None
) -> dict[str, int]:
    """Pixel widths for the columns of ``frame`` (text as shown) that add up to at most
    ``space``, so that the table never scrolls sideways at 1280 px: each column as wide
    as its header and longest cell (about 7.5 px a character), the widest ones narrowed
    to one common cap when the sum is too wide (their long texts end in "…"; the
    downloads and the row's detail have them whole). ``fixed`` columns keep their width."""
    fixed = {c: _NAMED.get(w, w) for c, w in (fixed or {}).items() if w is not None}
    natural = {}
    for column in frame.columns:
        if column in fixed:
            continue
        cells = frame[column].astype(str).str.len().max() if len(frame) else 0
        natural[column] = int(max(len(str(column)) * 8 + 34, (cells or 0) * 7.5 + 20, 48))
    left = space - sum(fixed.values())
    if sum(natural.values()) > left and natural:
        ordered = sorted(natural.values())
        cap, rest = ordered[-1], left
        for i, width in enumerate(ordered):  # the cap at which the capped sum fits
            share = rest / (len(ordered) - i)
            if width >= share:
                cap = int(share)
                break
            rest -= width
        natural = {c: min(w, max(cap, 48)) for c, w in natural.items()}
    return {**natural, **fixed}


def text_table(
    frame: pd.DataFrame,
    widths: dict[str, int | str] | None = None,
    *,
    most: int = 900,
    container=st,
    **kwargs,
):
    """``st.dataframe`` of a frame already formatted as text, every row visible up to
    ``most`` pixels, columns at ``widths`` (pixels or small / medium / large)."""
    config = {c: st.column_config.TextColumn(width=w) for c, w in (widths or {}).items()}
    config.update(kwargs.pop("column_config", None) or {})
    return container.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=rows_height(len(frame), most),
        column_config=config or None,
        **kwargs,
    )


def table(
    frame: pd.DataFrame,
    *,
    labels: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    currency: str = "",
    currency_columns: dict[str, str] | None = None,
    widths: dict[str, str] | None = None,
    container=st,
    limit: int | None = 1000,
    every_row: bool = False,
    space: int = FULL,
    **kwargs,
):
    """``st.dataframe`` of the frame as people read it (:mod:`.tables`: every cell
    formatted, "–" for no value, labels as headers, numbers right-aligned). ``widths``
    and ``kwargs["column_config"]`` are keyed by the frame's column names. At most
    ``limit`` rows are sent to the browser (a caption says so; downloads have them all);
    ``every_row``: as tall as the rows it shows (no inner scroll). A table whose columns
    would be wider than ``space`` pixels (``HALF`` in half of the page) gets widths that
    fit (:func:`fit_widths`): no table scrolls sideways at 1280 px."""
    from .tables import NUMERIC_UNITS, formatted

    if limit is not None and len(frame) > limit:
        container.caption(f"The first {limit:,} of {len(frame):,} rows.")
        frame = frame.head(limit)
    if every_row:
        kwargs["height"] = rows_height(len(frame))
    labels = dict(labels or {})
    shown, shown_units = formatted(
        frame, labels=labels, units=units, currency=currency, currency_columns=currency_columns
    )
    label_for = {c: labels.get(c) or list(shown.columns)[i] for i, c in enumerate(frame.columns)}
    fixed = {label_for[c]: w for c, w in (widths or {}).items() if c in label_for}
    fitted = fit_widths(shown, space, fixed)
    natural = fit_widths(shown, 10**6, fixed)
    width_of = fitted if fitted != natural else fixed  # as asked when the table fits
    config = {}
    for label in label_for.values():
        unit = shown_units[label]
        numeric = unit in NUMERIC_UNITS or unit.startswith("delta_")
        config[label] = st.column_config.TextColumn(
            label, width=width_of.get(label), alignment="right" if numeric else None
        )
    for column, value in (kwargs.pop("column_config", None) or {}).items():
        config[label_for.get(column, column)] = value
    kwargs.setdefault("hide_index", True)
    kwargs.setdefault("width", "stretch")
    return container.dataframe(shown, column_config=config, **kwargs)


def table_or(frame: pd.DataFrame, empty: str, **kwargs) -> None:
    """:func:`table` of the frame, or ``empty`` said when it has no row."""
    if frame.empty:
        st.info(empty)
    else:
        table(frame, **kwargs)


def metrics_csv(r: data.Ref, month: str | None) -> str:
    """The ``metrics --format csv`` text (all months, or one)."""
    from ..metrics import Metric, to_csv

    result = data.metrics(r)
    if month is not None:
        result = {**result, "months": [m for m in result["months"] if m["month"] == month]}
    metrics = [
        Metric(m["metric_id"], m["section"], m["unit"], m["label"]) for m in catalog(r).values()
    ]
    return to_csv(result, metrics)


def table_csv(frame: pd.DataFrame, **kwargs) -> str:
    """The table as shown (labels, formatted values) as CSV, spreadsheet formulas
    neutralised (:mod:`..exports`)."""
    from ..exports import safe_pandas
    from .review import BOM, _unquote_numbers
    from .tables import formatted

    shown, _ = formatted(frame, **kwargs)
    return BOM + safe_pandas(shown).map(_unquote_numbers).to_csv(index=False)
