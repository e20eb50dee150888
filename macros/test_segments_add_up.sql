{#- Generic test (metrics.md "Segments"): in every period, the counts of the segments of
    each dimension add up to the count of all accounts. Every integer column of the
    model is a count (a count metric, or the numerator or denominator of a rate); rows
    returned are (period, dimension, column) where they do not. -#}
{% test segments_add_up(model, keys=['month']) %}
{%- set counts = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.is_integer() and column.name | lower not in keys -%}
            {%- do counts.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}
{%- set key_list = keys | join(', ') -%}

with

by_dimension as (

    select
        {{ key_list }},
        segment_dimension
{%- for column in counts %},
        sum({{ column }}) as {{ column }}
        {%- endfor %}
    from {{ model }}
    where segment_dimension <> 'all'
    group by {{ key_list }}, segment_dimension

),

all_accounts as (

    select * from {{ model }} where segment_dimension = 'all'

),

{%- if counts %}
-- One join, then one row per (period, dimension, count column): a query whose size does
-- not grow with the number of columns (a union of one join per column made Spark plan
-- the aggregation once per column).
joined as (

    select
        {%- for key in keys %}
        by_dimension.{{ key }},
        {%- endfor %}
        by_dimension.segment_dimension
        {%- for column in counts %},
        by_dimension.{{ column }} as segments__{{ column }},
        all_accounts.{{ column }} as all__{{ column }}
        {%- endfor %}
    from by_dimension
    inner join all_accounts
        on {% for key in keys %}{{ null_safe_equals('all_accounts.' ~ key, 'by_dimension.' ~ key) }}{% if not loop.last %} and {% endif %}{% endfor %}

),

count_columns as (

    {%- for column in counts %}
    select '{{ column }}' as count_column
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

compared as (

    select
        {%- for key in keys %}
        joined.{{ key }},
        {%- endfor %}
        joined.segment_dimension,
        count_columns.count_column,
        case count_columns.count_column
            {%- for column in counts %}
            when '{{ column }}' then joined.segments__{{ column }}
            {%- endfor %}
        end as sum_of_segments,
        case count_columns.count_column
            {%- for column in counts %}
            when '{{ column }}' then joined.all__{{ column }}
            {%- endfor %}
        end as all_accounts
    from joined
    cross join count_columns

),
{%- endif %}

final as (

    {%- if counts %}
    select * from compared
    where not {{ null_safe_equals('compared.sum_of_segments', 'compared.all_accounts') }}
    {%- else %}
    select 1 as no_counts where 1 = 0
    {%- endif %}

)

select * from final

{% endtest %}