"""Simulator: an exact proration quote for a plan change with its downgrade alternative
(``upgrade_warehouse.simulator``), and the what-if projection of the funnel
(``upgrade_warehouse.simulator.whatif``)."""

import pandas as pd
import streamlit as st

from upgrade_warehouse.dashboard import charts, data, ui
from upgrade_warehouse.dashboard.fmt import format_minor, format_ts, format_value, md_escape
from upgrade_warehouse.errors import UserError
from upgrade_warehouse.simulator import QuoteError, load_plans, plans_from_frame, quote
from upgrade_warehouse.simulator.core import GRANULARITIES, PRORATION_BEHAVIORS, TIMINGS

r = ui.ref()

st.title("Simulator")
# Only the open tab runs (on_change="rerun"; switching tabs reruns the page): the closed
# tab's inputs are kept in KEPT and given back to its widgets when it opens again.
quote_tab, whatif_tab = st.tabs(
    ["Proration quote", "What-if projection"], key="simulator_tab", on_change="rerun"
)

SOURCES = {"warehouse": "Warehouse plans", "sample": "Sample catalog"}
KEPT = "simulator_inputs"  # the inputs' values (sim_*, whatif_*) as last seen
INPUTS = ("sim_", "whatif_")


def kept(key: str, default):
    """The value the widget ``key`` had when its tab was last open, else ``default``
    (a widget that did not run in a page run loses its own state)."""
    return st.session_state.get(KEPT, {}).get(key, default)


def kept_index(key: str, options: list, default: int) -> int:
    """The position of the kept value of ``key`` in ``options``, else ``default``."""
    value = kept(key, None)
    return options.index(value) if value in options else default


def keep_valid(key: str, options: list) -> None:
    """Forget a widget value that is not an option any more (catalog switched)."""
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]


def price(plan) -> str:
    per = "seat/month" if plan.billing_interval == "month" else "seat/year"
    return f"{format_minor(plan.unit_amount_minor, plan.currency)}/{per}"


def lines_table(q) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "line": md_escape(line.line_type),
                "amount": md_escape(format_minor(line.amount_minor, q.currency)),
                "from": md_escape(format_ts(line.period_start)),
                "to": md_escape(format_ts(line.period_end)),
                "billed": "now" if line.invoiced_now else "on the next invoice",
            }
            for line in q.lines
        ]
    )


def mrr(value, currency) -> str:
    return format_minor(round(float(value)), currency)


def show_quote(q, entitlements: pd.DataFrame | None, ent_title: str) -> None:
    cur = q.currency
    cols = [*st.columns(2), *st.columns(2)]  # exact amounts fit whole at 1280 px
    cols[0].metric(
        "Due now",
        format_minor(q.amount_due_now_minor, cur),
        border=True,
        help="The lines invoiced now (never below zero: a negative total "
        "becomes credit for the next invoice).",
    )
    cols[1].metric(
        "Next invoice",
        format_minor(q.next_invoice_amount_minor, cur),
        border=True,
        help="On the period end in force after the change.",
    )
    cols[1].caption(f"on {format_ts(q.next_invoice_date.date())}")
    cols[2].metric("Effective", format_ts(q.effective_at.date()), border=True)
    cols[2].caption(f"{q.effective_at:%H:%M:%S} UTC · timing {q.timing}")
    delta = q.mrr_delta_minor
    cols[3].metric(
        "MRR",
        mrr(q.to_mrr_minor, cur),
        delta=("+" if delta > 0 else "") + mrr(delta, cur) if delta else None,
        border=True,
        help="Monthly recurring revenue after the change (yearly prices / 12).",
    )
    cols[3].caption(f"from {mrr(q.from_mrr_minor, cur)} · {q.movement}, {q.kind}")
    lines_col, ent_col = st.columns([3, 2])
    with ent_col:
        st.markdown(f"**{ent_title}**")
        if entitlements is None or entitlements.empty:
            st.caption("No entitlement changes.")
        else:
            st.table(entitlements, hide_index=True)
    with lines_col:
        show_lines(q)


def show_lines(q) -> None:
    cur = q.currency
    if q.requires_sales:
        st.warning(
            "The new plan is sold through sales only (self_serve = false): this "
            "quote is indicative and the change needs a sales contact."
        )
    if q.lines:
        st.markdown("**Proration lines**")
        st.table(lines_table(q), hide_index=True)
    else:
        st.caption(
            "No invoice lines for this change "
            + (
                "(it takes effect at period end)."
                if q.timing == "period_end"
                else "(proration behavior none)."
            )
        )
    st.caption(
        f"Net proration {format_minor(q.proration_net_minor, cur)} · credit balance after "
        f"the next invoice {format_minor(q.credit_balance_minor, cur)} · billing period "
        f"after the change {format_ts(q.period_start)} to {format_ts(q.period_end)} · "
        f"remaining fraction {float(q.remaining_fraction):.4f}"
    )


