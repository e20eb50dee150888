{#- Spark versions of dbt's own macros (dispatch order in dbt_project.yml puts this
    project first for the `dbt` namespace). Models call dbt.dateadd and seeds load as
    usual; only the Spark implementation differs. -#}

{#- dbt-spark's dateadd goes through to_unix_timestamp and drops the sub-seconds of a
    timestamp; timestampadd keeps them (and takes dates, weeks and quarters too). -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}

{#- dbt-spark's seed insert binds values into the SQL without escaping, so a value with
    an apostrophe (the metric catalog has some) breaks it. The same insert, with every
    value as an escaped literal, into one file: the rows keep the seed's order (the
    metric catalog's order is the order of the metrics everywhere). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
{%- set batch_size = get_batch_size() -%}
{%- set column_override = model['config'].get('column_types', {}) -%}
{%- set statements = [] -%}
{%- for chunk in agate_table.rows | batch(batch_size) -%}
{%- set sql -%}
insert into {{ this.render() }} select /*+ COALESCE(1) */ * from values
        {% for row in chunk -%}
({%- for col_name in agate_table.column_names -%}
{%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
{%- set type = column_override.get(col_name, inferred_type) -%}
cast({{ upgrade_warehouse.spark_literal(row[loop.index0]) }} as {{ type }})
{%- if not loop.last %}, {% endif -%}
{%- endfor -%})
{%- if not loop.last %},{% endif %}
        {% endfor -%}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- if loop.index0 == 0 -%}{%- do statements.append(sql) -%}{%- endif -%}
{%- endfor -%}
{{ return(statements[0]) }}
{% endmacro %}

{#- A Spark SQL string literal (backslash escapes), or null. -#}
{% macro spark_literal(value) -%}
{%- if value is none -%}
null
{%- else -%}
'{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endif -%}
{%- endmacro %}
