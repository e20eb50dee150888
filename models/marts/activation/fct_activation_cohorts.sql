{#- One row per activation month, breakdown dimension and value: the post-activation
    self-serve upgrade rate by persona, acquisition_source, segment, country and
    feature use (the usage event sent most before activation); dimension `all` is the
    whole cohort. Missing attribute values are grouped as '(none)'. -#}
{%- set dimensions = ['persona', 'acquisition_source', 'segment', 'country', 'feature_use'] -%}
with

accounts as (

    select * from {{ ref('dim_accounts') }}

),

activated as (

    select *
    from accounts
    where is_activated

),

by_dimension as (

    select
        activation_month,
        'all' as dimension,
        'all' as dimension_value,
        is_matured,
        is_converted
    from activated
    {%- for dimension in dimensions %}

    union all

    select
        activation_month,
        '{{ dimension }}' as dimension,
        coalesce({{ dimension }}, '(none)') as dimension_value,
        is_matured,
        is_converted
    from activated
    {%- endfor %}

),

final as (

    select
        activation_month,
        dimension,
        dimension_value,
        count(*) as activated_accounts,
        sum(case when is_matured then 1 else 0 end) as matured_activated_accounts,
        sum(case when is_matured and is_converted then 1 else 0 end) as converted_matured_accounts,
        {{ safe_ratio(
            'sum(case when is_matured and is_converted then 1 else 0 end)',
            'sum(case when is_matured then 1 else 0 end)'
        ) }} as post_activation_self_serve_rate
    from by_dimension
    group by activation_month, dimension, dimension_value

)

select * from final
