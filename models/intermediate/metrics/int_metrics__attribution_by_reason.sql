{#- `attribution_mismatches` (metrics.md): changes per mismatch reason by month of
    changed_at (month null = all months) and segment; every reason in every period
    (0 when none), no rows when no crm_opportunities file was loaded. -#}
{%- set reasons = ['missing_record', 'wrong_direction', 'wrong_movement', 'wrong_amount'] -%}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

attribution as (

    select * from {{ ref('fct_revenue_attribution') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

mismatch_reasons as (

    {%- for reason in reasons %}
    select
        cast({{ sql_string(reason) }} as {{ dbt.type_string() }}) as mismatch_reason,
        {{ loop.index }} as reason_order
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

segmented as (

    select
        attribution.change_month,
        attribution.mismatch_reason,
        account_segments.segment_dimension,
        account_segments.segment_value
    from attribution
    inner join account_segments
        on account_segments.account_id = attribution.account_id
    where attribution.mismatch_reason is not null

),

aggregated as (

    select
        change_month as month,
        segment_dimension,
        segment_value,
        mismatch_reason,
        count(*) as changes
    from segmented
    {{ group_by_period_and_segment('change_month', ['mismatch_reason']) }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        mismatch_reasons.mismatch_reason,
        mismatch_reasons.reason_order,
        cast(coalesce(aggregated.changes, 0) as {{ dbt.type_bigint() }}) as attribution_mismatches
    from frame
    cross join mismatch_reasons
    cross join loaded
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}
            and aggregated.mismatch_reason = mismatch_reasons.mismatch_reason
    where loaded.has_crm_opportunities

)

select * from final
