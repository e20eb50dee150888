"""The model's inputs: the snapshot marts of dbt turned into a numeric matrix.

dbt computes every fact of a snapshot from data at or before its cutoff
(``marts.fct_winback_features``, one row per account x cutoff, and
``marts.fct_winback_signal_counts``, counted signals per event name, entry point and
funnel step). This module only transforms those values (log counts, one-hot
categories, days-since-activation buckets); it never looks at a timestamp, so it
cannot leak the future into a feature.

The vocabulary (categories, signal names) is taken from the training snapshots and
applied unchanged to the scoring snapshot: a category seen only at scoring time gets no
column (the account counts as "other").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

CATEGORICALS = ("persona", "acquisition_source", "segment", "country")
# log(1 + n) of these counts of the wide table.
COUNTS = (
    "usage_events_14d",
    "usage_events_30d",
    "active_days_30d",
    "active_users_30d",
    "seats",
    "upgrade_visit_days_30d",
    "attempts_total",
    "attempts_30d",
    "escalations_total",
    "escalations_30d",
    "eligibility_checks_total",
    "eligibility_rejections_total",
    "eligibility_rejections_30d",
    "upsell_offers_total",
    "upsell_offers_30d",
    "upsell_offers_pending",
    "upsell_offers_rejected",
    "upsell_offers_deferred",
    "upsell_offers_no_response",
    "payment_failures_total",
    "payment_failures_30d",
)
# Reason group of each wide feature (reasons are worded per group, see reasons.py).
GROUPS = {
    "usage_events_14d": "activity",
    "usage_events_30d": "activity",
    "active_days_30d": "active_days",
    "usage_recency": "recency",
    "active_users_30d": "users",
    "at_seat_limit": "users",
    "seats": "seats",
    "plan_tier_rank": "plan",
    "upgrade_visit_days_30d": "visit_days",
    "attempts_total": "attempts",
    "attempts_30d": "attempts",
    "furthest_step_index": "furthest_step",
    "furthest_step_index_30d": "furthest_step",
    "escalations_total": "escalations",
    "escalations_30d": "escalations",
    "eligibility_checks_total": "eligibility_checks",
    "eligibility_rejections_total": "eligibility_rejections",
    "eligibility_rejections_30d": "eligibility_rejections",
    "upsell_offers_total": "upsell_offers",
    "upsell_offers_30d": "upsell_offers",
    "upsell_offers_pending": "upsell_pending",
    "upsell_offers_rejected": "upsell_rejected",
    "upsell_offers_deferred": "upsell_deferred",
    "upsell_offers_no_response": "upsell_no_response",
    "payment_failures_total": "payment_failures",
    "payment_failures_30d": "payment_failures",
    "has_account_manager": "account_manager",
    "signup_age": "activation",  # account age: worded by the activation
    "activation_age": "activation",
}
# Days since activation: one-hot buckets [lower, next lower) plus log(1 + days).
ACTIVATION_BUCKETS = (0, 3, 7, 14, 30, 60, 120)
SIGNAL_WINDOWS = ("14d", "30d", "total")
MAX_SIGNAL_NAMES = 40  # per kind: the most common ones in training (any data set)
MIN_CATEGORY_ROWS = 20  # a category value needs this many training rows for a column
RECENCY_DAYS = 14.0  # usage recency = exp(-days since last usage / 14), 0 if never

WIDE_SQL = """
select *
from marts.fct_winback_features
order by snapshot_id
"""
# Signal counts with integer keys (no string joins in Python): key_id numbers the
# distinct (signal_kind, signal_name) pairs in their sorted order. The pairs are numbered
# once (a few hundred) and joined back: numbering every row with a window function sorted
# all of them by two strings (2.5M rows at 10M events: 1.7 s of CPU against 0.5 s), and
# only the integers and counts come out per row. Joined with `is not distinct from`: a
# null in a pair (none is expected) keeps its rows and its own key, as the window did.
SIGNAL_KEYS_SQL = """
create or replace temp table _winback_signal_keys as
select
    signal_kind,
    signal_name,
    row_number() over (order by signal_kind, signal_name) - 1 as key_id
