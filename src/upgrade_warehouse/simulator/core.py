"""The exact single-quote simulator (``shared/spec/simulator.md``).

Integers and :class:`fractions.Fraction` only: no binary floats touch an amount.
This is the reference implementation; :mod:`.batch` is the vectorized one and must agree
with it to the minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from ..errors import UserError
from .calendar import TimestampError, add_interval, format_ts, parse_timestamp
from .plans import Plan, load_plans, plans_from_frame

PRORATION_BEHAVIORS = ("create_prorations", "always_invoice", "none")
GRANULARITIES = ("second", "day")
TIMINGS = ("immediate", "period_end", "auto")

MRR_DECIMALS = 6


class QuoteError(UserError, ValueError):
    """An invalid quote request (the message names the problem)."""


# --- messages shared with the batch simulator (keep the wording identical) ---------------


def msg_unknown_option(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    expected = ", ".join(allowed[:-1]) + " or " + allowed[-1]
    return f"unknown {name} '{value}' (expected {expected})"


def msg_bad_quantity(name: str, value: Any) -> str:
    return f"{name} must be a whole number >= 0, not '{value}'"


def msg_required(name: str) -> str:
    return f"{name} is required"


def msg_unknown_plan(side: str, plan_id: str) -> str:
    return f"unknown {side} plan '{plan_id}'"


def msg_currency(from_plan: Plan, to_plan: Plan) -> str:
    return (
        f"currency mismatch: from plan '{from_plan.plan_id}' is {from_plan.currency}, "
        f"to plan '{to_plan.plan_id}' is {to_plan.currency}"
    )


def msg_out_of_range(name: str) -> str:
    return f"{name} is out of range (after year 9999)"


def msg_period_order(ps: str, pe: str) -> str:
    return f"period_end {pe} is not after period_start {ps}"


def msg_at_outside(at: str, ps: str, pe: str) -> str:
    return f"at {at} is outside the billing period [{ps}, {pe})"


def msg_below_min(qty: int, minimum: int, plan_id: str) -> str:
    return f"to_quantity {qty} is below the minimum of {minimum} seats of plan '{plan_id}'"


def msg_above_max(qty: int, maximum: int, plan_id: str) -> str:
    return f"to_quantity {qty} is above the maximum of {maximum} seats of plan '{plan_id}'"


MSG_ZERO_DAYS = (
    "day granularity needs a billing period that spans at least one UTC day "
    "(period_start and period_end are on the same date)"
)


# --- arithmetic ----------------------------------------------------------------------------


def round_half_away(x: Fraction | int) -> int:
    """Round to the nearest integer, halves away from zero."""
    x = Fraction(x)
    magnitude = (abs(x.numerator) * 2 + x.denominator) // (2 * x.denominator)
    return magnitude if x >= 0 else -magnitude


def mrr_of(plan: Plan, quantity: int) -> Fraction:
    """MRR of (plan, quantity) in minor units, exact: yearly prices are divided by 12."""
    amount = plan.unit_amount_minor * quantity
    return Fraction(amount, 12) if plan.billing_interval == "year" else Fraction(amount)


def mrr_json(value: Fraction | int) -> int | float:
    """An exact MRR for JSON: an int when whole, else a decimal rounded to 6 places
    (half away from zero)."""
    value = Fraction(value)
    if value.denominator == 1:
        return value.numerator
    scaled = round_half_away(value * 10**MRR_DECIMALS)
    return float(Decimal(scaled).scaleb(-MRR_DECIMALS))


def movement_of(before: Fraction, after: Fraction) -> str:
    """metrics.md movement; a from plan with MRR 0 counts as ``new`` (no history here)."""
    if before == 0 and after == 0:
        return "none"
    if before == 0:
        return "new"
    if after == 0:
        return "churn"
    if after > before:
        return "expansion"
    if after < before:
        return "contraction"
    return "renewal"


def kind_of(from_plan: Plan, from_qty: int, to_plan: Plan, to_qty: int) -> str:
    if to_plan.tier_rank > from_plan.tier_rank:
        return "tier_upgrade"
    if to_plan.tier_rank < from_plan.tier_rank:
        return "tier_downgrade"
    if to_plan.billing_interval != from_plan.billing_interval:
        return "interval_switch"
    if to_qty > from_qty:
        return "seat_expansion"
    if to_qty < from_qty:
        return "seat_reduction"
    return "renewal"


# --- the quote ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    line_type: str  # proration_credit | proration_charge | subscription
    amount_minor: int
    period_start: datetime
    period_end: datetime
    invoiced_now: bool  # False = left for the next invoice (create_prorations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_type": self.line_type,
            "amount_minor": self.amount_minor,
            "period_start": format_ts(self.period_start),
            "period_end": format_ts(self.period_end),
        }


@dataclass(frozen=True)
class Quote:
    currency: str
    requires_sales: bool
    from_plan_id: str
    from_quantity: int
    from_mrr_minor: Fraction
    to_plan_id: str
    to_quantity: int
    to_mrr_minor: Fraction
    mrr_delta_minor: Fraction
    movement: str
    kind: str
    timing: str  # resolved: immediate | period_end
    effective_at: datetime
    lines: tuple[Line, ...]
    proration_net_minor: int
    amount_due_now_minor: int
    next_invoice_date: datetime
    next_invoice_amount_minor: int
    credit_balance_minor: int
    period_start: datetime  # the billing period in force after the change
    period_end: datetime
    entitlements_added: tuple[str, ...]
    entitlements_removed: tuple[str, ...]
    # Inputs, for reference (not part of the JSON object).
    proration_behavior: str = "create_prorations"
    granularity: str = "second"
    remaining_fraction: Fraction = field(default=Fraction(0))

    def line(self, line_type: str) -> Line | None:
        for line in self.lines:
            if line.line_type == line_type:
                return line
        return None

    def to_dict(self) -> dict[str, Any]:
        """The spec's JSON object."""
        return {
            "currency": self.currency,
            "requires_sales": self.requires_sales,
            "from": {
                "plan_id": self.from_plan_id,
                "quantity": self.from_quantity,
                "mrr_minor": mrr_json(self.from_mrr_minor),
            },
            "to": {
                "plan_id": self.to_plan_id,
                "quantity": self.to_quantity,
                "mrr_minor": mrr_json(self.to_mrr_minor),
            },
            "mrr_delta_minor": mrr_json(self.mrr_delta_minor),
            "movement": self.movement,
            "kind": self.kind,
            "timing": self.timing,
            "effective_at": format_ts(self.effective_at),
            "lines": [line.to_dict() for line in self.lines],
            "proration_net_minor": self.proration_net_minor,
            "amount_due_now_minor": self.amount_due_now_minor,
            "next_invoice": {
                "date": format_ts(self.next_invoice_date),
                "amount_minor": self.next_invoice_amount_minor,
            },
            "credit_balance_minor": self.credit_balance_minor,
            "period": {"start": format_ts(self.period_start), "end": format_ts(self.period_end)},
            "entitlements_added": list(self.entitlements_added),
            "entitlements_removed": list(self.entitlements_removed),
        }


