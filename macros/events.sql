{#- The event names that are not product usage (data-contract.md "product_events": every
    other event name is usage): the funnel steps, escalation, activation and experiment
    exposure events, from the configured lists. The one definition of "usage" for the
    feature use of int_accounts__activation and the win-back usage signal. -#}
{% macro non_usage_events() -%}
{{ return(
    var_list('funnel_steps')
    + var_list('escalation_events')
    + var_list('activation_events')
    + var_list('experiment_events')
) }}
{%- endmacro %}

{#- FROM the product events (CTE `events`) whose event_name is one of `names`, at or
    before as_of (CTE `as_of`, int_as_of): every event after as_of is ignored. -#}
{% macro from_events_named(names) -%}
{{ from_as_of('events', 'occurred_at', [in_list('events.event_name', names)]) }}
{%- endmacro %}
