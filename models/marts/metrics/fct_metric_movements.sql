{#- Grain: one row per month (earliest fact to the as_of month) x count-ratio metric x
    segment (segment_dimension `all` / `all` for every account, then each value of each
    account attribute; segment_value null = accounts without a value).
    Spec: metrics.md "What moved" (month over month, for the monthly review).

    The count-ratio metrics of "What moved", each with its rate (`value`), its numerator
    and its denominator (`n`) in the month and in the month before. Nothing is defined
    twice: the three columns come from fct_monthly_metrics_by_segment, where the section
    models' `rate` macro made them (<metric_id>, <metric_id>__numerator,
    <metric_id>__denominator); a change of a rate's population there flows through here.
    The comparison (z, p-value) and the mover rule are in Python (src/upgrade_warehouse/
    stats.py; SQL has no normal CDF): `upgrade-warehouse movers` and the Monthly review.
    The previous month is the row before in month order: the frame has every month of
    every segment (int_segment_months), so it is always the calendar month before; the
    first month has none (null). -#}
{%- set count_ratio_metrics = [
    'upgrade_conversion_rate', 'self_serve_completion_rate', 'escalation_rate',
    'self_serve_share', 'post_activation_self_serve_rate', 'payment_success_rate',
    'sync_failure_rate', 'sync_unresolved_rate', 'sync_manual_override_rate',
    'attribution_accuracy', 'eligibility_rejection_rate', 'false_positive_reject_rate',
    'upsell_acceptance_rate', 'upsell_deferral_rate', 'proration_accuracy_rate',
] -%}
with

{{ import_ctes({'metrics': ref('fct_monthly_metrics_by_segment')}) }}

unpivoted as (
    {%- for metric_id in count_ratio_metrics %}

    select
        month,
        segment_dimension,
        segment_value,
        cast({{ sql_string(metric_id) }} as {{ dbt.type_string() }}) as metric_id,
        {{ loop.index }} as metric_order,
        cast({{ metric_id }} as {{ type_double() }}) as value,
        {{ metric_id }}__numerator as numerator,
        {{ metric_id }}__denominator as n
    from metrics
    where month is not null
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select
        month,
        lag(month) over (
            partition by metric_id, segment_dimension, segment_value order by month
        ) as previous_month,
        metric_id,
        metric_order,
        segment_dimension,
        segment_value,
        value,
        numerator,
        n,
        lag(value) over (
            partition by metric_id, segment_dimension, segment_value order by month
        ) as previous_value,
        lag(numerator) over (
            partition by metric_id, segment_dimension, segment_value order by month
        ) as previous_numerator,
        lag(n) over (
            partition by metric_id, segment_dimension, segment_value order by month
        ) as previous_n
    from unpivoted

)

select * from final
