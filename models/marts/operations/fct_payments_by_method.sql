{#- Payment attempts and success rate by payment method, month of attempted_at (null =
    all months) and segment (int_metrics__payments_by_method). -#}
{{ pass_through(ref('int_metrics__payments_by_method'), 'payments_by_method') }}
