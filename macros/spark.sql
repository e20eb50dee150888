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

{#- A table model on Spark: the CTEs its config names (``meta: spark_table_ctes``) are
    built as tables first, in order (``<model>__<cte>``, parquet, beside the model), and
    the model's query reads each from its table. Spark analyses and optimises the whole
    plan of every CTE a query holds (read or not), again for each stage it runs:
    int_upgrade_attempts' 25 pointer-doubling levels took 102 s so on the golden set, 29 s
    staged (docs/spark.md). The model's SQL stays one text for both engines, linted as
    it is written; DuckDB and the unit tests run it as one query. -#}
{%- macro spark__create_table_as(temporary, relation, compiled_code, language='sql') -%}
{%- set ctes = (config.get('meta') or {}).get('spark_table_ctes') or [] -%}
{%- set staged = namespace(sql=compiled_code) -%}
{%- if execute and language == 'sql' and not temporary -%}
{%- for name in ctes -%}
{%- set staged.sql = spark_table_cte(relation, staged.sql, name) -%}
{%- endfor -%}
{%- endif -%}
{{ dbt.spark__create_table_as(temporary, relation, staged.sql, language) }}
{%- endmacro -%}

{#- ``sql`` (a ``with`` query) with the CTE ``name`` built into a table and read from it.
    A CTE is found by the layout the style enforces: ``name as (`` at the start of a line
    (a comment may follow), ended by the first line that starts with ``)``. -#}
{% macro spark_table_cte(relation, sql, name) -%}
{%- set re = modules.re -%}
{%- set starts = re.compile('^(\\w+) as \\((?: *--.*)?$', re.M) -%}
{%- set ctes = [] -%}
{%- set names = [] -%}
{%- set ns = namespace(stop=0) -%}
{%- for m in starts.finditer(sql) -%}
{%- set close = re.compile('\\n\\)(?=,|\\n|$)').search(sql, m.end()) -%}
{%- do ctes.append((m.group(1), sql[m.start():close.end()])) -%}
{%- do names.append(m.group(1)) -%}
{%- set ns.stop = close.end() -%}
{%- endfor -%}
{%- if name not in names -%}
{{ exceptions.raise_compiler_error('spark_table_ctes: no CTE ' ~ name ~ ' in ' ~ relation) }}
{%- endif -%}
{%- set main = sql[ns.stop:].lstrip(',') -%}
{%- set table = relation.schema ~ '.' ~ relation.identifier ~ '__' ~ name -%}
{%- do run_query('drop table if exists ' ~ table) -%}
{%- set stage = spark_cte_query(ctes, 'select * from ' ~ name) -%}
{%- do run_query('create table ' ~ table ~ ' using parquet as ' ~ stage) -%}
{%- set replaced = [] -%}
{%- for cte_name, body in ctes -%}
{%- if cte_name == name -%}
{%- do replaced.append((cte_name, name ~ ' as (\n\n    select * from ' ~ table ~ '\n\n)')) -%}
{%- else -%}
{%- do replaced.append((cte_name, body)) -%}
{%- endif -%}
{%- endfor -%}
{{ return(spark_cte_query(replaced, main)) }}
{%- endmacro %}

{#- ``with <the CTEs main reads, directly or through others, in order> main``. -#}
{% macro spark_cte_query(ctes, main) -%}
{%- set re = modules.re -%}
{%- set needed = [] -%}
{%- set todo = [main] -%}
{%- for _ in ctes -%}
{%- for cte_name, body in ctes -%}
{%- if cte_name not in needed and re.search('\\b' ~ cte_name ~ '\\b', todo | join('\n')) -%}
{%- do needed.append(cte_name) -%}
{%- do todo.append(body) -%}
{%- endif -%}
{%- endfor -%}
{%- endfor -%}
{%- set kept = [] -%}
{%- for cte_name, body in ctes if cte_name in needed -%}
{%- do kept.append(body) -%}
{%- endfor -%}
{{ return('with\n\n' ~ (kept | join(',\n\n')) ~ '\n\n' ~ main.strip()) }}
{%- endmacro %}
