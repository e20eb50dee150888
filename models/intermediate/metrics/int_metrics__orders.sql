{#- Post-purchase orders (metrics.md) by month of the order's first `placed` (month null
    = all months) and segment; null when no order_status_events file was loaded.
    orders_open is a count at as_of: reported on the as_of month and on all months,
    null in other months. -#}
with

{{ section_imports({
    'orders': ref('fct_orders'), 'loaded': ref('int_loaded_tables'), 'as_of': ref('int_as_of')
}) }}

{{ segmented_aggregate('orders', 'placed_month', {
    'orders_placed': 'count(*)',
    'orders_completed': count_if('is_completed'),
    'order_completion_days_p50': percentile_cont('completion_days', 0.5),
}, where='placed_at is not null', name='placed') }}

open_orders as (

    {#- every order, placed or not: one without a `placed` event can be open -#}
    select
        segment_dimension,
        segment_value,
        {{ count_if('is_open') }} as orders_open
    from segmented
    group by segment_dimension, segment_value

),

final as (

    select
        {{ period_and_segment() }},
        {{ count_metric(
            'orders_placed',
            'placed.orders_placed',
            when='loaded.has_order_status_events'
        ) }},
        {{ count_metric(
            'orders_completed',
            'placed.orders_completed',
            when='loaded.has_order_status_events'
        ) }},
        case when loaded.has_order_status_events then
                cast(placed.order_completion_days_p50 as {{ type_double() }})
        end as order_completion_days_p50,
        {{ count_metric(
            'orders_open', 'open_orders.orders_open',
            when='loaded.has_order_status_events and (frame.month is null or frame.month = '
                ~ month_of('as_of.as_of') ~ ')'
        ) }}
    {{ from_frame('placed', loaded=true) }}
    cross join as_of
    left join open_orders
        on open_orders.segment_dimension = frame.segment_dimension
            and {{ null_safe_equals('open_orders.segment_value', 'frame.segment_value') }}

)

select * from final
