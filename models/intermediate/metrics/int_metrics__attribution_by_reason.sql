{#- `attribution_mismatches` (metrics.md): changes per mismatch reason by month of
    changed_at (month null = all months) and segment; every reason in every period
    (0 when none), no rows when no crm_opportunities file was loaded. -#}
{%- set reasons = ['missing_record', 'wrong_direction', 'wrong_movement', 'wrong_amount'] -%}
with

{{ section_imports({
    'attribution': ref('fct_revenue_attribution'), 'loaded': ref('int_loaded_tables')
}) }}

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

{{ segmented_aggregate(
    'attribution', 'change_month', {'changes': 'count(*)'},
    keys=['mismatch_reason'], where='mismatch_reason is not null'
) }}

final as (

    select
        {{ period_and_segment() }},
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
