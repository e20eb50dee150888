{#- Post-activation self-serve upgrade rate (metrics.md) by activation month (month null
    = all months) and segment. Besides the segments of int_account_segments it has the
    `feature_use` breakdown of the cohort tables (the usage event an account sent most
    before activation), which fct_activation_cohorts shows and the segmented marts
    leave out (it is not an account attribute of "Segments"). -#}
with

{{ section_imports({'accounts': ref('int_accounts__activation')}) }}

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

{{ segmented_aggregate('accounts', 'activation_month', {
    'activated_accounts': 'count(*)',
    'matured_activated_accounts': count_if('is_matured'),
    'converted_matured_accounts': count_if('is_matured and is_converted'),
}, where='is_activated', segments='cohort_segments') }}

final as (

    select
        {{ period_and_segment('cohort_frame') }},
        {{ count_metric('activated_accounts', 'aggregated.activated_accounts') }},
        {{ count_metric('matured_activated_accounts', 'aggregated.matured_activated_accounts') }},
        {{ rate(
            'post_activation_self_serve_rate',
            'aggregated.converted_matured_accounts',
            'aggregated.matured_activated_accounts'
        ) }}
    {{ from_frame(frame='cohort_frame') }}

)

select * from final