def entitlements_table(current, new) -> pd.DataFrame:
    keys = sorted(set(current) | set(new))
    return pd.DataFrame(
        [
            {
                "entitlement": md_escape(k),
                "current plan": "✓" if k in current else "–",
                "new plan": "✓" if k in new else "–",
                "change": "added" if k not in current else "removed" if k not in new else "",
            }
            for k in keys
        ]
    )


def render_quote() -> None:
    st.caption(
        "What a customer sees before paying for a plan change: what changes, what is due "
        "now, what the next invoice is and when the change takes effect. Stripe's proration "
        "semantics, exact to the minor unit (the same arithmetic as `upgrade-warehouse "
        "quote` and the proration checks)."
    )
    warehouse_plans, warehouse_error = {}, None
    try:
        warehouse_plans = plans_from_frame(data.plans(r), source="marts.dim_plans")
    except UserError as exc:
        warehouse_error = str(exc)
    source = st.radio(
        "Plan catalog",
        list(SOURCES),
        format_func=SOURCES.get,
        horizontal=True,
        index=kept_index("sim_source", list(SOURCES), 0 if len(warehouse_plans) >= 2 else 1),
        key="sim_source",
        help="The plans loaded into the warehouse, or the sample catalog shipped with the "
        "simulator (pro_monthly, business_monthly, ...).",
    )
    if source == "warehouse" and warehouse_error:
        st.warning(f"The warehouse plans cannot be used: {md_escape(warehouse_error)}")
    plans = warehouse_plans if source == "warehouse" else load_plans()
    if not plans:
        st.info("No plans in this catalog: pick the sample catalog.")
        return

    def plan_label(plan_id: str) -> str:
        plan = plans[plan_id]
        flag = "" if plan.self_serve else " · sales only"
        return f"{plan.plan_name} ({plan_id}) · {price(plan)}{flag}"

    def subscription(col, which: str, key: str, options: list, default: str, seats: int):
        """The plan and seats of the current or the new subscription."""
        with col:
            st.markdown(f"**{which} subscription**")
            keep_valid(f"sim_{key}_plan", options)
            plan_id = st.selectbox(
                f"{which} plan",
                options,
                index=kept_index(f"sim_{key}_plan", options, options.index(default)),
                format_func=plan_label,
                key=f"sim_{key}_plan",
            )
            qty = st.number_input(
                f"{which} seats",
                min_value=0,
                value=kept(f"sim_{key}_qty", seats),
                step=1,
                key=f"sim_{key}_qty",
            )
        return plan_id, qty

    reporting = ui.currency(r)
    ids = sorted(
        plans,
        key=lambda p: (
            plans[p].currency != reporting,
            plans[p].currency,
            plans[p].billing_interval,
            plans[p].tier_rank,
            p,
        ),
    )
    paid = [p for p in ids if not plans[p].is_free and plans[p].self_serve]
    default_from = "pro_monthly" if "pro_monthly" in plans else (paid or ids)[0]

    current_col, new_col, period_col, options_col = st.columns(4)
    from_id, from_qty = subscription(current_col, "Current", "from", ids, default_from, 3)
    from_plan = plans[from_id]
    same_currency = [p for p in ids if plans[p].currency == from_plan.currency and p != from_id]
    if not same_currency:
        st.info("No other plan in this currency.")
        return
    higher = sorted(
        (
            p
            for p in same_currency
            if plans[p].tier_rank > from_plan.tier_rank
            and plans[p].billing_interval == from_plan.billing_interval
        ),
        key=lambda p: (plans[p].tier_rank, plans[p].unit_amount_minor),
    )
    default_to = (
        "business_monthly" if "business_monthly" in same_currency else (higher or same_currency)[0]
    )
    to_id, to_qty = subscription(new_col, "New", "to", same_currency, default_to, int(from_qty))
    with period_col:
        st.markdown("**Billing period and moment**")
        period_start = st.text_input(
            "Period start",
            kept("sim_period_start", "2026-03-01T00:00:00Z"),
            key="sim_period_start",
            help="ISO 8601; no offset = UTC.",
        )
        period_end = st.text_input(
            "Period end",
            kept("sim_period_end", "2026-04-01T00:00:00Z"),
            key="sim_period_end",
            help="Empty = one billing interval of the current plan after the start.",
        )
        at = st.text_input(
            "Change at",
            kept("sim_at", "2026-03-16T12:00:00Z"),
            key="sim_at",
            help="The moment of the change, inside the period.",
        )
    with options_col:
        st.markdown("**Behavior**")
        behavior = st.selectbox(
            "Proration behavior",
            PRORATION_BEHAVIORS,
            index=kept_index("sim_behavior", list(PRORATION_BEHAVIORS), 0),
            key="sim_behavior",
        )
        granularity = st.radio(
            "Granularity",
            GRANULARITIES,
            index=kept_index("sim_granularity", list(GRANULARITIES), 0),
            horizontal=True,
            key="sim_granularity",
        )
        timing = st.radio(
            "Timing",
            TIMINGS,
            index=kept_index("sim_timing", list(TIMINGS), TIMINGS.index("auto")),
            horizontal=True,
            key="sim_timing",
            help="auto: at period end when the change lowers MRR, else now.",
        )
    options = {
        "period_start": period_start,
        "period_end": period_end or None,
        "at": at,
        "proration_behavior": behavior,
        "granularity": granularity,
        "timing": timing,
    }

    st.subheader(
        f"{md_escape(plans[from_id].plan_name)} × {from_qty} → "
        f"{md_escape(plans[to_id].plan_name)} × {to_qty}"
    )
    try:
        q = quote(plans, from_id, int(from_qty), to_id, int(to_qty), **options)
    except QuoteError as exc:
        st.error(f"Cannot quote this change: {md_escape(str(exc))}")
    else:
        show_quote(
            q,
            entitlements_table(plans[from_id].entitlements, plans[to_id].entitlements),
            "Entitlements: current vs new",
        )

    # The downgrade's quote runs only when opened (on_change="rerun"): four cards and
    # two tables more (docs/dashboard.md, "Speed").
    downgrade = st.expander("Downgrade alternative", key="simulator_downgrade", on_change="rerun")
    with downgrade:
        if downgrade.open:
            show_downgrade(plans, ids, from_id, int(from_qty), options, plan_label)


