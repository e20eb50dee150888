{#- Rejected eligibility checks by rejection reason, month of checked_at (month null =
    all months) and segment: rejected, overridden by hand (false positives) and the
    false-positive reject rate of the reason. One row per reason with rejections. -#}
with

{{ section_imports({'checks': ref('fct_eligibility_checks')}, frame=false) }}

{{ segmented_aggregate('checks', 'check_month', {
    'rejected_checks': 'count(*)',
    'false_positive_checks': count_if('is_false_positive'),
}, keys=['rejection_reason'], where='is_rejected') }}

final as (

    select
        {{ period_and_segment('aggregated') }},
        rejection_reason,
        {{ bigint_columns(['rejected_checks', 'false_positive_checks']) }},
        {{ rate('false_positive_reject_rate', 'false_positive_checks', 'rejected_checks') }}
    from aggregated

)

select * from final
