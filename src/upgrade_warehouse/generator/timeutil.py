"""Vectorized calendar arithmetic on int64 epoch seconds (UTC).

All simulation times are whole seconds since 1970-01-01T00:00:00Z in ``int64`` numpy
arrays; ``NULL_TS`` marks a missing timestamp. Month arithmetic follows
``simulator.md``: adding n months keeps the time of day and the start's day of month,
clamped to the length of the target month (Jan 31 + 1 month = Feb 28/29).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

DAY = 86_400
HOUR = 3_600
MINUTE = 60
NULL_TS = np.iinfo(np.int64).min


def epoch(d: dt.date | dt.datetime) -> int:
    """Epoch seconds of a date (midnight UTC) or an aware/naive-UTC datetime."""
    if isinstance(d, dt.datetime):
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.UTC)
        return int(d.timestamp())
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d64 = days.astype("datetime64[D]")
    months = d64.astype("datetime64[M]")
    y = months.astype(np.int64) // 12 + 1970
    m = months.astype(np.int64) % 12  # 0-based
    dom = (d64 - months.astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, dom


def add_months(ts: np.ndarray, n: np.ndarray | int) -> np.ndarray:
    """``ts + n`` months (vectorized), clamping the day of month."""
    ts = np.asarray(ts, dtype=np.int64)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), ts.shape)
    days = ts // DAY
    tod = ts - days * DAY
    y, m, dom = _ymd(days)
    total = (y - 1970) * 12 + m + n
    month_start = total.astype("datetime64[M]")
    first = month_start.astype("datetime64[D]").astype(np.int64)
    nxt = (month_start + 1).astype("datetime64[D]").astype(np.int64)
    dim = nxt - first
    return (first + np.minimum(dom, dim) - 1) * DAY + tod


def month_index(ts: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each timestamp."""
    return (
        (np.asarray(ts, dtype=np.int64) // DAY)
        .astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def calendar_month(ts: np.ndarray) -> np.ndarray:
    """Calendar month 0..11 of each timestamp."""
    return month_index(ts) % 12


def period_at(anchor: np.ndarray, step_months: np.ndarray, t: np.ndarray):
    """The billing period ``[start, end)`` in force at ``t`` for a cycle anchored at
    ``anchor`` with periods of ``step_months`` months (anchor + k * step)."""
    anchor = np.asarray(anchor, dtype=np.int64)
    t = np.asarray(t, dtype=np.int64)
    step = np.broadcast_to(np.asarray(step_months, dtype=np.int64), t.shape)
    k = (month_index(t) - month_index(anchor)) // step
    k = np.maximum(k, 0)
    for _ in range(3):
        start = add_months(anchor, k * step)
        k = np.where(start > t, k - 1, k)
    k = np.maximum(k, 0)
    for _ in range(3):
        nxt = add_months(anchor, (k + 1) * step)
        k = np.where(nxt <= t, k + 1, k)
    return add_months(anchor, k * step), add_months(anchor, (k + 1) * step)
