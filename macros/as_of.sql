{#- as_of (int_as_of, one row): every fact after it is ignored (metrics.md). -#}

{#- FROM `relation` (a CTE) with the as_of row (CTE `as_of`) cross joined: only its rows
    whose `at` is at or before as_of and that meet every condition of `where` (a list,
    checked first, in order). -#}
{% macro from_as_of(relation, at, where=[]) -%}
from {{ relation }}
    cross join as_of
    where {% for condition in where %}{{ condition }}
        and {% endfor %}{{ relation }}.{{ at }} <= as_of.as_of
{%- endmacro %}
