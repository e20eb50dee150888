{#- The proration arithmetic of the simulator (shared/spec/simulator.md) in SQL, with
    granularity = second and timing = immediate: what the billing system should have
    billed for a change (metrics.md "Proration accuracy"). It must agree to the minor
    unit with upgrade_warehouse.simulator.quote / price_batch (tests/test_proration_sql.py).

    Exact integer arithmetic only (no floating point, no decimal division):

      prorated(P, R, T) = round_half_away(P * R / T)   P = unit price * quantity >= 0,
                                                       R = remaining seconds, 0 <= R <= T,
                                                       T = period seconds > 0
      P = q*T + r  (0 <= r < T)  =>  P*R/T = q*R + r*R/T,  r*R = q2*T + r2  (0 <= r2 < T)
      prorated = q*R + q2 + (1 if 2*r2 >= T else 0)     (the same formula as batch.py)

    Bounds: q*R <= P and r*R < T^2, so nothing overflows a signed 64-bit integer while
    P <= 2^62 (4.6e18 minor units) and T <= 3e9 s (95 years). A credit and a charge are
    each at most P in size, so their net fits too. proration_within_bounds() tells
    whether a change is inside those bounds; outside them the models do not price it.

    Timestamps are taken in whole epoch seconds, the sub-second part dropped (floored,
    also before 1970), like the Python simulator. -#}


{#- Whole seconds since 1970-01-01T00:00:00 of a UTC timestamp, floored. -#}
{% macro epoch_seconds(ts) -%}
{{ return(adapter.dispatch('epoch_seconds', 'upgrade_warehouse')(ts)) }}
{%- endmacro %}

{% macro default__epoch_seconds(ts) -%}
cast(floor(extract(epoch from {{ ts }})) as {{ dbt.type_bigint() }})
{%- endmacro %}

{% macro duckdb__epoch_seconds(ts) -%}
    {#- date_trunc floors (the microseconds of a timestamp are never negative), then the
        whole-second microsecond count divides exactly. epoch() would be a double. -#}
(epoch_us(date_trunc('second', {{ ts }})) // 1000000)
{%- endmacro %}

{% macro spark__epoch_seconds(ts) -%}
{#- unix_seconds truncates sub-seconds with a floor division (Math.floorDiv). -#}
unix_seconds({{ ts }})
{%- endmacro %}


{#- Integer division n / d for n >= 0 and d > 0 (both bigint), exact. -#}
{% macro int_div(n, d) -%}
{{ return(adapter.dispatch('int_div', 'upgrade_warehouse')(n, d)) }}
{%- endmacro %}

{#- Engines where bigint / bigint is integer division (Postgres, Redshift, Trino, SQL
    Server). An engine whose `/` returns a decimal or a double needs its own version:
    floor(n / d) in floating point is not exact beyond 2^53. -#}
{% macro default__int_div(n, d) -%}
(cast({{ n }} as {{ dbt.type_bigint() }}) / cast({{ d }} as {{ dbt.type_bigint() }}))
{%- endmacro %}

{% macro duckdb__int_div(n, d) -%}
(({{ n }}) // ({{ d }}))
{%- endmacro %}

{% macro spark__int_div(n, d) -%}
(({{ n }}) div ({{ d }}))
{%- endmacro %}


{#- round_half_away(amount * remaining / total), exact (see the header). Needs
    amount >= 0, 0 <= remaining <= total, 0 < total, and the bounds above. The
    arguments are expressions; each is repeated in the output, so pass columns. -#}
{% macro prorated_minor(amount, remaining_seconds, total_seconds) -%}
{%- set q = int_div(amount, total_seconds) -%}
{%- set r = '(' ~ amount ~ ' - ' ~ total_seconds ~ ' * ' ~ q ~ ')' -%}
{%- set rr = '(' ~ r ~ ' * ' ~ remaining_seconds ~ ')' -%}
{%- set q2 = int_div(rr, total_seconds) -%}
    (
        {{ q }} * {{ remaining_seconds }}
        + {{ q2 }}
        + case when 2 * ({{ rr }} - {{ total_seconds }} * {{ q2 }}) >= {{ total_seconds }} then 1 else 0 end
    )
{%- endmacro %}


{#- True when both sides of a change are inside the exact-arithmetic bounds
    (unit price x quantity <= 2^62 on each side, a period of at most 3e9 seconds).
    The test itself cannot overflow: it divides instead of multiplying. -#}
{% macro proration_within_bounds(from_unit_amount, from_quantity, to_unit_amount, to_quantity, total_seconds) -%}
    (
        {{ total_seconds }} <= 3000000000
        and {{ from_quantity }} <= {{ int_div('4611686018427387904', 'greatest(' ~ from_unit_amount ~ ', 1)') }}
        and {{ to_quantity }} <= {{ int_div('4611686018427387904', 'greatest(' ~ to_unit_amount ~ ', 1)') }}
    )
{%- endmacro %}


{#- A null proration_behavior means the simulator's default, create_prorations. -#}
{% macro effective_proration_behavior(proration_behavior) -%}
coalesce({{ proration_behavior }}, 'create_prorations')
{%- endmacro %}


{#- The proration_credit line (negative), null when omitted: a free from plan, or
    proration_behavior none. The same on an interval switch. -#}
{% macro proration_credit_minor(from_unit_amount, from_quantity, proration_behavior, remaining_seconds, total_seconds) -%}
    case
        when {{ effective_proration_behavior(proration_behavior) }} = 'none' then null
        when {{ from_unit_amount }} = 0 then null
        else -{{ prorated_minor('(' ~ from_unit_amount ~ ' * ' ~ from_quantity ~ ')', remaining_seconds, total_seconds) }}
    end
{%- endmacro %}


{#- The proration_charge line, null when omitted: a free to plan, proration_behavior
    none, or an interval switch (which has a subscription line instead). -#}
{% macro proration_charge_minor(to_unit_amount, to_quantity, proration_behavior, is_interval_switch, remaining_seconds, total_seconds) -%}
    case
        when {{ effective_proration_behavior(proration_behavior) }} = 'none' then null
        when {{ is_interval_switch }} then null
        when {{ to_unit_amount }} = 0 then null
        else {{ prorated_minor('(' ~ to_unit_amount ~ ' * ' ~ to_quantity ~ ')', remaining_seconds, total_seconds) }}
    end
{%- endmacro %}


{#- The subscription line of an interval switch (one full new interval; not a
    proration, whatever the proration_behavior), null when there is none. -#}
{% macro interval_switch_subscription_minor(to_unit_amount, to_quantity, is_interval_switch) -%}
    case
        when {{ is_interval_switch }} and {{ to_unit_amount }} > 0
            then {{ to_unit_amount }} * {{ to_quantity }}
    end
{%- endmacro %}
