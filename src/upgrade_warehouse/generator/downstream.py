"""What other systems recorded about the changes: cross-system sync attempts, CRM
opportunities (with miscoding), upsell offers, device-return orders; and fx rates."""

from __future__ import annotations

import numpy as np

from .. import contract
from . import catalog as cat
from . import lifecycle as lc
from .accounts import Accounts
from .config import GeneratorConfig, Streams
from .funnel import Funnel, _Acc, _lognormal, _state_lookup
from .timeutil import DAY, HOUR, MINUTE, NULL_TS

# ---- sync events -----------------------------------------------------------------
TARGETS = ("crm", "entitlements", "invoicing")
SYNC_STATUSES = ("succeeded", "failed", "dead_lettered", "manual_override")
S_OK, S_FAILED, S_DEAD, S_MANUAL = range(4)
SYNC_ERRORS = (
    "timeout",
    "rate_limited",
    "http_500",
    "validation_error",
    "conflict",
    "max_retries_exceeded",
)
FIRST_FAIL_P = np.array([0.08, 0.04, 0.03])
RETRY_FAIL_P = 0.5
MAX_ATTEMPTS = 5


def build_sync(cfg: GeneratorConfig, streams: Streams, ch: lc.Changes) -> dict:
    rng = streams.get("sync")
    end = cfg.end_ts
    n = ch.n
    change = np.repeat(np.arange(n), 3)
    target = np.tile(np.arange(3), n)
    k = change.size
    base = np.where(target == 1, ch.effective[change], ch.changed[change])
    t = base + np.minimum(_lognormal(rng, 4, 1.2, k), 600).astype(np.int64) + 1
    fail_first = rng.random(k) < FIRST_FAIL_P[target]
    n_fail = fail_first.astype(np.int64)
    going = fail_first.copy()
    for _ in range(MAX_ATTEMPTS - 1):
        going &= rng.random(k) < RETRY_FAIL_P
        n_fail += going
    dead = n_fail >= MAX_ATTEMPTS
    # after some failures, operations may push the change by hand instead of a retry
    manual_now = ~dead & (n_fail >= 2) & (rng.random(k) < 0.25)
    manual_after_dead = dead & (rng.random(k) < 0.55)
    out = _Acc("change", "target", "attempt", "ts", "status", "error")
    err_p = [0.35, 0.2, 0.2, 0.15, 0.1]
    for j in range(MAX_ATTEMPTS):
        exists = n_fail >= j  # attempt j+1 exists when j failures came before it
        failed_here = n_fail > j
        status = np.where(
            failed_here, np.where(dead & (j == MAX_ATTEMPTS - 1), S_DEAD, S_FAILED), S_OK
        )
        status = np.where(~failed_here & manual_now, S_MANUAL, status)
        err = np.where(
            status == S_DEAD, 5, np.where(status == S_FAILED, rng.choice(5, size=k, p=err_p), -1)
        )
        out.add(
            change=change[exists],
            target=target[exists],
            attempt=j + 1,
            ts=t[exists],
            status=status[exists],
            error=err[exists],
        )
        t = t + (30 * 4**j * rng.uniform(0.8, 1.2, k)).astype(np.int64)
    t_manual = t + rng.integers(HOUR, 4 * DAY, k)
    sel = manual_after_dead
    out.add(
        change=change[sel],
        target=target[sel],
        attempt=MAX_ATTEMPTS + 1,
        ts=t_manual[sel],
        status=S_MANUAL,
        error=-1,
    )
    res = out.done()
    keep = res["ts"] < end
    res = {f: v[keep] for f, v in res.items()}
    order = np.lexsort((res["attempt"], res["target"], res["change"], res["ts"]))
    return {f: v[order] for f, v in res.items()}


