"""Formatting for the dashboard: numbers as people read them, and safe Markdown.

Metric values go through :func:`upgrade_warehouse.metrics.format_value` (the same
format as the ``metrics`` table), so a number reads the same in the CLI and here.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ..metrics import COUNT_UNITS, format_value
from ..simulator.plans import currency_exponent

__all__ = [
    "format_delta",
    "format_minor",
    "format_target",
    "format_ts",
    "format_value",
    "md_escape",
    "month_label",
]

# Every ASCII punctuation character that CommonMark lets a backslash escape.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~$:&\"'=^%@?;,/])")


def md_escape(text) -> str:
    """Text from the data (user or CRM input) made inert for Streamlit Markdown.

    Escapes Markdown and Streamlit's ``:color[...]``/``:icon:`` directives. Raw HTML is
    never enabled anywhere in the dashboard, so ``<`` needs no further care.
    """
    if text is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def format_delta(delta: float | None, unit: str, currency: str) -> str | None:
    """A month-over-month change: ``+2.3 pp``, ``-12``, ``+1,234.00 USD``, ``+0.4 s``."""
    if delta is None:
        return None
    magnitude = abs(delta)
    if unit in ("rate", "rate_by_key"):
        text = f"{magnitude * 100:.1f} pp"
    elif unit in COUNT_UNITS:
        text = f"{int(magnitude):,}"
    elif unit == "money":
        text = f"{magnitude:,.2f} {currency}"
    else:
        suffix = {"hours": " h", "seconds": " s", "days": " d"}.get(unit, "")
        text = f"{magnitude:,.1f}{suffix}"
    if not any(ch in "123456789" for ch in text.split(" ")[0]):
        return f"±{text}"  # rounds to zero
    return ("+" if delta > 0 else "-") + text


def format_target(target, unit: str, currency: str) -> str:
    """``≥ 90.0%``, ``≤ 2.0 s``, ``90.0% – 95.0%``."""
    if target.minimum is not None and target.maximum is not None:
        return (
            f"{format_value(target.minimum, unit, currency)} – "
            f"{format_value(target.maximum, unit, currency)}"
        )
    if target.minimum is not None:
        return f"≥ {format_value(target.minimum, unit, currency)}"
    return f"≤ {format_value(target.maximum, unit, currency)}"


def format_minor(amount_minor: int | None, currency: str) -> str:
    """An amount in minor units as major units with its ISO 4217 exponent: -30.00 USD."""
    if amount_minor is None:
        return "–"
    exponent = currency_exponent(currency)
    value = amount_minor / 10**exponent
    return f"{value:,.{exponent}f} {currency}"


def month_label(month: str | None) -> str:
    """``2026-03`` -> ``Mar 2026`` (``None`` -> ``All months``)."""
    if month is None:
        return "All months"
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def format_ts(value) -> str:
    """A timestamp as ``2026-03-16 12:00 UTC`` (dates as ``2026-03-16``)."""
    if value is None:
        return "–"
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M")
        return text + (f":{value.second:02d}" if value.second else "") + " UTC"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
