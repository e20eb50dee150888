"""Behaviour that announces an upgrade, as in real products (docs/generator.md
"Signals before an upgrade").

Two mechanisms, each drawing from random streams of its own (``need``, ``signal``) so
that the rest of the data set does not move when they change:

1. **Need** (an account trait, ``Accounts.need``): accounts that need the paid features
   use the features the free plan gates (``GATED_USAGE``) more while they are on the
   free plan, and upgrade more often (``model.NEED_UPGRADE`` in the upgrade logit).
2. **Limit episodes**: in the weeks before every upgrade a customer makes in the
   product (the flows of ``lifecycle.FUNNEL_TYPES``) the account runs into the limits
   of its plan: a burst of gated-feature use, seat invitations when it has outgrown the
   free plan's seats, and return visits to the upgrade flow (pricing page, limit
   banners, feature gates) that stop early, at least ``conversion_window_days`` before
   the upgrade's own flow so that they are attempts of their own.

The events come back as extra rows for ``Funnel.events`` (and eligibility checks for
the visits that reach plan selection); the generator merges them in time order with
everything else.
"""

from __future__ import annotations

import numpy as np

from . import catalog as cat
from . import lifecycle as lc
from . import model as m
from .accounts import Accounts
from .config import GeneratorConfig, Streams
from .funnel import ENTRY_POINTS, EV_INTENT, EV_PLAN, EV_PREVIEW, USAGE_BASE, Funnel
from .timeutil import DAY, HOUR, MINUTE, NULL_TS

SEAT_INVITED = USAGE_BASE + m.USAGE_NAMES.index("seat_invited")
GATED_CODES = np.array([USAGE_BASE + m.USAGE_NAMES.index(n) for n in m.GATED_USAGE])
_GATED_COLS = np.array([m.USAGE_NAMES.index(n) for n in m.GATED_USAGE])
REVISIT_ENTRIES = np.array([ENTRY_POINTS.index(e) for e in m.REVISIT_ENTRY_POINTS])


def _gated_names(rng, persona: np.ndarray) -> np.ndarray:
    """A gated feature per event, in the proportions of the persona's usage mix."""
    mix = m.PERSONA_USAGE[:, _GATED_COLS]
    cdf = np.cumsum(mix / mix.sum(axis=1, keepdims=True), axis=1)[persona]
    pick = (rng.random(persona.size)[:, None] > cdf).sum(axis=1).clip(0, len(GATED_CODES) - 1)
    return GATED_CODES[pick]


