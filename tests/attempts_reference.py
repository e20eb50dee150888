"""A plain-Python reference of the upgrade attempts of shared/spec/metrics.md.

Written from the spec's words, one account at a time, with none of the model's SQL
tricks (segments, pointer doubling): walk the step-1 events in (occurred_at, event_id)
order; one that is not inside the open attempt starts an attempt; step k is reached at
the first step-k event at or after step k-1 was reached and no later than start +
window; the attempt is open until it completes or until start + window, inclusive.

Used by tests/test_attempts_reference.py and by bench/bench_attempts.py (20,000 accounts)
to check ``marts.fct_upgrade_attempts`` row by row.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

FUNNEL_STEPS = (
    "upgrade_intent",
    "plan_selected",
    "proration_previewed",
    "payment_method_selected",
    "payment_submitted",
    "upgrade_completed",
)
ESCALATION_EVENTS = ("sales_contact_requested",)
WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Attempt:
    attempt_id: str
    account_id: str
    started_at: datetime
    ended_at: datetime
    last_step: str
    step_reached_at: tuple  # steps 2..n: when reached, or None
    is_completed: bool
    is_escalated: bool
    outcome: str
    completion_change_id: str | None
    activated_at: datetime | None


def _change_id(properties: str | None) -> str | None:
    if properties is None:
        return None
    value = json.loads(properties).get("change_id")
    return value if isinstance(value, str) else None


def account_attempts(account_id, events, escalations, as_of) -> list[dict]:
    """Attempts of one account. ``events``: (occurred_at, event_id, step, change_id) of its
    funnel events up to as_of; ``escalations``: its escalation times up to as_of."""
    events = sorted(events)
    by_step: dict[int, list] = defaultdict(list)
    for e in events:
        by_step[e[2]].append(e)
    times = {k: [e[0] for e in v] for k, v in by_step.items()}
    n = len(FUNNEL_STEPS)
    out = []
    open_until = None  # the end of the open attempt
    for start in by_step[1]:
        started_at, event_id = start[0], start[1]
        if open_until is not None and started_at <= open_until:
            continue  # inside the open attempt
        window_end = started_at + WINDOW
        reached = {1: start}
        for k in range(2, n + 1):
            previous = reached[k - 1][0]
            i = bisect.bisect_left(times.get(k, []), previous)
            if i < len(times.get(k, [])) and by_step[k][i][0] <= window_end:
                reached[k] = by_step[k][i]
            else:
                break
        completed = n in reached
        ended_at = reached[n][0] if completed else window_end
        open_until = ended_at
        escalated = any(started_at <= t <= ended_at for t in escalations)
        if completed:
            outcome = "completed_assisted" if escalated else "completed_self_serve"
        elif window_end > as_of:
            outcome = "in_progress"
        else:
            outcome = "escalated" if escalated else "abandoned"
        out.append(
            {
                "attempt_id": event_id,
                "account_id": account_id,
                "started_at": started_at,
                "ended_at": ended_at,
                "last_step": FUNNEL_STEPS[max(reached) - 1],
                "step_reached_at": tuple(
                    reached[k][0] if k in reached else None for k in range(2, n + 1)
                ),
                "is_completed": completed,
                "is_escalated": escalated,
                "outcome": outcome,
                "completion_change_id": reached[n][3] if completed else None,
            }
        )
    return out


def reference_attempts(con: duckdb.DuckDBPyConnection) -> dict[str, Attempt]:
    """Every attempt of the warehouse's accepted raw rows, keyed by attempt_id."""
    (as_of,) = con.execute("select as_of from raw.build_info").fetchone()
    step_of = {name: i + 1 for i, name in enumerate(FUNNEL_STEPS)}
    funnel: dict[str, list] = defaultdict(list)
    escalations: dict[str, list] = defaultdict(list)
    rows = con.execute(
        "select account_id, event_id, event_name, occurred_at, properties "
        "from raw.product_events where occurred_at <= ?",
        [as_of],
    ).fetchall()
    for account_id, event_id, name, occurred_at, properties in rows:
        if name in step_of:
            change = _change_id(properties) if step_of[name] == len(FUNNEL_STEPS) else None
            funnel[account_id].append((occurred_at, event_id, step_of[name], change))
        if name in ESCALATION_EVENTS:
            escalations[account_id].append(occurred_at)

    # Activation (metrics.md, intent_to_activation): the change's earliest succeeded or
    # manual_override entitlements sync (up to as_of); its effective_at when it has no
    # entitlements sync rows; none (not activated yet) when none of them succeeded.
    effective = dict(
        con.execute("select change_id, effective_at from raw.subscription_changes").fetchall()
    )
    syncs: dict[str, list] = defaultdict(list)
    for change_id, status, attempted_at in con.execute(
        "select change_id, status, attempted_at from raw.sync_events "
        "where target_system = 'entitlements' and attempted_at <= ?",
        [as_of],
    ).fetchall():
        syncs[change_id].append((status, attempted_at))

    def activated_at(change_id):
        if change_id is None or change_id not in effective:
            return None
        if change_id not in syncs:
            return effective[change_id]
        done = [t for s, t in syncs[change_id] if s in ("succeeded", "manual_override")]
        return min(done) if done else None

    out = {}
    for account_id, events in funnel.items():
        for a in account_attempts(account_id, events, escalations.get(account_id, []), as_of):
            a["activated_at"] = (
                activated_at(a["completion_change_id"]) if a["is_completed"] else None
            )
            out[a["attempt_id"]] = Attempt(**a)
    return out


def model_attempts(con: duckdb.DuckDBPyConnection) -> dict[str, Attempt]:
    """``marts.fct_upgrade_attempts`` in the same shape."""
    n = len(FUNNEL_STEPS)
    steps = ", ".join(f"step_{k}_reached_at" for k in range(2, n + 1))
    rows = con.execute(
        "select attempt_id, account_id, started_at, ended_at, last_step, "
        f"{steps}, is_completed, is_escalated, outcome, completion_change_id, activated_at "
        "from marts.fct_upgrade_attempts"
    ).fetchall()
    out = {}
    for r in rows:
        out[r[0]] = Attempt(
            attempt_id=r[0],
            account_id=r[1],
            started_at=r[2],
            ended_at=r[3],
            last_step=r[4],
            step_reached_at=tuple(r[5 : 5 + n - 1]),
            is_completed=r[4 + n],
            is_escalated=r[5 + n],
            outcome=r[6 + n],
            completion_change_id=r[7 + n],
            activated_at=r[8 + n],
        )
    return out
