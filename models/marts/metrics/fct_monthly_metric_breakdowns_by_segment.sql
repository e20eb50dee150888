{#- The keyed metrics of fct_monthly_metric_breakdowns by month (month null = all months)
    and segment, with the counts behind each rate (metric_numerator, metric_denominator;
    null for counts). -#}
{{ pass_through(ref('int_monthly_metric_breakdowns'), 'breakdowns') }}
