{#- Upsell offers and their outcomes by trigger, owner and channel, month of offered_at
    (null = all months) and segment (int_metrics__upsell_by_play). -#}
{{ pass_through(ref('int_metrics__upsell_by_play'), 'plays') }}
