"""Static catalog of the synthetic world: currencies, countries, the plan catalog.

Plans are indexed ``currency_index * PLANS_PER_CURRENCY + code`` where code 0 is the
free plan and codes 1..8 are (tier 1..4) x (month, year):
``code = 2 * tier - 1 + (1 if yearly else 0)``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# currency, start rate to USD (major units), price per seat per month (minor units of
# the currency: its exponent is in seeds/currencies.csv) for tiers starter, pro,
# business, enterprise.
CURRENCIES: tuple[tuple[str, float, tuple[int, int, int, int]], ...] = (
    ("USD", 1.0, (900, 2200, 4000, 8000)),
    ("EUR", 1.09, (900, 2000, 3700, 7500)),
    ("GBP", 1.27, (700, 1800, 3200, 6500)),
    ("JPY", 0.0067, (1400, 3300, 6000, 12000)),
    ("CAD", 0.73, (1200, 2900, 5300, 10500)),
    ("AUD", 0.66, (1400, 3300, 6000, 12000)),
)
CURRENCY_CODES = tuple(c[0] for c in CURRENCIES)
FX_START = np.array([c[1] for c in CURRENCIES])

TIER_KEYS = ("free", "starter", "pro", "business", "enterprise")
TIER_NAMES = ("Free", "Starter", "Pro", "Business", "Enterprise")
# Seats: (min, max); max None = unlimited.
TIER_SEATS = ((1, 3), (1, 10), (1, 100), (3, 500), (10, None))
TIER_MIN = np.array([s[0] for s in TIER_SEATS], dtype=np.int64)
TIER_MAX = np.array([s[1] or 1_000_000 for s in TIER_SEATS], dtype=np.int64)
TIER_ENTITLEMENTS = (
    ("dashboards", "reports"),
    ("exports", "alerts"),
    ("api", "integrations", "sharing"),
    ("sso", "audit_log", "advanced_permissions"),
    ("scim", "custom_contract", "dedicated_support"),
)
YEAR_FACTOR = 10  # a yearly seat costs 10 months (two months free)
PLANS_PER_CURRENCY = 9
N_CURRENCIES = len(CURRENCIES)
N_PLANS = N_CURRENCIES * PLANS_PER_CURRENCY

# country, currency, share of signups, behaviour effect (logit, activation/upgrade)
COUNTRIES: tuple[tuple[str, str, float, float], ...] = (
    ("US", "USD", 0.34, 0.25),
    ("CA", "CAD", 0.05, 0.10),
    ("MX", "USD", 0.03, -0.35),
    ("BR", "USD", 0.04, -0.45),
    ("IN", "USD", 0.07, -0.70),
    ("GB", "GBP", 0.10, 0.15),
    ("DE", "EUR", 0.08, 0.20),
    ("FR", "EUR", 0.06, -0.05),
    ("NL", "EUR", 0.03, 0.15),
    ("ES", "EUR", 0.03, -0.25),
    ("IT", "EUR", 0.02, -0.30),
    ("IE", "EUR", 0.01, 0.05),
    ("JP", "JPY", 0.09, -0.40),
    ("AU", "AUD", 0.05, 0.10),
)
COUNTRY_CODES = tuple(c[0] for c in COUNTRIES)
COUNTRY_CURRENCY = np.array([CURRENCY_CODES.index(c[1]) for c in COUNTRIES], dtype=np.int64)
COUNTRY_SHARE = np.array([c[2] for c in COUNTRIES])
COUNTRY_SHARE = COUNTRY_SHARE / COUNTRY_SHARE.sum()
COUNTRY_EFFECT = np.array([c[3] for c in COUNTRIES])
# Sales tax / VAT applied on regular invoices, per currency (basis points).
TAX_BPS = np.array([0, 2000, 2000, 1000, 0, 1000], dtype=np.int64)


def plan_index(cur, tier, yearly):
    """Plan index from currency index, tier (0..4) and yearly flag (ignored for free)."""
    cur = np.asarray(cur, dtype=np.int64)
    tier = np.asarray(tier, dtype=np.int64)
    yearly = np.asarray(yearly, dtype=np.int64)
    code = np.where(tier == 0, 0, 2 * tier - 1 + yearly)
    return cur * PLANS_PER_CURRENCY + code


def _plan_arrays():
    cur = np.repeat(np.arange(N_CURRENCIES), PLANS_PER_CURRENCY)
    code = np.tile(np.arange(PLANS_PER_CURRENCY), N_CURRENCIES)
    tier = (code + 1) // 2
    yearly = (code > 0) & (code % 2 == 0)
    monthly_price = np.zeros(N_PLANS, dtype=np.int64)
    for i, c in enumerate(CURRENCIES):
        for t in range(1, 5):
            monthly_price[(cur == i) & (tier == t)] = c[2][t - 1]
    unit = np.where(yearly, monthly_price * YEAR_FACTOR, monthly_price)
    return cur, tier, yearly.astype(np.int64), unit


PLAN_CURRENCY, PLAN_TIER, PLAN_YEARLY, PLAN_UNIT = _plan_arrays()
PLAN_STEP_MONTHS = np.where(PLAN_YEARLY == 1, 12, 1)
# MRR times 12 (an integer for every plan): unit * 12 for monthly, unit for yearly.
PLAN_MRR12 = np.where(PLAN_YEARLY == 1, PLAN_UNIT, PLAN_UNIT * 12)


def plan_ids() -> list[str]:
    out = []
    for c in CURRENCY_CODES:
        lc = c.lower()
        out.append(f"free_{lc}")
        for t in range(1, 5):
            out.append(f"{TIER_KEYS[t]}_monthly_{lc}")
            out.append(f"{TIER_KEYS[t]}_annual_{lc}")
    return out


PLAN_IDS = plan_ids()


def plans_frame() -> pl.DataFrame:
    """The plans table (typed, contract column order)."""
    names, ents, mins, maxs = [], [], [], []
    for i in range(N_PLANS):
        t = int(PLAN_TIER[i])
        cur = CURRENCY_CODES[PLAN_CURRENCY[i]]
        if t == 0:
            names.append(f"Free ({cur})")
        else:
            names.append(f"{TIER_NAMES[t]} {'Annual' if PLAN_YEARLY[i] else 'Monthly'} ({cur})")
        ents.append(";".join(k for tt in range(t + 1) for k in TIER_ENTITLEMENTS[tt]))
        mins.append(TIER_SEATS[t][0])
        maxs.append(TIER_SEATS[t][1])
    return pl.DataFrame(
        {
            "plan_id": PLAN_IDS,
            "plan_name": names,
            "tier_rank": PLAN_TIER.astype(np.int64),
            "billing_interval": ["year" if y else "month" for y in PLAN_YEARLY],
            "unit_amount_minor": PLAN_UNIT.astype(np.int64),
            "currency": [CURRENCY_CODES[c] for c in PLAN_CURRENCY],
            "self_serve": [bool(t < 4) for t in PLAN_TIER],
            "min_seats": pl.Series(mins, dtype=pl.Int64),
            "max_seats": pl.Series(maxs, dtype=pl.Int64),
            "entitlements": ents,
        }
    )
