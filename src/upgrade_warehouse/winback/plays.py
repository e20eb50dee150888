"""The suggested play of each listed account, in the upsell catalog's vocabulary
(``upsell_offers`` of the data contract: trigger, owner, channel).

Rules, first match wins (docs/winback.md "Plays"):

trigger
1. ``support``: friction in the last 30 days (a failed payment, an eligibility
   rejection or an escalation to sales): someone should clear the way first.
2. ``usage_threshold``: the account uses at least as many users as its plan has seats,
   or its strongest reason is product usage (an event count, activity).
3. ``feature_gate``: its strongest reason is the upgrade flow (entry points, steps
   reached, attempts, return visits): it has met a gate or the pricing page.
4. ``propensity``: otherwise (the score alone).
(``renewal_window`` never applies: the listed accounts have no paid plan to renew.)

owner: ``customer_success`` for support plays; ``sales`` when the account has an
account manager; ``automated`` otherwise.

channel: automated plays go ``in_app`` when the account used the product in the last
14 days, by ``email`` otherwise; sales plays are a ``demo`` after a feature gate, a
``call`` otherwise; customer success writes an ``email``.
"""

from __future__ import annotations

from dataclasses import dataclass

TRIGGERS = ("usage_threshold", "renewal_window", "feature_gate", "propensity", "support")
OWNERS = ("automated", "sales", "customer_success")
CHANNELS = ("in_app", "email", "call", "demo")

USAGE_GROUPS = ("activity", "active_days", "recency", "users", "seats")
FLOW_GROUPS = ("visit_days", "attempts", "furthest_step")
# The snapshot values a play reads (the columns of fct_winback_features that `suggest`
# looks up in its row).
ROW_COLUMNS = (
    "payment_failures_30d",
    "eligibility_rejections_30d",
    "escalations_30d",
    "active_users_30d",
    "plan_max_seats",
    "account_manager_id",
    "usage_events_14d",
)


@dataclass(frozen=True)
class Play:
    trigger: str
    owner: str
    channel: str


def _kind(group: str | None) -> str | None:
    if group is None:
        return None
    if group.startswith("usage:") or group in USAGE_GROUPS:
        return "usage"
    if group.startswith(("entry_point:", "funnel_step:")) or group in FLOW_GROUPS:
        return "flow"
    return None


def suggest(row: dict, top_group: str | None) -> Play:
    """The play for one account: ``row`` holds its snapshot values (fct_winback_features),
    ``top_group`` the feature group of its strongest reason (None without reasons)."""
    friction = any(
        (row.get(c) or 0) > 0
        for c in ("payment_failures_30d", "eligibility_rejections_30d", "escalations_30d")
    )
    users, seats = row.get("active_users_30d") or 0, row.get("plan_max_seats") or 0
    kind = _kind(top_group)
    if friction:
        trigger = "support"
    elif (seats and users >= seats) or kind == "usage":
        trigger = "usage_threshold"
    elif kind == "flow":
        trigger = "feature_gate"
    else:
        trigger = "propensity"
    if trigger == "support":
        owner = "customer_success"
    elif row.get("account_manager_id"):
        owner = "sales"
    else:
        owner = "automated"
    if owner == "automated":
        channel = "in_app" if (row.get("usage_events_14d") or 0) > 0 else "email"
    elif owner == "sales":
        channel = "demo" if trigger == "feature_gate" else "call"
    else:
        channel = "email"
    return Play(trigger, owner, channel)
