{#- Upgrades and revenue (metrics.md "Upgrades and revenue") by month of changed_at
    (month null = all months) and segment. Money is in major units of the reporting
    currency, summed as decimals (exact_sum: the same on every engine) and rounded half
    up to 6 decimals (far below a cent) so that sums of binary fractions read as the
    decimal amounts they are; net new MRR is the sum of the five rounded
    movements, so they add up exactly. arpu_per_upgrade carries the sum and the number
    of the converted upgrades it is the mean of (__numerator, __denominator).
    MRR at the month's end (mrr_end, from fct_mrr_month_end; arr_end = 12 x mrr_end),
    mrr_start (the previous month's mrr_end, 0 for the first month) and mrr_other
    (mrr_end - mrr_start - net_new_mrr) make the bridge start + movements + other = end;
    they are null for the all-months period (a stock has no value over all months). -#}
{%- set movements = ['new', 'expansion', 'reactivation', 'contraction', 'churn'] -%}
with

{{ section_imports({
    'changes': ref('fct_subscription_changes'),
    'month_end_subscriptions': ref('fct_mrr_month_end'),
}) }}

{%- set measures = {
    'upgrades': count_if('is_upgrade'),
    'self_serve_upgrades': count_if("is_upgrade and channel = 'self_serve'"),
    'sales_assisted_upgrades': count_if("is_upgrade and channel = 'sales_assisted'"),
    'automatic_upgrades': count_if("is_upgrade and channel = 'automatic'"),
    'converted_upgrade_mrr': exact_sum('case when is_upgrade then mrr_delta_reporting end'),
    'converted_upgrades': 'count(case when is_upgrade then mrr_delta_reporting end)',
} %}
{%- for movement in movements %}
{%- do measures.update({'mrr_' ~ movement: 'coalesce(' ~ exact_sum(
    'case when movement = ' ~ sql_string(movement) ~ ' then mrr_delta_reporting end'
) ~ ', 0)'}) %}
{%- endfor %}
{%- do measures.update({
    'processing_latency_seconds_p50': percentile_cont('processing_latency_seconds', 0.5),
    'processing_latency_seconds_p95': percentile_cont('processing_latency_seconds', 0.95),
}) %}

{{ segmented_aggregate('changes', 'change_month', measures) }}

month_end as (

    select
        month_end_subscriptions.month,
        account_segments.segment_dimension,
        account_segments.segment_value,
        {{ exact_sum('month_end_subscriptions.mrr_end_reporting') }} as mrr_end
    from month_end_subscriptions
    inner join account_segments
        on account_segments.account_id = month_end_subscriptions.account_id
    group by
        month_end_subscriptions.month,
        account_segments.segment_dimension,
        account_segments.segment_value

),

-- Every month of every segment (0 when nothing is in force) and the month before's.
month_end_framed as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
        {{ round_half_up('coalesce(month_end.mrr_end, 0)', 6) }} as mrr_end
    from frame
    left join month_end
        on {{ same_period_and_segment('month_end', 'frame') }}
    where frame.month is not null

),

month_end_bridge as (

    select
        month,
        segment_dimension,
        segment_value,
        mrr_end,
        coalesce(
            lag(mrr_end) over (
                partition by segment_dimension, segment_value order by month
            ),
            0
        ) as mrr_start
    from month_end_framed

),

movements as (

    select
        {{ period_and_segment() }},
        {{ count_metric('upgrades', 'aggregated.upgrades') }},
        {{ count_metric('self_serve_upgrades', 'aggregated.self_serve_upgrades') }},
        {{ count_metric('sales_assisted_upgrades', 'aggregated.sales_assisted_upgrades') }},
        {{ count_metric('automatic_upgrades', 'aggregated.automatic_upgrades') }},
        {{ rate('self_serve_share', 'aggregated.self_serve_upgrades', 'aggregated.upgrades') }},
        {{ round_half_up(
            'aggregated.converted_upgrade_mrr / nullif(aggregated.converted_upgrades, 0)', 6
        ) }} as arpu_per_upgrade,
        cast(coalesce(aggregated.converted_upgrade_mrr, 0) as {{ type_double() }})
            as arpu_per_upgrade__numerator,
        cast(coalesce(aggregated.converted_upgrades, 0) as {{ dbt.type_bigint() }})
            as arpu_per_upgrade__denominator,
        {%- for movement in movements %}
        {{ round_half_up('coalesce(aggregated.mrr_' ~ movement ~ ', 0)', 6) }}
            as mrr_{{ movement }},
        {%- endfor %}
        {%- set rounded = [] %}
        {%- for movement in movements %}
        {%- do rounded.append(round_half_up('coalesce(aggregated.mrr_' ~ movement ~ ', 0)', 6)) %}
        {%- endfor %}
        {{ round_half_up(rounded | join(' + '), 6) }} as net_new_mrr,
        cast(aggregated.processing_latency_seconds_p50 as {{ type_double() }})
            as processing_latency_seconds_p50,
        cast(aggregated.processing_latency_seconds_p95 as {{ type_double() }})
            as processing_latency_seconds_p95
    {{ from_frame() }}

),

final as (

    select
        movements.*,
        month_end_bridge.mrr_end,
        {{ round_half_up('12 * month_end_bridge.mrr_end', 6) }} as arr_end,
        month_end_bridge.mrr_start,
        {{ round_half_up(
            'month_end_bridge.mrr_end - month_end_bridge.mrr_start - movements.net_new_mrr', 6
        ) }} as mrr_other
    from movements
    left join month_end_bridge
        on {{ same_period_and_segment('month_end_bridge', 'movements') }}

)

select * from final
