{#- Conversion to the reporting currency (data-contract.md fx_rates, var
    reporting_currency): the one definition for every model that converts money. -#}

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
