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

# The MRR movements: gains in greens, losses in reds (darkest = the largest kind).
MOVEMENT_COLORS = {
    "New MRR": "#1b5e20",
    "Expansion MRR": "#43a047",
    "Reactivation MRR": "#a5d6a7",
    "Contraction MRR": "#ef9a9a",
    "Churned MRR": "#b71c1c",
}
# Categories (channels, reasons, methods, segments A / B): Okabe-Ito / Tableau blues.
SERIES = ["#1f5f9e", "#e69f00", "#56b4e9", "#009e73", "#cc79a7", "#8c564b"]
CHANNEL_COLORS = {
    "Self-serve upgrades": "#1f5f9e",
    "Sales-assisted upgrades": "#56b4e9",
    "Automatic upgrades": "#b0bec5",
}
OUTCOME_COLORS = {
    "accepted": GAIN,
    "deferred": WARN,
    "rejected": LOSS,
    "no_response": NEUTRAL,
    "pending": "#90caf9",
}
