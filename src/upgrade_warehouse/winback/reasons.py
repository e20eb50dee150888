"""Reasons in words, from the model's own contributions.

For a logistic regression on standardized inputs the log-odds of an account are the
intercept plus one term per input, ``coefficient x standardized value``: that term is
the input's contribution (how far it moves this account from an average account).
Inputs are grouped (the 14-day, 30-day and total counts of one event are one group;
the one-hot buckets of "days since activation" are one group); a group is a reason
when its contributions add up to a positive number, the account really shows it (the
input that carries it is above the average account's and not zero) and it is among the
``TOP_REASONS`` largest. Each reason is worded
from the account's raw values, never from the model.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from .features import Matrix

TOP_REASONS = 3
WINDOW_WORDS = {"14d": "in the last 14 days", "30d": "in the last 30 days"}


def times(n: float) -> str:
    n = int(n)
    return {1: "once", 2: "twice"}.get(n, f"{n:,} times")


def days_ago(days: float, verb: str) -> str:
    d = math.floor(days)
    if d <= 0:
        return f"{verb} today"
    if d == 1:
        return f"{verb} yesterday"
    return f"{verb} {d:,} days ago"


def plural(n: float, word: str) -> str:
    n = int(n)
    return f"{n:,} {word}" + ("" if n == 1 else "s")


class Explainer:
    """Words for the groups of a matrix's features."""

    def __init__(self, m: Matrix, steps: list[str]):
        self.m = m
        self.steps = steps
        self.wide: dict[str, list] = {}  # a column as a list, made when first read

    def value(self, column: str, i: int):
        values = self.wide.get(column)
        if values is None:
            values = self.wide[column] = self.m.wide.get_column(column).to_list()
        return values[i]

    def step_name(self, index: float) -> str:
        k = int(index)
        return self.steps[k - 1] if 1 <= k <= len(self.steps) else f"step {k}"

    def describe(self, group: str, feature: str, i: int) -> str | None:
        v = self.value
        if ":" in group:  # a counted signal: kind:name, feature kind:name:window
            kind, name = group.split(":", 1)
            window = feature.rsplit(":", 1)[1]
            n = self.m.signal_values[feature][i]
            if n <= 0:
                return None
            when = WINDOW_WORDS.get(window, "")
            if kind == "usage":
                return f"used {name} {times(n)} {when or 'since signing up'}"
            if kind == "entry_point":
                return f"came to the upgrade flow from {name} {times(n)} {when}".rstrip()
            if kind == "escalation":
                return f"sent {name} {times(n)} {when}".rstrip()
            if kind == "funnel_step":
                if self.steps and name == self.steps[0]:
                    return f"started {plural(n, 'upgrade attempt')} {when}".rstrip()
                return f"reached {name} {times(n)} {when}".rstrip()
            return f"{kind} {name}: {times(n)} {when}".rstrip()
        if "=" in group:
            column, value = group.split("=", 1)
            return {
                "persona": f"persona {value}",
                "acquisition_source": f"came through {value}",
                "segment": f"{value} segment",
                "country": f"based in {value}",
            }.get(column, f"{column} {value}")
        if group == "activation":
            return days_ago(v("days_since_activation", i), "activated")
        if group == "account_manager":
            return f"has an account manager ({v('account_manager_id', i)})"
        if group == "activity":
            n14, n30 = v("usage_events_14d", i), v("usage_events_30d", i)
            if feature.endswith("14d") and n14:
                return f"{plural(n14, 'product event')} in the last 14 days"
            return f"{plural(n30, 'product event')} in the last 30 days" if n30 else None
        if group == "active_days":
            n = v("active_days_30d", i)
            return f"active on {n} of the last 30 days" if n else None
        if group == "recency":
            last = v("days_since_last_usage", i)
            return None if last is None else days_ago(last, "last used the product")
        if group == "users":
            users, seats = v("active_users_30d", i), v("plan_max_seats", i)
            if not users:
                return None
            text = f"{plural(users, 'active user')} in the last 30 days"
            return text + (f" on a {seats}-seat plan" if seats else "")
        if group == "seats":
            n = v("seats", i)
            return f"has {plural(n, 'seat')}" if n else None
        if group == "plan":
            return f"on plan {v('plan_id', i)}" if v("plan_id", i) else None
        if group == "visit_days":
            n = v("upgrade_visit_days_30d", i)
            return (
                f"came back to the upgrade flow on {plural(n, 'day')} of the last 30" if n else None
            )
        if group == "attempts":
            total, recent = v("attempts_total", i), v("attempts_30d", i)
            if feature.endswith("30d") and recent:
                return f"started {plural(recent, 'upgrade attempt')} in the last 30 days"
            return f"started {plural(total, 'upgrade attempt')}" if total else None
        if group == "furthest_step":
            if feature.endswith("30d") and v("furthest_step_index_30d", i):
                step = self.step_name(v("furthest_step_index_30d", i))
                return f"got as far as {step} in the last 30 days"
            k = v("furthest_step_index", i)
            return f"got as far as {self.step_name(k)} in an upgrade attempt" if k else None
        counted = {
            "escalations": ("escalations_total", "asked to talk to sales {}"),
            "eligibility_checks": (
                "eligibility_checks_total",
                "went through an eligibility check {}",
            ),
            "eligibility_rejections": (
                "eligibility_rejections_total",
                "was turned down by an eligibility check {}",
            ),
            "upsell_offers": ("upsell_offers_total", "received an upsell offer {}"),
            "upsell_rejected": ("upsell_offers_rejected", "rejected an upsell offer {}"),
            "upsell_deferred": ("upsell_offers_deferred", "deferred an upsell offer {}"),
            "upsell_no_response": (
                "upsell_offers_no_response",
                "left an upsell offer unanswered {}",
            ),
            "payment_failures": ("payment_failures_total", "had a payment fail {}"),
        }
        if group in counted:
            column, text = counted[group]
            n = v(column, i)
            return text.format(times(n)) if n else None
        if group == "upsell_pending":
            n = v("upsell_offers_pending", i)
            if not n:
                return None
            trigger = v("latest_pending_offer_trigger", i)
            return "has a pending upsell offer" + (f" ({trigger})" if trigger else "")
        return None


