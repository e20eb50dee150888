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

final as (

{%- for column in counts %}
    select
        {%- for key in keys %}
        by_dimension.{{ key }},
        {%- endfor %}
        by_dimension.segment_dimension,
        '{{ column }}' as count_column,
        by_dimension.{{ column }} as sum_of_segments,
        all_accounts.{{ column }} as all_accounts
    from by_dimension
    inner join all_accounts
        on {% for key in keys %}{{ null_safe_equals('all_accounts.' ~ key, 'by_dimension.' ~ key) }}{% if not loop.last %} and {% endif %}{% endfor %}
    where not {{ null_safe_equals('by_dimension.' ~ column, 'all_accounts.' ~ column) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- if not counts %}
    select 1 as no_counts where 1 = 0
    {%- endif %}

)

select * from final

{% endtest %}
