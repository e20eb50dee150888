"""Win-back (growth PMs, sales): activated accounts that have not upgraded, ranked by the
model's probability of a self-serve upgrade, with its reasons and a suggested play."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_probability, format_ts, md_escape
from upgrade_warehouse.winback.reader import to_csv

r = ui.built_page(
    "Win-back",
    data.winback_available,
    "win-back",
    what="The win-back list",
    note=" (every build retrains the model)",
)

model = data.winback_model(r)
scores = data.winback_scores(r)
horizon = model["horizon_days"]
st.caption(
    f"Activated accounts with no upgrade at or before as_of "
    f"({md_escape(format_ts(model['as_of']))}), ranked by the model's probability that "
    f"they make a **self-serve upgrade in the {horizon} days after it**. The model is "
    "retrained on this warehouse's own history by every build; the reasons are its own "
    "strongest contributions for each account."
)
ui.warnings_banner(r, codes=("stale", "quarantined_rows"))


def format_number(value) -> str:
    return "–" if value is None else f"{value:,.1f}"


def pct(value) -> str:
    return format_probability(None if value is None or pd.isna(value) else value)


validated = model["auc"] is not None
kpis = st.columns(4)
kpis[0].metric("Accounts listed", f"{len(scores):,}")
kpis[1].metric(
    f"Expected upgrades ({horizon} days)",
    format_number(data.winback_expected_upgrades(scores)),
    help=f"Self-serve upgrades expected from the listed accounts in the {horizon} days "
    "after as_of: the sum of their probabilities.",
)
kpis[2].metric(
    "Model AUC (validation)",
    f"{model['auc']:.2f}" if validated else "–",
    help="Area under the ROC curve on the latest labelled weeks, which the validation "
    "model never saw: 0.5 is a coin toss, 1.0 a perfect ranking. "
    + md_escape(model["validated_on"]),
)
kpis[3].metric(
    "Top-decile lift (validation)",
    f"{model['top_decile_lift']:.1f}×" if model["top_decile_lift"] is not None else "–",
    help="Upgrade rate of the 10% highest-scored accounts over the rate of all of them.",
)
if not validated:
    st.warning(f"The model is not validated: {md_escape(model['validated_on'])}.")

if scores.empty:
    st.info("No activated account is without an upgrade at as_of: the list is empty.")
    st.stop()


def options(column: str) -> list:
    values = scores[column].dropna().unique().tolist()
    return sorted(values) + (["(none)"] if scores[column].isna().any() else [])


def picked(frame: pd.DataFrame, column: str, values: list) -> pd.Series:
    if not values:
        return pd.Series(True, index=frame.index)
    mask = frame[column].isin([v for v in values if v != "(none)"])
    return mask | (frame[column].isna() if "(none)" in values else False)


filters = st.columns(4)
chosen = {
    column: filters[i].multiselect(
        label, options(column), key=f"winback_{column}", placeholder="all"
    )
    for i, (column, label) in enumerate(
        (
            ("segment", "Segment"),
            ("persona", "Persona"),
            ("plan_id", "Plan"),
            ("play_owner", "Play owner"),
        )
    )
}
mask = pd.Series(True, index=scores.index)
for column, values in chosen.items():
    mask &= picked(scores, column, values)
shown = scores[mask]
expected = format_number(data.winback_expected_upgrades(shown))
LISTED = 500  # rows sent to the browser; the CSV download has every account shown
st.caption(
    f"{len(shown):,} of {len(scores):,} accounts · expected self-serve upgrades {expected} · "
    "highest probability first"
    + (f" · the first {LISTED:,} listed (download the CSV for all)" if len(shown) > LISTED else "")
)
# Only the open tab runs (on_change="rerun"; switching tabs reruns the page, the filters
# kept): the list, the plays and the model's figures are a table, a table and a chart
# the browser draws (docs/dashboard.md, "Speed"). The filters above apply to the list
# and to the plays.
accounts_tab, plays_tab, model_tab = st.tabs(
    ["Accounts", "Suggested plays", "How good is the model"], key="winback_tab", on_change="rerun"
)

with accounts_tab:
    if accounts_tab.open:
        listed = shown.head(LISTED)

        table = pd.DataFrame(
            {
                "#": listed["rank"],
                "account": listed["account_id"],
                "probability": listed["probability_percent"],
                "reasons": [" · ".join(reasons) for reasons in listed["reasons"]],
                "play": [
                    f"{t} · {o} · {c}"
                    for t, o, c in zip(
                        listed["play_trigger"], listed["play_owner"], listed["play_channel"]
                    )
                ],
                "segment": listed["segment"].fillna("–"),
            }
        )
        top = (
            float(scores["probability_percent"].max())
            if scores["probability"].notna().any()
            else 100.0
        )
        event = st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            height=ui.rows_height(len(table), 460),
            on_select="rerun",
            selection_mode="single-row",
            key="winback_table",
            column_config={
                # Widths in pixels: the whole list fits the page at 1280 px (with the row
                # markers); the reasons in full below when a row is picked, the plan there
                # too.
                "#": st.column_config.NumberColumn(width=40),
                "account": st.column_config.TextColumn(width=110),
                "probability": st.column_config.ProgressColumn(
                    format="%.1f%%", min_value=0.0, max_value=max(top, 1e-7), width=100
                ),
                "reasons": st.column_config.TextColumn(
                    width=250,
                    help="The model's strongest reasons, strongest first (select a "
                    "row to read them in full)",
                ),
                "play": st.column_config.TextColumn(
                    width=170, help="Suggested play: trigger · owner · channel"
                ),
                "segment": st.column_config.TextColumn(width=90),
            },
        )
        rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
        account = listed.iloc[rows[0]] if rows else (listed.iloc[0] if len(listed) else None)
        if account is not None:
            with st.container(border=True):
                head, side = st.columns([3, 2])
                head.markdown(
                    f"**{md_escape(account['account_id'])}** · "
                    f"{pct(account['probability'])} chance of a self-serve upgrade in "
                    f"{horizon} days · rank {int(account['rank']):,}"
                    + ("" if rows else " · *the top account; select a row to see another*")
                )
                head.markdown(
                    "\n".join(f"- {md_escape(reason)}" for reason in account["reasons"])
                    or "No reason pushes this account's probability up."
                )
                side.markdown(
                    f"**Suggested play**: {md_escape(account['play_trigger'])}, run by "
                    f"{md_escape(account['play_owner'])}, by "
                    f"{md_escape(account['play_channel'])}  \n"
                    f"Activated {md_escape(format_ts(account['activated_at']))}  \n"
                    + " · ".join(
                        md_escape(f"{label} {account[column]}")
                        for label, column in (
                            ("segment", "segment"),
                            ("persona", "persona"),
                            ("source", "acquisition_source"),
                            ("country", "country"),
                            ("plan", "plan_id"),
                        )
                        if not pd.isna(account[column])
                    )
                    + (
                        f"  \nAccount manager {md_escape(account['account_manager_id'])}"
                        if not pd.isna(account["account_manager_id"])
                        else ""
                    )
                )
        ui.download(
            st,
            "Download these accounts (CSV)",
            lambda: to_csv(shown.to_dict("records")),
            f"winback-{model['as_of']:%Y-%m-%d}.csv",
            "The accounts shown, with the columns of `upgrade-warehouse winback --format csv`.",
        )

with plays_tab:
    if plays_tab.open:
        plays = data.winback_plays(shown)
        ui.table(plays, units={"expected upgrades": "number", "mean probability": "rate"})
        with st.expander("How a play is chosen"):
            st.markdown(
                "Triggers, owners and channels are the upsell catalog's (`upsell_offers`). "
                "First rule that matches:\n"
                "- **support**, run by **customer_success** by **email**: a payment failed, an "
                "eligibility check said no or the account asked for sales in the last 30 days; "
                "clear the way first.\n"
                "- **usage_threshold**: as many active users in the last 30 days as the plan has "
                "seats, or product usage is the strongest reason.\n"
                "- **feature_gate**: the upgrade flow (pricing page, limit banners, steps reached, "
                "return visits) is the strongest reason.\n"
                "- **propensity**: the score alone.\n\n"
                "Owner **sales** when the account has an account manager (a **demo** after a "
                "feature gate, a **call** otherwise), else **automated**: **in_app** when it used "
                "the product in the last 14 days, **email** otherwise. (`renewal_window` never "
                "applies: the listed accounts have no paid plan to renew.)"
            )

with model_tab:
    if model_tab.open:
        calibration = data.winback_calibration(r)
        left, right = st.columns([3, 2])
        if calibration.empty:
            left.info("No calibration: the model was not validated.")
        else:
            left.altair_chart(charts.calibration(calibration), width="stretch")
            left.caption(
                "Validation accounts in equal-sized bins of predicted probability: the mean "
                "prediction against the share that really upgraded. On the dashed line the "
                "probabilities can be read at face value."
            )
        lift = model["top_decile_lift"]
        facts = [
            ("AUC", f"{model['auc']:.3f}" if validated else "–"),
            ("top-decile lift", f"{lift:.2f}×" if lift is not None else "–"),
            (
                "mean predicted vs observed",
                (f"{pct(model['mean_probability'])} vs {pct(model['observed_rate'])}")
                if validated
                else "–",
            ),
            (
                "log loss / Brier score",
                f"{model['log_loss']:.4f} / {model['brier_score']:.4f}" if validated else "–",
            ),
            (
                "model",
                model["model_kind"]
                + (
                    f" (C = {model['regularization_c']}, {model['features']} inputs)"
                    if model["model_kind"] == "logistic_regression"
                    else ""
                ),
            ),
            (
                "trained on",
                (
                    f"{model['training_rows']:,} account-snapshots, "
                    f"{model['training_upgrades']:,} self-serve upgrades"
                ),
            ),
        ]
        right.markdown("\n".join(f"- **{name}**: {md_escape(value)}" for name, value in facts))
        right.caption(f"Validated on {md_escape(model['validated_on'])}.")
