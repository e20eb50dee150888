{#- Small cross-engine helpers. DuckDB is the engine today; Spark (dbt-spark) is the
    next one, so every engine-specific function goes through adapter.dispatch. -#}

{#- Seconds from `start_ts` to `end_ts`, with fractions (exact to the microsecond). -#}
{% macro seconds_between(start_ts, end_ts) -%}
{{ return(adapter.dispatch('seconds_between', 'upgrade_warehouse')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__seconds_between(start_ts, end_ts) -%}
({{ dbt.datediff(start_ts, end_ts, 'microsecond') }} / 1000000.0)
{%- endmacro %}

{% macro duckdb__seconds_between(start_ts, end_ts) -%}
(epoch({{ end_ts }}) - epoch({{ start_ts }}))
{%- endmacro %}

{#- A double, as DuckDB's epoch() difference (Spark would divide into a decimal). -#}
{% macro spark__seconds_between(start_ts, end_ts) -%}
(cast(unix_micros({{ end_ts }}) - unix_micros({{ start_ts }}) as double) / 1000000.0)
{%- endmacro %}

{#- Quantile with linear interpolation (metrics.md: DuckDB quantile_cont). -#}
{#- Rounded to 9 decimals (below the microsecond precision of the timestamps the inputs
    are durations of, in seconds, hours or days): the engines' interpolations can differ
    in the last bit of a double (DuckDB 28.55, Spark 28.549999999999997), which a
    formatted value shows (28.6 s, 28.5 s). -#}
{% macro percentile_cont(expression, fraction) -%}
round({{ adapter.dispatch('percentile_cont', 'upgrade_warehouse')(expression, fraction) }}, 9)
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{#- Spark's percentile() interpolates as lo + (hi - lo) * d, which differs from DuckDB's
    quantile_cont in the last bit (28.549999999999997 for 28.55); this is DuckDB's
    lo * (1 - d) + hi * d, d = pos - floor(pos), over the sorted values, nulls ignored. -#}
{% macro spark__percentile_cont(expression, fraction) -%}
{%- set sorted = 'array_sort(collect_list(cast(' ~ expression ~ ' as double)))' -%}
{%- set position = '((size(' ~ sorted ~ ') - 1) * cast(' ~ fraction ~ ' as double))' -%}
{%- set lower = 'element_at(' ~ sorted ~ ', cast(floor(' ~ position ~ ') as int) + 1)' -%}
{%- set upper = 'element_at(' ~ sorted ~ ', cast(ceil(' ~ position ~ ') as int) + 1)' -%}
    case
        when size({{ sorted }}) = 0 then null
        when floor({{ position }}) = ceil({{ position }}) then {{ lower }}
        else {{ lower }} * (1.0d - ({{ position }} - floor({{ position }})))
            + {{ upper }} * ({{ position }} - floor({{ position }}))
    end
{%- endmacro %}

{#- A string value of a top-level key of a JSON object held as text. -#}
{% macro json_string(column, key) -%}
{{ return(adapter.dispatch('json_string', 'upgrade_warehouse')(column, key)) }}
{%- endmacro %}

{% macro default__json_string(column, key) -%}
json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro spark__json_string(column, key) -%}
get_json_object({{ column }}, '$.{{ key }}')
{%- endmacro %}

{#- The first day of the UTC month of a timestamp, as a date. -#}
{% macro month_of(ts) -%}
cast({{ dbt.date_trunc('month', ts) }} as date)
{%- endmacro %}

{#- A ratio that is null when the denominator is 0 (metrics.md: every rate). -#}
{% macro safe_ratio(numerator, denominator) -%}
(cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- A list parameter: a YAML list, or a comma-separated string from the command line. -#}
{% macro var_list(name) -%}
{%- set value = var(name) -%}
{%- if value is string -%}
{%- set value = value.split(',') | map('trim') | list -%}
{%- endif -%}
{{ return(value) }}
{%- endmacro %}

{#- A value as a SQL string literal: the only way a parameter reaches SQL
    (docs/security.md). The quote is doubled (ANSI); Spark SQL also reads a backslash as
    an escape, so there both are escaped with one. -#}
{% macro sql_string(value) -%}
{{ return(adapter.dispatch('sql_string', 'upgrade_warehouse')(value)) }}
{%- endmacro %}

{% macro default__sql_string(value) -%}
'{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string(value) -%}
'{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{#- `expr in ('a', 'b')` for a list parameter. -#}
{% macro in_list(expression, values) -%}
{{ expression }} in ({% for v in values %}{{ sql_string(v) }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endmacro %}

{#- Twelve times the MRR of (plan, quantity), an exact integer: monthly price * 12, or
    the yearly price. MRR = this / 12, kept exact by deciding signs on this value. -#}
{% macro mrr_x12(unit_amount_minor, quantity, billing_interval) -%}
    (case
        when {{ billing_interval }} = 'year' then {{ unit_amount_minor }} * {{ quantity }}
        else {{ unit_amount_minor }} * {{ quantity }} * 12
    end)
{%- endmacro %}

{#- 64-bit floating point (dbt.type_float() is a 32-bit FLOAT on DuckDB). -#}
{% macro type_double() -%}
{{ return(adapter.dispatch('type_double', 'upgrade_warehouse')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
double
{%- endmacro %}

{% macro spark__type_double() -%}
double
{%- endmacro %}

{#- A condition that is true, or stops the query with `message` when `condition` holds
    (a guard for limits a model cannot exceed without giving wrong results). -#}
{% macro raise_error_if(condition, message) -%}
{{ return(adapter.dispatch('raise_error_if', 'upgrade_warehouse')(condition, message)) }}
{%- endmacro %}

{% macro default__raise_error_if(condition, message) -%}
(case when {{ condition }} then cast(raise_error('{{ message }}') as boolean) else true end)
{%- endmacro %}

{% macro duckdb__raise_error_if(condition, message) -%}
(case when {{ condition }} then cast(error('{{ message }}') as boolean) else true end)
{%- endmacro %}

{#- A sum of money amounts held as doubles that is the same on every engine: summed as
    decimals (exact whatever the order the engine adds them in), returned as a double. -#}
{% macro exact_sum(expression) -%}
cast(sum(cast({{ expression }} as decimal(38, 9))) as {{ type_double() }})
{%- endmacro %}

{#- A double rounded to `decimals` decimals, half up, by the same double arithmetic on
    every engine (DuckDB's round() rounds the binary value, Spark's the shortest decimal
    text of it: they differ at ties such as 17.7027955). -#}
{% macro round_half_up(expression, decimals) -%}
floor(({{ expression }}) * {{ 10 ** decimals }} + 0.5) / {{ 10 ** decimals }}
{%- endmacro %}
