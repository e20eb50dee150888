{#- Post-activation self-serve upgrade rate (metrics.md) by activation month (month null
    = all months) and segment. Besides the segments of int_account_segments it has the
    `feature_use` breakdown of the cohort tables (the usage event an account sent most
    before activation), which fct_activation_cohorts shows and the segmented marts
    leave out (it is not an account attribute of "Segments"). -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

accounts as (

    select * from {{ ref('int_accounts__activation') }}

),

cohort_segments as (

    select
        account_id,
        segment_dimension,
        segment_value
    from account_segments

    union all

    select
        account_id,
        cast('feature_use' as {{ dbt.type_string() }}) as segment_dimension,
        feature_use as segment_value
    from accounts

),

cohort_frame as (

    select
        month,
        segment_dimension,
        segment_value
    from frame

    union all

    select
        periods.month,
        cast('feature_use' as {{ dbt.type_string() }}) as segment_dimension,
        feature_uses.feature_use as segment_value
    from (select distinct month from frame) as periods
    cross join (select distinct feature_use from accounts) as feature_uses

),

segmented as (

    select
        accounts.activation_month,
        accounts.is_matured,
        accounts.is_converted,
        cohort_segments.segment_dimension,
        cohort_segments.segment_value
    from accounts
    inner join cohort_segments
        on cohort_segments.account_id = accounts.account_id
    where accounts.is_activated

),

aggregated as (

    select
        activation_month as month,
        segment_dimension,
        segment_value,
        count(*) as activated_accounts,
        sum(case when is_matured then 1 else 0 end) as matured_activated_accounts,
        sum(case when is_matured and is_converted then 1 else 0 end) as converted_matured_accounts
    from segmented
    {{ group_by_period_and_segment('activation_month') }}

),

final as (

    select
        cohort_frame.month,
        cohort_frame.segment_dimension,
        cohort_frame.segment_value,
        {{ count_metric('activated_accounts', 'aggregated.activated_accounts') }},
        {{ count_metric('matured_activated_accounts', 'aggregated.matured_activated_accounts') }},
        {{ rate(
            'post_activation_self_serve_rate',
            'aggregated.converted_matured_accounts',
            'aggregated.matured_activated_accounts'
        ) }}
    from cohort_frame
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'cohort_frame') }}

)

select * from final
