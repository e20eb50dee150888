{#- One row per experiment, segment, variation and metric (metrics.md "Experiments"):
    the metric's value over the variation's matured accounts and its population `n`.
    Rates (metric_kind `rate`) are accounts / n, null when n = 0;
    account_payment_failure_rate is null when no payment_attempts file was loaded.
    mrr_delta_per_account (metric_kind `mean`): the mean in major units of the
    reporting currency over its own n, with its sample variance (divisor n - 1, null
    below 2 accounts). metric_order follows metrics.md's table, one step_reach.<step>
    per configured funnel step. The comparisons with the control come from
    src/upgrade_warehouse/stats.py (SQL has no normal CDF; docs/experiments.md). -#}
{%- set steps = var_list('funnel_steps') -%}
{%- set rates = [('attempt_rate', 'attempt_accounts')] -%}
{%- for step in steps -%}
{%- do rates.append(('step_reach.' ~ step, 'step_' ~ loop.index ~ '_accounts')) -%}
{%- endfor -%}
{%- do rates.append(('self_serve_upgrade_rate', 'self_serve_upgrade_accounts')) -%}
{%- do rates.append(('upgrade_rate', 'upgrade_accounts')) -%}
{%- do rates.append(('account_escalation_rate', 'escalation_accounts')) -%}
{%- do rates.append(('account_payment_failure_rate', 'payment_failure_accounts')) -%}
with

{{ import_ctes({
    'variation_segments': ref('int_experiments__variation_segments'),
    'loaded': ref('int_loaded_tables'),
}) }}

final as (
    {%- for metric_id, accounts in rates %}

    select
        {{ experiment_variation_columns('variation_segments') }},
        cast({{ sql_string(metric_id) }} as {{ dbt.type_string() }}) as metric_id,
        {{ loop.index }} as metric_order,
        cast('rate' as {{ dbt.type_string() }}) as metric_kind,
        {%- if metric_id == 'account_payment_failure_rate' %}
        case
            when loaded.has_payment_attempts
                then {{ safe_ratio(
                    'variation_segments.' ~ accounts, 'variation_segments.matured_accounts'
                ) }}
        end as metric_value,
        {%- else %}
        {{ safe_ratio('variation_segments.' ~ accounts, 'variation_segments.matured_accounts') }}
            as metric_value,
        {%- endif %}
        variation_segments.matured_accounts as n,
        cast(null as {{ type_double() }}) as metric_variance
    from variation_segments
    cross join loaded

    union all
    {%- endfor %}

    select
        {{ experiment_variation_columns() }},
        cast('mrr_delta_per_account' as {{ dbt.type_string() }}) as metric_id,
        {{ rates | length + 1 }} as metric_order,
        cast('mean' as {{ dbt.type_string() }}) as metric_kind,
        mrr_delta_mean as metric_value,
        mrr_accounts as n,
        mrr_delta_variance as metric_variance
    from variation_segments

)

select * from final
