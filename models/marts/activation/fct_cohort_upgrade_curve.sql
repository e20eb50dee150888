{#- The cohort view by cohort age: for each activation month (the cohort: the accounts
    whose first activation event falls in it) and each day d = 0..90 since activation,
    the share of the cohort with a self-serve upgrade (is_upgrade, channel self_serve)
    made at or after its activation and at most d days after it: a cumulative curve,
    one line per activation month.
    A point is there only when every account of its cohort has been observed for d days
    (the cohort's last activation + d days <= as_of), so the denominator is the whole
    cohort at every point and the curve never falls; the latest cohorts have shorter
    lines. Day 90 is the last point (docs/metrics.md "Cohort upgrade curve"). -#}
{%- set curve_days = 90 -%}
with

{{ import_ctes({'accounts': ref('int_accounts__activation'), 'as_of': ref('int_as_of')}) }}

numbers as (

    {{ dbt.generate_series(curve_days + 1) }}

),

activated as (

    select
        account_id,
        activated_at,
        activation_month,
        first_self_serve_upgrade_after_activation_at
    from accounts
    where is_activated

),

cohorts as (

    select
        activation_month,
        count(*) as cohort_accounts,
        max(activated_at) as last_activated_at
    from activated
    group by activation_month

),

account_days as (

    select
        activated.activation_month,
        numbers.generated_number - 1 as days_since_activation,
        case
            when activated.first_self_serve_upgrade_after_activation_at <= {{ dbt.dateadd(
                    'day', 'numbers.generated_number - 1', 'activated.activated_at'
                ) }}
                then 1
            else 0
        end as is_upgraded
    from activated
    cross join numbers

),

aggregated as (

    select
        activation_month,
        days_since_activation,
        sum(is_upgraded) as upgraded_accounts
    from account_days
    group by activation_month, days_since_activation

),

final as (

    select
        aggregated.activation_month,
        cast(aggregated.days_since_activation as {{ dbt.type_bigint() }})
            as days_since_activation,
        cast(cohorts.cohort_accounts as {{ dbt.type_bigint() }}) as cohort_accounts,
        cast(aggregated.upgraded_accounts as {{ dbt.type_bigint() }}) as upgraded_accounts,
        {{ safe_ratio('aggregated.upgraded_accounts', 'cohorts.cohort_accounts') }}
            as cumulative_self_serve_upgrade_rate
    from aggregated
    inner join cohorts
        on cohorts.activation_month = aggregated.activation_month
    cross join as_of
    where {{ dbt.dateadd('day', 'aggregated.days_since_activation', 'cohorts.last_activated_at') }}
        <= as_of.as_of

)

select * from final
