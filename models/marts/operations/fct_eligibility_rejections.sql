{#- Rejected eligibility checks by rejection reason, month of checked_at (null = all
    months) and segment, with the false-positive reject rate of each reason
    (int_metrics__eligibility_by_reason). -#}
{{ pass_through(ref('int_metrics__eligibility_by_reason'), 'rejections') }}
