"""Behavioural parameters of the synthetic world (the knobs behind the default levels).

Effects are on the logit scale; hazards are per day. ``docs/generator.md`` explains the
levels they produce.
"""

from __future__ import annotations

import numpy as np

PERSONAS = ("founder", "marketer", "engineer", "ops", "product_manager", "analyst")
PERSONA_SHARE = np.array([0.20, 0.20, 0.22, 0.12, 0.14, 0.12])
PERSONA_ACTIVATION = np.array([0.30, -0.15, 0.45, 0.00, 0.20, -0.25])
PERSONA_UPGRADE = np.array([0.55, 0.00, 0.25, -0.30, 0.15, -0.40])

SOURCES = ("organic", "paid_search", "referral", "partner", "outbound")
SOURCE_ACTIVATION = np.array([0.20, -0.45, 0.60, 0.25, -0.30])
SOURCE_UPGRADE = np.array([0.00, 0.15, 0.35, -0.20, -0.60])

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_SHARE = np.array([0.78, 0.17, 0.05])
SEGMENT_ACTIVATION = np.array([0.00, 0.20, 0.10])
SEGMENT_UPGRADE = np.array([0.00, -0.25, -1.30])
# Source mix per segment (rows: segment, columns: SOURCES).
SEGMENT_SOURCE = np.array(
    [
        [0.38, 0.30, 0.17, 0.09, 0.06],
        [0.28, 0.18, 0.14, 0.14, 0.26],
        [0.15, 0.08, 0.10, 0.17, 0.50],
    ]
)
# Share of accounts with an account manager, per segment.
SEGMENT_AM = np.array([0.03, 0.70, 1.00])
# Users (seats in use) per account: base + Poisson(mean), per segment.
SEGMENT_USERS = ((1, 1.2), (2, 5.0), (4, 12.0))

# Signup volume per calendar month (Jan..Dec) and monthly growth of signups.
SIGNUP_SEASON = np.array([1.15, 1.05, 1.05, 1.00, 0.97, 0.92, 0.82, 0.78, 1.08, 1.10, 1.00, 0.75])
SIGNUP_GROWTH = 1.025
# Upgrade propensity per calendar month (logit shift): January budgets, quarter ends,
# a summer lull, Q4 budget flush.
UPGRADE_SEASON = np.array(
    [0.20, 0.05, 0.15, 0.00, 0.00, 0.12, -0.20, -0.30, 0.05, 0.05, 0.15, -0.15]
)
# Product activity per calendar month (share of events kept).
USAGE_SEASON = np.array([1.00, 1.00, 1.00, 0.97, 0.96, 0.93, 0.85, 0.80, 0.98, 1.00, 0.98, 0.82])
# Hour-of-day profile (UTC) of human activity.
HOUR_PROFILE = np.array(
    [2, 1.5, 1.2, 1, 1, 1.2, 2, 3, 4.5, 6, 7, 7, 6.5, 7, 7.5, 7.5, 7, 6, 5, 4.5, 4, 3.5, 3, 2.5]
)
HOUR_PROFILE = HOUR_PROFILE / HOUR_PROFILE.sum()

# Activation: intercept (logit) and delay after signup (lognormal, hours).
ACTIVATION_INTERCEPT = -0.55
ACTIVATION_DELAY_MEDIAN_H = 20.0
ACTIVATION_DELAY_SIGMA = 1.3
ENGAGEMENT_SD = 0.6  # account-level latent engagement shared by activation and upgrade

# First paid conversion.
EARLY_UPGRADE_INTERCEPT = -1.70  # self-serve upgrade within 14 days of activation
LATE_UPGRADE_INTERCEPT = -2.22  # self-serve (mostly) upgrade later in life
UNACTIVATED_UPGRADE_P = 0.03
SALES_LED_P = np.array([0.002, 0.03, 0.10])  # per segment
LATE_MEAN_DAYS = 70.0

# Lifecycle hazards per day, for paid subscriptions (multiplied per segment).
HAZARD = {
    "seat_ss": 0.0030,
    "seat_auto": 0.0012,
    "tier_ss": 0.0010,
    "tier_sales": 0.0002,
    "annual": 0.0008,
    "seat_red": 0.0007,
    "tier_down": 0.0004,
    "churn_free_month": 0.0011,
    "churn_free_year": 0.0003,
    "cancel": 0.0003,
    "react_ss": 0.0040,
    "react_new": 0.0015,
}
SEGMENT_EXPANSION = np.array([1.0, 1.5, 1.5])
SEGMENT_SALES_UPGRADE = np.array([1.0, 2.5, 4.0])
SEGMENT_CHURN = np.array([1.0, 0.6, 0.4])

