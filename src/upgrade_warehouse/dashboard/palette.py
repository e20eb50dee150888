"""The dashboard's colours, in one place: a gain is always green and a loss always red,
on every chart; categories without good or bad news use a calm, colour-blind-safe
series."""

from __future__ import annotations

GAIN = "#2e7d32"  # green: more revenue, an accepted offer
LOSS = "#c62828"  # red: less revenue, a rejection, a drop-off
NET = "#1f5f9e"  # blue: a total (net new MRR)
NEUTRAL = "#9e9e9e"  # grey: no response, no news
WARN = "#f2a900"  # amber: deferred, escalated
TARGET = "#616161"  # the dashed target line (not red: a target is not bad news)

# The MRR movements by metric id: gains in greens, losses in reds (the pages key them by
# the catalog's labels).
MOVEMENT_COLORS = {
    "mrr_new": "#1b5e20",
    "mrr_expansion": "#43a047",
    "mrr_reactivation": "#a5d6a7",
    "mrr_contraction": "#ef9a9a",
    "mrr_churn": "#b71c1c",
}
# Categories (channels, reasons, methods, segments A / B): Okabe-Ito / Tableau blues.
SERIES = ["#1f5f9e", "#e69f00", "#56b4e9", "#009e73", "#cc79a7", "#8c564b"]
CHANNEL_COLORS = {
    "self_serve_upgrades": "#1f5f9e",
    "sales_assisted_upgrades": "#56b4e9",
    "automatic_upgrades": "#b0bec5",
}
OUTCOME_COLORS = {
    "accepted": GAIN,
    "deferred": WARN,
    "rejected": LOSS,
    "no_response": NEUTRAL,
    "pending": "#90caf9",
}
