{#- The grain of every metric model: each month of int_month_spine and the all-months
    period (month null), times each segment among the accounts (the `all` segment
    included). Section models select from this frame so that every month of every
    segment is present, with 0 or null where nothing happened. -#}
with

{{ import_ctes({
    'months': ref('int_month_spine'),
    'account_segments': ref('int_account_segments'),
}) }}

periods as (

    select month from months

    union all

    select cast(null as date) as month

),

segments as (

    {#- `all` exists even without accounts, so the unsegmented months are always there -#}
    select
        cast('all' as {{ dbt.type_string() }}) as segment_dimension,
        cast('all' as {{ dbt.type_string() }}) as segment_value

    union all

    select distinct
        segment_dimension,
        segment_value
    from account_segments
    where segment_dimension <> 'all'

),

final as (

    select
        periods.month,
        segments.segment_dimension,
        segments.segment_value
    from periods
    cross join segments

)

select * from final