# Funnel: abandoned (non-completing) attempts per account and their last step.
NOISE_ATTEMPTS_ACTIVATED = 3.2
NOISE_ATTEMPTS_NOT_ACTIVATED = 1.1
ABANDON_LAST_STEP = np.array([0.55, 0.21, 0.12, 0.085, 0.035])  # last step 1..5
NOISE_ESCALATION_P = 0.05
COMPLETED_ESCALATION_P = 0.10
LATE_COMPLETION_P = 0.03  # completed flows that take longer than the 14-day window
REPEATED_INTENT_P = 0.15
OUT_OF_ORDER_P = 0.02

# Product usage: events per active day after activation, before activation in total.
USAGE_RATE_ACTIVATED = 0.55
USAGE_PRE_ACTIVATION = 4.0
USAGE_NOT_ACTIVATED = 6.0
USAGE_NAMES = (
    "report_created",
    "dashboard_viewed",
    "dashboard_shared",
    "api_call",
    "integration_connected",
    "seat_invited",
    "export_downloaded",
    "alert_configured",
)
PERSONA_USAGE = np.array(
    [
        [0.16, 0.20, 0.12, 0.06, 0.10, 0.18, 0.08, 0.10],
        [0.24, 0.24, 0.22, 0.02, 0.06, 0.06, 0.12, 0.04],
        [0.08, 0.14, 0.04, 0.40, 0.18, 0.04, 0.04, 0.08],
        [0.12, 0.22, 0.06, 0.08, 0.10, 0.06, 0.14, 0.22],
        [0.18, 0.26, 0.16, 0.06, 0.08, 0.10, 0.08, 0.08],
        [0.22, 0.28, 0.08, 0.06, 0.04, 0.02, 0.24, 0.06],
    ]
)

# Signals before an upgrade (generator/signal.py, docs/generator.md "Signals before an
# upgrade"). Need: an account trait ~ N(0, 1) that raises the upgrade logit and the use of
# the features the free plan gates (log-rate per standard deviation).
NEED_UPGRADE = 0.4
NEED_GATED_USAGE = 0.6
# Accounts with more users than the free plan's seats upgrade more often (logit).
SEAT_PRESSURE_UPGRADE = 0.35
# Usage events of features that the free plan does not include.
GATED_USAGE = (
    "dashboard_shared",
    "api_call",
    "integration_connected",
    "export_downloaded",
    "alert_configured",
)
GATED_RATE = 0.12  # gated-feature events per day on the free plan after activation
# Limit episodes before an upgrade made in the product: length (days, uniform), a burst
# of gated-feature events, seat invitations and return visits to the upgrade flow
# (Poisson means); the visits come REVISIT_BEFORE_DAYS to REVISIT_BEFORE_DAYS +
# REVISIT_SPREAD_DAYS before the upgrade; where they come from and how far they go.
LEAD_DAYS = (5.0, 30.0)
LEAD_GATED_EVENTS = 5.0
LEAD_SEAT_INVITES = 2.0
REVISITS_MEAN = 1.2
REVISIT_BEFORE_DAYS = 15
REVISIT_SPREAD_DAYS = 20.0
REVISIT_ENTRY_POINTS = (
    "pricing_page",
    "usage_limit_banner",
    "feature_gate_modal",
    "seat_limit_banner",
)
REVISIT_ENTRY_P = np.array([0.45, 0.20, 0.20, 0.15])
REVISIT_PLAN_P = 0.35
REVISIT_PREVIEW_P = 0.3

# Payments: failure probability per method (saved_card, new_card, wallet, bank_debit, invoice).
PAYMENT_METHODS = ("saved_card", "new_card", "wallet", "bank_debit", "invoice")
PAYMENT_FAIL_P = np.array([0.06, 0.13, 0.05, 0.09, 0.03])
FAILURE_CODES = (
    "card_declined",
    "insufficient_funds",
    "authentication_required",
    "expired_card",
    "processing_error",
)
FAILURE_CODE_P = np.array([0.42, 0.20, 0.18, 0.10, 0.10])


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
