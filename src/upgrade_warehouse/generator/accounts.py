"""Accounts: who signs up, when, and whether they activate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import catalog as cat
from . import model as m
from .config import GeneratorConfig, Streams
from .timeutil import DAY, HOUR, NULL_TS, add_months, calendar_month


@dataclass
class Accounts:
    n: int
    created: np.ndarray
    persona: np.ndarray
    source: np.ndarray
    segment: np.ndarray
    country: np.ndarray
    currency: np.ndarray
    am: np.ndarray  # account manager number, -1 = none
    users: np.ndarray
    engagement: np.ndarray
    need: np.ndarray  # how much the account needs paid features (generator/signal.py)
    activated: np.ndarray
    activated_at: np.ndarray
    upgrade_logit: np.ndarray  # behaviour of the account (without seasonality)
    coupon: np.ndarray


def sample_times_in_window(rng, n, start_ts, end_ts, months, weights_by_calendar, growth):
    """n timestamps in [start, end): month by weight (seasonality x growth), day uniform,
    hour from the human-activity profile."""
    bounds = add_months(np.full(months + 1, start_ts, dtype=np.int64), np.arange(months + 1))
    bounds[-1] = min(bounds[-1], end_ts)
    cal = calendar_month(bounds[:-1])
    w = weights_by_calendar[cal] * growth ** np.arange(months)
    w = w * (bounds[1:] - bounds[:-1])
    month = rng.choice(months, size=n, p=w / w.sum())
    lo, hi = bounds[month], bounds[month + 1]
    ndays = np.maximum((hi - lo) // DAY, 1)
    day = (rng.random(n) * ndays).astype(np.int64)
    hour = rng.choice(24, size=n, p=m.HOUR_PROFILE)
    sec = rng.integers(0, HOUR, size=n)
    t = lo + day * DAY + hour * HOUR + sec
    return np.clip(t, lo, hi - 1)


def make_accounts(cfg: GeneratorConfig, streams: Streams) -> Accounts:
    rng = streams.get("accounts")
    n = cfg.accounts
    created = sample_times_in_window(
        rng, n, cfg.start_ts, cfg.end_ts, cfg.months, m.SIGNUP_SEASON, m.SIGNUP_GROWTH
    )
    created.sort()  # account numbers follow signup order
    segment = rng.choice(3, size=n, p=m.SEGMENT_SHARE)
    persona = rng.choice(len(m.PERSONAS), size=n, p=m.PERSONA_SHARE)
    u = rng.random(n)
    cum = np.cumsum(m.SEGMENT_SOURCE, axis=1)[segment]
    source = (u[:, None] > cum).sum(axis=1).clip(0, len(m.SOURCES) - 1)
    country = rng.choice(len(cat.COUNTRY_CODES), size=n, p=cat.COUNTRY_SHARE)
    currency = cat.COUNTRY_CURRENCY[country]
    has_am = rng.random(n) < m.SEGMENT_AM[segment]
    am = np.where(has_am, rng.integers(1, 25, size=n), -1)
    base = np.array([s[0] for s in m.SEGMENT_USERS])[segment]
    lam = np.array([s[1] for s in m.SEGMENT_USERS])[segment]
    users = base + rng.poisson(lam)
    engagement = rng.normal(0.0, m.ENGAGEMENT_SD, size=n)

    act_logit = (
        m.ACTIVATION_INTERCEPT
        + m.PERSONA_ACTIVATION[persona]
        + m.SOURCE_ACTIVATION[source]
        + m.SEGMENT_ACTIVATION[segment]
        + 0.5 * cat.COUNTRY_EFFECT[country]
        + engagement
    )
    activated = rng.random(n) < m.sigmoid(act_logit)
    delay_h = np.exp(rng.normal(np.log(m.ACTIVATION_DELAY_MEDIAN_H), m.ACTIVATION_DELAY_SIGMA, n))
    delay = np.clip((delay_h * HOUR).astype(np.int64), 10 * 60, 45 * DAY)
    activated_at = created + delay
    activated &= activated_at < cfg.end_ts
    activated_at = np.where(activated, activated_at, NULL_TS)

    # Drawn from a stream of its own: the draws above and below do not move.
    need = streams.get("need").normal(0.0, 1.0, size=n)
    upgrade_logit = (
        m.PERSONA_UPGRADE[persona]
        + m.SOURCE_UPGRADE[source]
        + m.SEGMENT_UPGRADE[segment]
        + cat.COUNTRY_EFFECT[country]
        + 0.8 * engagement
        + m.NEED_UPGRADE * need
        + m.SEAT_PRESSURE_UPGRADE * (users > cat.TIER_MAX[0])
    )
    coupon = rng.random(n) < 0.06
    return Accounts(
        n=n,
        created=created,
        persona=persona,
        source=source,
        segment=segment,
        country=country,
        currency=currency,
        am=am,
        users=users,
        engagement=engagement,
        need=need,
        activated=activated,
        activated_at=activated_at,
        upgrade_logit=upgrade_logit,
        coupon=coupon,
    )
