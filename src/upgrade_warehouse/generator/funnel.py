"""Upgrade attempts in the product: funnel events, escalations to sales, payments taken
inside the flows and eligibility checks.

Three kinds of attempts:
- completed flows: one per customer upgrade made through the product (the change made
  by the flow); its step times are drawn backwards from the change;
- escalated flows that led to a sales-assisted change days or weeks later;
- attempts that do not complete (abandoned at some step, payment failures, eligibility
  rejections, escalations that sales lost), drawn per account over its life.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..params import DEFAULT_FUNNEL_STEPS
from . import catalog as cat
from . import lifecycle as lc
from . import model as m
from .accounts import Accounts
from .billing import Billing
from .config import GeneratorConfig, Streams
from .timeutil import DAY, HOUR, MINUTE, NULL_TS

# Product event names: funnel steps 0..5, escalation, activation, then usage.
FUNNEL_STEPS = DEFAULT_FUNNEL_STEPS  # the metric parameter's default (dbt_project.yml)
EV_INTENT, EV_PLAN, EV_PREVIEW, EV_METHOD, EV_SUBMIT, EV_COMPLETED = range(6)
EV_ESCALATION = 6
EV_ACTIVATED = 7
EVENT_NAMES = (*FUNNEL_STEPS, "sales_contact_requested", "activated", *m.USAGE_NAMES)
USAGE_BASE = 8

ENTRY_POINTS = (
    "pricing_page",
    "usage_limit_banner",
    "feature_gate_modal",
    "email_campaign",
    "settings_billing",
    "seat_limit_banner",
    "upsell_offer",
)
PM_SAVED, PM_NEW, PM_WALLET, PM_BANK, PM_INVOICE = range(5)
ELIG_REASONS = (
    "contract_lock",
    "min_seats",
    "outstanding_balance",
    "requires_sales",
    "region_restricted",
)
ELIG_CHANNELS = ("web", "in_app", "sales", "api")


class _Acc:
    """Column accumulator: append dicts of equal-length arrays, concatenate at the end."""

    def __init__(self, *fields):
        self.fields = fields
        self.parts: list[dict] = []

    def add(self, **cols):
        k = None
        for f in self.fields:
            v = np.asarray(cols[f])
            if v.ndim == 0:
                continue
            k = v.size
            break
        if not k:
            return
        self.parts.append(
            {f: np.broadcast_to(np.asarray(cols[f]), (k,)).copy() for f in self.fields}
        )

    def done(self) -> dict[str, np.ndarray]:
        if not self.parts:
            return {f: np.zeros(0, dtype=np.int64) for f in self.fields}
        return {f: np.concatenate([p[f] for p in self.parts]) for f in self.fields}


@dataclass
class Funnel:
    events: dict  # acct, ts, name, pval, user
    payments: dict  # acct, ts, method, ok, failure, amount, currency, change
    checks: dict  # acct, plan, ts, channel, rejected, reason, overridden
    # Sales opportunities from escalations: acct, created, change (-1), plan, qty, stage hint
    sales_opps: dict
    assisted: np.ndarray = field(default=None)  # per change: a sales opportunity owns it


def _lognormal(rng, median, sigma, size):
    return np.exp(rng.normal(np.log(median), sigma, size))


def _processing_latency(rng, size):
    """Seconds from a self-serve payment's confirmation (card or wallet) to the plan
    change: mostly under 2 s (lognormal, median 1.2 s), with a tail of 4% slow ones
    (3-D Secure challenges, a slow processor or a queued change: lognormal, median 6 s,
    at most 10 min). Drawn from a stream of its own so that nothing else moves."""
    fast = _lognormal(rng, 1.2, 0.45, size)
    slow = np.minimum(_lognormal(rng, 6.0, 1.1, size), 600.0)
    return np.where(rng.random(size) < PROCESSING_TAIL_P, slow, fast)


PROCESSING_TAIL_P = 0.04


def _methods(rng, first_purchase, currency, segment):
    k = first_purchase.size
    u = rng.random(k)
    eur = currency == cat.CURRENCY_CODES.index("EUR")
    bank_first = np.where(eur, 0.22, 0.06)
    first = np.select(
        [u < bank_first, u < bank_first + 0.22, (segment > 0) & (u > 0.95)],
        [PM_BANK, PM_WALLET, PM_INVOICE],
        PM_NEW,
    )
    again = np.select([u < 0.72, u < 0.80, u < 0.88], [PM_SAVED, PM_NEW, PM_WALLET], PM_BANK)
    return np.where(first_purchase, first, again)


def _failure_codes(rng, k):
    return rng.choice(len(m.FAILURE_CODES), size=k, p=m.FAILURE_CODE_P)


def _state_lookup(ch: lc.Changes, acct: np.ndarray, t: np.ndarray, base: int):
    """Index of the last change of ``acct`` made at or before ``t`` (-1 if none)."""
    order = np.lexsort((ch.changed, ch.acct))
    keys = ch.acct[order] * (1 << 34) + (ch.changed[order] - base)
    q = acct * (1 << 34) + (t - base)
    pos = np.searchsorted(keys, q, side="right") - 1
    ok = pos >= 0
    res = np.full(acct.size, -1, dtype=np.int64)
    res[ok] = order[pos[ok]]
    res[ok] = np.where(ch.acct[res[ok]] == acct[ok], res[ok], -1)
    return res


def build_funnel(
    cfg: GeneratorConfig, streams: Streams, acc: Accounts, ch: lc.Changes, bill: Billing
) -> Funnel:
    rng = streams.get("funnel")
    end = cfg.end_ts
    base = cfg.start_ts - 400 * DAY
    ev = _Acc("acct", "ts", "name", "pval", "user")
    pay = _Acc("acct", "ts", "method", "ok", "failure", "amount", "currency", "change")
    chk = _Acc("acct", "plan", "ts", "channel", "rejected", "reason", "overridden")
    opp = _Acc("acct", "created", "change", "plan", "qty", "closed")

    # Lower bound for a flow of a change: after signup and after the previous change.
    order = np.lexsort((ch.changed, ch.acct))
    prev_changed = np.full(ch.n, NULL_TS, dtype=np.int64)
    same = ch.acct[order][1:] == ch.acct[order][:-1]
    prev_changed[order[1:]] = np.where(same, ch.changed[order][:-1], NULL_TS)
    lower = np.maximum(acc.created[ch.acct], prev_changed) + MINUTE

    assisted = np.zeros(ch.n, dtype=bool)

    # Activation events.
    a_idx = np.flatnonzero(acc.activated)
    ev.add(acct=a_idx, ts=acc.activated_at[a_idx], name=EV_ACTIVATED, pval=-1, user=0)

    # ---- A. completed flows -------------------------------------------------------
    ci = np.flatnonzero(np.isin(ch.etype, lc.FUNNEL_TYPES))
    k = ci.size
    T = ch.changed[ci]
    a = ch.acct[ci]
    due = bill.due_now[ci]
    needs_pay = due > 0
    first_purchase = ~ch.ever_paid_before[ci]
    method = _methods(rng, first_purchase, acc.currency[a], acc.segment[a])
    # Payment attempts: failures (at most 3) before the success.
    n_fail = np.zeros(k, dtype=np.int64)
    alive = needs_pay.copy()
    for _ in range(3):
        f = alive & (rng.random(k) < m.PAYMENT_FAIL_P[method])
        n_fail += f
        alive = f
    gap_pay = _processing_latency(streams.get("processing_latency"), k)  # success -> change
    fail_gaps = rng.uniform(20, 300, (k, 3)) * (np.arange(3)[None, :] < n_fail[:, None])
    gap_submit = np.where(needs_pay, rng.uniform(1, 4, k), rng.uniform(3, 30, k))
    g45 = _lognormal(rng, 35, 0.8, k)
    g34 = _lognormal(rng, 50, 0.9, k)
    g23 = _lognormal(rng, 40, 0.9, k)
    g12 = _lognormal(rng, 150, 1.2, k)
    steps = np.stack([g12, g23, g34, g45], axis=1)
    pause = rng.random(k) < 0.12
    which = rng.integers(0, 4, k)
    steps[np.arange(k), which] += np.where(
        pause, np.minimum(_lognormal(rng, 6 * HOUR, 1.5, k), 5 * DAY), 0
    )
    late = rng.random(k) < m.LATE_COMPLETION_P
    steps[np.arange(k), which] += np.where(late, rng.uniform(14.5 * DAY, 22 * DAY, k), 0)
    gaps = np.concatenate(
        [steps, gap_submit[:, None], fail_gaps, gap_pay[:, None]], axis=1
    )  # intent->plan, plan->preview, preview->method, method->submit, submit->pay1, fails..., ->T
    total = gaps.sum(axis=1)
    room = (T - lower[ci] - 4).astype(float)
    scale = np.where(total > room, np.maximum(room, 1) / total, 1.0)
    gaps = np.maximum(np.floor(gaps * scale[:, None]), 0)
    gaps[:, :5] = np.maximum(gaps[:, :5], 1)
    gaps[:, 5:8] = np.where(fail_gaps > 0, np.maximum(gaps[:, 5:8], 1), 0)
    gaps = gaps.astype(np.int64)
    back = np.cumsum(gaps[:, ::-1], axis=1)[:, ::-1]  # time before T of each point
    t_intent = T - back[:, 0]
    t_plan = T - back[:, 1]
    t_preview = T - back[:, 2]
    t_method = T - back[:, 3]
    t_submit = T - back[:, 4]
    t_done = T + rng.integers(1, 6, k)
    et = ch.etype[ci]
    entry = np.select(
        [et == lc.ET_FIRST_SS, et == lc.ET_SEAT_SS, et == lc.ET_TIER_SS],
        [
            rng.choice([0, 1, 2, 3, 4], size=k, p=[0.35, 0.25, 0.2, 0.1, 0.1]),
            rng.choice([5, 4], size=k),
            rng.choice([2, 0, 6], size=k, p=[0.5, 0.3, 0.2]),
        ],
        rng.choice([3, 0], size=k),
    )
    pm_event = np.where(needs_pay, method, PM_SAVED)
    for name, t, pv in (
        (EV_INTENT, t_intent, entry),
        (EV_PLAN, t_plan, ch.to_plan[ci]),
        (EV_PREVIEW, t_preview, -1),
        (EV_METHOD, t_method, pm_event),
        (EV_SUBMIT, t_submit, -1),
        (EV_COMPLETED, t_done, ci),
    ):
        ev.add(acct=a, ts=t, name=name, pval=pv, user=0)
    g12v = t_plan - t_intent
    rep = (rng.random(k) < m.REPEATED_INTENT_P) & (g12v >= 4)
    ev.add(
        acct=a[rep],
        ts=t_intent[rep] + (g12v[rep] * rng.uniform(0.2, 0.5, rep.sum())).astype(np.int64) + 1,
        name=EV_INTENT,
        pval=entry[rep],
        user=0,
    )
    ooo = (rng.random(k) < m.OUT_OF_ORDER_P) & (g12v >= 4)
    ev.add(
        acct=a[ooo],
        ts=t_intent[ooo] + (g12v[ooo] * rng.uniform(0.55, 0.9, ooo.sum())).astype(np.int64),
        name=EV_PREVIEW,
        pval=-1,
        user=0,
    )
    # Escalations inside completed flows; half of them end with a sales opportunity.
    g23v = t_preview - t_plan
    esc = (rng.random(k) < m.COMPLETED_ESCALATION_P) & (g23v >= 3)
    t_esc = t_plan + np.maximum((g23v * rng.uniform(0.2, 0.8, k)).astype(np.int64), 1)
    ev.add(acct=a[esc], ts=t_esc[esc], name=EV_ESCALATION, pval=-1, user=0)
    owned = esc & (rng.random(k) < 0.5)
    assisted[ci[owned]] = True
    opp.add(
        acct=a[owned],
        created=t_esc[owned],
        change=ci[owned],
        plan=ch.to_plan[ci[owned]],
        qty=ch.to_qty[ci[owned]],
        closed=1,
    )
    # Payments of completed flows.
    p_first = t_submit + gaps[:, 4]
    for j in range(4):
        if j < 3:
            sel = needs_pay & (n_fail > j)
            if not sel.any():
                continue
            t_att = p_first + (gaps[:, 5 : 5 + j].sum(axis=1) if j else 0)
            ok = 0
        else:
            sel = needs_pay
            t_att = T - gaps[:, 8]
            ok = 1
        mth = method if j == 0 else np.where(rng.random(k) < 0.3, PM_NEW, method)
        pay.add(
            acct=a[sel],
            ts=t_att[sel],
            method=mth[sel],
            ok=ok,
            failure=_failure_codes(rng, int(sel.sum())) if not ok else -1,
            amount=due[sel],
            currency=acc.currency[a[sel]],
            change=(ci[sel] if ok else -1),
        )
    # Eligibility checks at plan selection; a few false-positive rejections overridden by hand.
    t_chk = t_plan + np.minimum(2, np.maximum(t_preview - t_plan - 1, 0))
    fp = rng.random(k) < 0.03
    t_over = t_chk + np.maximum((t_preview - t_chk) // 2, 0)
    chk.add(
        acct=a,
        plan=ch.to_plan[ci],
        ts=t_chk,
        channel=np.where(
            ch.channel[ci] == lc.CH_API, 3, np.where(ch.channel[ci] == lc.CH_IN_APP, 1, 0)
        ),
        rejected=fp.astype(np.int64),
        reason=np.where(fp, rng.choice([0, 1, 2], size=k), -1),
        overridden=np.where(fp, t_over, NULL_TS),
    )

    # ---- B. sales-assisted changes: escalation and opportunity --------------------
    si = np.flatnonzero(
        np.isin(ch.etype, lc.SALES_TYPES)
        | ((ch.etype == lc.ET_ANNUAL) & (ch.initiated == lc.SALES))
    )
    k = si.size
    T = ch.changed[si]
    a = ch.acct[si]
    cycle = (DAY + rng.exponential(14 * DAY, k)).astype(np.int64)
    t_open = np.maximum(T - cycle, lower[si])
    inbound = (rng.random(k) < 0.55) & (t_open + HOUR < T)
    last = rng.choice([0, 1, 2], size=k, p=[0.4, 0.4, 0.2])
    t = t_open.copy()
    step_gap = [np.minimum(_lognormal(rng, med, 0.9, k), 600) for med in (150, 40, 50)]
    for s in range(3):
        sel = inbound & (last >= s)
        pv = (
            rng.choice([0, 2, 6], size=k)
            if s == 0
            else ch.to_plan[si]
            if s == 1
            else np.full(k, -1)
        )
        ev.add(acct=a[sel], ts=t[sel], name=s, pval=pv[sel], user=0)
        if s == 1:
            chk.add(
                acct=a[sel],
                plan=ch.to_plan[si][sel],
                ts=t[sel] + 1,
                channel=0,
                rejected=(cat.PLAN_TIER[ch.to_plan[si][sel]] == 4).astype(np.int64),
                reason=np.where(cat.PLAN_TIER[ch.to_plan[si][sel]] == 4, 3, -1),
                overridden=NULL_TS,
            )
        t = t + step_gap[s].astype(np.int64) + 1
    t_esc = np.where(inbound, t + rng.integers(30, 600, k), t_open)
    t_esc = np.minimum(t_esc, T - 60)
    ev.add(acct=a[inbound], ts=t_esc[inbound], name=EV_ESCALATION, pval=-1, user=0)
    opp.add(
        acct=a,
        created=np.maximum(t_esc, acc.created[a] + MINUTE),
        change=si,
        plan=ch.to_plan[si],
        qty=ch.to_qty[si],
        closed=1,
    )
    # Sales eligibility check before the deal closes.
    t_chk = T - np.minimum(rng.integers(HOUR, 2 * DAY, k), np.maximum(T - lower[si], 2) // 2)
    rej = rng.random(k) < 0.06
    chk.add(
        acct=a,
        plan=ch.to_plan[si],
        ts=t_chk,
        channel=2,
        rejected=rej.astype(np.int64),
        reason=np.where(rej, 0, -1),
        overridden=np.where(rej, t_chk + (T - t_chk) // 2, NULL_TS),
    )
    # Payment of sales deals (invoice or bank debit), minutes to hours before the change.
    sel = bill.due_now[si] > 0
    mth = np.where(rng.random(k) < 0.7, PM_INVOICE, PM_BANK)
    t_pay = T - np.minimum(
        rng.integers(10 * MINUTE, 3 * HOUR, k), np.maximum(T - lower[si], 2) // 2
    )
    fail_first = sel & (rng.random(k) < 0.04)
    pay.add(
        acct=a[fail_first],
        ts=t_pay[fail_first] - np.minimum(HOUR, (t_pay - lower[si])[fail_first] // 2),
        method=mth[fail_first],
        ok=0,
        failure=_failure_codes(rng, int(fail_first.sum())),
        amount=bill.due_now[si][fail_first],
        currency=acc.currency[a[fail_first]],
        change=-1,
    )
    pay.add(
        acct=a[sel],
        ts=t_pay[sel],
        method=mth[sel],
        ok=1,
        failure=-1,
        amount=bill.due_now[si][sel],
        currency=acc.currency[a[sel]],
        change=si[sel],
    )
    # Automatic upgrades charged now take the saved card.
    ai = np.flatnonzero((ch.initiated == lc.SYSTEM) & (bill.due_now > 0))
    pay.add(
        acct=ch.acct[ai],
        ts=ch.changed[ai] - rng.integers(1, 10, ai.size),
        method=PM_SAVED,
        ok=1,
        failure=-1,
        amount=bill.due_now[ai],
        currency=ch.currency[ai],
        change=ai,
    )

    # ---- C. attempts that do not complete ------------------------------------------
    life_days = (end - acc.created) / DAY
    lam = np.where(acc.activated, m.NOISE_ATTEMPTS_ACTIVATED, m.NOISE_ATTEMPTS_NOT_ACTIVATED)
    lam = lam * np.exp(0.4 * acc.engagement) * np.minimum(1.6, 0.35 + life_days / 150)
    cnt = rng.poisson(lam)
    a = np.repeat(np.arange(acc.n), cnt)
    k = a.size
    early = rng.random(k) < 0.5
    start = acc.created[a] + np.where(
        early,
        rng.exponential(10 * DAY, k),
        rng.random(k) * (end - acc.created[a]),
    ).astype(np.int64)
    start = np.maximum(start, acc.created[a] + 2 * MINUTE)
    keep = start < end
    a, start = a[keep], start[keep]
    k = a.size
    state = _state_lookup(ch, a, start, base)
    cur_plan = np.where(state >= 0, ch.to_plan[np.maximum(state, 0)], -1)
    has = cur_plan >= 0
    tier = np.where(has, cat.PLAN_TIER[np.maximum(cur_plan, 0)], 0)
    yearly = np.where(has, cat.PLAN_YEARLY[np.maximum(cur_plan, 0)], 0)
    qty = np.where(has, ch.to_qty[np.maximum(state, 0)], 1)
    ttier = np.minimum(tier + 1, 4)
    tplan = cat.plan_index(acc.currency[a], ttier, yearly)
    last = rng.choice(5, size=k, p=m.ABANDON_LAST_STEP)
    gaps = np.stack(
        [
            _lognormal(rng, 150, 1.2, k),
            _lognormal(rng, 40, 0.9, k),
            _lognormal(rng, 50, 0.9, k),
            _lognormal(rng, 35, 0.8, k),
        ],
        axis=1,
    )
    pause = rng.random(k) < 0.10
    which = rng.integers(0, 4, k)
    gaps[np.arange(k), which] += np.where(
        pause, np.minimum(_lognormal(rng, 5 * HOUR, 1.5, k), 4 * DAY), 0
    )
    tt = np.concatenate([np.zeros((k, 1)), np.cumsum(np.maximum(gaps, 1), axis=1)], axis=1).astype(
        np.int64
    )
    tt = start[:, None] + tt
    entry = rng.choice(len(ENTRY_POINTS), size=k, p=[0.42, 0.18, 0.14, 0.08, 0.08, 0.05, 0.05])
    first_purchase = ~(tier >= 1)
    method = _methods(rng, first_purchase, acc.currency[a], acc.segment[a])
    pvals = (entry, tplan, np.full(k, -1), method, np.full(k, -1))
    for s in range(5):
        sel = (last >= s) & (tt[:, s] < end)
        ev.add(acct=a[sel], ts=tt[sel, s], name=s, pval=pvals[s][sel], user=0)
    rep = rng.random(k) < 0.10
    t_rep = start + np.where(
        last >= 1, np.maximum((tt[:, 1] - start) // 2, 1), rng.integers(60, 900, k)
    )
    sel = rep & (t_rep < end) & (t_rep < np.where(last >= 1, tt[:, 1], end))
    ev.add(acct=a[sel], ts=t_rep[sel], name=EV_INTENT, pval=entry[sel], user=0)
    # Escalations (likely when the target plan is sold by sales only).
    p_esc = np.where(ttier == 4, 0.5, m.NOISE_ESCALATION_P)
    esc = rng.random(k) < p_esc
    t_last = tt[np.arange(k), last]
    t_esc = t_last + rng.integers(30, 900, k)
    sel = esc & (t_esc < end)
    ev.add(acct=a[sel], ts=t_esc[sel], name=EV_ESCALATION, pval=-1, user=0)
    closed = np.where(rng.random(k) < 0.7, 0, 2)  # 0 lost, 2 open
    opp.add(
        acct=a[sel],
        created=t_esc[sel],
        change=-1,
        plan=tplan[sel],
        qty=qty[sel],
        closed=closed[sel],
    )
    # Failed payments of attempts abandoned at payment_submitted.
    at5 = (last == 4) & (tt[:, 4] < end) & (rng.random(k) < 0.2)
    nf = 1 + (rng.random(k) < 0.3) + (rng.random(k) < 0.1)
    amount = cat.PLAN_UNIT[tplan] * qty
    for j in range(3):
        sel = at5 & (nf > j)
        t_att = tt[:, 4] + 2 + j * rng.integers(30, 240, k)
        sel &= t_att < end
        mth = method if j == 0 else np.where(rng.random(k) < 0.3, PM_NEW, method)
        pay.add(
            acct=a[sel],
            ts=t_att[sel],
            method=mth[sel],
            ok=0,
            failure=_failure_codes(rng, int(sel.sum())),
            amount=amount[sel],
            currency=acc.currency[a[sel]],
            change=-1,
        )
    # Eligibility at plan selection: stalls at plan_selected are often rejections.
    reached2 = (last >= 1) & (tt[:, 1] < end)
    rej = reached2 & np.where(last == 1, rng.random(k) < 0.22, rng.random(k) < 0.02)
    reason = np.select(
        [ttier == 4, qty < cat.TIER_MIN[ttier], yearly == 1],
        [3, 1, 0],
        rng.choice([2, 4, 0], size=k, p=[0.5, 0.2, 0.3]),
    )
    t_chk = tt[:, 1] + 1
    quick = last >= 2
    over = rej & (quick | (rng.random(k) < 0.25))
    t_over = np.where(
        quick,
        t_chk + np.maximum((tt[:, 2] - t_chk) // 2, 0),
        t_chk + rng.integers(HOUR, 3 * DAY, k),
    )
    over &= t_over < end
    chk.add(
        acct=a[reached2],
        plan=tplan[reached2],
        ts=t_chk[reached2],
        channel=rng.choice([0, 1], size=k)[reached2],
        rejected=rej[reached2].astype(np.int64),
        reason=np.where(rej, reason, -1)[reached2],
        overridden=np.where(over, t_over, NULL_TS)[reached2],
    )

    events = ev.done()
    keep = events["ts"] < end
    events = {f: v[keep] for f, v in events.items()}
    payments = pay.done()
    keep = payments["ts"] < end
    payments = {f: v[keep] for f, v in payments.items()}
    checks = chk.done()
    keep = checks["ts"] < end
    checks = {f: v[keep] for f, v in checks.items()}
    checks["overridden"] = np.where(checks["overridden"] < end, checks["overridden"], NULL_TS)
    return Funnel(
        events=events, payments=payments, checks=checks, sales_opps=opp.done(), assisted=assisted
    )