def crm_resolution(sync: dict, n_changes: int) -> np.ndarray:
    """Time the crm handoff of each change was resolved (NULL_TS if never)."""
    ok = (sync["target"] == 0) & np.isin(sync["status"], [S_OK, S_MANUAL])
    res = np.full(n_changes, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(res, sync["change"][ok], sync["ts"][ok])
    return np.where(res == np.iinfo(np.int64).max, NULL_TS, res)


# ---- CRM opportunities -------------------------------------------------------------
STAGES = ("open", "closed_won", "closed_lost")
ST_OPEN, ST_WON, ST_LOST = range(3)
ORIGINS = ("sales", "self_serve_sync")
CRM_MOVEMENTS = contract.MOVEMENTS
# derived movement code (lifecycle.MOVEMENTS) -> CRM movement code (CRM_MOVEMENTS)
_MV_TO_CRM = np.array([-1, 0, 1, 2, 3, 4, 5])
MISCODINGS = ("wrong_movement", "wrong_direction", "wrong_amount", "missing_record")
MISCODING_P = np.array([0.35, 0.20, 0.30, 0.15])


def _round12(delta12):
    """round(delta12 / 12), half away from zero."""
    q = (2 * np.abs(delta12) + 12) // 24
    return np.sign(delta12) * q


def build_crm(
    cfg: GeneratorConfig, streams: Streams, acc: Accounts, ch: lc.Changes, fun: Funnel, sync: dict
):
    rng = streams.get("crm")
    end = cfg.end_ts
    n = ch.n
    pop = ch.movement != lc.MV_NONE
    so = fun.sales_opps
    won = so["change"] >= 0
    sales_change = np.zeros(n, dtype=bool)
    sales_change[so["change"][won]] = True
    sales_created = np.full(n, NULL_TS, dtype=np.int64)
    sales_created[so["change"][won]] = so["created"][won]
    crm_done = crm_resolution(sync, n)

    # One "main" record per change of the population.
    is_sales = pop & sales_change
    is_sync = pop & ~sales_change & (crm_done != NULL_TS)
    genuine_missing = pop & ~sales_change & (crm_done == NULL_TS)
    idx = np.flatnonzero(is_sales | is_sync)
    k = idx.size
    created = np.where(is_sales[idx], sales_created[idx], crm_done[idx])
    closed = np.where(
        is_sales[idx],
        np.minimum(ch.changed[idx] + rng.integers(0, 2 * HOUR, k), end - 1),
        created,
    )
    closed = np.maximum(closed, created)
    movement = _MV_TO_CRM[ch.movement[idx]]
    amount = _round12(ch.delta12[idx])
    # Miscoding.
    mis = np.where(rng.random(k) < cfg.crm_miscoding_rate, rng.choice(4, size=k, p=MISCODING_P), -1)
    mv = ch.movement[idx]
    gain = np.isin(mv, [lc.MV_NEW, lc.MV_EXPANSION, lc.MV_REACTIVATION])
    loss = np.isin(mv, [lc.MV_CONTRACTION, lc.MV_CHURN])
    renewal = mv == lc.MV_RENEWAL
    mis = np.where((mis == 1) & renewal, 2, mis)  # a renewal has no direction to get wrong
    # wrong movement, same direction (indexed by the derived movement code)
    wm = np.array([1, 1, 0, 3, 2, 0, 1])  # none, new, expansion, contraction, churn, react, renewal
    wrong_mv = wm[mv]
    movement = np.where(mis == 0, wrong_mv, movement)
    # wrong direction: a gain coded as a contraction or a loss coded as an expansion
    movement = np.where((mis == 1) & gain, 2, np.where((mis == 1) & loss, 1, movement))
    amount = np.where(mis == 1, -amount, amount)
    # wrong amount: the annual value instead of the monthly one, or a typo
    mrr_after = _round12(ch.mrr12_after[idx])
    bad_amt = np.where(
        renewal,
        mrr_after,
        np.where(
            rng.random(k) < 0.6,
            amount * 12,
            amount
            + np.sign(amount)
            * np.maximum(2, np.abs(amount) * rng.uniform(0.05, 0.3, k)).astype(np.int64),
        ),
    )
    amount = np.where(mis == 2, bad_amt, amount)
    present = mis != 3
    origin = np.where(is_sales[idx], 0, 1)
    owner_am = acc.am[ch.acct[idx]]
    owner = np.where(origin == 0, np.where(owner_am >= 0, owner_am, rng.integers(1, 25, k)), -1)
    rec = _Acc(
        "acct",
        "change",
        "origin",
        "created",
        "closed",
        "stage",
        "movement",
        "amount",
        "currency",
        "owner",
    )
    sel = present
    # Superseded records: an earlier closed_won for the same change, corrected later.
    sup = sel & (rng.random(k) < 0.05)
    t_fix = created + rng.integers(HOUR, 5 * DAY, k)
    sup &= t_fix < end

    def add_won(mask, created_at, closed_at, amount_minor) -> None:
        rec.add(
            acct=ch.acct[idx][mask],
            change=idx[mask],
            origin=origin[mask],
            created=created_at[mask],
            closed=closed_at[mask],
            stage=ST_WON,
            movement=movement[mask],
            amount=amount_minor,
            currency=ch.currency[idx][mask],
            owner=owner[mask],
        )

    add_won(sup, created, closed, np.where(amount[sup] != 0, amount[sup] * 12, 100))
    main_created = np.where(sup, t_fix, created)
    main_closed = np.where(sup, np.maximum(t_fix, closed), closed)
    add_won(sel, main_created, main_closed, amount[sel])
    # Lost and open sales opportunities (escalations that did not become a change).
    lo = np.flatnonzero(~won)
    kk = lo.size
    plan = so["plan"][lo]
    est = _round12(cat.PLAN_MRR12[plan] * so["qty"][lo])
    c_at = so["created"][lo]
    close_at = c_at + (2 * DAY + rng.exponential(20 * DAY, kk)).astype(np.int64)
    lost = (so["closed"][lo] == 0) & (close_at < end)
    acct_lo = so["acct"][lo]
    rec.add(
        acct=acct_lo,
        change=-1,
        origin=0,
        created=c_at,
        closed=np.where(lost, close_at, NULL_TS),
        stage=np.where(lost, ST_LOST, ST_OPEN),
        movement=np.where(cat.PLAN_TIER[plan] >= 1, 1, 0),
        amount=est,
        currency=cat.PLAN_CURRENCY[plan],
        owner=np.where(acc.am[acct_lo] >= 0, acc.am[acct_lo], rng.integers(1, 25, kk)),
    )
    res = rec.done()
    order = np.lexsort((res["change"], res["acct"], res["created"]))
    res = {f: v[order] for f, v in res.items()}
    stats = {
        "population": int(pop.sum()),
        "miscoded": {MISCODINGS[i]: int((mis == i).sum()) for i in range(4)},
        "missing_after_sync_failure": int(genuine_missing.sum()),
        "superseded": int(sup.sum()),
    }
    return res, stats


# ---- upsell offers -------------------------------------------------------------------
TRIGGERS = ("usage_threshold", "renewal_window", "feature_gate", "propensity", "support")
OWNERS = ("automated", "sales", "customer_success")
OFFER_CHANNELS = ("in_app", "email", "call", "demo")
OUTCOMES = ("accepted", "rejected", "deferred", "no_response")


def build_upsell(cfg: GeneratorConfig, streams: Streams, acc: Accounts, ch: lc.Changes) -> dict:
    rng = streams.get("upsell")
    end = cfg.end_ts
    base = cfg.start_ts - 400 * DAY
    out = _Acc(
        "acct", "trigger", "owner", "channel", "plan", "offered", "outcome", "outcome_at", "change"
    )
    # Accepted offers: the play that preceded an upgrade.
    order = np.lexsort((ch.changed, ch.acct))
    prev_changed = np.full(ch.n, NULL_TS, dtype=np.int64)
    same = ch.acct[order][1:] == ch.acct[order][:-1]
    prev_changed[order[1:]] = np.where(same, ch.changed[order][:-1], NULL_TS)
    lower = np.maximum(acc.created[ch.acct], prev_changed) + MINUTE
    et = ch.etype
    p = np.select(
        [
            np.isin(et, [lc.ET_SEAT_AUTO, lc.ET_FIRST_AUTO]),
            np.isin(et, lc.SALES_TYPES),
            et == lc.ET_TIER_SS,
            np.isin(et, [lc.ET_REACT_SS, lc.ET_REACT_NEW]),
            et == lc.ET_FIRST_SS,
            et == lc.ET_SEAT_SS,
        ],
        [0.5, 0.45, 0.3, 0.25, 0.18, 0.15],
        0.0,
    )
    sel = (ch.delta12 > 0) & (rng.random(ch.n) < p)
    i = np.flatnonzero(sel)
    k = i.size
    auto = np.isin(et[i], [lc.ET_SEAT_AUTO, lc.ET_FIRST_AUTO])
    sales = np.isin(et[i], lc.SALES_TYPES)
    from_yearly = (ch.from_plan[i] >= 0) & (cat.PLAN_YEARLY[np.maximum(ch.from_plan[i], 0)] == 1)
    trig = np.select(
        [auto, sales & from_yearly, sales],
        [0, 1, rng.choice([3, 4, 0], size=k, p=[0.5, 0.2, 0.3])],
        rng.choice([2, 0, 3], size=k, p=[0.4, 0.35, 0.25]),
    )
    owner = np.where(sales, np.where(rng.random(k) < 0.6, 1, 2), 0)
    chan = np.where(
        sales,
        rng.choice([2, 3, 1], size=k, p=[0.5, 0.3, 0.2]),
        np.where(auto | (rng.random(k) < 0.7), 0, 1),
    )
    lag = np.where(
        sales,
        np.minimum(_lognormal(rng, 7 * DAY, 0.8, k), 40 * DAY),
        np.minimum(_lognormal(rng, 2 * HOUR, 1.5, k), 10 * DAY),
    ).astype(np.int64)
    T = ch.changed[i]
    offered = np.maximum(T - lag, lower[i])
    outcome_at = np.maximum(T - rng.integers(1, 30, k), offered)
    out.add(
        acct=ch.acct[i],
        trigger=trig,
        owner=owner,
        channel=chan,
        plan=ch.to_plan[i],
        offered=offered,
        outcome=0,
        outcome_at=outcome_at,
        change=i,
    )
    # Offers that were not (or not yet) accepted.
    paid_ever = np.zeros(acc.n, dtype=bool)
    paid_ever[ch.acct[ch.mrr12_after > 0]] = True
    # onboarding plays in the first weeks, then a steady rate per month of life
    months_alive = np.maximum(end - acc.created - DAY, 0) / (30 * DAY)
    boost = np.where(paid_ever, 1.5, 1.0)
    mu_early = np.where(acc.activated, 0.35, 0.12) * boost
    mu_later = np.where(acc.activated, 0.055, 0.012) * boost * months_alive
    n_early = rng.poisson(mu_early)
    cnt = n_early + rng.poisson(mu_later)
    a = np.repeat(np.arange(acc.n), cnt)
    k = a.size
    early = (np.arange(k) - np.repeat(np.cumsum(cnt) - cnt, cnt)) < np.repeat(n_early, cnt)
    span = np.maximum(end - acc.created[a] - DAY, 1)
    offset = np.where(early, DAY + rng.exponential(12 * DAY, k), DAY + rng.random(k) * span)
    offered = acc.created[a] + offset.astype(np.int64)
    keep = offered < end
    a, offered = a[keep], offered[keep]
    k = a.size
    state = _state_lookup(ch, a, offered, base)
    cur_plan = np.where(state >= 0, ch.to_plan[np.maximum(state, 0)], -1)
    tier = np.where(cur_plan >= 0, cat.PLAN_TIER[np.maximum(cur_plan, 0)], 0)
    yearly = np.where(cur_plan >= 0, cat.PLAN_YEARLY[np.maximum(cur_plan, 0)], 0)
    paid = tier >= 1
    trig = np.where(
        paid,
        np.where(
            yearly == 1,
            rng.choice([1, 0, 3, 4], size=k, p=[0.5, 0.2, 0.2, 0.1]),
            rng.choice([0, 3, 4, 2], size=k, p=[0.4, 0.3, 0.15, 0.15]),
        ),
        rng.choice([2, 0, 3], size=k, p=[0.45, 0.35, 0.2]),
    )
    seg = acc.segment[a]
    human = np.isin(trig, [1, 4]) | ((seg > 0) & (rng.random(k) < 0.5))
    owner = np.where(human, np.where(trig == 4, 2, np.where(rng.random(k) < 0.5, 1, 2)), 0)
    chan = np.where(
        owner == 0,
        np.where(rng.random(k) < 0.65, 0, 1),
        rng.choice([1, 2, 3], size=k, p=[0.4, 0.4, 0.2]),
    )
    plan = cat.plan_index(acc.currency[a], np.minimum(tier + 1, 4), yearly)
    outcome = rng.choice([1, 2, 3], size=k, p=[0.32, 0.23, 0.45])
    outcome_at = offered + np.where(
        outcome == 3, 14 * DAY, np.minimum(_lognormal(rng, DAY, 1.2, k), 30 * DAY)
    ).astype(np.int64)
    pending = outcome_at >= end
    out.add(
        acct=a,
        trigger=trig,
        owner=owner,
        channel=chan,
        plan=plan,
        offered=offered,
        outcome=np.where(pending, -1, outcome),
        outcome_at=np.where(pending, NULL_TS, outcome_at),
        change=-1,
    )
    res = out.done()
    order = np.lexsort((res["acct"], res["offered"]))
    return {f: v[order] for f, v in res.items()}


# ---- device-return orders ---------------------------------------------------------------
ORDER_STATUSES = contract.ORDER_STATUSES  # the contract's order, indexed by code


def build_orders(cfg: GeneratorConfig, streams: Streams, ch: lc.Changes) -> dict:
    rng = streams.get("orders")
    end = cfg.end_ts
    et = ch.etype
    p = np.select(
        [
            np.isin(et, [lc.ET_CHURN_FREE, lc.ET_CANCEL]),
            np.isin(et, [lc.ET_TIER_DOWN, lc.ET_SEAT_RED]),
            np.isin(et, [lc.ET_TIER_SS, lc.ET_TIER_SALES]),
        ],
        [0.5, 0.3, 0.08],
        0.0,
    )
    i = np.flatnonzero(rng.random(ch.n) < p)
    k = i.size
    t0 = ch.changed[i] + rng.integers(5 * MINUTE, 2 * HOUR, k)
    gaps = np.stack(
        [
            rng.integers(MINUTE, HOUR, k),
            np.minimum(_lognormal(rng, 4 * DAY, 0.7, k), 40 * DAY),
            np.minimum(_lognormal(rng, 3 * DAY, 0.5, k), 30 * DAY),
            np.minimum(_lognormal(rng, DAY, 0.8, k), 20 * DAY),
            np.minimum(_lognormal(rng, 6 * HOUR, 1.0, k), 10 * DAY),
        ],
        axis=1,
    ).astype(np.int64)
    times = np.concatenate([t0[:, None], t0[:, None] + np.cumsum(gaps, axis=1)], axis=1)
    u = rng.random(k)
    cancelled = u < 0.07
    last = np.where(
        cancelled | (u < 0.17), 1, np.where(u < 0.21, 3, 5)
    )  # index of last normal status
    out = _Acc("order", "acct", "change", "status", "ts")
    for s in range(6):
        sel = last >= s
        out.add(
            order=np.flatnonzero(sel),
            acct=ch.acct[i][sel],
            change=i[sel],
            status=s,
            ts=times[sel, s],
        )
    t_cancel = times[:, 1] + rng.integers(HOUR, 5 * DAY, k)
    out.add(
        order=np.flatnonzero(cancelled),
        acct=ch.acct[i][cancelled],
        change=i[cancelled],
        status=6,
        ts=t_cancel[cancelled],
    )
    res = out.done()
    keep = res["ts"] < end
    res = {f: v[keep] for f, v in res.items()}
    order = np.lexsort((res["status"], res["order"], res["ts"]))
    return {f: v[order] for f, v in res.items()}


# ---- fx rates ---------------------------------------------------------------------------
def build_fx(cfg: GeneratorConfig, streams: Streams) -> dict:
    """Daily rates to USD for every other currency, from a week before the window."""
    rng = streams.get("fx")
    first_day = (cfg.start_ts - 7 * DAY) // DAY
    last_day = (cfg.end_ts - 1) // DAY
    days = np.arange(first_day, last_day + 1)
    out_day, out_cur, out_rate = [], [], []
    for c, code in enumerate(cat.CURRENCY_CODES):
        if code == "USD":
            continue
        steps = rng.normal(0, 0.004, days.size)
        walk = np.zeros(days.size)
        for j in range(1, days.size):  # mean-reverting walk (a few hundred steps)
            walk[j] = walk[j - 1] * 0.995 + steps[j]
        rate = cat.FX_START[c] * np.exp(walk)
        out_day.append(days)
        out_cur.append(np.full(days.size, c))
        out_rate.append(rate)
    day = np.concatenate(out_day)
    cur = np.concatenate(out_cur)
    rate = np.concatenate(out_rate)
    order = np.lexsort((cur, day))
    return {"day": day[order], "currency": cur[order], "rate": rate[order]}