from (select distinct signal_kind, signal_name from marts.fct_winback_signal_counts)
"""
SIGNALS_SQL = """
select
    counts.snapshot_id,
    keys.key_id,
    counts.count_14d,
    counts.count_30d,
    counts.count_total
from marts.fct_winback_signal_counts as counts
inner join _winback_signal_keys as keys
    on keys.signal_kind is not distinct from counts.signal_kind
    and keys.signal_name is not distinct from counts.signal_name
"""


@dataclass
class Signals:
    """fct_winback_signal_counts as arrays: one entry per (snapshot, signal)."""

    snapshot_id: np.ndarray
    key_id: np.ndarray
    counts: dict[str, np.ndarray]  # window -> counts
    keys: list[tuple[str, str]]  # key_id -> (signal_kind, signal_name)

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, keys: list[tuple[str, str]]) -> Signals:
        """``frame``: SIGNALS_SQL's rows; ``keys``: (signal_kind, signal_name) by key_id."""
        return cls(
            snapshot_id=frame.get_column("snapshot_id").to_numpy(),
            key_id=frame.get_column("key_id").to_numpy(),
            counts={
                w: frame.get_column(c).cast(pl.Float64).to_numpy()
                for w, c in zip(SIGNAL_WINDOWS, ("count_14d", "count_30d", "count_total"))
            },
            keys=keys,
        )

    def rows_of(self, wide: pl.DataFrame) -> np.ndarray:
        """For every entry, its row in ``wide`` (-1 when the snapshot is not there)."""
        ids = wide.get_column("snapshot_id").to_numpy()
        top = int(max(ids.max(initial=0), self.snapshot_id.max(initial=0))) + 1
        pos = np.full(top, -1, dtype=np.int64)
        pos[ids] = np.arange(ids.size)
        return pos[self.snapshot_id]


def load(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, Signals]:
    """(snapshots, signal counts) from the freshly built warehouse."""
    wide = con.sql(WIDE_SQL).pl()
    con.execute(SIGNAL_KEYS_SQL)
    keys = con.execute(
        "select signal_kind, signal_name from _winback_signal_keys order by key_id"
    ).fetchall()
    signals = Signals.from_frame(con.sql(SIGNALS_SQL).pl(), [tuple(k) for k in keys])
    con.execute("drop table _winback_signal_keys")
    return wide, signals


@dataclass
class Vocabulary:
    """Which columns the model has: fixed on the training rows."""

    categories: dict[str, list[str]] = field(default_factory=dict)
    signals: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)

    @classmethod
    def fit(cls, wide: pl.DataFrame, signals: Signals) -> Vocabulary:
        categories = {}
        for col in CATEGORICALS:
            counts = (
                wide.select(pl.col(col).fill_null("(null)"))
                .group_by(col)
                .len()
                .filter(pl.col("len") >= MIN_CATEGORY_ROWS)
                .sort(["len", col], descending=[True, False])
            )
            categories[col] = counts.get_column(col).to_list()
        inside = signals.rows_of(wide) >= 0
        rows = np.bincount(signals.key_id[inside], minlength=len(signals.keys))
        chosen: list[tuple[str, str]] = []
        for kind in sorted({k for k, _ in signals.keys}):
            ranked = sorted(
                (
                    (-int(rows[i]), name)
                    for i, (k, name) in enumerate(signals.keys)
                    if k == kind and rows[i] >= MIN_CATEGORY_ROWS
                ),
            )
            chosen += [(kind, name) for _, name in ranked[:MAX_SIGNAL_NAMES]]
        return cls(categories, sorted(chosen))


@dataclass
class Matrix:
    """Model inputs of a set of snapshots, in the row order of ``wide``."""

    x: np.ndarray  # rows x features, float32
    names: list[str]
    groups: list[str]
    wide: pl.DataFrame  # the snapshot rows (raw values, for the reasons)
    signal_values: dict[str, np.ndarray]  # "kind:name:window" -> raw counts per row

    def rows(self, start: int, stop: int) -> Matrix:
        """Rows start..stop-1 (views, not copies)."""
        return Matrix(
            x=self.x[start:stop],
            names=self.names,
            groups=self.groups,
            wide=self.wide.slice(start, max(0, min(stop, self.wide.height) - start)),
            signal_values={key: v[start:stop] for key, v in self.signal_values.items()},
        )


