{#- Proration accuracy (metrics.md): one row per change up to as_of with at least one
    proration_credit or proration_charge invoice line carrying its change_id (lines
    issued after as_of are ignored, like every event after as_of). Billed net = the sum
    of those lines; expected net = the simulator's net from int_proration_expected.
    Accurate: |billed - expected| <= amount_tolerance_minor x billed lines.
    A change in the population whose expected net cannot be computed, or whose lines
    cannot be compared (another currency), stays in the population and is not accurate;
    check_status says why. The monthly metrics are a group-by on change_month:
    proration_checked_changes = count(*), proration_accuracy_rate = accurate / count(*). -#}
{%- set tolerance = var('amount_tolerance_minor') | int -%}
with

{{ import_ctes({
    'changes': ref('int_subscription_changes__revenue'),
    'invoice_lines': ref('stg_billing__invoice_lines'),
    'expected': ref('int_proration_expected'),
    'as_of': ref('int_as_of'),
}) }}

billed as (

    select
        invoice_lines.change_id,
        count(*) as billed_lines,
        sum(case when invoice_lines.line_type = 'proration_credit' then 1 else 0 end)
            as billed_credit_lines,
        sum(case when invoice_lines.line_type = 'proration_charge' then 1 else 0 end)
            as billed_charge_lines,
        sum(invoice_lines.amount_minor) as billed_amount_minor,
        min(invoice_lines.currency) as min_currency,
        max(invoice_lines.currency) as max_currency
    {{ from_as_of('invoice_lines', 'issued_at', [
        "invoice_lines.line_type in ('proration_credit', 'proration_charge')",
        'invoice_lines.change_id is not null',
    ]) }}
    group by invoice_lines.change_id

),

joined as (

    select
        changes.change_id,
        changes.account_id,
        changes.changed_at,
        changes.change_month,
        changes.proration_behavior,
        changes.from_plan_id,
        changes.to_plan_id,
        changes.period_start,
        changes.period_end,
        changes.currency,
        billed.billed_lines,
        billed.billed_credit_lines,
        billed.billed_charge_lines,
        case when billed.min_currency = billed.max_currency then billed.min_currency end
            as billed_currency,
        case when billed.min_currency = billed.max_currency then billed.billed_amount_minor end
            as billed_net_minor,
        expected.change_id is not null as has_expected_row,
        expected.is_within_bounds,
        expected.expected_credit_minor,
        expected.expected_charge_minor,
        expected.expected_net_minor,
        expected.expected_proration_lines,
        {{ tolerance }} * billed.billed_lines as tolerance_minor
    from changes
    inner join billed
        on billed.change_id = changes.change_id
    left join expected
        on expected.change_id = changes.change_id

),

classified as (

    select
        joined.*,
        case
            when from_plan_id is null or to_plan_id is null then 'missing_plan'
            when period_start is null or period_end is null then 'missing_period'
            when not has_expected_row then 'changed_outside_period'
            when not is_within_bounds then 'out_of_bounds'
            when billed_currency is null or billed_currency <> currency then 'currency_mismatch'
            else 'compared'
        end as check_status
    from joined

),

final as (

    select
        change_id,
        account_id,
        changed_at,
        change_month,
        proration_behavior,
        currency,
        billed_currency,
        billed_lines,
        billed_credit_lines,
        billed_charge_lines,
        billed_net_minor,
        expected_credit_minor,
        expected_charge_minor,
        expected_net_minor,
        expected_proration_lines,
        case when check_status = 'compared' then billed_net_minor - expected_net_minor end
            as difference_minor,
        tolerance_minor,
        check_status,
        coalesce(
            check_status = 'compared'
            and abs(billed_net_minor - expected_net_minor) <= tolerance_minor,
            false
        ) as is_accurate
    from classified

)

select * from final
