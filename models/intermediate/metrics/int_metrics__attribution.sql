{#- Revenue attribution accuracy (metrics.md) by month of changed_at (month null = all
    months) and segment; null when no crm_opportunities file was loaded. -#}
with

{{ section_imports({
    'attribution': ref('fct_revenue_attribution'), 'loaded': ref('int_loaded_tables')
}) }}

{{ segmented_aggregate('attribution', 'change_month', {
    'attributed_changes': 'count(*)', 'accurate_changes': count_if('is_accurate')
}) }}

final as (

    select
        {{ period_and_segment() }},
        {{ count_metric(
            'attributed_changes',
            'aggregated.attributed_changes',
            when='loaded.has_crm_opportunities'
        ) }},
        {{ rate(
            'attribution_accuracy', 'aggregated.accurate_changes', 'aggregated.attributed_changes',
            when='loaded.has_crm_opportunities'
        ) }}
    {{ from_frame(loaded=true) }}

)

select * from final