def signal_key(kind: str, name: str, window: str) -> str:
    return f"{kind}:{name}:{window}"


def _signal_table(wide: pl.DataFrame, signals: Signals, vocab: Vocabulary) -> dict[str, np.ndarray]:
    """Raw counts per signal and window ("kind:name:window"), one value per row of
    ``wide`` (0 where the account showed no such signal)."""
    column = {key: j for j, key in enumerate(vocab.signals)}
    col_of_key = np.array([column.get(key, -1) for key in signals.keys] or [-1], dtype=np.int64)
    rows = signals.rows_of(wide)
    cols = col_of_key[signals.key_id] if signals.key_id.size else signals.key_id
    keep = (rows >= 0) & (cols >= 0)
    out = {}
    for window in SIGNAL_WINDOWS:
        dense = np.zeros((wide.height, len(vocab.signals)))
        dense[rows[keep], cols[keep]] = signals.counts[window][keep]
        for j, (kind, name) in enumerate(vocab.signals):
            out[signal_key(kind, name, window)] = dense[:, j]
    return out


def matrix(wide: pl.DataFrame, signals: Signals, vocab: Vocabulary) -> Matrix:
    cols: list[np.ndarray] = []
    names: list[str] = []
    groups: list[str] = []

    def add(name: str, group: str, values) -> None:
        cols.append(np.asarray(values, dtype=np.float64))
        names.append(name)
        groups.append(group)

    def num(col: str) -> np.ndarray:
        return wide.get_column(col).cast(pl.Float64).fill_null(0.0).to_numpy()

    days = num("days_since_activation")
    for lo, hi in zip(ACTIVATION_BUCKETS, (*ACTIVATION_BUCKETS[1:], None)):
        inside = (days >= lo) & (days < hi) if hi is not None else days >= lo
        add(f"activated_{lo}_{hi or 'plus'}_days_ago", "activation", inside)
    add("activation_age", "activation", np.log1p(np.maximum(days, 0)))
    add("signup_age", GROUPS["signup_age"], np.log1p(np.maximum(num("days_since_signup"), 0)))
    for col in CATEGORICALS:
        values = wide.get_column(col).fill_null("(null)")
        for value in vocab.categories.get(col, []):
            add(f"{col}={value}", f"{col}={value}", (values == value).to_numpy())
    add("has_account_manager", "account_manager", num("has_account_manager"))
    for col in COUNTS:
        add(col, GROUPS[col], np.log1p(np.maximum(num(col), 0)))
    users, max_seats = num("active_users_30d"), num("plan_max_seats")
    add("at_seat_limit", "users", (max_seats > 0) & (users >= max_seats))
    add("plan_tier_rank", "plan", num("plan_tier_rank"))
    for col in ("furthest_step_index", "furthest_step_index_30d"):
        add(col, GROUPS[col], num(col))
    last = wide.get_column("days_since_last_usage").cast(pl.Float64).to_numpy()
    add("usage_recency", "recency", np.where(np.isnan(last), 0.0, np.exp(-last / RECENCY_DAYS)))

    signal_values = _signal_table(wide, signals, vocab)
    for kind, name in vocab.signals:
        for window in SIGNAL_WINDOWS:
            key = signal_key(kind, name, window)
            add(key, f"{kind}:{name}", np.log1p(signal_values[key]))
    # Single precision: the fits are bound by memory traffic over x (300,000 x ~130),
    # twice as fast in float32 (docs/winback.md "Training and validation").
    x = np.empty((wide.height, len(cols)), dtype=np.float32)
    for j, values in enumerate(cols):
        x[:, j] = values
    return Matrix(x=x, names=names, groups=groups, wide=wide, signal_values=signal_values)
