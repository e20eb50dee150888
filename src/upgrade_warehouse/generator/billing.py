"""Invoice lines: proration lines of mid-period changes (priced with the simulator,
with a small rate of billing errors) and the regular subscription invoices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog as cat
from . import lifecycle as lc
from .accounts import Accounts
from .config import GeneratorConfig, Streams
from .pricing import NULL_AMOUNT, price
from .timeutil import NULL_TS, add_months, month_index, period_at

LINE_TYPES = ("subscription", "proration_credit", "proration_charge", "discount", "tax", "one_off")
LT_SUB, LT_CREDIT, LT_CHARGE, LT_DISCOUNT, LT_TAX = 0, 1, 2, 3, 4


@dataclass
class Billing:
    # per change
    due_now: np.ndarray  # amount due at changed_at (0 when nothing is due)
    priced: np.ndarray  # bool: has an expected proration
    billing_error: np.ndarray  # bool: a proration line of this change was billed wrong
    # invoice lines
    acct: np.ndarray
    sub_seq: np.ndarray
    change: np.ndarray  # -1 = null
    line_type: np.ndarray
    amount: np.ndarray
    currency: np.ndarray
    pstart: np.ndarray
    pend: np.ndarray
    issued: np.ndarray


# Columns of the invoice-line arrays built below.
_LINE_FIELDS = (
    "acct",
    "sub_seq",
    "change",
    "line_type",
    "amount",
    "currency",
    "pstart",
    "pend",
    "issued",
)


def build_billing(cfg: GeneratorConfig, streams: Streams, acc: Accounts, ch: lc.Changes) -> Billing:
    rng = streams.get("billing")
    end = cfg.end_ts
    n = ch.n
    immediate = ch.changed == ch.effective
    mask = (
        (ch.from_plan >= 0)
        & (ch.to_plan >= 0)
        & np.isin(ch.proration, [lc.PR_CREATE, lc.PR_ALWAYS])
        & (ch.etype != lc.ET_RENEWAL)
        & immediate
    )
    ci = np.flatnonzero(mask)
    credit, charge, subline = price(
        ch.from_plan[ci],
        ch.from_qty[ci],
        ch.to_plan[ci],
        ch.to_qty[ci],
        ch.pstart[ci],
        ch.pend[ci],
        ch.changed[ci],
        ch.proration[ci],
    )
    interval_change = subline != NULL_AMOUNT
    invoiced_now = interval_change | (ch.proration[ci] == lc.PR_ALWAYS)
    z = lambda a: np.where(a == NULL_AMOUNT, 0, a)
    due = np.where(invoiced_now, np.maximum(0, z(credit) + z(charge) + z(subline)), 0)
    due_now = np.zeros(n, dtype=np.int64)
    due_now[ci] = due
    # A new subscription (reactivation with a new subscription) pays its first period now.
    new_paid = (ch.from_plan < 0) & (ch.to_plan >= 0) & (ch.etype != lc.ET_SIGNUP)
    due_now[new_paid] = cat.PLAN_UNIT[ch.to_plan[new_paid]] * ch.to_qty[new_paid]

    # Proration lines; create_prorations lines wait for the invoice at period end.
    issued = np.where(invoiced_now, ch.changed[ci], ch.pend[ci])
    parts = []
    for lt, amt in ((LT_CREDIT, credit), (LT_CHARGE, charge)):
        keep = (amt != NULL_AMOUNT) & (issued < end)
        k = ci[keep]
        parts.append(
            {
                "acct": ch.acct[k],
                "sub_seq": ch.sub_seq[k],
                "change": k,
                "line_type": np.full(k.size, lt),
                "amount": amt[keep].copy(),
                "currency": ch.currency[k],
                "pstart": ch.changed[k],
                "pend": ch.pend[k],
                "issued": issued[keep],
            }
        )
    # Billing errors: a line of a few priced changes is off by a few minor units or more.
    billing_error = np.zeros(n, dtype=bool)
    pro = {f: np.concatenate([p[f] for p in parts]) for f in parts[0]}
    if pro["change"].size:
        changes_with_lines = np.unique(pro["change"])
        err_changes = changes_with_lines[
            rng.random(changes_with_lines.size) < cfg.billing_error_rate
        ]
        # first line of each erroneous change
        first_line = np.searchsorted(np.sort(pro["change"]), err_changes)
        order = np.argsort(pro["change"], kind="stable")
        li = order[first_line]
        small = rng.random(li.size) < 0.7
        off = np.where(
            small,
            rng.integers(3, 10, li.size),
            np.maximum(
                3, (np.abs(pro["amount"][li]) * rng.uniform(0.05, 0.25, li.size)).astype(np.int64)
            ),
        )
        sign = np.where(rng.random(li.size) < 0.5, -1, 1)
        pro["amount"][li] += sign * off
        billing_error[err_changes] = True
    priced = np.zeros(n, dtype=bool)
    priced[np.unique(pro["change"])] = True

    reg = _regular_lines(cfg, acc, ch)
    lines = {f: np.concatenate([pro[f], reg[f]]) for f in pro}
    order = np.lexsort((lines["line_type"], lines["sub_seq"], lines["acct"], lines["issued"]))
    lines = {f: v[order] for f, v in lines.items()}
    return Billing(due_now=due_now, priced=priced, billing_error=billing_error, **lines)


def _regular_lines(cfg: GeneratorConfig, acc: Accounts, ch: lc.Changes) -> dict[str, np.ndarray]:
    """Subscription lines at each period start of every paid stretch of a subscription,
    plus discount (coupons) and tax lines on the same invoice."""
    end = cfg.end_ts
    # Segments: the state after change i lasts until the next change of the subscription.
    order = np.lexsort((ch.changed, ch.sub_seq, ch.acct))
    a, s = ch.acct[order], ch.sub_seq[order]
    seg_start = ch.effective[order]
    nxt_same = np.zeros(order.size, dtype=bool)
    nxt_same[:-1] = (a[1:] == a[:-1]) & (s[1:] == s[:-1])
    seg_end = np.full(order.size, end, dtype=np.int64)
    seg_end[:-1] = np.where(nxt_same[:-1], seg_start[1:], end)
    seg_end = np.minimum(seg_end, end)
    plan = ch.to_plan[order]
    paid = (plan >= 0) & (cat.PLAN_UNIT[np.maximum(plan, 0)] > 0) & (seg_start < seg_end)
    idx = order[paid]
    plan = plan[paid]
    qty = ch.to_qty[idx]
    anchor = ch.anchor_after[idx]
    st, en = seg_start[paid], seg_end[paid]
    step = cat.PLAN_STEP_MONTHS[plan]
    ps, pe = period_at(anchor, step, st)
    first = np.where(ps == st, ps, pe)
    k0 = (month_index(first) - month_index(anchor)) // step
    out: dict[str, list] = {f: [] for f in ("seg", "b", "e")}
    j = 0
    while True:
        b = add_months(anchor, (k0 + j) * step)
        live = b < en
        if not live.any():
            break
        sel = np.flatnonzero(live)
        out["seg"].append(sel)
        out["b"].append(b[sel])
        out["e"].append(add_months(anchor[sel], (k0[sel] + j + 1) * step[sel]))
        j += 1
    if not out["seg"]:
        empty = np.zeros(0, dtype=np.int64)
        return dict.fromkeys(_LINE_FIELDS, empty)
    seg = np.concatenate(out["seg"])
    b = np.concatenate(out["b"])
    e = np.concatenate(out["e"])
    ci = idx[seg]
    amount = cat.PLAN_UNIT[plan[seg]] * qty[seg]
    accts = ch.acct[ci]
    cur = ch.currency[ci]
    subs = ch.sub_seq[ci]
    coupon = acc.coupon[accts]
    discount = -((amount[coupon] + 5) // 10)  # 10% off, rounded half up
    net = amount.copy()
    net[coupon] += discount
    tax = (net * cat.TAX_BPS[cur] + 5000) // 10000
    has_tax = tax > 0
    parts = [
        (np.ones(seg.size, bool), LT_SUB, amount),
        (coupon, LT_DISCOUNT, discount),
        (has_tax, LT_TAX, tax[has_tax]),
    ]
    res: dict[str, list] = {f: [] for f in _LINE_FIELDS}
    for m, lt, amt in parts:
        res["acct"].append(accts[m])
        res["sub_seq"].append(subs[m])
        res["change"].append(np.full(int(m.sum()), -1, dtype=np.int64))
        res["line_type"].append(np.full(int(m.sum()), lt, dtype=np.int64))
        res["amount"].append(np.asarray(amt, dtype=np.int64))
        res["currency"].append(cur[m])
        res["pstart"].append(b[m])
        res["pend"].append(e[m])
        res["issued"].append(b[m])
    return {f: np.concatenate(v) for f, v in res.items()}


__all__ = ["LINE_TYPES", "NULL_TS", "Billing", "build_billing"]
