{#- Experiments (metrics.md "Experiments", docs/experiments.md). -#}

{#- FROM the counted exposures (CTE `counted`: experiment_id, account_id, exposed_at,
    window_end_at) joined to the rows of `relation` of the same account whose `at`
    column falls in the exposure's window [exposed_at, window_end_at]: what an account
    did in its experiment window (int_experiments__account_outcomes). -#}
{% macro from_exposure_window(relation, at) -%}
from counted
    inner join {{ relation }}
        on {{ relation }}.account_id = counted.account_id
            and {{ relation }}.{{ at }} >= counted.exposed_at
            and {{ relation }}.{{ at }} <= counted.window_end_at
{%- endmacro %}

{#- The join condition of two relations at the experiment x segment x variation grain
    (int_experiments__variation_segments); the variation from `variation` when it is
    another relation than `right`. -#}
{% macro same_experiment_segment_variation(left, right, variation=none) -%}
{{ left }}.experiment_id = {{ right }}.experiment_id
            and {{ left }}.segment_dimension = {{ right }}.segment_dimension
            and {{ null_safe_equals(left ~ '.segment_value', right ~ '.segment_value') }}
            and {{ left }}.variation_id = {{ variation or right }}.variation_id
{%- endmacro %}

{#- The key columns of the experiment x segment x variation grain and the variation's
    order and role, as a select list, read from `relation` (none: unqualified). -#}
{% macro experiment_variation_columns(relation=none) -%}
{%- set columns = [
    'experiment_id', 'segment_dimension', 'segment_value', 'variation_id',
    'variation_order', 'is_control',
] -%}
{%- for column in columns -%}
{{ relation ~ '.' if relation }}{{ column }}{{ ',\n        ' if not loop.last }}
{%- endfor -%}
{%- endmacro %}
