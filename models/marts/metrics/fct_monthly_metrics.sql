{#- One row per month (earliest fact to the as_of month) with every scalar metric id of
    the metric catalog (seeds/metric_catalog.csv, in catalog order) as a column: the
    all-accounts segment of int_monthly_metrics. Metrics keyed by step, method or reason
    are in fct_monthly_metric_breakdowns; every segment, all months and the counts
    behind each rate are in fct_monthly_metrics_by_segment. Rates are fractions, null
    when the denominator is 0; money is in major units of the reporting currency. A
    section whose optional source table was not supplied is null (counts too). -#}
-- depends_on: {{ ref('metric_catalog') }}
with

{{ import_ctes({'metrics': ref('int_monthly_metrics')}) }}

final as (

    select
        month
    {%- for metric_id in catalog_metric_ids() %},
        {{ metric_id }}
        {%- endfor %}
    from metrics
    where segment_dimension = 'all'
        and month is not null

)

select * from final
