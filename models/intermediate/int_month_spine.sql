{#- Every UTC month from the earliest dated fact to the as_of month (metrics.md: the
    `metrics` command's months). -#}
with

{{ import_ctes({'as_of': ref('int_as_of')}) }}

first_dates as (

    select min(occurred_at) as first_at from {{ ref('stg_product__events') }}
    union all
    select min(changed_at) as first_at from {{ ref('stg_billing__subscription_changes') }}
    union all
    select min(attempted_at) as first_at from {{ ref('stg_billing__payment_attempts') }}
    union all
    select min(checked_at) as first_at from {{ ref('stg_product__eligibility_checks') }}
    union all
    select min(offered_at) as first_at from {{ ref('stg_product__upsell_offers') }}
    union all
    select min(occurred_at) as first_at from {{ ref('stg_orders__order_status_events') }}

),

bounds as (

    select
        {{ month_of('min(first_dates.first_at)') }} as first_month,
        {{ month_of('max(as_of.as_of)') }} as last_month
    {{ from_as_of('first_dates', 'first_at') }}

),

{# The loader keeps every timestamp within 1970-01-01 .. 2100-01-01 (docs/loader.md) and
    `--var as_of` is held to the same range: at most 1,561 months. More would be cut off,
    so the build stops instead of dropping months silently. -#}
checked_bounds as (

    select *
    from bounds
    where {{ raise_error_if(
        dbt.datediff('bounds.first_month', 'bounds.last_month', 'month') ~ ' >= 1600',
        'int_month_spine: more than 1600 months between the first dated fact and as_of',
    ) }}

),

numbers as (

    {{ dbt.generate_series(1600) }}

),

final as (

    select
        cast(
            {{ dbt.dateadd('month', 'numbers.generated_number - 1', 'bounds.first_month') }} as date
        )
            as month
    from checked_bounds as bounds
    cross join numbers
    where numbers.generated_number - 1
        <= {{ dbt.datediff('bounds.first_month', 'bounds.last_month', 'month') }}

)

select * from final