def _human_hour(rng, t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Move each time to an hour of the same day drawn from the activity profile (kept
    where that would leave [lo, hi))."""
    t2 = (t // DAY) * DAY + rng.choice(24, size=t.size, p=m.HOUR_PROFILE) * HOUR
    t2 = t2 + rng.integers(0, HOUR, t.size)
    return np.where((t2 >= lo) & (t2 < hi), t2, t)


def _uniform_times(rng, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return lo + (rng.random(lo.size) * (hi - lo)).astype(np.int64)


def build_signal(
    cfg: GeneratorConfig, streams: Streams, acc: Accounts, ch: lc.Changes
) -> tuple[dict, dict]:
    """(events, eligibility checks) to add to the funnel's, as column dicts."""
    rng = streams.get("signal")
    end = cfg.end_ts
    parts: list[dict] = []
    checks: list[dict] = []

    def events(acct, ts, name, pval, user):
        keep = (ts < end) & (ts >= acc.created[acct])
        if keep.any():
            cols = {"acct": acct, "ts": ts, "name": name, "pval": pval, "user": user}
            parts.append(
                {
                    f: np.broadcast_to(np.asarray(v, dtype=np.int64), acct.shape)[keep]
                    for f, v in cols.items()
                }
            )

    # 1. Gated features on the free plan, more for accounts that need them: from
    #    activation until the first paid plan (or the end of the window).
    paid = ch.mrr12_after > 0
    first_paid = np.full(acc.n, end, dtype=np.int64)
    np.minimum.at(first_paid, ch.acct[paid], ch.changed[paid])
    start = np.where(acc.activated, acc.activated_at, end)
    stop = np.minimum(first_paid, end)
    days = np.maximum(stop - start, 0) / DAY
    rate = m.GATED_RATE * np.exp(m.NEED_GATED_USAGE * acc.need - m.NEED_GATED_USAGE**2 / 2)
    n = rng.poisson(rate * days)
    a = np.repeat(np.arange(acc.n), n)
    t = _human_hour(rng, _uniform_times(rng, start[a], stop[a]), start[a], stop[a])
    events(a, t, _gated_names(rng, acc.persona[a]), -1, rng.integers(0, acc.users[a]))

    # 2. Limit episodes before each upgrade made in the product.
    ci = np.flatnonzero(np.isin(ch.etype, lc.FUNNEL_TYPES))
    a = ch.acct[ci]
    T = ch.changed[ci]
    order = np.lexsort((ch.changed, ch.acct))
    prev = np.full(ch.n, NULL_TS, dtype=np.int64)
    same = ch.acct[order][1:] == ch.acct[order][:-1]
    prev[order[1:]] = np.where(same, ch.changed[order][:-1], prev[order[1:]])
    lower = np.maximum(acc.created[a], prev[ci]) + MINUTE
    lead = rng.uniform(m.LEAD_DAYS[0], m.LEAD_DAYS[1], ci.size) * DAY
    s = np.maximum(T - lead.astype(np.int64), lower)
    ok = s < T - HOUR
    a, T, s = a[ok], T[ok], s[ok]
    et = ch.etype[ci][ok]
    to_plan = ch.to_plan[ci][ok]
    # a burst of gated-feature use
    nb = rng.poisson(m.LEAD_GATED_EVENTS, a.size)
    o = np.repeat(np.arange(a.size), nb)
    t = _human_hour(rng, _uniform_times(rng, s[o], T[o]), s[o], T[o])
    events(a[o], t, _gated_names(rng, acc.persona[a[o]]), -1, rng.integers(0, acc.users[a[o]]))
    # seat invitations when the account has outgrown the free plan's seats (or buys seats)
    crowded = (acc.users[a] > cat.TIER_MAX[0]) | (et == lc.ET_SEAT_SS)
    ni = np.where(crowded, rng.poisson(m.LEAD_SEAT_INVITES, a.size), 0)
    o = np.repeat(np.arange(a.size), ni)
    t = _human_hour(rng, _uniform_times(rng, s[o], T[o]), s[o], T[o])
    events(a[o], t, SEAT_INVITED, -1, rng.integers(0, acc.users[a[o]]))
    # return visits to the upgrade flow, ending early, before the upgrade's own flow and
    # more than a conversion window before it (after the previous change)
    nv = rng.poisson(m.REVISITS_MEAN, a.size)
    o = np.repeat(np.arange(a.size), nv)
    latest = T[o] - m.REVISIT_BEFORE_DAYS * DAY
    gap = (rng.uniform(0, m.REVISIT_SPREAD_DAYS, o.size) * DAY).astype(np.int64)
    tv = _human_hour(rng, latest - gap, lower[o], latest)
    visit = tv >= lower[o]
    o, tv = o[visit], tv[visit]
    entry = REVISIT_ENTRIES[rng.choice(REVISIT_ENTRIES.size, size=o.size, p=m.REVISIT_ENTRY_P)]
    events(a[o], tv, EV_INTENT, entry, 0)
    tp = tv + rng.integers(2 * MINUTE, 20 * MINUTE, o.size)
    sel = (rng.random(o.size) < m.REVISIT_PLAN_P) & (tp + 1 < end)
    events(a[o][sel], tp[sel], EV_PLAN, to_plan[o][sel], 0)
    k = int(sel.sum())
    checks.append(
        {
            "acct": a[o][sel],
            "plan": to_plan[o][sel],
            "ts": tp[sel] + 1,
            "channel": np.zeros(k, dtype=np.int64),
            "rejected": np.zeros(k, dtype=np.int64),
            "reason": np.full(k, -1, dtype=np.int64),
            "overridden": np.full(k, NULL_TS, dtype=np.int64),
        }
    )
    tq = tp + rng.integers(MINUTE, 10 * MINUTE, o.size)
    deeper = sel & (rng.random(o.size) < m.REVISIT_PREVIEW_P) & (tq < end)
    events(a[o][deeper], tq[deeper], EV_PREVIEW, -1, 0)

    return _concat(parts), _concat(checks)


def _concat(parts: list[dict]) -> dict | None:
    if not parts:
        return None
    return {f: np.concatenate([p[f] for p in parts]) for f in parts[0]}


def add_signal(fun: Funnel, events: dict | None, checks: dict | None) -> Funnel:
    """``fun`` with the signal's events and eligibility checks appended."""
    if events is not None:
        fun.events = {
            f: np.concatenate([fun.events[f], events[f].astype(fun.events[f].dtype)])
            for f in fun.events
        }
    if checks is not None:
        fun.checks = {
            f: np.concatenate([fun.checks[f], checks[f].astype(fun.checks[f].dtype)])
            for f in fun.checks
        }
    return fun
