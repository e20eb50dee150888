"""The Monthly review of one month: the rows the page shows and the files RevOps takes
away (no Streamlit here, so that the files are tested without a browser).

- :func:`review_rows`: one row per scalar metric and per key of a keyed metric, in
  catalog order: section, label, value, previous value, change, target, definition,
  metric id (the values as numbers, in the catalog's unit).
- :func:`review_table`: the rows as the page shows them (formatted text).
- :func:`review_csv`: the same table as CSV (labels as headers, formatted values),
  after one line per warning of the month (metrics.md ``warnings``) when there are any.
- :func:`review_xlsx`: an Excel workbook: an "About" sheet (with the warnings of the
  month), then one sheet per section; numbers stored as numbers with number formats
  (percent, thousands, the currency with its exponent, durations in their unit); a
  value a warning touches carries a note (a cell comment) with it.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import pandas as pd

from ..currencies import currency_exponent
from ..data_warnings import affects
from ..exports import append_header, safe_pandas, safe_text
from ..metrics import DURATION_SECONDS, duration_unit
from .config import DashboardConfig
from .fmt import format_delta, format_value, month_label, target_status

SECTION_TITLES = {"sync": "Sync", "upsell": "Upsell", "orders": "Orders"}
UNIT_SUFFIX = {"seconds": "s", "hours": "h", "days": "d"}


@dataclass(frozen=True)
class ReviewRow:
    section: str
    metric_id: str  # "<id>.<key>" for a key of a keyed metric
    label: str
    unit: str
    value: float | None
    previous: float | None
    target: str
    definition: str

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def section_title(section: str) -> str:
    return SECTION_TITLES.get(section, section.replace("_", " ").capitalize())


def review_rows(
    result: dict, catalog: dict[str, dict], month: str, cfg: DashboardConfig, currency: str
) -> list[ReviewRow]:
    """The rows of ``month`` (against the month before) from a ``metrics`` result."""
    months = result["months"]
    index = next(i for i, m in enumerate(months) if m["month"] == month)
    row, previous = months[index], months[index - 1] if index > 0 else {}
    out = []
    for metric_id, meta in catalog.items():
        unit = meta["unit"]
        value, prev = row.get(metric_id), previous.get(metric_id)
        if unit.endswith("_by_key") or isinstance(value, dict):
            keys = list((value or {}).keys())
            keys += [k for k in (prev or {}) if k not in keys]
            out.extend(
                ReviewRow(
                    meta["section"],
                    f"{metric_id}.{key}",
                    f"{meta['label']} · {key}",
                    unit.removesuffix("_by_key"),
                    (value or {}).get(key),
                    (prev or {}).get(key),
                    "",
                    meta["definition"],
                )
                for key in keys
            )
            continue
        out.append(
            ReviewRow(
                meta["section"],
                metric_id,
                meta["label"],
                unit,
                value,
                prev,
                target_status(cfg, metric_id, value, unit, currency),
                meta["definition"],
            )
        )
    return out


def review_table(
    rows: list[ReviewRow], month: str, previous_month: str | None, currency: str
) -> pd.DataFrame:
    """The rows as shown: Section, Metric, <month>, <previous month>, Change, Target,
    Definition (formatted text, "–" for no value); the metric id last."""
    this, before = (
        month_label(month),
        (month_label(previous_month) if previous_month else "Previous month"),
    )
    return pd.DataFrame(
        {
            "Section": [section_title(r.section) for r in rows],
            "Metric": [r.label for r in rows],
            this: [format_value(r.value, r.unit, currency) for r in rows],
            before: [format_value(r.previous, r.unit, currency) for r in rows],
            "Change": [format_delta(r.change, r.unit, currency) or "–" for r in rows],
            "Target": [r.target or "–" for r in rows],
            "Definition": [r.definition for r in rows],
            "Metric id": [r.metric_id for r in rows],
        }
    )


def _unicode_minus(text):
    """A leading minus as U+2212: "−30.00 USD" is text to a spreadsheet, not a formula,
    and reads the same."""
    if isinstance(text, str) and text[:1] == "-" and text[1:2].isdigit():
        return "\u2212" + text[1:]
    return text


# A UTF-8 byte order mark first: Excel then reads the file as UTF-8 ("≥", "·", "−"
# and accented segment values), which it does not without one.
BOM = "\ufeff"
_SIGNED_NUMBER = re.compile(r"^\+[0-9][0-9,]*(\.[0-9]+)?$")


def warning_line(warning: dict) -> str:
    """One warning as a line of text: ``Warning (fx_missing): No USD rate for ...``."""
    return f"Warning ({warning['code']}): {warning['message']}"


def review_csv(table: pd.DataFrame, warnings: list[dict] | None = None) -> str:
    """The table as shown, as CSV (labels as headers, formatted values). With
    ``warnings`` (those of the month: data_warnings.for_month), one line each comes
    first, a one-cell row, so that nobody reads the numbers without them."""
    import csv

    shown = safe_pandas(table.map(_unicode_minus)).map(_unquote_numbers)
    head = io.StringIO()
    writer = csv.writer(head, lineterminator="\n")
    for warning in warnings or []:
        writer.writerow([safe_text(warning_line(warning))])
    return BOM + head.getvalue() + shown.to_csv(index=False)


def _unquote_numbers(text):
    """A formatted gain such as "+58" or "+1,234.5" as it is: a sign and digits run
    nothing in a spreadsheet, which reads the number; the formula escape (a leading
    quote, exports.safe_text) is for text."""
    if isinstance(text, str) and text.startswith("'") and _SIGNED_NUMBER.match(text[1:]):
        return text[1:]
    return text


def number_format(unit: str, currency: str) -> str:
    """The Excel number format of a value in ``unit`` (a duration: see
    :func:`excel_duration`)."""
    if unit == "rate":
        return "0.0%"
    if unit == "count":
        return "#,##0"
    if unit == "money":
        digits = currency_exponent(currency)
        return f'#,##0.{"0" * digits} "{currency}"' if digits else f'#,##0 "{currency}"'
    if unit in UNIT_SUFFIX:
        return f'#,##0.0 "{UNIT_SUFFIX[unit]}"'
    return "#,##0.00"


def signed(positive: str) -> str:
    """The signed Excel format of a positive one: +x;-x;x."""
    return f"+{positive};-{positive};{positive}"


def change_format(unit: str, currency: str) -> str:
    """The Excel format of a change: signed; rates in percentage points."""
    if unit == "rate":
        return '+0.0 "pp";-0.0 "pp";0.0 "pp"'
    return signed(number_format(unit, currency))


def excel_duration(value: float | None, unit: str) -> tuple[float | None, str]:
    """A duration of the catalog's ``unit`` (seconds, hours, days) as an Excel cell shows
    it: the number in the unit people read it in and its format, by the rule of the page,
    the CSV and the CLI (metrics.duration_unit): 0.1624 h is 9.74 with ``#,##0.0 "min"``
    ("9.7 min", as on the page; it was "0.2 h")."""
    if value is None:
        return None, number_format(unit, "")
    seconds = value * DURATION_SECONDS[unit]
    size, suffix = duration_unit(seconds)
    return seconds / size, f'#,##0.0 "{suffix}"'


def review_xlsx(
    rows: list[ReviewRow],
    month: str,
    previous_month: str | None,
    currency: str,
    as_of: str,
    warnings: list[dict] | None = None,
    movements=None,
) -> bytes:
    """The month as an Excel workbook: "About" (with the ``warnings`` of the month, also
    noted on the cells they touch), then "What moved" and "MRR bridge" when ``movements``
    (upgrade_warehouse.movers.Movements) is given, then one sheet per section."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    about = book.active
    about.title = "About"
    for line in (
        ("Upgrade Warehouse: monthly review", None),
        ("Month", month_label(month)),
        ("Compared with", month_label(previous_month) if previous_month else "–"),
        ("Data as of", as_of),
        ("Reporting currency", currency),
        ("Rates", "percent of their population; changes in percentage points"),
    ):
        about.append([safe_text(v) for v in line])
    for warning in warnings or []:
        about.append([f"Warning ({warning['code']})", safe_text(warning["message"])])
        about.cell(about.max_row, 1).font = Font(bold=True, color="B45309")
        about.cell(about.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    about["A1"].font = Font(bold=True, size=13)
    about.column_dimensions["A"].width = 30
    about.column_dimensions["B"].width = 60

    if movements is not None:
        from .movers_data import add_sheets

        add_sheets(book, movements)

    headers = [
        "Metric",
        month_label(month),
        month_label(previous_month) if previous_month else "Previous month",
        "Change",
        "Target",
        "Definition",
        "Metric id",
    ]
    sections = list(dict.fromkeys(r.section for r in rows))
    for section in sections:
        sheet = book.create_sheet(section_title(section)[:31])
        append_header(sheet, headers)
        for r in (r for r in rows if r.section == section):
            change = r.change
            if change is not None and r.unit == "rate":
                change = change * 100  # percentage points
            sheet.append(
                [
                    safe_text(r.label),
                    r.value,
                    r.previous,
                    change,
                    safe_text(r.target or None),
                    safe_text(r.definition),
                    r.metric_id,
                ]
            )
            line = sheet.max_row
            for column in (2, 3):
                sheet.cell(line, column).number_format = number_format(r.unit, currency)
            sheet.cell(line, 4).number_format = change_format(r.unit, currency)
            if r.unit in DURATION_SECONDS:  # each cell in the unit it reads in
                for column, value in ((2, r.value), (3, r.previous), (4, r.change)):
                    shown, fmt = excel_duration(value, r.unit)
                    sheet.cell(line, column).value = shown
                    sheet.cell(line, column).number_format = signed(fmt) if column == 4 else fmt
            sheet.cell(line, 6).alignment = Alignment(wrap_text=False)
            notes = [w for w in warnings or [] if affects(w, r.section, r.unit, month)]
            if notes:
                text = "\n\n".join(warning_line(w) for w in notes)
                sheet.cell(line, 2).comment = Comment(text, "Upgrade Warehouse", 160, 360)
        for column, width in enumerate((42, 16, 16, 14, 26, 70, 36), start=1):
            sheet.column_dimensions[get_column_letter(column)].width = width
        sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
