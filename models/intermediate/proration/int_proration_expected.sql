{#- The proration lines the simulator expects for each plan change that can be priced
    (simulator.md with granularity = second, timing = immediate; the arithmetic is in
    macros/proration.sql): changes with from and to plans, period_start and period_end
    set, and changed_at in [period_start, period_end), all in whole seconds (sub-seconds
    floored, as the Python simulator does). Other changes have no row here.
    Amounts are in minor units of the plans' currency. A change outside the exact
    arithmetic's bounds (unit price x quantity > 2^62, period > 3e9 s) has a row with
    is_within_bounds = false and null amounts. Seat limits of the to plan are not
    checked: the change was already made. -#}
with

{{ import_ctes({
    'changes': ref('stg_billing__subscription_changes'),
    'plans': ref('stg_billing__plans'),
}) }}

timed as (

    select
        changes.change_id,
        changes.account_id,
        changes.changed_at,
        changes.period_start,
        changes.period_end,
        {{ effective_proration_behavior('changes.proration_behavior') }} as proration_behavior,
        changes.from_plan_id,
        changes.from_quantity,
        changes.to_plan_id,
        changes.to_quantity,
        from_plan.currency,
        from_plan.billing_interval as from_billing_interval,
        to_plan.billing_interval as to_billing_interval,
        from_plan.billing_interval <> to_plan.billing_interval as is_interval_switch,
        from_plan.unit_amount_minor as from_unit_amount_minor,
        to_plan.unit_amount_minor as to_unit_amount_minor,
        {{ epoch_seconds('changes.period_start') }} as period_start_seconds,
        {{ epoch_seconds('changes.period_end') }} as period_end_seconds,
        {{ epoch_seconds('changes.changed_at') }} as changed_at_seconds
    from changes
    inner join plans as from_plan
        on from_plan.plan_id = changes.from_plan_id
    inner join plans as to_plan
        on to_plan.plan_id = changes.to_plan_id
    where changes.period_start is not null
        and changes.period_end is not null

),

in_period as (

    select
        timed.*,
        period_end_seconds - period_start_seconds as total_seconds,
        period_end_seconds - changed_at_seconds as remaining_seconds
    from timed
    where changed_at_seconds >= period_start_seconds
        and changed_at_seconds < period_end_seconds

),

bounded as (

    select
        in_period.*,
        {{ proration_within_bounds(
            'from_unit_amount_minor', 'from_quantity',
            'to_unit_amount_minor', 'to_quantity', 'total_seconds') }} as is_within_bounds
    from in_period

),

-- Operands zeroed outside the bounds, so that no engine evaluates an overflowing
-- product (the results are nulled below).
safe_operands as (

    select
        bounded.*,
        case when is_within_bounds then from_unit_amount_minor else 0 end as safe_from_unit_amount,
        case when is_within_bounds then from_quantity else 0 end as safe_from_quantity,
        case when is_within_bounds then to_unit_amount_minor else 0 end as safe_to_unit_amount,
        case when is_within_bounds then to_quantity else 0 end as safe_to_quantity
    from bounded

),

priced as (

    select
        safe_operands.*,
        {{ proration_credit_minor(
            'safe_from_unit_amount', 'safe_from_quantity', 'proration_behavior',
            'remaining_seconds', 'total_seconds') }} as credit_line_minor,
        {{ proration_charge_minor(
            'safe_to_unit_amount', 'safe_to_quantity', 'proration_behavior',
            'is_interval_switch', 'remaining_seconds', 'total_seconds') }} as charge_line_minor,
        {{ interval_switch_subscription_minor(
            'safe_to_unit_amount', 'safe_to_quantity', 'is_interval_switch') }} as subscription_line_minor
    from safe_operands

),

final as (

    select
        change_id,
        account_id,
        changed_at,
        period_start,
        period_end,
        proration_behavior,
        from_plan_id,
        from_quantity,
        to_plan_id,
        to_quantity,
        currency,
        is_interval_switch,
        total_seconds,
        remaining_seconds,
        is_within_bounds,
        case when is_within_bounds then credit_line_minor end as expected_credit_minor,
        case when is_within_bounds then charge_line_minor end as expected_charge_minor,
        case
            when is_within_bounds
                then coalesce(credit_line_minor, 0) + coalesce(charge_line_minor, 0)
        end as expected_net_minor,
        case
            when is_within_bounds
                then case when credit_line_minor is null then 0 else 1 end
                    + case when charge_line_minor is null then 0 else 1 end
        end as expected_proration_lines,
        case when is_within_bounds then subscription_line_minor end
            as expected_subscription_line_minor
    from priced

)

select * from final
