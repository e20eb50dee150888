{#- One row per contract table: what the loader read, accepted and quarantined, the
    accepted share of the rows read and a status: not_loaded (an optional table without
    a file), count_mismatch (read <> accepted + quarantined, never expected),
    quarantined (some rows quarantined) or ok. -#}
with

{{ import_ctes({'load_reports': ref('stg_loader__load_reports')}) }}

final as (

    select
        table_name,
        is_loaded,
        source_file,
        rows_read,
        rows_accepted,
        rows_quarantined,
        {{ safe_ratio('rows_accepted', 'rows_read') }} as accepted_share,
        case
            when not is_loaded then 'not_loaded'
            when rows_read <> rows_accepted + rows_quarantined then 'count_mismatch'
            when rows_quarantined > 0 then 'quarantined'
            else 'ok'
        end as load_status
    from load_reports

)

select * from final
