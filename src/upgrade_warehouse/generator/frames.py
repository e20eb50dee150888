"""Turn the simulated arrays into typed polars frames, in the contract's column order."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..contract import TABLES_BY_NAME
from . import catalog as cat
from . import downstream as ds
from . import funnel as fn
from . import lifecycle as lc
from . import model as m
from .accounts import Accounts
from .billing import LINE_TYPES, Billing
from .fastfmt import digits_array
from .timeutil import NULL_TS

TS_DTYPE = pl.Datetime("us", "UTC")


def ts(a: np.ndarray) -> pl.Series:
    a = np.asarray(a, dtype=np.int64)
    s = pl.Series(np.where(a == NULL_TS, 0, a) * 1_000_000, dtype=pl.Int64)
    if (a == NULL_TS).any():
        s = pl.select(pl.when(pl.Series(a != NULL_TS)).then(s)).to_series()
    return s.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def ints(a: np.ndarray, null: int | None = None) -> pl.Series:
    s = pl.Series(np.asarray(a, dtype=np.int64), dtype=pl.Int64)
    if null is not None:
        s = pl.select(pl.when(s != null).then(s)).to_series()
    return s


def lookup(values, codes: np.ndarray) -> pl.Series:
    """values[codes] as strings; a negative code is null."""
    idx = pl.Series(np.asarray(codes, dtype=np.int64), dtype=pl.Int64)
    idx = pl.select(pl.when(idx >= 0).then(idx)).to_series()
    return pl.Series(list(values), dtype=pl.String).gather(idx)


def fmt_id(prefix: str, codes: np.ndarray, width: int, null_below_zero: bool = False) -> pl.Series:
    """``prefix`` + the code zero-padded to ``width`` digits (wider codes are not cut)."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and codes.max() < 10**width:
        out = pl.Series(digits_array(prefix, np.maximum(codes, 0), width)).cast(pl.String)
    else:
        s = pl.Series(codes, dtype=pl.Int64)
        out = pl.select(pl.lit(prefix) + s.cast(pl.String).str.zfill(width)).to_series()
    if null_below_zero and (codes < 0).any():
        out = pl.select(pl.when(pl.Series(codes >= 0)).then(out)).to_series()
    return out


def account_id(a) -> pl.Series:
    return fmt_id("acc_", a, 7)


def change_id(c) -> pl.Series:
    return fmt_id("chg_", c, 9, null_below_zero=True)


def sub_id(acct, seq) -> pl.Series:
    return pl.select(
        account_id(acct).str.replace("acc_", "sub_", literal=True) + "_" + ints(seq).cast(pl.String)
    ).to_series()


def plan_id(p) -> pl.Series:
    return lookup(cat.PLAN_IDS, p)


def currency(c) -> pl.Series:
    return lookup(cat.CURRENCY_CODES, c)