def show_downgrade(plans, ids, from_id, from_qty: int, options: dict, plan_label) -> None:
    """The quote for moving the current subscription to a lower tier instead (with the
    same period, moment and behavior; seats kept within the lower plan's limits)."""
    from_plan = plans[from_id]
    lower = sorted(
        (
            p
            for p in ids
            if plans[p].currency == from_plan.currency and plans[p].tier_rank < from_plan.tier_rank
        ),
        key=lambda p: (
            -plans[p].tier_rank,
            plans[p].billing_interval != from_plan.billing_interval,
            -plans[p].unit_amount_minor,
        ),
    )
    if not lower:
        st.info(
            f"{md_escape(from_plan.plan_name)} is the lowest tier of this catalog: "
            "there is no downgrade."
        )
        return
    st.caption(
        "Instead of this change, what moving the current subscription to a lower tier "
        "would do (same period, moment and behavior; seats kept within the plan's limits)."
    )
    keep_valid("sim_down_plan", lower)
    down_id = st.selectbox(
        "Lower plan",
        lower,
        index=kept_index("sim_down_plan", lower, 0),
        format_func=plan_label,
        key="sim_down_plan",
    )
    down = plans[down_id]
    down_qty = int(from_qty)
    if down.min_seats is not None:
        down_qty = max(down_qty, down.min_seats)
    if down.max_seats is not None:
        down_qty = min(down_qty, down.max_seats)
    try:
        dq = quote(plans, from_id, int(from_qty), down_id, down_qty, **options)
    except QuoteError as exc:
        st.error(f"Cannot quote the downgrade: {md_escape(str(exc))}")
    else:
        show_quote(
            dq,
            entitlements_table(plans[from_id].entitlements, down.entitlements),
            "Entitlements: current vs lower plan",
        )


