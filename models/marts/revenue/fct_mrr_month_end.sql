{#- One row per subscription and month in which it carries MRR > 0 at the month's end
    (metrics.md "Upgrades and revenue": `mrr_end`). The state of a subscription at the
    end of month M is its latest change (by effective_at, then change_id) with
    effective_at before the next month's first instant; for the as_of month, at or
    before as_of (a cancellation made in one month and effective in a later one counts
    where it takes effect). Changes after as_of are ignored (fct_subscription_changes).
    The MRR of its (to_plan, to_quantity), exact in the plan's currency, is converted at
    the latest fx rate dated on or before the month's last day (the as_of month: as_of's
    date); the reporting currency converts at 1; without such a rate mrr_end_reporting
    is null (left out of the totals, named by the `fx_missing` warning). -#}
with

{{ import_ctes({
    'changes': ref('fct_subscription_changes'),
    'months': ref('int_month_spine'),
    'as_of': ref('int_as_of'),
    'fx_rates': ref('stg_billing__fx_rates'),
    'currencies': ref('currencies'),
}) }}

-- Changes in effect by as_of, each with the effective_at of the next one of its
-- subscription (by effective_at, then change_id): it is in force until then.
in_effect as (

    select
        changes.change_id,
        changes.subscription_id,
        changes.account_id,
        changes.effective_at,
        changes.to_plan_id,
        changes.currency,
        changes.mrr_after,
        lead(changes.effective_at) over (
            partition by changes.subscription_id
            order by changes.effective_at, changes.change_id
        ) as next_effective_at
    {{ from_as_of('changes', 'effective_at') }}

),

-- A change is the subscription's state at the end of every month from the month it
-- takes effect up to, not including, the month its successor takes effect.
month_states as (

    select
        months.month,
        in_effect.change_id,
        in_effect.subscription_id,
        in_effect.account_id,
        in_effect.currency,
        in_effect.mrr_after
    from in_effect
    inner join months
        on months.month >= {{ month_of('in_effect.effective_at') }}
            and (
                in_effect.next_effective_at is null
                or months.month < {{ month_of('in_effect.next_effective_at') }}
            )
    where in_effect.to_plan_id is not null
        and in_effect.mrr_after > 0

),

-- The date whose rate converts a month's MRR: the month's last day, or as_of's date.
rate_dates as (

    select
        months.month,
        case
            when {{ dbt.dateadd('month', 1, 'months.month') }} > as_of.as_of
                then cast(as_of.as_of as date)
            else cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'months.month')) }} as date)
        end as rate_date
    from months
    cross join as_of

),

candidate_rates as (

    select
        rate_dates.month,
        fx_rates.currency,
        fx_rates.rate_to_reporting,
        row_number() over (
            partition by rate_dates.month, fx_rates.currency order by fx_rates.rate_date desc
        ) as rate_rank
    from rate_dates
    inner join fx_rates
        on fx_rates.rate_date <= rate_dates.rate_date

),

month_rates as (

    select
        month,
        currency,
        rate_to_reporting
    from candidate_rates
    where rate_rank = 1

),

final as (

    select
        month_states.month,
        month_states.subscription_id,
        month_states.account_id,
        month_states.change_id,
        month_states.currency,
        month_states.mrr_after as mrr_end,
        {{ reporting_rate('month_states.currency', 'month_rates.rate_to_reporting') }}
            as rate_to_reporting,
        {{ to_reporting_currency(
            'month_states.mrr_after', 'month_states.currency', 'month_rates.rate_to_reporting',
            'currencies.minor_unit_exponent'
        ) }} as mrr_end_reporting
    from month_states
    left join month_rates
        on month_rates.month = month_states.month
            and month_rates.currency = month_states.currency
    left join currencies
        on currencies.currency = month_states.currency

)

select * from final
