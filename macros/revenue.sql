{#- Revenue facts: what a self-serve upgrade is, and the conversion to the
    reporting currency (data-contract.md fx_rates, var reporting_currency), for every
    model that uses them. -#}

{#- A self-serve upgrade (metrics.md "Upgrades and revenue"): a subscription change of
    `relation` (int_subscription_changes__revenue, fct_subscription_changes) that is an
    upgrade made in the self_serve channel. -#}
{% macro is_self_serve_upgrade(relation) -%}
{{ relation }}.is_upgrade and {{ relation }}.channel = 'self_serve'
{%- endmacro %}

{#- The rate that converts `currency` to the reporting currency: 1 for the reporting
    currency itself, else `rate` (null when no rate was found: unconverted). -#}
{% macro reporting_rate(currency, rate) -%}
case
            when {{ currency }} = {{ sql_string(var("reporting_currency")) }} then 1
            else {{ rate }}
        end
{%- endmacro %}

{#- An amount in minor units of `currency`, in major units of the reporting currency
    (`minor_unit_exponent` from the currencies seed), converted at `rate`. -#}
{% macro to_reporting_currency(amount_minor, currency, rate, minor_unit_exponent) -%}
{{ amount_minor }}
        / power(10, {{ minor_unit_exponent }})
        * {{ reporting_rate(currency, rate) }}
{%- endmacro %}
