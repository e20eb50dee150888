"""Subscription lifecycles: the billing system's log of subscription changes.

The simulation is vectorized over accounts and loops over *steps* (the k-th change of
every account at once), never over accounts. Each step draws, for every account still
in play, the waiting time to its next change from the sum of the hazards of its current
state, then the kind of change in proportion to the hazards. Annual plans renew at
their period end when nothing happens before. The from side of each change is the
state left by the previous one, so chains are consistent by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import contract
from . import catalog as cat
from . import model as m
from .accounts import Accounts
from .config import GeneratorConfig, Streams
from .timeutil import DAY, HOUR, MINUTE, NULL_TS, calendar_month, period_at

(
    ET_SIGNUP,
    ET_FIRST_SS,
    ET_FIRST_SALES,
    ET_FIRST_AUTO,
    ET_SEAT_SS,
    ET_SEAT_AUTO,
    ET_TIER_SS,
    ET_TIER_SALES,
    ET_ANNUAL,
    ET_SEAT_RED,
    ET_TIER_DOWN,
    ET_CHURN_FREE,
    ET_CANCEL,
    ET_REACT_SS,
    ET_REACT_NEW,
    ET_RENEWAL,
) = range(16)
# Changes a customer makes through the in-product upgrade flow (the funnel).
FUNNEL_TYPES = (ET_FIRST_SS, ET_SEAT_SS, ET_TIER_SS, ET_REACT_SS, ET_REACT_NEW)
SALES_TYPES = (ET_FIRST_SALES, ET_TIER_SALES)

INITIATORS = ("customer", "sales", "system")
CUSTOMER, SALES, SYSTEM = 0, 1, 2
CHANNELS = ("web", "in_app", "api", "partner", "sales_rep", "automatic")
CH_WEB, CH_IN_APP, CH_API, CH_PARTNER, CH_SALES_REP, CH_AUTOMATIC = range(6)
PRORATIONS = ("create_prorations", "always_invoice", "none")
PR_NULL, PR_CREATE, PR_ALWAYS, PR_NONE = -1, 0, 1, 2
REASONS = (
    "signup",
    "usage_limit",
    "feature_gate",
    "trial_conversion",
    "seats_added",
    "sales_deal",
    "renewal_window_offer",
    "annual_switch",
    "seats_removed",
    "budget_cut",
    "cancellation_requested",
    "payment_failed",
    "reactivation",
    "renewal",
)
R = {name: i for i, name in enumerate(REASONS)}
MOVEMENTS = ("none", *contract.MOVEMENTS)  # the CRM codes of the data contract, after none
MV_NONE, MV_NEW, MV_EXPANSION, MV_CONTRACTION, MV_CHURN, MV_REACTIVATION, MV_RENEWAL = range(7)

_LOOP_TYPES = tuple(
    range(ET_SEAT_SS, ET_REACT_NEW + 1)
)  # every type from ET_SEAT_SS on, but renewal
_UPGRADE_LOOP = np.isin(
    np.array(_LOOP_TYPES),
    [ET_SEAT_SS, ET_SEAT_AUTO, ET_TIER_SS, ET_TIER_SALES, ET_REACT_SS, ET_REACT_NEW],
)
MAX_STEPS = 200

_FIELDS = (
    "acct",
    "sub_seq",
    "etype",
    "changed",
    "effective",
    "from_plan",
    "from_qty",
    "to_plan",
    "to_qty",
    "initiated",
    "channel",
    "pstart",
    "pend",
    "proration",
    "reason",
    "ever_paid_before",
    "anchor_after",
    "step",
)


@dataclass
class Changes:
    """All subscription changes, sorted by (changed_at, account); row i is change i."""

    acct: np.ndarray
    sub_seq: np.ndarray
    etype: np.ndarray
    changed: np.ndarray
    effective: np.ndarray
    from_plan: np.ndarray  # -1 = null
    from_qty: np.ndarray
    to_plan: np.ndarray
    to_qty: np.ndarray
    initiated: np.ndarray
    channel: np.ndarray
    pstart: np.ndarray  # NULL_TS = null
    pend: np.ndarray
    proration: np.ndarray  # -1 = null
    reason: np.ndarray
    ever_paid_before: np.ndarray
    anchor_after: np.ndarray
    step: np.ndarray
    # derived
    mrr12_before: np.ndarray = None  # MRR * 12, exact integer minor units
    mrr12_after: np.ndarray = None
    movement: np.ndarray = None
    currency: np.ndarray = None

    @property
    def n(self) -> int:
        return len(self.acct)

    @property
    def delta12(self) -> np.ndarray:
        return self.mrr12_after - self.mrr12_before


def _mrr12(plan, qty):
    safe = np.maximum(plan, 0)
    return np.where(plan >= 0, cat.PLAN_MRR12[safe] * np.maximum(qty, 0), 0)


class _Sim:
    def __init__(self, acc: Accounts, rng: np.random.Generator):
        n = acc.n
        self.acc = acc
        self.rng = rng
        self.plan = np.full(n, -1, dtype=np.int64)
        self.qty = np.zeros(n, dtype=np.int64)
        self.anchor = np.full(n, NULL_TS, dtype=np.int64)
        self.has_sub = np.zeros(n, dtype=bool)
        self.sub_seq = np.zeros(n, dtype=np.int64)
        self.ever_paid = np.zeros(n, dtype=bool)
        self.t = acc.created.copy()
        self.rows: list[dict[str, np.ndarray]] = []
        self.step = 0

    def customer_channel(self, idx):
        rng = self.rng
        u = rng.random(idx.size)
        ch = np.where(u < 0.65, CH_WEB, np.where(u < 0.95, CH_IN_APP, CH_API))
        partner = (self.acc.source[idx] == 3) & (rng.random(idx.size) < 0.3)
        return np.where(partner, CH_PARTNER, ch)

    def by_customer(self, idx, et, tc, to_plan, to_qty, scheduled, reason, proration):
        """``apply`` a change the customer made, through one of their channels."""
        channel = self.customer_channel(idx)
        self.apply(idx, et, tc, to_plan, to_qty, scheduled, CUSTOMER, channel, reason, proration)

    def apply(self, idx, et, tc, to_plan, to_qty, scheduled, initiated, channel, reason, proration):
        k = idx.size
        if k == 0:
            return
        b = lambda v, dt=np.int64: np.broadcast_to(np.asarray(v, dtype=dt), (k,)).copy()
        et, to_plan, to_qty = b(et), b(to_plan), b(to_qty)
        scheduled, initiated, channel = b(scheduled, bool), b(initiated), b(channel)
        reason, proration = b(reason), b(proration)
        has = self.has_sub[idx]
        fp = np.where(has, self.plan[idx], -1)
        fq = np.where(has, self.qty[idx], -1)
        anchor = self.anchor[idx]
        step_from = np.where(has, cat.PLAN_STEP_MONTHS[np.maximum(fp, 0)], 1)
        ps, pe = period_at(np.where(has, anchor, tc), step_from, tc)
        ps = np.where(has, ps, NULL_TS)
        pe = np.where(has, pe, NULL_TS)
        sched = scheduled & has
        eff = np.where(sched, pe, tc)
        new_sub = ~has
        sub_seq = np.where(new_sub, self.sub_seq[idx] + 1, self.sub_seq[idx])
        to_step = cat.PLAN_STEP_MONTHS[np.maximum(to_plan, 0)]
        interval_change = has & (to_plan >= 0) & (to_step != step_from)
        new_anchor = np.where(new_sub, tc, np.where(interval_change, eff, anchor))
        proration = np.where(new_sub, PR_NULL, np.where(sched, PR_NONE, proration))
        self.rows.append(
            {
                "acct": idx.copy(),
                "sub_seq": sub_seq,
                "etype": et,
                "changed": tc.copy(),
                "effective": eff,
                "from_plan": fp,
                "from_qty": fq,
                "to_plan": to_plan,
                "to_qty": np.where(to_plan >= 0, to_qty, -1),
                "initiated": initiated,
                "channel": channel,
                "pstart": ps,
                "pend": pe,
                "proration": proration,
                "reason": reason,
                "ever_paid_before": self.ever_paid[idx].copy(),
                "anchor_after": new_anchor,
                "step": np.full(k, self.step, dtype=np.int64),
            }
        )
        self.step += 1
        self.plan[idx] = to_plan
        self.qty[idx] = np.where(to_plan >= 0, to_qty, 0)
        self.anchor[idx] = new_anchor
        self.has_sub[idx] = to_plan >= 0
        self.sub_seq[idx] = sub_seq
        self.ever_paid[idx] |= (to_plan >= 0) & (cat.PLAN_UNIT[np.maximum(to_plan, 0)] > 0)
        self.t[idx] = eff


def _geom(rng, p, size):
    return rng.geometric(p, size=size) - 1


def _clamp_qty(tier, qty):
    return np.clip(qty, cat.TIER_MIN[tier], cat.TIER_MAX[tier])


def simulate_changes(cfg: GeneratorConfig, streams: Streams, acc: Accounts) -> Changes:
    rng = streams.get("lifecycle")
    sim = _Sim(acc, rng)
    n = acc.n
    end = cfg.end_ts
    cur = acc.currency
    seg = acc.segment
    everyone = np.arange(n)

    # 1. Signup: every account starts on the free plan of its currency.
    sim.by_customer(
        everyone, ET_SIGNUP, acc.created, cat.plan_index(cur, 0, 0), 1, False, R["signup"], PR_NULL
    )

    # 2. First paid conversion.
    act = acc.activated
    act_month = calendar_month(np.where(act, acc.activated_at, acc.created))
    p_early = m.sigmoid(m.EARLY_UPGRADE_INTERCEPT + acc.upgrade_logit + m.UPGRADE_SEASON[act_month])
    early = act & (rng.random(n) < p_early)
    quick = rng.random(n) < 0.45
    d_early = np.where(
        quick,
        np.exp(rng.normal(np.log(3 * HOUR), 1.2, n)),
        rng.uniform(0.5 * DAY, 13.5 * DAY, n),
    ).astype(np.int64)
    d_early = np.clip(d_early, 20 * MINUTE, 13 * DAY + 20 * HOUR)
    t_first = np.where(early, acc.activated_at + d_early, NULL_TS)
    kind = np.where(early, ET_FIRST_SS, -1)

    sales_led = ~early & (rng.random(n) < m.SALES_LED_P[seg] * np.where(acc.source == 4, 2.0, 1.0))
    t_sales = acc.created + (3 * DAY + rng.exponential(25 * DAY, n)).astype(np.int64)
    t_first = np.where(sales_led, t_sales, t_first)
    kind = np.where(sales_led, ET_FIRST_SALES, kind)

    rest = kind < 0
    p_late = np.where(
        act, m.sigmoid(m.LATE_UPGRADE_INTERCEPT + acc.upgrade_logit), m.UNACTIVATED_UPGRADE_P
    )
    late = rest & (rng.random(n) < p_late)
    base = np.where(act, acc.activated_at, acc.created)
    t_late = base + (14.5 * DAY + rng.exponential(m.LATE_MEAN_DAYS * DAY, n)).astype(np.int64)
    u = rng.random(n)
    p_sales_late = np.where(seg == 0, 0.03, 0.20)
    late_kind = np.where(
        u < p_sales_late,
        ET_FIRST_SALES,
        np.where(u < p_sales_late + 0.08, ET_FIRST_AUTO, ET_FIRST_SS),
    )
    t_first = np.where(late, t_late, t_first)
    kind = np.where(late, late_kind, kind)
    kind = np.where((kind >= 0) & (t_first < end), kind, -1)

    # Target plans of first conversions.
    u = rng.random(n)
    tier_ss = np.select(
        [seg == 0, seg == 1],
        [
            np.where(u < 0.46, 1, np.where(u < 0.94, 2, 3)),
            np.where(u < 0.30, 1, np.where(u < 0.86, 2, 3)),
        ],
        np.where(u < 0.20, 1, np.where(u < 0.78, 2, 3)),
    )
    qty_ss = np.array([1, 2, 3])[seg] + _geom(rng, np.array([0.65, 0.35, 0.25])[seg], n)
    yearly_ss = (rng.random(n) < 0.12).astype(np.int64)
    u = rng.random(n)
    tier_sales = np.select(
        [seg == 2, seg == 1],
        [
            np.where(u < 0.05, 4, np.where(u < 0.60, 3, 2)),
            np.where(u < 0.50, 2, np.where(u < 0.98, 3, 4)),
        ],
        np.where(u < 0.7, 2, 3),
    )
    qty_sales = np.array([2, 3, 3])[seg] + _geom(rng, np.array([0.6, 0.5, 0.4])[seg], n)
    yearly_sales = (rng.random(n) < 0.65).astype(np.int64)

    for et in (ET_FIRST_SS, ET_FIRST_AUTO, ET_FIRST_SALES):
        idx = np.flatnonzero(kind == et)
        if idx.size == 0:
            continue
        k = idx.size
        if et == ET_FIRST_SS:
            tier, yearly, q = tier_ss[idx], yearly_ss[idx], qty_ss[idx]
            init, ch = CUSTOMER, sim.customer_channel(idx)
            reason = rng.choice(
                [R["usage_limit"], R["feature_gate"], R["trial_conversion"]],
                size=k,
                p=[0.4, 0.35, 0.25],
            )
            pr = PR_ALWAYS
        elif et == ET_FIRST_AUTO:
            tier = np.where(rng.random(k) < 0.7, 1, 2)
            yearly = np.zeros(k, dtype=np.int64)
            q = 1 + _geom(rng, 0.7, k)
            init, ch, reason, pr = SYSTEM, CH_AUTOMATIC, R["usage_limit"], PR_ALWAYS
        else:
            tier, yearly, q = tier_sales[idx], yearly_sales[idx], qty_sales[idx]
            init, ch, reason = SALES, CH_SALES_REP, R["sales_deal"]
            pr = np.where(rng.random(k) < 0.7, PR_ALWAYS, PR_CREATE)
        sim.apply(
            idx,
            et,
            t_first[idx],
            cat.plan_index(cur[idx], tier, yearly),
            _clamp_qty(tier, q),
            False,
            init,
            ch,
            reason,
            pr,
        )

    # 3. Lifecycle loop for accounts that became paying customers.
    alive = kind >= 0
    H = m.HAZARD
    for _ in range(MAX_STEPS):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        k = idx.size
        t = sim.t[idx]
        plan = sim.plan[idx]
        has = sim.has_sub[idx]
        safe = np.maximum(plan, 0)
        tier = np.where(has, cat.PLAN_TIER[safe], -1)
        yearly = has & (cat.PLAN_YEARLY[safe] == 1)
        qty = sim.qty[idx]
        s = seg[idx]
        paid = has & (tier >= 1)
        season = np.exp(m.UPGRADE_SEASON[calendar_month(t)])
        exp_mult = m.SEGMENT_EXPANSION[s] * season
        churn_mult = m.SEGMENT_CHURN[s]
        haz = np.zeros((k, len(_LOOP_TYPES)))
        haz[:, 0] = paid * H["seat_ss"] * exp_mult * (qty < cat.TIER_MAX[np.maximum(tier, 0)])
        haz[:, 1] = paid * H["seat_auto"] * exp_mult * (qty < cat.TIER_MAX[np.maximum(tier, 0)])
        haz[:, 2] = paid * (tier <= 2) * H["tier_ss"] * season
        haz[:, 3] = paid * (tier <= 3) * H["tier_sales"] * m.SEGMENT_SALES_UPGRADE[s] * season
        haz[:, 4] = paid * ~yearly * H["annual"]
        haz[:, 5] = paid * (qty > cat.TIER_MIN[np.maximum(tier, 0)]) * H["seat_red"]
        haz[:, 6] = paid * (tier >= 2) * H["tier_down"]
        haz[:, 7] = (
            paid * np.where(yearly, H["churn_free_year"], H["churn_free_month"]) * churn_mult
        )
        haz[:, 8] = paid * H["cancel"] * churn_mult
        haz[:, 9] = (has & (tier == 0)) * H["react_ss"] * season
        haz[:, 10] = ~has * H["react_new"] * season
        total = haz.sum(axis=1)
        wait = rng.exponential(1.0, k) / np.maximum(total, 1e-12) * DAY
        wait = np.maximum(wait, HOUR).astype(np.int64)
        wait = np.where(total > 0, wait, np.int64(1) << 40)
        tn = t + wait
        # Annual plans renew at period end unless something happens first.
        _, next_boundary = period_at(np.where(yearly, sim.anchor[idx], t), 12, t)
        renew = yearly & (next_boundary <= tn) & (next_boundary < end)
        tn = np.where(renew, next_boundary, tn)
        done = tn >= end
        alive[idx[done]] = False
        cum = np.cumsum(haz, axis=1)
        pick = (
            (rng.random(k)[:, None] * total[:, None] > cum)
            .sum(axis=1)
            .clip(0, len(_LOOP_TYPES) - 1)
        )
        etype = np.where(renew, ET_RENEWAL, np.array(_LOOP_TYPES)[pick])
        etype = np.where(done, -1, etype)
        for et in np.unique(etype):
            if et < 0:
                continue
            sel = etype == et
            _apply_loop(
                sim, rng, et, idx[sel], tn[sel], tier[sel], yearly[sel], qty[sel], plan[sel]
            )

    return _compile(sim, acc)


def _apply_loop(sim: _Sim, rng, et, idx, tc, tier, yearly, qty, plan):
    k = idx.size
    cur = sim.acc.currency[idx]
    yr = yearly.astype(np.int64)

    def same_interval(nt):
        """The plan of tier ``nt`` on the current interval and the seats kept within it."""
        return cat.plan_index(cur, nt, yr), _clamp_qty(nt, qty)

    if et == ET_RENEWAL:
        sim.apply(idx, et, tc, plan, qty, False, SYSTEM, CH_AUTOMATIC, R["renewal"], PR_NULL)
    elif et in (ET_SEAT_SS, ET_SEAT_AUTO):
        nq = np.minimum(qty + 1 + _geom(rng, 0.65, k), cat.TIER_MAX[tier])
        if et == ET_SEAT_SS:
            pr = np.where(rng.random(k) < 0.6, PR_ALWAYS, PR_CREATE)
            sim.by_customer(idx, et, tc, plan, nq, False, R["seats_added"], pr)
        else:
            sim.apply(
                idx, et, tc, plan, nq, False, SYSTEM, CH_AUTOMATIC, R["usage_limit"], PR_CREATE
            )
    elif et == ET_TIER_SS:
        nt = tier + 1
        pr = np.where(rng.random(k) < 0.6, PR_ALWAYS, PR_CREATE)
        sim.by_customer(idx, et, tc, *same_interval(nt), False, R["feature_gate"], pr)
    elif et == ET_TIER_SALES:
        nt = np.where(
            (sim.acc.segment[idx] == 2) & (rng.random(k) < 0.10), 4, np.minimum(tier + 1, 4)
        )
        nyr = np.where(rng.random(k) < 0.5, 1, yr)
        nq = _clamp_qty(nt, qty + _geom(rng, 0.4, k))
        reason = np.where(yr == 1, R["renewal_window_offer"], R["sales_deal"])
        pr = np.where(rng.random(k) < 0.7, PR_ALWAYS, PR_CREATE)
        sim.apply(
            idx, et, tc, cat.plan_index(cur, nt, nyr), nq, False, SALES, CH_SALES_REP, reason, pr
        )
    elif et == ET_ANNUAL:
        by_sales = rng.random(k) < 0.15
        sim.apply(
            idx,
            et,
            tc,
            cat.plan_index(cur, tier, 1),
            qty,
            False,
            np.where(by_sales, SALES, CUSTOMER),
            np.where(by_sales, CH_SALES_REP, sim.customer_channel(idx)),
            R["annual_switch"],
            PR_CREATE,
        )
    elif et == ET_SEAT_RED:
        nq = np.maximum(qty - 1 - _geom(rng, 0.6, k), cat.TIER_MIN[tier])
        sim.by_customer(idx, et, tc, plan, nq, True, R["seats_removed"], PR_NONE)
    elif et == ET_TIER_DOWN:
        nt = tier - 1
        immediate = rng.random(k) < 0.15
        pr = np.where(immediate, PR_CREATE, PR_NONE)
        sim.by_customer(idx, et, tc, *same_interval(nt), ~immediate, R["budget_cut"], pr)
    elif et in (ET_CHURN_FREE, ET_CANCEL):
        by_system = rng.random(k) < 0.25
        to_plan = cat.plan_index(cur, 0, 0) if et == ET_CHURN_FREE else -1
        sim.apply(
            idx,
            et,
            tc,
            to_plan,
            1,
            True,
            np.where(by_system, SYSTEM, CUSTOMER),
            np.where(by_system, CH_AUTOMATIC, sim.customer_channel(idx)),
            np.where(by_system, R["payment_failed"], R["cancellation_requested"]),
            PR_NONE,
        )
    elif et in (ET_REACT_SS, ET_REACT_NEW):
        nt = np.where(rng.random(k) < 0.55, 1, 2)
        nq = _clamp_qty(nt, 1 + _geom(rng, 0.6, k))
        pr = PR_ALWAYS if et == ET_REACT_SS else PR_NULL
        sim.by_customer(idx, et, tc, cat.plan_index(cur, nt, 0), nq, False, R["reactivation"], pr)
    else:  # pragma: no cover
        raise AssertionError(et)


def _compile(sim: _Sim, acc: Accounts) -> Changes:
    cols = {f: np.concatenate([r[f] for r in sim.rows]) for f in _FIELDS}
    order = np.lexsort((cols["step"], cols["acct"], cols["changed"]))
    cols = {f: v[order] for f, v in cols.items()}
    ch = Changes(**cols)
    ch.mrr12_before = _mrr12(ch.from_plan, ch.from_qty)
    ch.mrr12_after = _mrr12(ch.to_plan, ch.to_qty)
    b, a = ch.mrr12_before, ch.mrr12_after
    mv = np.select(
        [
            (b == 0) & (a == 0),
            (b == 0) & (a > 0) & ~ch.ever_paid_before,
            (b == 0) & (a > 0),
            (b > 0) & (a == 0),
            a > b,
            a < b,
        ],
        [MV_NONE, MV_NEW, MV_REACTIVATION, MV_CHURN, MV_EXPANSION, MV_CONTRACTION],
        MV_RENEWAL,
    )
    ch.movement = mv
    ch.currency = acc.currency[ch.acct]
    return ch
