"""The Win-back page's data: the model, the scored accounts, calibration and plays."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from .. import warehouse
from .marts import TTL, Ref, _cache, _df, has_table

# The scored list is one shared object per warehouse version, not a copy per call: as
# st.cache_data gives it, unpickling the rows and their lists of reasons took 50 ms on
# every run of the page at 10M events (41,527 accounts). Read it only.
_shared = st.cache_resource(ttl=TTL, max_entries=4, show_spinner=False)

# ---------------------------------------------------------------------------- win-back


def winback_available(ref: Ref) -> bool:
    """Whether the warehouse has the win-back results (built by a version with win-back)."""
    from ..winback.reader import TABLES

    return all(has_table(ref, f"marts.{name}") for name in TABLES)


@_cache
def winback_model(ref: Ref) -> dict:
    """The one row of ``marts.winback_model``: as_of, horizon_days, auc, validated_on,
    the other validation figures and the training sizes."""
    from ..winback.reader import model_info

    with warehouse.connect(ref.path) as con:
        return model_info(con)


@_shared
def winback_scores(ref: Ref) -> pd.DataFrame:
    """Every listed account, highest probability first: rank, account_id, activated_at,
    probability (and probability_percent, for the list's bar), reasons (a list), the
    play (trigger, owner, channel) and the account's segment, persona,
    acquisition_source, country, plan_id, account_manager_id and days_since_activation.
    Shared between runs and viewers: never modify it (filter into a new frame)."""
    frame = _df(
        ref,
        """
        select rank, account_id, activated_at, probability,
               100 * probability as probability_percent, reasons,
               play_trigger, play_owner, play_channel, segment, persona,
               acquisition_source, country, plan_id, account_manager_id,
               days_since_activation
        from marts.winback_account_scores
        order by rank
        """,
    )
    frame["reasons"] = [json.loads(r) for r in frame["reasons"]]
    return frame


@_cache
def winback_calibration(ref: Ref) -> pd.DataFrame:
    """Validation calibration: bin, accounts, mean_probability, observed_rate."""
    return _df(
        ref,
        """
        select bin, accounts, mean_probability, observed_rate
        from marts.winback_calibration
        order by bin
        """,
    )


def winback_expected_upgrades(scores: pd.DataFrame) -> float | None:
    """Self-serve upgrades expected from these listed accounts within horizon_days: the
    sum of their probabilities (None when no account has one)."""
    if scores.empty or scores["probability"].isna().all():
        return None
    return float(scores["probability"].sum())


def winback_plays(scores: pd.DataFrame) -> pd.DataFrame:
    """The suggested plays of these listed accounts: trigger, owner, channel, accounts,
    expected upgrades (sum of probabilities) and mean probability, most expected first."""
    return (
        scores.groupby(["play_trigger", "play_owner", "play_channel"], dropna=False)
        .agg(
            accounts=("account_id", "size"),
            expected_upgrades=("probability", "sum"),
            mean_probability=("probability", "mean"),
        )
        .reset_index()
        .sort_values(["expected_upgrades", "accounts"], ascending=False)
        .rename(
            columns={
                "play_trigger": "trigger",
                "play_owner": "owner",
                "play_channel": "channel",
                "expected_upgrades": "expected upgrades",
                "mean_probability": "mean probability",
            }
        )
    )
