{#- The funnel by step, month of the attempt start (null = all months) and segment
    (int_metrics__funnel_steps): attempts reaching, stopping, abandoned and escalated at
    each step, abandonment_by_step and the step conversion rates. -#}
{{ pass_through(ref('int_metrics__funnel_steps'), 'funnel_steps') }}
