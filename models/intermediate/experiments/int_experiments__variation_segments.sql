{#- One row per experiment, segment and variation (metrics.md "Experiments", "By
    segment"): the segments are `all` / `all` and, per account attribute of
    segment_dimensions(), each value (null a segment of its own) among the experiment's
    exposed accounts (multiple exposures included, so that multiple_exposures adds up);
    (int_experiments__segments); every variation of the experiment is listed in every segment, with zero accounts
    where it has none. The counts behind each metric over the matured accounts (n), and
    for mrr_delta_per_account its own n (accounts with an unconvertible change in the
    window left out), mean and sample variance (divisor n - 1, null below 2 accounts).
    Sums of money are exact decimals (exact_sum), so every engine gives the same
    doubles. -#}
{%- set steps = var_list('funnel_steps') -%}
with

{{ import_ctes({
    'outcomes': ref('int_experiments__account_outcomes'),
    'variations': ref('int_experiments__variations'),
    'account_segments': ref('int_account_segments'),
    'experiment_segments': ref('int_experiments__segments'),
}) }}

segmented_outcomes as (

    select
        outcomes.*,
        account_segments.segment_dimension,
        account_segments.segment_value
    from outcomes
    inner join account_segments
        on account_segments.account_id = outcomes.account_id

),

counts as (

    select
        experiment_id,
        segment_dimension,
        segment_value,
        variation_id,
        count(*) as exposed_accounts,
        sum(case when is_matured then 1 else 0 end) as matured_accounts,
        sum(case when is_matured and has_attempt then 1 else 0 end) as attempt_accounts,
        {%- for step in steps %}
        sum(case when is_matured and reached_step_{{ loop.index }} then 1 else 0 end)
            as step_{{ loop.index }}_accounts,
        {%- endfor %}
        sum(case when is_matured and has_self_serve_upgrade then 1 else 0 end)
            as self_serve_upgrade_accounts,
        sum(case when is_matured and has_upgrade then 1 else 0 end) as upgrade_accounts,
        sum(case when is_matured and has_escalation then 1 else 0 end) as escalation_accounts,
        sum(case when is_matured and has_payment_failure then 1 else 0 end)
            as payment_failure_accounts,
        sum(case when is_matured and is_mrr_converted then 1 else 0 end) as mrr_accounts,
        {{ exact_sum('case when is_matured and is_mrr_converted then mrr_delta_reporting end') }}
            as mrr_delta_sum
    from segmented_outcomes
    group by experiment_id, segment_dimension, segment_value, variation_id

),

means as (

    select
        experiment_id,
        segment_dimension,
        segment_value,
        variation_id,
        mrr_delta_sum / nullif(mrr_accounts, 0) as mrr_delta_mean
    from counts

),

squared_deviations as (

    select
        segmented_outcomes.experiment_id,
        segmented_outcomes.segment_dimension,
        segmented_outcomes.segment_value,
        segmented_outcomes.variation_id,
        {{ exact_sum(
            '(segmented_outcomes.mrr_delta_reporting - means.mrr_delta_mean)'
            ~ ' * (segmented_outcomes.mrr_delta_reporting - means.mrr_delta_mean)'
        ) }} as mrr_delta_squared_deviations
    from segmented_outcomes
    inner join means
        on {{ same_experiment_segment_variation('means', 'segmented_outcomes') }}
    where segmented_outcomes.is_matured
        and segmented_outcomes.is_mrr_converted
    group by
        segmented_outcomes.experiment_id,
        segmented_outcomes.segment_dimension,
        segmented_outcomes.segment_value,
        segmented_outcomes.variation_id

),

final as (

    select
        experiment_segments.experiment_id,
        experiment_segments.segment_dimension,
        experiment_segments.segment_value,
        experiment_segments.multiple_exposures,
        experiment_segments.first_exposure,
        experiment_segments.last_exposure,
        variations.control_variation_id,
        variations.variation_id,
        variations.is_control,
        variations.variation_order,
        coalesce(counts.exposed_accounts, 0) as exposed_accounts,
        coalesce(counts.matured_accounts, 0) as matured_accounts,
        coalesce(counts.attempt_accounts, 0) as attempt_accounts,
        {%- for step in steps %}
        coalesce(counts.step_{{ loop.index }}_accounts, 0) as step_{{ loop.index }}_accounts,
        {%- endfor %}
        coalesce(counts.self_serve_upgrade_accounts, 0) as self_serve_upgrade_accounts,
        coalesce(counts.upgrade_accounts, 0) as upgrade_accounts,
        coalesce(counts.escalation_accounts, 0) as escalation_accounts,
        coalesce(counts.payment_failure_accounts, 0) as payment_failure_accounts,
        coalesce(counts.mrr_accounts, 0) as mrr_accounts,
        means.mrr_delta_mean,
        case
            when counts.mrr_accounts >= 2
                then squared_deviations.mrr_delta_squared_deviations / (counts.mrr_accounts - 1)
        end as mrr_delta_variance
    from experiment_segments
    inner join variations
        on variations.experiment_id = experiment_segments.experiment_id
    left join counts
        on {{ same_experiment_segment_variation('counts', 'experiment_segments', 'variations') }}
    {%- for cte in ['means', 'squared_deviations'] %}
    left join {{ cte }}
        on {{ same_experiment_segment_variation(cte, 'counts') }}
    {%- endfor %}

)

select * from final
