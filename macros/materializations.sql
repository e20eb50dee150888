{#- Lean table and view materializations for DuckDB (docs/performance.md "dbt's cost
    per node"). dbt-duckdb's own build each relation under a temporary name inside a
    transaction, rename the old one to a backup, rename the new one into place, commit
    and drop the backup: five to seven statements, each with dbt's events and cursor
    set-up, for a relation that `build` creates once in a new file. One
    `create or replace` does the same in one atomic statement (DuckDB replaces the old
    relation, if any, in that statement's own transaction), so a model that fails
    leaves the relation as it was, as before. No model here uses contracts, hooks,
    grants, indexes or persisted docs, which the lean versions do not handle. Spark
    keeps dbt-spark's materializations. -#}

{% materialization table, adapter="duckdb" %}
{{ return(create_or_replace("table", compiled_code)) }}
{% endmaterialization %}

{% materialization view, adapter="duckdb" %}
{{ return(create_or_replace("view", compiled_code)) }}
{% endmaterialization %}

{% macro create_or_replace(relation_type, compiled_code) %}
{#- The model's relation (`this`) as a table or a view, in one statement; a relation of
    the other type under the same name (a model whose materialization changed, in a
    warehouse built by hand twice) is dropped first, since `create or replace` cannot
    replace a view by a table or back (looked up in dbt's relation cache: no query when
    there is none). -#}
{%- set target_relation = this.incorporate(type=relation_type) -%}
{%- set existing = load_cached_relation(target_relation) -%}
{%- if existing is not none and existing.type != relation_type -%}
{{ adapter.drop_relation(existing) }}
{%- endif -%}
{% call statement("main") -%}
create or replace {{ relation_type }} {{ target_relation }} as ({{ compiled_code }})
{%- endcall %}
{{ adapter.commit() }}
{{ return({"relations": [target_relation]}) }}
{% endmacro %}
