{#- One row per (contract table, landed source table) of a build from sources.yml
    (sources.md "What the build reports"): rows read, mapped, skipped by rule and
    quarantined by reason, and a status: count_mismatch (read <> mapped + skipped +
    quarantined, never expected), quarantined, skipped or ok. Empty without sources.yml. -#}
with

{{ import_ctes({'source_reports': ref('stg_loader__source_reports')}) }}

final as (

    select
        table_name,
        source_table,
        source_shape,
        rows_read,
        rows_mapped,
        rows_skipped,
        rows_quarantined,
        skipped_by_rule,
        quarantined_by_reason,
        case
            when rows_read <> rows_mapped + rows_skipped + rows_quarantined then 'count_mismatch'
            when rows_quarantined > 0 then 'quarantined'
            when rows_skipped > 0 then 'skipped'
            else 'ok'
        end as source_status
    from source_reports

)

select * from final
