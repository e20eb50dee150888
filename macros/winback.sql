{#- Whole days from `ts` back from `reference` (floor): the day bucket of the win-back
    snapshots. A fact with age_day >= d happened at or before reference - d days. -#}
{% macro age_in_days(ts, reference) -%}
cast(floor({{ seconds_between(ts, reference) }} / 86400) as {{ dbt.type_int() }})
{%- endmacro %}
