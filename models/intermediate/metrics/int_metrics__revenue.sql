{#- Upgrades and revenue (metrics.md "Upgrades and revenue") by month of changed_at
    (month null = all months) and segment. Money is in major units of the reporting
    currency, summed as decimals (exact_sum: the same on every engine) and rounded half
    up to 6 decimals (far below a cent) so that sums of binary fractions read as the
    decimal amounts they are; net new MRR is the sum of the five rounded
    movements, so they add up exactly. arpu_per_upgrade carries the sum and the number
    of the converted upgrades it is the mean of (__numerator, __denominator). -#}
{%- set movements = ['new', 'expansion', 'reactivation', 'contraction', 'churn'] -%}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

changes as (

    select * from {{ ref('fct_subscription_changes') }}

),

segmented as (

    select
        changes.change_month,
        changes.is_upgrade,
        changes.channel,
        changes.movement,
        changes.mrr_delta_reporting,
        changes.processing_latency_seconds,
        account_segments.segment_dimension,
        account_segments.segment_value
    from changes
    inner join account_segments
        on account_segments.account_id = changes.account_id

),

aggregated as (

    select
        change_month as month,
        segment_dimension,
        segment_value,
        sum(case when is_upgrade then 1 else 0 end) as upgrades,
        sum(case when is_upgrade and channel = 'self_serve' then 1 else 0 end)
            as self_serve_upgrades,
        sum(case when is_upgrade and channel = 'sales_assisted' then 1 else 0 end)
            as sales_assisted_upgrades,
        sum(case when is_upgrade and channel = 'automatic' then 1 else 0 end) as automatic_upgrades,
        {{ exact_sum('case when is_upgrade then mrr_delta_reporting end') }}
            as converted_upgrade_mrr,
        count(case when is_upgrade then mrr_delta_reporting end) as converted_upgrades,
        {%- for movement in movements %}
        coalesce(
            {{ exact_sum(
                'case when movement = ' ~ sql_string(movement) ~ ' then mrr_delta_reporting end'
            ) }},
            0
        )
            as mrr_{{ movement }},
        {%- endfor %}
        {{ percentile_cont('processing_latency_seconds', 0.5) }} as processing_latency_seconds_p50,
        {{ percentile_cont('processing_latency_seconds', 0.95) }} as processing_latency_seconds_p95
    from segmented
    {{ group_by_period_and_segment('change_month') }}

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
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
    from frame
    left join aggregated
        on {{ same_period_and_segment('aggregated', 'frame') }}

)

select * from final