def render_whatif() -> None:
    st.caption(
        "Project the funnel forward under a scenario: change the step-to-step conversion "
        "rates and the price, and compare completed upgrades and expansion MRR with the "
        "unchanged baseline. A steady-state model: every projected month has the "
        "baseline's attempts."
    )
    if not data.whatif_available():
        st.info(
            "The what-if projection (upgrade_warehouse.simulator.whatif) is not "
            "available in this version."
        )
        return
    from upgrade_warehouse.simulator.whatif import project

    cur = ui.currency(r)
    left, mid, right = st.columns(3)
    baseline_months = left.number_input(
        "Baseline months",
        1,
        24,
        kept("whatif_baseline", 3),
        key="whatif_baseline",
        help="Ending with the latest month whose attempts are all resolved at as_of.",
    )
    horizon = mid.slider("Months to project", 1, 36, kept("whatif_months", 12), key="whatif_months")
    price_pct = right.number_input(
        "Price change (%)",
        -100.0,
        500.0,
        kept("whatif_price", 0.0),
        step=1.0,
        format="%.1f",
        key="whatif_price",
        help="Scales the MRR per upgrade, not the conversions.",
    )
    try:
        baseline = data.whatif_baseline(r, int(baseline_months), None)
    except UserError as exc:
        st.info(f"No baseline: {md_escape(str(exc))}")
        return
    st.caption(
        f"Baseline {md_escape(', '.join(baseline.months))}: "
        f"{baseline.attempts_per_month:,.1f} attempts a month, "
        f"{baseline.resolved_attempts:,} resolved; average MRR per upgrade "
        f"{format_value(baseline.avg_mrr_delta_per_upgrade, 'money', cur)} "
        f"({baseline.converted_upgrades:,} upgrades)."
    )

    st.markdown(
        "**Step conversion** (share of the attempts reaching the step before that "
        "also reach this one)"
    )
    steps = list(baseline.funnel_steps[1:])
    overrides = {}
    cols = st.columns(max(1, len(steps)))
    for col, step in zip(cols, steps):
        base = baseline.step_conversion.get(step)
        default = round(base * 100, 1) if base is not None else 0.0
        value = col.number_input(
            md_escape(step),
            0.0,
            100.0,
            kept(f"whatif_step_{step}", default),
            step=0.5,
            format="%.1f",
            key=f"whatif_step_{step}",
            help="baseline "
            + (
                format_value(base, "rate", cur)
                if base is not None
                else "– (no resolved attempt reached the step before)"
            ),
        )
        if base is None or abs(value - default) > 1e-9:
            overrides[step] = value / 100
    try:
        projection = project(baseline, overrides, price_pct / 100, int(horizon))
    except UserError as exc:
        st.error(md_escape(str(exc)))
        return

    scen, base = projection.scenario, projection.baseline
    cols = st.columns(3)
    cols[0].metric(
        "Completion rate",
        format_value(projection.completion_rate, "rate", cur),
        delta=_pp(projection.completion_rate - projection.baseline_completion_rate),
        border=True,
        help="Product of the step conversions (completed / resolved attempts).",
    )
    per_month = scen.rows[0].completed_upgrades if scen.rows else 0.0
    base_per_month = base.rows[0].completed_upgrades if base.rows else 0.0
    change = per_month - base_per_month
    cols[1].metric(
        "Completed upgrades a month",
        f"{per_month:,.1f}",
        delta=f"{change:+,.1f}" if abs(change) >= 0.05 else None,
        border=True,
    )
    total, base_total = scen.total_expansion_mrr, base.total_expansion_mrr
    cols[2].metric(
        f"Expansion MRR in {horizon} months",
        format_value(total, "money", cur),
        delta=None
        if total is None or base_total is None or abs(total - base_total) < 0.005
        else f"{total - base_total:+,.2f} {cur}",
        border=True,
        help="Sum of the monthly expansion MRR of the projected upgrades.",
    )
    records = pd.DataFrame(projection.to_records())
    records = records[records["series"] != "delta"]
    if records["cumulative_expansion_mrr"].notna().any():
        chart_data = records.rename(columns={"cumulative_expansion_mrr": "value"})
        chart_data["month"] = chart_data["month"].fillna(chart_data["month_index"].astype(str))
        st.altair_chart(
            charts.series_lines(
                chart_data,
                "month",
                "value",
                "series",
                unit="money",
                title=f"Cumulative expansion MRR ({cur})",
                series_order=["scenario", "baseline"],
            ),
            width="stretch",
        )
    with st.expander("Projection by month"):
        wide = records.pivot(
            index=["month_index", "month"],
            columns="series",
            values=["completed_upgrades", "expansion_mrr"],
        )
        wide.columns = [f"{a}_{b}" for a, b in wide.columns]
        money = {c: "money" for c in wide.columns if c.startswith("expansion_mrr")}
        ui.table(
            wide.reset_index(),
            currency=cur,
            units={**money, **{c: "number" for c in wide.columns if c not in money}},
            labels={"month_index": "Month #", "month": "Month"},
        )


def _pp(delta: float) -> str | None:
    return f"{delta * 100:+.1f} pp" if abs(delta) >= 0.0005 else None


with quote_tab:
    if quote_tab.open:
        render_quote()
with whatif_tab:
    if whatif_tab.open:
        render_whatif()
st.session_state[KEPT] = {
    **st.session_state.get(KEPT, {}),
    **{k: st.session_state[k] for k in list(st.session_state) if k.startswith(INPUTS)},
}
