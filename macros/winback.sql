{#- Whole days from `ts` back from `reference` (floor): the day bucket of the win-back
    snapshots. A fact with age_day >= d happened at or before reference - d days. -#}
{% macro age_in_days(ts, reference) -%}
cast(floor({{ seconds_between(ts, reference) }} / 86400) as {{ dbt.type_int() }})
{%- endmacro %}

{#- The window bucket of a win-back `age_day`: the latest edge at or before it, where
    the edges are every snapshot's offset d and d + 14, d + 30 (the feature windows of
    fct_winback_features). A window [d, d + 14) or [d, d + 30), and "at or before the
    cutoff" (age_day >= d), holds a bucket whole or not at all, so the events, distinct
    days and earliest day per bucket give the same features as the days themselves,
    from fewer rows. -#}
{% macro winback_window_bucket(age_day) -%}
{%- set horizon = var('horizon_days') | int -%}
{%- set step = var('winback_snapshot_step_days') | int -%}
{%- set n_training = var('winback_training_snapshots') | int -%}
{%- set edges = [] -%}
{%- for k in range(n_training + 1) -%}
{%- set d = 0 if k == 0 else horizon + step * (k - 1) -%}
{%- for width in [0, 14, 30] -%}
{%- do edges.append(d + width) -%}
{%- endfor -%}
{%- endfor -%}
case
{%- for edge in edges | unique | sort | reverse if edge > 0 %}
    when {{ age_day }} >= {{ edge }} then {{ edge }}
{%- endfor %}
    else 0
end
{%- endmacro %}
