{#- Post-purchase orders (metrics.md) by month of the order's first `placed` (month null
    = all months) and segment; null when no order_status_events file was loaded.
    orders_open is a count at as_of: reported on the as_of month and on all months,
    null in other months. -#}
with

frame as (

    select * from {{ ref('int_segment_months') }}

),

account_segments as (

    select * from {{ ref('int_account_segments') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

loaded as (

    select * from {{ ref('int_loaded_tables') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

segmented as (

    select
        orders.placed_month,
        orders.placed_at,
        orders.is_completed,
        orders.is_open,
        orders.completion_days,
        account_segments.segment_dimension,
        account_segments.segment_value
    from orders
    inner join account_segments
        on account_segments.account_id = orders.account_id

),

placed as (

    select
        placed_month as month,
        segment_dimension,
        segment_value,
        count(*) as orders_placed,
        sum(case when is_completed then 1 else 0 end) as orders_completed,
        {{ percentile_cont('completion_days', 0.5) }} as order_completion_days_p50
    from segmented
    where placed_at is not null
    {{ group_by_period_and_segment('placed_month') }}

),

open_orders as (

    {#- every order, placed or not: one without a `placed` event can be open -#}
    select
        segment_dimension,
        segment_value,
        sum(case when is_open then 1 else 0 end) as orders_open
    from segmented
    group by segment_dimension, segment_value

),

final as (

    select
        frame.month,
        frame.segment_dimension,
        frame.segment_value,
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
    from frame
    cross join loaded
    cross join as_of
    left join placed
        on {{ same_period_and_segment('placed', 'frame') }}
    left join open_orders
        on open_orders.segment_dimension = frame.segment_dimension
            and {{ null_safe_equals('open_orders.segment_value', 'frame.segment_value') }}

)

select * from final
