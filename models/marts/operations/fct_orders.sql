{#- One row per post-purchase order (device returns, attestations) with status events up
    to as_of (metrics.md "Post-purchase orders"): first placed, first completed,
    cancelled, current status and age. Monthly grain: month of the first `placed`. -#}
with

{{ import_ctes({
    'order_events': ref('stg_orders__order_status_events'),
    'as_of': ref('int_as_of'),
}) }}

visible as (

    select
        order_events.*,
        row_number() over (
            partition by order_events.order_id
            order by order_events.occurred_at desc, order_events.status desc
        ) as recency_rank
    {{ from_as_of('order_events', 'occurred_at') }}

),

orders as (

    select
        order_id,
        max(account_id) as account_id,
        max(change_id) as change_id,
        min(case when status = 'placed' then occurred_at end) as placed_at,
        min(case when status = 'completed' then occurred_at end) as completed_at,
        min(case when status = 'cancelled' then occurred_at end) as cancelled_at,
        max(case when recency_rank = 1 then status end) as current_status,
        max(case when recency_rank = 1 then occurred_at end) as current_status_at,
        min(occurred_at) as first_event_at
    from visible
    group by order_id

),

final as (

    select
        orders.*,
        {{ month_of('orders.placed_at') }} as placed_month,
        orders.completed_at is not null as is_completed,
        orders.completed_at is null and orders.cancelled_at is null as is_open,
        {{ seconds_between('orders.placed_at', 'orders.completed_at') }} / 86400.0
            as completion_days,
        {{ seconds_between('orders.first_event_at', 'as_of.as_of') }} / 86400.0 as age_days
    from orders
    cross join as_of

)

select * from final
