"""Warnings where people read: the metrics' warnings banner and the fx notes under money."""

from __future__ import annotations

import streamlit as st

from .. import data_warnings
from . import data
from .data import ALL, Segment
from .fmt import (
    md_escape,
)

MONEY_OF_CHANGES = (
    "net_new_mrr",
    "arpu_per_upgrade",
    "mrr_new",
    "mrr_expansion",
    "mrr_reactivation",
    "mrr_contraction",
    "mrr_churn",
)


def warnings_of(
    r: data.Ref,
    month: str | None = None,
    codes: tuple[str, ...] | None = None,
    *,
    months: list[str] | None = None,
) -> list[dict]:
    """The ``warnings`` of ``metrics --format json`` (the same function computes them:
    :mod:`..data_warnings`) that concern ``month`` (None: every month), or with
    ``months`` (a month range's months) any one of them, optionally of some codes only."""
    found = data.metrics(r).get("warnings", [])
    if months is None:
        found = data_warnings.for_month(found, month)
    else:
        found = [w for w in found if any(data_warnings.for_month([w], m) for m in months)]
    return [w for w in found if codes is None or w["code"] in codes]


def warnings_banner(
    r: data.Ref,
    month: str | None = None,
    *,
    codes: tuple[str, ...] | None = None,
    months: list[str] | None = None,
    container=st,
) -> list[dict]:
    """One warning box at the top of a page with what a reader must know about its
    numbers (stale data, a partial month, missing fx rates, quarantined rows) of
    ``month``, or of any of ``months`` (a month range); nothing when there is nothing to
    say. Returns the warnings shown."""
    shown = warnings_of(r, month, codes, months=months)
    if shown:
        lines = "\n".join(f"- {md_escape(w['message'])}" for w in shown)
        container.warning(f"**Read these numbers with care:**\n{lines}", icon=":material/warning:")
    return shown


# MRR in force at a month's end, made of subscriptions (not of the month's changes).
MONEY_AT_MONTH_END = ("mrr_end", "arr_end", "mrr_start", "mrr_other")


def month_end_fx_note(r: data.Ref, month: str | None) -> str | None:
    """ "Excludes subscriptions in GBP without an fx rate" when subscriptions in force at
    the end of ``month`` could not be converted (the ``fx_missing`` warnings)."""
    currencies = [
        w["currency"]
        for w in warnings_of(r, month, ("fx_missing",))
        if w["subscriptions"] and (month is None or month in w["subscription_months"])
    ]
    if not currencies:
        return None
    return "Excludes subscriptions in " + ", ".join(currencies) + " without an fx rate"


def fx_note(r: data.Ref, month: str | None, segment: Segment = ALL) -> str | None:
    """ "Excludes 199 changes in GBP without an fx rate" when changes of the month (None:
    all months) could not be converted to the reporting currency, else None."""
    missing = data.unconverted_changes(r, month, segment)
    if missing.empty:
        return None
    parts = [
        f"{int(n):,} {'change' if int(n) == 1 else 'changes'} in {c}"
        for c, n in zip(missing["currency"], missing["changes"])
    ]
    return "Excludes " + ", ".join(parts) + " without an fx rate"
