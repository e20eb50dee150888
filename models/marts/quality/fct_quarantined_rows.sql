{#- One row per input row the loader quarantined: table, file, data row number (1 = the
    first row after the header), reason code and column, and the row exactly as it came
    (a JSON object of the raw text values), to fix and reload. -#}
with

{{ import_ctes({'quarantined_rows': ref('stg_loader__quarantined_rows')}) }}

final as (

    select
        table_name,
        source_file,
        source_row_number,
        reason_code,
        reason_column,
        raw_row
    from quarantined_rows

)

select * from final
