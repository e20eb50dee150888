{#- One row: which optional source tables were supplied. A metric whose source table
    is absent is null (metrics.md), not 0. -#}
with

{{ import_ctes({'load_reports': ref('stg_loader__load_reports')}) }}

final as (

    select
        {%- for table in ['invoice_lines', 'payment_attempts', 'crm_opportunities', 'sync_events',
                          'eligibility_checks', 'upsell_offers', 'order_status_events', 'fx_rates'] %}
    max(case when table_name = {{ sql_string(table) }} and is_loaded then 1 else 0 end) = 1
        as has_{{ table }}{% if not loop.last %},{% endif %}
    {%- endfor %}
    from load_reports

)

select * from final
