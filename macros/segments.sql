{#- Segments (metrics.md "Segments") and the period x segment grain of the metric models.

    Every section model (models/intermediate/metrics/int_metrics__<section>.sql) joins
    its facts to int_account_segments (one row per account and dimension: `all` / `all`,
    then one per account attribute) and aggregates by period and segment:
    - period: a month, or every month at once (month null = "all months");
    - segment: (segment_dimension, segment_value); a null attribute value is a segment
      of its own (segment_value null), distinct from `all` / `all`.
    The dense frame (int_segment_months) has every month x every segment, plus the
    all-months row of every segment; section models select from it so that every month
    of every segment is present (null or 0 as metrics.md says). -#}

{#- The account attributes a metric can be split by, in display order. -#}
{% macro segment_dimensions() -%}
{{ return(['persona', 'acquisition_source', 'segment', 'country']) }}
{%- endmacro %}

{#- `a = b` where null equals null (segment values and the all-months period are null). -#}
{% macro null_safe_equals(a, b) -%}
{{ return(adapter.dispatch('null_safe_equals', 'upgrade_warehouse')(a, b)) }}
{%- endmacro %}

{% macro default__null_safe_equals(a, b) -%}
({{ a }} is not distinct from {{ b }})
{%- endmacro %}

{% macro spark__null_safe_equals(a, b) -%}
({{ a }} <=> {{ b }})
{%- endmacro %}

{#- The join condition of two relations at the period x segment grain. -#}
{% macro same_period_and_segment(left, right) -%}
{{ left }}.segment_dimension = {{ right }}.segment_dimension
        and {{ null_safe_equals(left ~ '.segment_value', right ~ '.segment_value') }}
        and {{ null_safe_equals(left ~ '.month', right ~ '.month') }}
{%- endmacro %}

{#- GROUP BY of an aggregate at the period x segment grain (plus `keys`): one group per
    month and one for all months (the month column is null in that one). The month
    column of the facts must not be null (filter those rows out first). -#}
{% macro group_by_period_and_segment(month_column, keys=[]) -%}
{%- set inner = (['segment_dimension', 'segment_value'] + keys) | join(', ') -%}
group by grouping sets (({{ month_column }}, {{ inner }}), ({{ inner }}))
{%- endmacro %}

{#- A rate metric and the two counts it is made of, as three columns:
    <metric_id>, <metric_id>__numerator, <metric_id>__denominator. The counts let a
    reader judge noise (an interval on the rate) and hide rates of too few cases; they
    are not metrics (fct_monthly_metrics has the catalog's columns only). `when` is the
    condition under which the metric is defined at all (its source table was loaded):
    otherwise all three are null. -#}
{% macro rate(metric_id, numerator, denominator, when=none) -%}
{%- set num = 'cast(coalesce(' ~ numerator ~ ', 0) as ' ~ dbt.type_bigint() ~ ')' -%}
{%- set den = 'cast(coalesce(' ~ denominator ~ ', 0) as ' ~ dbt.type_bigint() ~ ')' -%}
{%- if when -%}
        case when {{ when }} then {{ safe_ratio(numerator, denominator) }} end as {{ metric_id }},
        case when {{ when }} then {{ num }} end as {{ metric_id }}__numerator,
        case when {{ when }} then {{ den }} end as {{ metric_id }}__denominator
    {%- else -%}
{{ safe_ratio(numerator, denominator) }} as {{ metric_id }},
        {{ num }} as {{ metric_id }}__numerator,
        {{ den }} as {{ metric_id }}__denominator
{%- endif -%}
{%- endmacro %}

{#- A count metric: 0 when there is nothing to count, null when its source was not loaded. -#}
{% macro count_metric(metric_id, expression, when=none) -%}
{%- if when -%}
        case when {{ when }} then cast(coalesce({{ expression }}, 0) as {{ dbt.type_bigint() }}) end
            as {{ metric_id }}
    {%- else -%}
cast(coalesce({{ expression }}, 0) as {{ dbt.type_bigint() }}) as {{ metric_id }}
{%- endif -%}
{%- endmacro %}

{#- Every column of `relation` except `except` (at parse time, before the relation
    exists, `*`). The marts use it to take every metric column of the section models, so
    that adding a metric touches its section model only. -#}
{% macro star_except(relation, except=[], relation_alias=none) -%}
{%- if not execute -%}
{{ return('*') }}
{%- endif -%}
{%- set excluded = except | map('lower') | list -%}
{%- set names = [] -%}
{%- for column in adapter.get_columns_in_relation(relation) -%}
{%- if column.name | lower not in excluded -%}
{%- do names.append((relation_alias ~ '.' if relation_alias else '') ~ column.quoted) -%}
{%- endif -%}
{%- endfor -%}
{{ return(names | join(',\n        ')) }}
{%- endmacro %}

{#- The scalar metric ids of the catalog seed, in catalog order (the columns of
    fct_monthly_metrics); not those of the `experiments` section, which have their own
    marts (fct_experiment_metrics) and command. -#}
{% macro catalog_metric_ids(keyed=false) -%}
{%- if not execute -%}
{{ return([]) }}
{%- endif -%}
{%- set units = "('rate_by_key', 'count_by_key')" -%}
{%- set sql -%}
select metric_id from {{ ref('metric_catalog') }}
        where unit {{ '' if keyed else 'not ' }}in {{ units }}
            and section <> 'experiments'
{%- endset -%}
{%- set result = run_query(sql) -%}
{{ return(result.columns[0].values() | list) }}
{%- endmacro %}

{#- The import CTEs of a section model: the frame (int_segment_months, unless `frame` is
    false: a model with one row per key that occurs), account_segments, then `imports`
    (name -> relation, in order). Each ends with `),`: the model's logic CTEs follow. -#}
{% macro section_imports(imports, frame=true) -%}
{%- set all = {'frame': ref('int_segment_months')} if frame else {} -%}
{%- do all.update({'account_segments': ref('int_account_segments')}) -%}
{%- do all.update(imports) -%}
{{ import_ctes(all) }}
{%- endmacro %}

{#- The two logic CTEs a section model starts with: `segmented` (every row of `facts`
    once per segment of its account, from `segments`) and `name` (`measures`, name ->
    aggregate expression, by period and segment and `keys`, over the rows of segmented
    where `where` holds). The period is the month in column `month`, or all months. -#}
{% macro segmented_aggregate(facts, month, measures, keys=[], where=none, name='aggregated', segments='account_segments') -%}
{%- set columns = [month ~ ' as month', 'segment_dimension', 'segment_value'] + keys -%}
{%- for measure, expression in measures.items() -%}
{%- do columns.append(expression ~ ' as ' ~ measure) -%}
{%- endfor -%}
segmented as (

    select
        {{ facts }}.*,
        {{ segments }}.segment_dimension,
        {{ segments }}.segment_value
    from {{ facts }}
    inner join {{ segments }}
        on {{ segments }}.account_id = {{ facts }}.account_id

),

{{ name }} as (

    select
        {{ columns | join(',\n        ') }}
    from segmented
    {{ ('where ' ~ where ~ '\n    ') if where }}{{ group_by_period_and_segment(month, keys) }}

),
{%- endmacro %}

{#- `sum(case when <condition> then 1 else 0 end)`: how many rows meet `condition`. -#}
{% macro count_if(condition) -%}
sum(case when {{ condition }} then 1 else 0 end)
{%- endmacro %}

{#- The key columns of the period x segment grain, read from `relation`. -#}
{% macro period_and_segment(relation='frame') -%}
{{ relation }}.month,
        {{ relation }}.segment_dimension,
        {{ relation }}.segment_value
{%- endmacro %}

{#- The FROM of a section model's final CTE: every period and segment of `frame`, with
    `relation` (an aggregate at the same grain) joined on, and the one-row `loaded`
    (int_loaded_tables) when `loaded`. -#}
{% macro from_frame(relation='aggregated', loaded=false, frame='frame') -%}
from {{ frame }}{{ '\n    cross join loaded' if loaded }}
    left join {{ relation }}
        on {{ same_period_and_segment(relation, frame) }}
{%- endmacro %}

{#- Count columns cast to a 64-bit integer under their own names. -#}
{% macro bigint_columns(columns) -%}
{%- for column in columns -%}
cast({{ column }} as {{ dbt.type_bigint() }}) as {{ column }}{{ ',\n        ' if not loop.last }}
{%- endfor -%}
{%- endmacro %}

{#- Counts read from left-joined relations (`relation.column`, in order), as 64-bit
    integers under their column names: 0 where the join found no row. -#}
{% macro counts_or_zero(columns) -%}
{%- for column in columns -%}
cast(coalesce({{ column }}, 0) as {{ dbt.type_bigint() }}) as {{ column.split('.')[-1] }}
{{- ',\n        ' if not loop.last }}
{%- endfor -%}
{%- endmacro %}