def top_reasons(
    m: Matrix,
    contributions: np.ndarray,
    steps: list[str],
    above_mean: np.ndarray | None = None,
    k: int = TOP_REASONS,
) -> tuple[list[list[str]], list[str | None]]:
    """The ``k`` strongest positive reasons of every row of ``m`` (contributions: rows x
    features, in log-odds), and the feature group of each row's first reason.

    ``above_mean`` (rows x features) says where the account's input is above the
    training mean (a standardized value > 0). A reason is carried by an input that is
    above the mean and pushes the probability up: "used X 12 times" is a reason when
    using X raises the probability, never when using X *less* than others does (that
    would read as the opposite of what it means). Default: the input is not zero."""
    names = m.names
    groups = sorted(set(m.groups))
    gi = {g: j for j, g in enumerate(groups)}
    group_of = np.array([gi[g] for g in m.groups], dtype=np.int64)
    member = np.zeros((len(names), len(groups)))
    member[np.arange(len(names)), group_of] = 1.0
    group_sum = contributions @ member  # rows x groups
    present = (m.x != 0) if above_mean is None else (above_mean & (m.x != 0))
    # the feature that carries each group's reason: the most positive one that is present
    # (the first of equals); whole columns at a time, the rows only loop over wording
    masked = np.where(present, contributions, -np.inf)
    rows = m.x.shape[0]
    best = np.zeros((rows, len(groups)), dtype=np.int64)
    for j in range(len(groups)):
        feats = np.flatnonzero(group_of == j)
        best[:, j] = feats[np.argmax(masked[:, feats], axis=1)]
    carried = np.take_along_axis(masked, best, axis=1)
    candidate = (group_sum > 0) & np.isfinite(carried) & (carried > 0)
    # each row's candidate groups, strongest first (ties: the group's order), then -1s
    order = np.argsort(np.where(candidate, -group_sum, np.inf), axis=1, kind="stable")
    candidates = candidate.sum(axis=1)  # per row
    width = int(candidates.max()) if rows else 0
    ranked = np.where(np.take_along_axis(candidate, order, axis=1), order, -1)[:, :width]
    carrier = np.take_along_axis(best, np.maximum(ranked, 0), axis=1)
    explainer = Explainer(m, steps)

    def word(
        row_groups: list[int], row_carriers: list[int], i: int
    ) -> tuple[list[str], str | None]:
        reasons: list[str] = []
        top: str | None = None
        for j, f in zip(row_groups, row_carriers):
            if j < 0:
                break
            text = explainer.describe(groups[j], names[f], i)
            if text:
                reasons.append(text)
                top = top or groups[j]
                if len(reasons) >= k:
                    break
        return reasons, top

    # Python lists of the first few candidates only (most rows need no more than k);
    # a row whose first ones gave fewer than k reasons in words is worded again from
    # all of its candidates.
    head = min(width, k + 2)
    has_more = (candidates > head).tolist()
    out: list[list[str]] = []
    first: list[str | None] = []
    with paused_gc():
        heads = zip(ranked[:, :head].tolist(), carrier[:, :head].tolist())
        for i, (row_groups, row_carriers) in enumerate(heads):
            reasons, top = word(row_groups, row_carriers, i)
            if len(reasons) < k and has_more[i]:
                reasons, top = word(ranked[i].tolist(), carrier[i].tolist(), i)
            out.append(reasons)
            first.append(top)
    return out, first


@contextmanager
def paused_gc() -> Iterator[None]:
    """No garbage collection inside: for loops that make an object or a few per row
    and no reference cycles (the collector's passes over them took seconds at 440,000
    accounts)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