def _catalog(plans: Any) -> dict[str, Plan]:
    if plans is None:
        return load_plans()
    if isinstance(plans, pl.DataFrame):
        return plans_from_frame(plans)
    return plans


def _quantity(name: str, value: Any) -> int:
    if value is None:
        raise QuoteError(msg_required(name))
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise QuoteError(msg_bad_quantity(name, value))
    return value


def _timestamp(name: str, value: Any) -> datetime:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        raise QuoteError(msg_required(name))
    try:
        dt = parse_timestamp(value, name)
    except TimestampError as exc:
        raise QuoteError(str(exc)) from None
    return dt


def _add_interval(dt: datetime, interval: str, name: str) -> datetime:
    try:
        return add_interval(dt, interval)
    except (TimestampError, OverflowError, ValueError):
        raise QuoteError(msg_out_of_range(name)) from None


def quote(
    plans: dict[str, Plan] | pl.DataFrame | None,
    from_plan_id: str,
    from_quantity: int,
    to_plan_id: str,
    to_quantity: int | None = None,
    period_start: str | datetime | None = None,
    period_end: str | datetime | None = None,
    at: str | datetime | None = None,
    proration_behavior: str = "create_prorations",
    granularity: str = "second",
    timing: str = "auto",
) -> Quote:
    """Price one plan change exactly. Raises :class:`QuoteError` (a ``UserError``) when
    the request is invalid. ``plans``: a catalog from :func:`load_plans`, a plans
    DataFrame, or None for the sample catalog."""
    catalog = _catalog(plans)

    # 1. options
    if proration_behavior is None:
        proration_behavior = "create_prorations"
    if granularity is None:
        granularity = "second"
    if timing is None:
        timing = "auto"
    if proration_behavior not in PRORATION_BEHAVIORS:
        raise QuoteError(
            msg_unknown_option("proration_behavior", proration_behavior, PRORATION_BEHAVIORS)
        )
    if granularity not in GRANULARITIES:
        raise QuoteError(msg_unknown_option("granularity", granularity, GRANULARITIES))
    if timing not in TIMINGS:
        raise QuoteError(msg_unknown_option("timing", timing, TIMINGS))

    # 2. quantities
    qf = _quantity("from_quantity", from_quantity)
    qt = qf if to_quantity is None else _quantity("to_quantity", to_quantity)

    # 3. plans
    if from_plan_id is None or from_plan_id == "":
        raise QuoteError(msg_required("from_plan_id"))
    if to_plan_id is None or to_plan_id == "":
        raise QuoteError(msg_required("to_plan_id"))
    if from_plan_id not in catalog:
        raise QuoteError(msg_unknown_plan("from", from_plan_id))
    if to_plan_id not in catalog:
        raise QuoteError(msg_unknown_plan("to", to_plan_id))
    fp, tp = catalog[from_plan_id], catalog[to_plan_id]
    if fp.currency != tp.currency:
        raise QuoteError(msg_currency(fp, tp))

    # 4. timestamps
    ps = _timestamp("period_start", period_start)
    if period_end is None or (isinstance(period_end, str) and period_end.strip() == ""):
        pe = _add_interval(ps, fp.billing_interval, "period_end")
    else:
        pe = _timestamp("period_end", period_end)
    at_ = _timestamp("at", at)
    if pe <= ps:
        raise QuoteError(msg_period_order(format_ts(ps), format_ts(pe)))
    if not ps <= at_ < pe:
        raise QuoteError(msg_at_outside(format_ts(at_), format_ts(ps), format_ts(pe)))

    # 5. seats
    if tp.min_seats is not None and qt < tp.min_seats:
        raise QuoteError(msg_below_min(qt, tp.min_seats, tp.plan_id))
    if tp.max_seats is not None and qt > tp.max_seats:
        raise QuoteError(msg_above_max(qt, tp.max_seats, tp.plan_id))

    # 6. remaining fraction
    if granularity == "second":
        total = int((pe - ps).total_seconds())
        remaining = int((pe - at_).total_seconds())
    else:
        total = (pe.date() - ps.date()).days
        remaining = (pe.date() - at_.date()).days
        if total == 0:
            raise QuoteError(MSG_ZERO_DAYS)
    f = Fraction(remaining, total)

    # 7. revenue facts
    mrr_before, mrr_after = mrr_of(fp, qf), mrr_of(tp, qt)
    delta = mrr_after - mrr_before
    resolved_timing = timing if timing != "auto" else ("period_end" if delta < 0 else "immediate")
    switch = fp.billing_interval != tp.billing_interval
    price_from = fp.unit_amount_minor * qf
    price_to = tp.unit_amount_minor * qt

    lines: list[Line] = []
    if resolved_timing == "period_end":
        effective_at = pe
        period = (ps, pe)
    elif switch:
        effective_at = at_
        new_end = _add_interval(at_, tp.billing_interval, "the new billing period's end")
        period = (at_, new_end)
        if proration_behavior != "none" and not fp.is_free:
            lines.append(Line("proration_credit", -round_half_away(price_from * f), at_, pe, True))
        if not tp.is_free:
            lines.append(Line("subscription", price_to, at_, new_end, True))
    else:
        effective_at = at_
        period = (ps, pe)
        if proration_behavior != "none":
            now = proration_behavior == "always_invoice"
            if not fp.is_free:
                lines.append(
                    Line("proration_credit", -round_half_away(price_from * f), at_, pe, now)
                )
            if not tp.is_free:
                lines.append(Line("proration_charge", round_half_away(price_to * f), at_, pe, now))

    proration_net = sum(
        ln.amount_minor for ln in lines if ln.line_type in ("proration_credit", "proration_charge")
    )
    due = sum(ln.amount_minor for ln in lines if ln.invoiced_now)
    pending = sum(ln.amount_minor for ln in lines if not ln.invoiced_now)
    amount_due_now = max(0, due)
    carried_credit = max(0, -due)
    next_total = price_to + pending - carried_credit
    next_amount = max(0, next_total)
    credit_balance = max(0, -next_total)

    from_ents, to_ents = set(fp.entitlements), set(tp.entitlements)
    return Quote(
        currency=fp.currency,
        requires_sales=not tp.self_serve,
        from_plan_id=fp.plan_id,
        from_quantity=qf,
        from_mrr_minor=mrr_before,
        to_plan_id=tp.plan_id,
        to_quantity=qt,
        to_mrr_minor=mrr_after,
        mrr_delta_minor=delta,
        movement=movement_of(mrr_before, mrr_after),
        kind=kind_of(fp, qf, tp, qt),
        timing=resolved_timing,
        effective_at=effective_at,
        lines=tuple(lines),
        proration_net_minor=proration_net,
        amount_due_now_minor=amount_due_now,
        next_invoice_date=period[1],
        next_invoice_amount_minor=next_amount,
        credit_balance_minor=credit_balance,
        period_start=period[0],
        period_end=period[1],
        entitlements_added=tuple(sorted(to_ents - from_ents)),
        entitlements_removed=tuple(sorted(from_ents - to_ents)),
        proration_behavior=proration_behavior,
        granularity=granularity,
        remaining_fraction=f,
    )
