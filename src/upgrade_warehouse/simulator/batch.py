"""The vectorized batch simulator: numpy on int64 columns, no per-row Python in the hot path.

Amounts are exact: ``round_half_away(P * R / T)`` (P = price * quantity >= 0, R = remaining
and T = total seconds or days) is computed with integer floor division only, without
forming ``P * R`` (which could overflow int64)::

    P = q*T + r            (0 <= r < T)
    P*R/T = q*R + r*R/T    (q*R <= P, r*R < T*T)

Rows whose inputs could still overflow int64 (price * quantity >= 2**59 or a period longer
than 3e9 seconds) are priced by the exact scalar :func:`.core.quote` instead; realistic
data never takes that path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from .. import contract
from ..errors import UserError
from . import core
from .calendar import (
    MAX_EPOCH_SECONDS_EXCL,
    SECONDS_PER_DAY,
    add_months_np,
    epoch_seconds,
    from_epoch_seconds,
    parse_ts_series,
)
from .core import GRANULARITIES, PRORATION_BEHAVIORS, TIMINGS, QuoteError
from .plans import Plan, plans_from_frame

REQUIRED_CASE_COLUMNS = (
    "case_id",
    "from_plan_id",
    "from_quantity",
    "to_plan_id",
    "period_start",
    "at",
)
OPTIONAL_CASE_COLUMNS = ("to_quantity", "period_end", "proration_behavior", "granularity", "timing")

OUTPUT_COLUMNS = (
    "case_id",
    "proration_net_minor",
    "amount_due_now_minor",
    "next_invoice_date",
    "next_invoice_amount_minor",
    "credit_balance_minor",
    "effective_at",
    "mrr_delta_minor",
    "movement",
    "kind",
    "error",
    "proration_credit_minor",
    "proration_charge_minor",
    "subscription_line_minor",
)

# simulator.md's movements: none, then the CRM's codes (contract.MOVEMENTS) a quote can
# give (not reactivation: a quote has a from plan). The vectorised path keeps an index
# into this tuple per row, in this order.
MOVEMENTS = ("none", "new", "churn", "expansion", "contraction", "renewal")
assert set(MOVEMENTS[1:]) <= set(contract.MOVEMENTS)
KINDS = (
    "tier_upgrade",
    "tier_downgrade",
    "interval_switch",
    "seat_expansion",
    "seat_reduction",
    "renewal",
)

# Rows at or above these bounds are priced by the exact scalar path (int64 safety).
_SAFE_AMOUNT = float(2**59)
_SAFE_PERIOD_SECONDS = 3_000_000_000

MSG_TOO_LARGE = "amounts exceed the 64-bit integer range of the batch output"

# Error codes, in the order the checks apply (the first one wins, as in core.quote).
(
    E_BEHAVIOR,
    E_GRANULARITY,
    E_TIMING,
    E_FROM_QTY_MISSING,
    E_FROM_QTY_BAD,
    E_TO_QTY_BAD,
    E_FROM_PLAN_MISSING,
    E_TO_PLAN_MISSING,
    E_FROM_PLAN_UNKNOWN,
    E_TO_PLAN_UNKNOWN,
    E_CURRENCY,
    E_PS_MISSING,
    E_PS_BAD,
    E_PE_DEFAULT_RANGE,
    E_PE_BAD,
    E_AT_MISSING,
    E_AT_BAD,
    E_PERIOD_ORDER,
    E_AT_OUTSIDE,
    E_BELOW_MIN,
    E_ABOVE_MAX,
    E_ZERO_DAYS,
    E_NEW_END_RANGE,
) = range(1, 24)


def _catalog_frame(plans: Any) -> dict[str, Plan]:
    if isinstance(plans, pl.DataFrame):
        return plans_from_frame(plans)
    if isinstance(plans, dict):
        return plans
    raise TypeError("plans must be a polars DataFrame (plans table) or a dict of Plan")


def _text_column(cases: pl.DataFrame, name: str) -> pl.Series:
    """A column as stripped text, '' -> null (null when the column is absent)."""
    if name not in cases.columns:
        return pl.Series(name, [None] * cases.height, dtype=pl.Utf8)
    s = cases.get_column(name).cast(pl.Utf8).str.strip_chars()
    return s.set(s == "", None) if s.null_count() < len(s) else s


def _option_codes(
    cases: pl.DataFrame, name: str, allowed: tuple[str, ...], default: int
) -> tuple[np.ndarray, pl.Series]:
    """Option column -> codes (index in ``allowed``; -1 = unknown; null = default)."""
    if name not in cases.columns:
        return np.full(cases.height, default, dtype=np.int64), pl.Series([None] * cases.height)
    raw = cases.get_column(name).cast(pl.Utf8)
    codes = raw.replace_strict(
        list(allowed), list(range(len(allowed))), default=-1, return_dtype=pl.Int64
    )
    codes = codes.set(raw.is_null(), default) if raw.null_count() else codes
    return codes.to_numpy().astype(np.int64, copy=False), raw


def _quantity(
    cases: pl.DataFrame, name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pl.Series]:
    """Quantity column -> (values, present, valid, raw text)."""
    n = cases.height
    if name not in cases.columns:
        zeros = np.zeros(n, dtype=np.int64)
        return zeros, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool), pl.Series([None] * n)
    raw = cases.get_column(name)
    present = raw.is_not_null().to_numpy()
    if raw.dtype.is_integer():
        values = raw.cast(pl.Int64, strict=False)
        ok = values.is_not_null().to_numpy() & present
    elif raw.dtype.is_float():
        whole = (raw == raw.floor()) & raw.is_finite() & (raw.abs() < 2.0**62)
        values = pl.when(pl.Series(whole)).then(raw).otherwise(None)
        values = pl.select(values).to_series().cast(pl.Int64, strict=False)
        ok = values.is_not_null().to_numpy() & present
    else:
        text = raw.cast(pl.Utf8).str.strip_chars()
        digits = text.str.contains(r"^\d{1,18}$").fill_null(False)
        values = text.cast(pl.Int64, strict=False)
        ok = digits.to_numpy() & present
        present = present & (text != "").fill_null(False).to_numpy()
    vals = values.fill_null(0).to_numpy().astype(np.int64, copy=False)
    ok = ok & (vals >= 0)
    vals = np.where(ok, vals, 0)
    return vals, present, ok, raw.cast(pl.Utf8)


def _round_div(p: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    """round_half_away(p * r / t) for p >= 0, 0 <= r <= t, 0 < t, exact in int64."""
    q, rem = np.divmod(p, t)
    q2, rem2 = np.divmod(rem * r, t)
    return q * r + q2 + (2 * rem2 >= t)


def _set_first(err: np.ndarray, mask: np.ndarray, code: int) -> None:
    """Record ``code`` for rows in ``mask`` that have no earlier error."""
    np.copyto(err, code, where=mask & (err == 0))


def price_batch(cases: pl.DataFrame, plans: pl.DataFrame | dict[str, Plan]) -> pl.DataFrame:
    """Price many plan changes at once (``simulator.md``, batch mode).

    ``cases``: ``case_id``, ``from_plan_id``, ``from_quantity``, ``to_plan_id``,
    ``period_start``, ``at`` and optionally ``to_quantity``, ``period_end``,
    ``proration_behavior``, ``granularity``, ``timing`` (timestamps as polars Datetime or
    ISO 8601 text). ``plans``: a plans table (data contract) or a catalog from
    :func:`load_plans`.

    Returns one row per case, in input order, with :data:`OUTPUT_COLUMNS`. An invalid
    case has a non-null ``error`` and nulls elsewhere; the others are still priced.
    """
    missing = [c for c in REQUIRED_CASE_COLUMNS if c not in cases.columns]
    if missing:
        raise UserError(f"cases: missing required column {missing[0]!r}")
    catalog = _catalog_frame(plans)
    n = cases.height
    plan_list = list(catalog.values())
    ids = [p.plan_id for p in plan_list]
    p_price = np.array([p.unit_amount_minor for p in plan_list] or [0], dtype=np.int64)
    p_months = np.array(
        [1 if p.billing_interval == "month" else 12 for p in plan_list] or [1], dtype=np.int64
    )
    p_tier = np.array([p.tier_rank for p in plan_list] or [0], dtype=np.int64)
    currencies = sorted({p.currency for p in plan_list})
    p_cur = np.array([currencies.index(p.currency) for p in plan_list] or [0], dtype=np.int64)
    p_min = np.array(
        [p.min_seats if p.min_seats is not None else 0 for p in plan_list] or [0], dtype=np.int64
    )
    p_max = np.array(
        [p.max_seats if p.max_seats is not None else np.iinfo(np.int64).max for p in plan_list]
        or [0],
        dtype=np.int64,
    )

    err = np.zeros(n, dtype=np.int64)

    # 1. options
    beh, beh_raw = _option_codes(cases, "proration_behavior", PRORATION_BEHAVIORS, 0)
    gran, gran_raw = _option_codes(cases, "granularity", GRANULARITIES, 0)
    tim, tim_raw = _option_codes(cases, "timing", TIMINGS, 2)
    _set_first(err, beh < 0, E_BEHAVIOR)
    _set_first(err, gran < 0, E_GRANULARITY)
    _set_first(err, tim < 0, E_TIMING)

    # 2. quantities
    qf, qf_present, qf_ok, qf_raw = _quantity(cases, "from_quantity")
    qt_in, qt_present, qt_ok, qt_raw = _quantity(cases, "to_quantity")
    _set_first(err, ~qf_present, E_FROM_QTY_MISSING)
    _set_first(err, ~qf_ok, E_FROM_QTY_BAD)
    _set_first(err, qt_present & ~qt_ok, E_TO_QTY_BAD)
    qt = np.where(qt_present, qt_in, qf)

    # 3. plans
    from_id = _text_column(cases, "from_plan_id")
    to_id = _text_column(cases, "to_plan_id")
    fi = from_id.replace_strict(ids, list(range(len(ids))), default=-1, return_dtype=pl.Int64)
    ti = to_id.replace_strict(ids, list(range(len(ids))), default=-1, return_dtype=pl.Int64)
    fi = fi.fill_null(-1).to_numpy().astype(np.int64, copy=False)
    ti = ti.fill_null(-1).to_numpy().astype(np.int64, copy=False)
    _set_first(err, from_id.is_null().to_numpy(), E_FROM_PLAN_MISSING)
    _set_first(err, to_id.is_null().to_numpy(), E_TO_PLAN_MISSING)
    _set_first(err, fi < 0, E_FROM_PLAN_UNKNOWN)
    _set_first(err, ti < 0, E_TO_PLAN_UNKNOWN)
    fi = np.where(fi < 0, 0, fi)
    ti = np.where(ti < 0, 0, ti)
    _set_first(err, p_cur[fi] != p_cur[ti], E_CURRENCY)

    # 4. timestamps
    ps, ps_present, ps_valid = parse_ts_series(_ts_column(cases, "period_start"))
    pe_in, pe_present, pe_valid = parse_ts_series(_ts_column(cases, "period_end"))
    at, at_present, at_valid = parse_ts_series(_ts_column(cases, "at"))
    mf, mt = p_months[fi], p_months[ti]
    _set_first(err, ~ps_present, E_PS_MISSING)
    _set_first(err, ~ps_valid, E_PS_BAD)
    pe_default = add_months_np(ps, mf)
    _set_first(err, ~pe_present & (pe_default >= MAX_EPOCH_SECONDS_EXCL), E_PE_DEFAULT_RANGE)
    _set_first(err, pe_present & ~pe_valid, E_PE_BAD)
    pe = np.where(pe_present, pe_in, pe_default)
    _set_first(err, ~at_present, E_AT_MISSING)
    _set_first(err, ~at_valid, E_AT_BAD)
    _set_first(err, pe <= ps, E_PERIOD_ORDER)
    _set_first(err, (at < ps) | (at >= pe), E_AT_OUTSIDE)

    # 5. seats
    _set_first(err, qt < p_min[ti], E_BELOW_MIN)
    _set_first(err, qt > p_max[ti], E_ABOVE_MAX)

    # 6. remaining fraction R / T
    day = gran == 1
    ps_d, pe_d, at_d = ps // SECONDS_PER_DAY, pe // SECONDS_PER_DAY, at // SECONDS_PER_DAY
    total = np.where(day, pe_d - ps_d, pe - ps)
    remaining = np.where(day, pe_d - at_d, pe - at)
    _set_first(err, day & (total == 0), E_ZERO_DAYS)

    # 7. revenue facts
    price_f, price_t = p_price[fi], p_price[ti]
    unsafe = (
        (price_f.astype(np.float64) * qf.astype(np.float64) >= _SAFE_AMOUNT)
        | (price_t.astype(np.float64) * qt.astype(np.float64) >= _SAFE_AMOUNT)
        | (total > _SAFE_PERIOD_SECONDS)
    )
    ok = err == 0
    calc = ok & ~unsafe
    qf_c = np.where(calc, qf, 0)
    qt_c = np.where(calc, qt, 0)
    total = np.where(calc & (total > 0), total, 1)
    remaining = np.where(calc, remaining, 0)
    amount_f = price_f * qf_c
    amount_t = price_t * qt_c
    mrr12_f = amount_f * (12 // mf)
    mrr12_t = amount_t * (12 // mt)
    delta12 = mrr12_t - mrr12_f
    immediate = (tim == 0) | ((tim == 2) & (delta12 >= 0))
    switch = mf != mt

    new_end = add_months_np(at, mt)
    _set_first(
        err, calc & immediate & switch & (new_end >= MAX_EPOCH_SECONDS_EXCL), E_NEW_END_RANGE
    )
    ok = err == 0
    calc = ok & ~unsafe

    lines_on = calc & immediate & (beh != 2)
    has_credit = lines_on & (price_f > 0)
    has_charge = lines_on & ~switch & (price_t > 0)
    has_sub = calc & immediate & switch & (price_t > 0)
    credit = np.where(has_credit, -_round_div(amount_f, remaining, total), 0)
    charge = np.where(has_charge, _round_div(amount_t, remaining, total), 0)
    sub = np.where(has_sub, amount_t, 0)
    net = credit + charge
    due = np.where(switch, credit + sub, np.where(beh == 1, net, 0))
    pending = np.where(~switch & (beh == 0), net, 0)
    due_now = np.maximum(due, 0)
    next_total = amount_t + pending - np.maximum(-due, 0)
    next_amount = np.maximum(next_total, 0)
    credit_balance = np.maximum(-next_total, 0)
    next_date = np.where(immediate & switch, new_end, pe)
    effective = np.where(immediate, at, pe)

    movement = np.select(
        [
            (mrr12_f == 0) & (mrr12_t == 0),
            mrr12_f == 0,
            mrr12_t == 0,
            delta12 > 0,
            delta12 < 0,
        ],
        [0, 1, 2, 3, 4],
        5,
    )
    tier_f, tier_t = p_tier[fi], p_tier[ti]
    kind = np.select(
        [tier_t > tier_f, tier_t < tier_f, switch, qt_c > qf_c, qt_c < qf_c], [0, 1, 2, 3, 4], 5
    )
    mrr_delta = delta12 / 12.0

    messages: list[str | None] | None = None
    # Pathological rows (int64 overflow risk): the exact scalar path.
    slow = np.flatnonzero(ok & unsafe)
    if len(slow):
        messages = [None] * n
        for i in slow:
            try:
                q = core.quote(
                    catalog,
                    ids[fi[i]],
                    int(qf[i]),
                    ids[ti[i]],
                    int(qt[i]),
                    from_epoch_seconds(ps[i]),
                    from_epoch_seconds(pe[i]),
                    from_epoch_seconds(at[i]),
                    PRORATION_BEHAVIORS[beh[i]],
                    GRANULARITIES[gran[i]],
                    TIMINGS[tim[i]],
                )
            except QuoteError as exc:
                messages[i] = str(exc)
                continue
            c = q.line("proration_credit")
            ch = q.line("proration_charge")
            s = q.line("subscription")
            results = [ln.amount_minor for ln in q.lines] + [
                q.proration_net_minor,
                q.amount_due_now_minor,
                q.next_invoice_amount_minor,
                q.credit_balance_minor,
            ]
            if any(abs(v) >= 2**63 for v in results):
                messages[i] = MSG_TOO_LARGE
                continue
            credit[i], has_credit[i] = (c.amount_minor, True) if c else (0, False)
            charge[i], has_charge[i] = (ch.amount_minor, True) if ch else (0, False)
            sub[i], has_sub[i] = (s.amount_minor, True) if s else (0, False)
            net[i] = q.proration_net_minor
            due_now[i] = q.amount_due_now_minor
            next_amount[i] = q.next_invoice_amount_minor
            credit_balance[i] = q.credit_balance_minor
            next_date[i] = epoch_seconds(q.next_invoice_date)
            effective[i] = epoch_seconds(q.effective_at)
            mrr_delta[i] = float(q.mrr_delta_minor)
            movement[i] = MOVEMENTS.index(q.movement)
            kind[i] = KINDS.index(q.kind)

    error = _error_messages(
        err,
        cases,
        catalog,
        ids,
        fi,
        ti,
        qt,
        ps,
        pe,
        at,
        beh_raw,
        gran_raw,
        tim_raw,
        qf_raw,
        qt_raw,
        from_id,
        to_id,
    )
    if messages is not None:
        extra = pl.Series("error", messages, dtype=pl.Utf8)
        error = error.zip_with(error.is_not_null(), extra)
    valid = error.is_null().to_numpy()

    def ints(values: np.ndarray, mask: np.ndarray) -> pl.Series:
        s = pl.Series(values.astype(np.int64, copy=False))
        return s.set(pl.Series(~mask), None) if not mask.all() else s

    def stamps(values: np.ndarray, mask: np.ndarray) -> pl.Series:
        s = pl.Series(values.astype(np.int64, copy=False) * 1_000_000).cast(
            pl.Datetime("us", "UTC")
        )
        return s.set(pl.Series(~mask), None) if not mask.all() else s

    mrr_s = pl.Series(mrr_delta.astype(np.float64, copy=False))
    mov_s = pl.Series(MOVEMENTS).gather(pl.Series(movement.astype(np.uint32)))
    kind_s = pl.Series(KINDS).gather(pl.Series(kind.astype(np.uint32)))
    if not valid.all():
        inv = pl.Series(~valid)
        mrr_s = mrr_s.set(inv, None)
        mov_s = mov_s.set(inv, None)
        kind_s = kind_s.set(inv, None)

    return pl.DataFrame(
        {
            "case_id": cases.get_column("case_id"),
            "proration_net_minor": ints(net, valid),
            "amount_due_now_minor": ints(due_now, valid),
            "next_invoice_date": stamps(next_date, valid),
            "next_invoice_amount_minor": ints(next_amount, valid),
            "credit_balance_minor": ints(credit_balance, valid),
            "effective_at": stamps(effective, valid),
            "mrr_delta_minor": mrr_s,
            "movement": mov_s,
            "kind": kind_s,
            "error": error,
            "proration_credit_minor": ints(credit, valid & has_credit),
            "proration_charge_minor": ints(charge, valid & has_charge),
            "subscription_line_minor": ints(sub, valid & has_sub),
        }
    )


def _ts_column(cases: pl.DataFrame, name: str) -> pl.Series:
    if name not in cases.columns:
        return pl.Series(name, [None] * cases.height, dtype=pl.Utf8)
    s = cases.get_column(name)
    if s.dtype == pl.Utf8:
        s = s.str.strip_chars()
        s = s.set(s == "", None) if s.null_count() < len(s) else s
    return s


def _ts_text(seconds: pl.Expr) -> pl.Expr:
    return pl.from_epoch(seconds, time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_messages(
    err: np.ndarray,
    cases: pl.DataFrame,
    catalog: dict[str, Plan],
    ids: list[str],
    fi: np.ndarray,
    ti: np.ndarray,
    qt: np.ndarray,
    ps: np.ndarray,
    pe: np.ndarray,
    at: np.ndarray,
    beh_raw: pl.Series,
    gran_raw: pl.Series,
    tim_raw: pl.Series,
    qf_raw: pl.Series,
    qt_raw: pl.Series,
    from_id: pl.Series,
    to_id: pl.Series,
) -> pl.Series:
    """The error message of every row (null when valid), built only for the bad rows."""
    n = len(err)
    bad = np.flatnonzero(err)
    if len(bad) == 0:
        return pl.Series("error", [None] * n, dtype=pl.Utf8)
    take = pl.Series(bad.astype(np.int64))
    plan_list = [catalog[i] for i in ids] or [None]
    p_cur = pl.Series([p.currency if p else "" for p in plan_list])
    p_id = pl.Series([p.plan_id if p else "" for p in plan_list])
    p_min = pl.Series([p.min_seats if p else None for p in plan_list], dtype=pl.Int64)
    p_max = pl.Series([p.max_seats if p else None for p in plan_list], dtype=pl.Int64)
    fsel, tsel = pl.Series(fi[bad]), pl.Series(ti[bad])

    def raw(s: pl.Series) -> pl.Series:
        return (
            s.cast(pl.Utf8).gather(take)
            if len(s) == n
            else pl.Series([None] * len(bad), dtype=pl.Utf8)
        )

    def column_text(name: str) -> pl.Series:
        if name not in cases.columns:
            return pl.Series([None] * len(bad), dtype=pl.Utf8)
        s = cases.get_column(name).gather(take)
        return s.cast(pl.Utf8)

    f = pl.DataFrame(
        {
            "code": err[bad],
            "beh": raw(beh_raw),
            "gran": raw(gran_raw),
            "tim": raw(tim_raw),
            "qf": raw(qf_raw),
            "qt_raw": raw(qt_raw),
            "qt": qt[bad],
            "from_id": from_id.gather(take),
            "to_id": to_id.gather(take),
            "from_cur": p_cur.gather(fsel),
            "to_cur": p_cur.gather(tsel),
            "to_plan": p_id.gather(tsel),
            "to_min": p_min.gather(tsel),
            "to_max": p_max.gather(tsel),
            "ps_raw": column_text("period_start"),
            "pe_raw": column_text("period_end"),
            "at_raw": column_text("at"),
            "ps": ps[bad],
            "pe": pe[bad],
            "at": at[bad],
        }
    )
    c = pl.col
    q = "'"

    def unknown(name: str, col: str, allowed: tuple[str, ...]) -> pl.Expr:
        return pl.concat_str(
            [
                pl.lit(f"unknown {name} '"),
                c(col).fill_null(""),
                pl.lit("' (expected " + ", ".join(allowed[:-1]) + " or " + allowed[-1] + ")"),
            ]
        )

    def text(*parts: pl.Expr | str) -> pl.Expr:
        return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])

    def bad_ts(name: str, col: str) -> pl.Expr:
        return text(f"{name} is not a valid ISO 8601 timestamp: '", c(col).fill_null(""), q)

    def seats(bound: str, limit: str) -> pl.Expr:
        return text(
            "to_quantity ",
            c("qt").cast(pl.Utf8),
            f" is {bound} of ",
            c(limit).cast(pl.Utf8),
            " seats of plan '",
            c("to_plan"),
            q,
        )

    ps_t, pe_t, at_t = _ts_text(c("ps")), _ts_text(c("pe")), _ts_text(c("at"))
    branches: list[tuple[int, pl.Expr]] = [
        (E_BEHAVIOR, unknown("proration_behavior", "beh", PRORATION_BEHAVIORS)),
        (E_GRANULARITY, unknown("granularity", "gran", GRANULARITIES)),
        (E_TIMING, unknown("timing", "tim", TIMINGS)),
        (E_FROM_QTY_MISSING, pl.lit(core.msg_required("from_quantity"))),
        (E_FROM_QTY_BAD, text("from_quantity must be a whole number >= 0, not '", c("qf"), q)),
        (E_TO_QTY_BAD, text("to_quantity must be a whole number >= 0, not '", c("qt_raw"), q)),
        (E_FROM_PLAN_MISSING, pl.lit(core.msg_required("from_plan_id"))),
        (E_TO_PLAN_MISSING, pl.lit(core.msg_required("to_plan_id"))),
        (E_FROM_PLAN_UNKNOWN, text("unknown from plan '", c("from_id"), q)),
        (E_TO_PLAN_UNKNOWN, text("unknown to plan '", c("to_id"), q)),
        (
            E_CURRENCY,
            text(
                "currency mismatch: from plan '",
                c("from_id"),
                "' is ",
                c("from_cur"),
                ", to plan '",
                c("to_id"),
                "' is ",
                c("to_cur"),
            ),
        ),
        (E_PS_MISSING, pl.lit(core.msg_required("period_start"))),
        (E_PS_BAD, bad_ts("period_start", "ps_raw")),
        (E_PE_DEFAULT_RANGE, pl.lit(core.msg_out_of_range("period_end"))),
        (E_PE_BAD, bad_ts("period_end", "pe_raw")),
        (E_AT_MISSING, pl.lit(core.msg_required("at"))),
        (E_AT_BAD, bad_ts("at", "at_raw")),
        (E_PERIOD_ORDER, text("period_end ", pe_t, " is not after period_start ", ps_t)),
        (
            E_AT_OUTSIDE,
            text("at ", at_t, " is outside the billing period [", ps_t, ", ", pe_t, ")"),
        ),
        (E_BELOW_MIN, seats("below the minimum", "to_min")),
        (E_ABOVE_MAX, seats("above the maximum", "to_max")),
        (E_ZERO_DAYS, pl.lit(core.MSG_ZERO_DAYS)),
        (E_NEW_END_RANGE, pl.lit(core.msg_out_of_range("the new billing period's end"))),
    ]
    expr: Any = pl.when(c("code") == branches[0][0]).then(branches[0][1])
    for code, message in branches[1:]:
        expr = expr.when(c("code") == code).then(message)
    msgs = f.select(expr.otherwise(pl.lit("invalid case")).alias("error")).get_column("error")
    out = pl.Series("error", [None] * n, dtype=pl.Utf8)
    return out.scatter(bad, msgs)


__all__ = ["OUTPUT_COLUMNS", "price_batch"]
