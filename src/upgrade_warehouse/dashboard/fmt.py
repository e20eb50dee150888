"""Formatting for the dashboard: numbers as people read them, and safe Markdown.

Metric values go through :func:`upgrade_warehouse.metrics.format_value` (the same
format as the ``metrics`` table), so a number reads the same in the CLI and here.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime

from ..currencies import currency_exponent
from ..metrics import (
    COUNT_UNITS,
    DURATION_SECONDS,
    format_duration,
    format_money,
    format_p_value,
    format_probability,
    format_value,
)

__all__ = [
    "format_delta",
    "format_duration",
    "format_headline",
    "format_minor",
    "format_money",
    "format_p_value",
    "format_probability",
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


def format_delta(
    delta: float | None, unit: str, currency: str, *, whole: bool = False
) -> str | None:
    """A month-over-month change: ``+2.3 pp``, ``-12``, ``+1,234.50 USD``, ``+0.4 s``,
    ``-2.5 h`` (``whole``: money in whole units, as on the headline cards)."""
    if delta is None or _is_nan(delta):
        return None
    magnitude = abs(delta)
    if unit in ("rate", "rate_by_key"):
        text = f"{magnitude * 100:.1f} pp"
    elif unit in COUNT_UNITS:
        text = f"{int(magnitude):,}"
    elif unit == "money":
        text = format_money(magnitude, currency, whole=whole)
    elif unit in DURATION_SECONDS:
        text = format_duration(magnitude * DURATION_SECONDS[unit])
    else:
        text = f"{magnitude:,.1f}"
    if not any(ch in "123456789" for ch in text.split(" ")[0]):
        return f"±{text}"  # rounds to zero
    return ("+" if delta > 0 else "-") + text


def format_headline(value, unit: str, currency: str) -> str:
    """A headline card's value: as :func:`format_value`, money in whole units (5,013 USD)
    so that the whole value fits a card at 1280 px."""
    if unit == "money" and value is not None and not _is_nan(value):
        return format_money(value, currency, whole=True)
    return format_value(value, unit, currency)


def _is_nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


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


TARGET_MARKS = {True: "on target", False: "off target", None: "no value"}


def target_status(cfg, metric_id: str, value, unit: str, currency: str, *, badge=False) -> str:
    """The target of ``metric_id`` (``cfg.target``) and whether ``value`` meets it:
    ``≥ 90.0%: off target`` (the monthly review), ``≥ 90.0% (OFF TARGET)`` as a KPI card's
    badge; "" when the metric has no target."""
    target = cfg.target(metric_id)
    if target is None:
        return ""
    met = target.met(value)
    mark = "OFF TARGET" if badge and met is False else TARGET_MARKS[met]
    text = format_target(target, unit, currency)
    return f"{text} ({mark})" if badge else f"{text}: {mark}"


def format_minor(amount_minor: int | None, currency: str) -> str:
    """An amount in minor units as major units with its ISO 4217 exponent: -30.00 USD."""
    if amount_minor is None or _is_nan(amount_minor):
        return "–"
    exponent = currency_exponent(currency)
    value = amount_minor / 10**exponent
    return f"{value:,.{exponent}f} {currency}"


def month_label(month: str | None) -> str:
    """``2026-03`` -> ``Mar 2026`` (``None`` -> ``All months``)."""
    if month is None:
        return "All months"
    return datetime.strptime(month, "%Y-%m").strftime("%b %Y")


def range_label(month_from: str | None, month_to: str | None) -> str:
    """A month range in words: ``Jul 2026 to Sep 2026``, ``Jul 2026`` (one month)."""
    if month_from == month_to:
        return month_label(month_from)
    return f"{month_label(month_from)} to {month_label(month_to)}"


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
