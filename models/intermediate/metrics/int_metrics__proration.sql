{#- Proration accuracy (metrics.md) by month of changed_at (month null = all months)
    and segment; null when no invoice_lines file was loaded. -#}
with

{{ section_imports({
    'proration_checks': ref('fct_proration_checks'),
    'loaded': ref('int_loaded_tables'),
}) }}

{{ segmented_aggregate('proration_checks', 'change_month', {
    'proration_checked_changes': 'count(*)',
    'accurate_proration_changes': count_if('is_accurate'),
}) }}

final as (

    select
        {{ period_and_segment() }},
        {{ count_metric(
            'proration_checked_changes', 'aggregated.proration_checked_changes',
            when='loaded.has_invoice_lines'
        ) }},
        {{ rate(
            'proration_accuracy_rate', 'aggregated.accurate_proration_changes',
            'aggregated.proration_checked_changes', when='loaded.has_invoice_lines'
        ) }}
    {{ from_frame(loaded=true) }}

)

select * from final
