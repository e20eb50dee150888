{#- Eligibility (metrics.md) by month of checked_at (month null = all months) and
    segment; null when no eligibility_checks file was loaded. -#}
with

{{ section_imports({'checks': ref('fct_eligibility_checks'), 'loaded': ref('int_loaded_tables')}) }}

{{ segmented_aggregate('checks', 'check_month', {
    'checks': 'count(*)',
    'rejected_checks': count_if('is_rejected'),
    'false_positive_checks': count_if('is_false_positive'),
}) }}

final as (

    select
        {{ period_and_segment() }},
        {{ rate(
            'eligibility_rejection_rate', 'aggregated.rejected_checks', 'aggregated.checks',
            when='loaded.has_eligibility_checks'
        ) }},
        {{ rate(
            'false_positive_reject_rate', 'aggregated.false_positive_checks', 'aggregated.rejected_checks',
            when='loaded.has_eligibility_checks'
        ) }}
    {{ from_frame(loaded=true) }}

)

select * from final
