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
    staged (docs/spark.md). ``meta: spark_empty_if_empty`` maps a staged CTE to an
    earlier staged one whose columns it has and without whose rows it has none: when
    that one's table is empty, the CTE's table is made empty without running its plan
    (the 20 levels of int_upgrade_attempts' long tier cost 7 s of planning for no rows).
    The model's SQL stays one text for both engines, linted as it is written; DuckDB and
    the unit tests run it as one query. -#}
{%- macro spark__create_table_as(temporary, relation, compiled_code, language='sql') -%}
{%- set meta = config.get('meta') or {} -%}
{%- set staged = meta.get('spark_table_ctes') or [] -%}
{%- set empty_if_empty = meta.get('spark_empty_if_empty') or {} -%}
{%- if execute and language == 'sql' and not temporary and staged -%}
{%- set sql = spark_table_ctes(relation, compiled_code, staged, empty_if_empty) -%}
{{ dbt.spark__create_table_as(temporary, relation, sql, language) }}
{%- else -%}
{{ dbt.spark__create_table_as(temporary, relation, compiled_code, language) }}
{%- endif -%}
{%- endmacro -%}

{#- ``sql`` (a ``with`` query) with each CTE of ``staged`` built into a table, in order,
    and read from it. The CTEs are found once, by the layout the style enforces: ``name as
    (`` at the start of a line (a comment may follow), ended by the first line that
    starts with ``)``; so are the CTEs each one reads (a CTE reads only earlier ones).
    ``empty_if_empty``: see spark__create_table_as. -#}
{% macro spark_table_ctes(relation, sql, staged, empty_if_empty={}) -%}
{%- set re = modules.re -%}
{%- set starts = re.compile('^(\\w+) as \\((?: *--.*)?$', re.M) -%}
{%- set ends = re.compile('\\n\\)(?=,|\\n|$)') -%}
{%- set names = [] -%}
{%- set bodies = {} -%}
{%- set ns = namespace(stop=0) -%}
{%- for m in starts.finditer(sql) -%}
{%- set close = ends.search(sql, m.end()) -%}
{%- do names.append(m.group(1)) -%}
{%- do bodies.update({m.group(1): sql[m.start():close.end()]}) -%}
{%- set ns.stop = close.end() -%}
{%- endfor -%}
{%- set main = sql[ns.stop:].lstrip(',') -%}
{%- set refs = re.compile('\\b(' ~ (names | join('|')) ~ ')\\b') -%}
{%- set reads = {} -%}
{%- set tables = {} -%}
{%- for name in names -%}
{%- do reads.update({name: refs.findall(bodies[name][name | length:]) | unique | list}) -%}
{%- endfor -%}
{%- for name in staged -%}
{%- if name not in names -%}
{{ exceptions.raise_compiler_error('spark_table_ctes: no CTE ' ~ name ~ ' in ' ~ relation) }}
{%- endif -%}
{%- set table = relation.schema ~ '.' ~ relation.identifier ~ '__' ~ name -%}
{%- set source = empty_if_empty.get(name) -%}
{%- if source and source not in tables -%}
{{ exceptions.raise_compiler_error('spark_empty_if_empty: ' ~ source ~ ' is not staged before ' ~ name ~ ' in ' ~ relation) }}
{%- endif -%}
{%- do run_query('drop table if exists ' ~ table) -%}
{%- if source and run_query('select 1 from ' ~ tables[source] ~ ' limit 1').rows | length == 0 -%}
{%- set stage = 'select * from ' ~ tables[source] ~ ' where false' -%}
{%- else -%}
{%- set stage = spark_cte_query(names, bodies, reads, [name], 'select * from ' ~ name) -%}
{%- endif -%}
{%- do run_query('create table ' ~ table ~ ' using parquet as ' ~ stage) -%}
{%- do tables.update({name: table}) -%}
{%- do bodies.update({name: name ~ ' as (\n\n    select * from ' ~ table ~ '\n\n)'}) -%}
{%- do reads.update({name: []}) -%}
{%- endfor -%}
{{ return(spark_cte_query(names, bodies, reads, refs.findall(main) | unique | list, main)) }}
{%- endmacro %}

{#- ``with <the CTEs main reads, directly or through others, in order> main``. One pass
    from the last CTE to the first: a CTE reads only CTEs before it. -#}
{% macro spark_cte_query(names, bodies, reads, main_reads, main) -%}
{%- set needed = {} -%}
{%- for name in main_reads -%}
{%- do needed.update({name: true}) -%}
{%- endfor -%}
{%- for name in names | reverse -%}
{%- if name in needed -%}
{%- for read in reads[name] -%}
{%- do needed.update({read: true}) -%}
{%- endfor -%}
{%- endif -%}
{%- endfor -%}
{%- set kept = [] -%}
{%- for name in names if name in needed -%}
{%- do kept.append(bodies[name]) -%}
{%- endfor -%}
{{ return('with\n\n' ~ (kept | join(',\n\n')) ~ '\n\n' ~ main.strip()) }}
{%- endmacro %}