def by_time(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The rows (parallel arrays) in time order, ties by account: ``ts`` then ``acct``."""
    order = np.lexsort((cols["acct"], cols["ts"]))
    return {k: v[order] for k, v in cols.items()}


def frame(table: str, cols: dict[str, pl.Series]) -> pl.DataFrame:
    names = TABLES_BY_NAME[table].column_names
    assert list(cols) == names, (table, list(cols), names)
    return pl.DataFrame([s.alias(n) for n, s in cols.items()])


def accounts_frame(acc: Accounts) -> pl.DataFrame:
    idx = np.arange(acc.n)
    return frame(
        "accounts",
        {
            "account_id": account_id(idx),
            "created_at": ts(acc.created),
            "persona": lookup(m.PERSONAS, acc.persona),
            "acquisition_source": lookup(m.SOURCES, acc.source),
            "segment": lookup(m.SEGMENTS, acc.segment),
            "country": lookup(cat.COUNTRY_CODES, acc.country),
            "account_manager_id": fmt_id("am_", acc.am, 3, null_below_zero=True),
        },
    )


def changes_frame(ch: lc.Changes) -> pl.DataFrame:
    return frame(
        "subscription_changes",
        {
            "change_id": change_id(np.arange(ch.n)),
            "subscription_id": sub_id(ch.acct, ch.sub_seq),
            "account_id": account_id(ch.acct),
            "changed_at": ts(ch.changed),
            "effective_at": ts(ch.effective),
            "from_plan_id": plan_id(ch.from_plan),
            "to_plan_id": plan_id(ch.to_plan),
            "from_quantity": ints(ch.from_qty, -1),
            "to_quantity": ints(ch.to_qty, -1),
            "initiated_by": lookup(lc.INITIATORS, ch.initiated),
            "channel": lookup(lc.CHANNELS, ch.channel),
            "period_start": ts(ch.pstart),
            "period_end": ts(ch.pend),
            "proration_behavior": lookup(lc.PRORATIONS, ch.proration),
            "reason_code": lookup(lc.REASONS, ch.reason),
        },
    )


def invoice_frame(b: Billing) -> pl.DataFrame:
    n = len(b.acct)
    inv_ts = ts(b.issued).dt.strftime("%Y%m%d%H%M%S")
    sub = sub_id(b.acct, b.sub_seq)
    return frame(
        "invoice_lines",
        {
            "line_id": fmt_id("li_", np.arange(n), 9),
            "invoice_id": pl.select(
                sub.str.replace("sub_", "in_", literal=True) + "_" + inv_ts
            ).to_series(),
            "account_id": account_id(b.acct),
            "subscription_id": sub,
            "change_id": change_id(b.change),
            "line_type": lookup(LINE_TYPES, b.line_type),
            "amount_minor": ints(b.amount),
            "currency": currency(b.currency),
            "period_start": ts(b.pstart),
            "period_end": ts(b.pend),
            "issued_at": ts(b.issued),
        },
    )


def payments_frame(p: dict) -> pl.DataFrame:
    p = by_time(p)
    n = len(p["ts"])
    return frame(
        "payment_attempts",
        {
            "attempt_id": fmt_id("pay_", np.arange(n), 9),
            "account_id": account_id(p["acct"]),
            "attempted_at": ts(p["ts"]),
            "payment_method": lookup(m.PAYMENT_METHODS, p["method"]),
            "status": lookup(("failed", "succeeded"), p["ok"]),
            "failure_code": lookup(m.FAILURE_CODES, p["failure"]),
            "amount_minor": ints(p["amount"]),
            "currency": currency(p["currency"]),
            "change_id": change_id(p["change"]),
        },
    )


def crm_frame(r: dict) -> pl.DataFrame:
    n = len(r["acct"])
    return frame(
        "crm_opportunities",
        {
            "opportunity_id": fmt_id("opp_", np.arange(n), 8),
            "account_id": account_id(r["acct"]),
            "change_id": change_id(r["change"]),
            "origin": lookup(ds.ORIGINS, r["origin"]),
            "created_at": ts(r["created"]),
            "closed_at": ts(r["closed"]),
            "stage": lookup(ds.STAGES, r["stage"]),
            "movement_type": lookup(ds.CRM_MOVEMENTS, r["movement"]),
            "mrr_delta_minor": ints(r["amount"]),
            "currency": currency(r["currency"]),
            "owner_id": pl.select(
                pl.when(ints(r["origin"]) == 1)
                .then(pl.lit("integration_user"))
                .otherwise(fmt_id("rep_", r["owner"], 3))
            ).to_series(),
        },
    )


def sync_frame(s: dict) -> pl.DataFrame:
    n = len(s["change"])
    return frame(
        "sync_events",
        {
            "sync_event_id": fmt_id("syn_", np.arange(n), 10),
            "change_id": change_id(s["change"]),
            "target_system": lookup(ds.TARGETS, s["target"]),
            "attempt_number": ints(s["attempt"]),
            "attempted_at": ts(s["ts"]),
            "status": lookup(ds.SYNC_STATUSES, s["status"]),
            "error_code": lookup(ds.SYNC_ERRORS, s["error"]),
        },
    )


def checks_frame(c: dict) -> pl.DataFrame:
    c = by_time(c)
    n = len(c["ts"])
    return frame(
        "eligibility_checks",
        {
            "check_id": fmt_id("elg_", np.arange(n), 9),
            "account_id": account_id(c["acct"]),
            "target_plan_id": plan_id(c["plan"]),
            "checked_at": ts(c["ts"]),
            "channel": lookup(fn.ELIG_CHANNELS, c["channel"]),
            "result": lookup(("eligible", "rejected"), c["rejected"]),
            "reason_code": lookup(fn.ELIG_REASONS, c["reason"]),
            "overridden_at": ts(c["overridden"]),
        },
    )


def upsell_frame(u: dict) -> pl.DataFrame:
    n = len(u["acct"])
    return frame(
        "upsell_offers",
        {
            "offer_id": fmt_id("off_", np.arange(n), 8),
            "account_id": account_id(u["acct"]),
            "trigger": lookup(ds.TRIGGERS, u["trigger"]),
            "owner": lookup(ds.OWNERS, u["owner"]),
            "channel": lookup(ds.OFFER_CHANNELS, u["channel"]),
            "offered_plan_id": plan_id(u["plan"]),
            "offered_at": ts(u["offered"]),
            "outcome": lookup(ds.OUTCOMES, u["outcome"]),
            "outcome_at": ts(u["outcome_at"]),
            "change_id": change_id(u["change"]),
        },
    )


def orders_frame(o: dict) -> pl.DataFrame:
    return frame(
        "order_status_events",
        {
            "order_id": fmt_id("ord_", o["order"], 8),
            "account_id": account_id(o["acct"]),
            "change_id": change_id(o["change"]),
            "status": lookup(ds.ORDER_STATUSES, o["status"]),
            "occurred_at": ts(o["ts"]),
        },
    )


def fx_frame(f: dict) -> pl.DataFrame:
    decimals = np.where(f["rate"] < 0.1, 8, 6)
    text = [f"{r:.{d}f}" for r, d in zip(f["rate"].tolist(), decimals.tolist())]
    return frame(
        "fx_rates",
        {
            "rate_date": pl.Series(f["day"].astype("datetime64[D]")).cast(pl.Date),
            "currency": currency(f["currency"]),
            "rate_to_reporting": pl.Series(text, dtype=pl.String),
        },
    )
