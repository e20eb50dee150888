{#- One row per experiment and exposed account (metrics.md "Experiments"): the account's
    first exposure event (by occurred_at, event_id) at or before as_of, its variation,
    its window [exposed_at, exposed_at + experiment_window_days] and maturity
    (window end <= as_of). An exposure event is an `experiment_events` event whose
    properties carry a non-empty experiment_id and variation_id. Accounts whose events
    name two or more variations of the experiment are flagged `is_multiple_exposure`:
    they are left out of the experiment (and counted in multiple_exposures). -#}
{%- set window_days = var('experiment_window_days') | int -%}
with

{{ import_ctes({'events': ref('stg_product__events'), 'as_of': ref('int_as_of')}) }}

exposure_events as (

    select
        events.event_id,
        events.account_id,
        events.occurred_at,
        {{ json_string('events.properties', 'experiment_id') }} as experiment_id,
        {{ json_string('events.properties', 'variation_id') }} as variation_id
    {{ from_events_named(var_list('experiment_events')) }}

),

valid_exposure_events as (

    select
        event_id,
        account_id,
        occurred_at,
        experiment_id,
        variation_id,
        row_number() over (
            partition by experiment_id, account_id order by occurred_at, event_id
        ) as exposure_rank
    from exposure_events
    where experiment_id is not null
        and experiment_id <> ''
        and variation_id is not null
        and variation_id <> ''

),

variations_seen as (

    select
        experiment_id,
        account_id,
        count(distinct variation_id) as variations_seen,
        count(*) as exposure_events
    from valid_exposure_events
    group by experiment_id, account_id

),

final as (

    select
        valid_exposure_events.experiment_id,
        valid_exposure_events.account_id,
        valid_exposure_events.variation_id,
        valid_exposure_events.event_id as exposure_event_id,
        valid_exposure_events.occurred_at as exposed_at,
        {{ dbt.dateadd('day', window_days, 'valid_exposure_events.occurred_at') }}
            as window_end_at,
        {{ dbt.dateadd('day', window_days, 'valid_exposure_events.occurred_at') }}
        <= as_of.as_of as is_matured,
        variations_seen.variations_seen,
        variations_seen.exposure_events,
        variations_seen.variations_seen > 1 as is_multiple_exposure
    from valid_exposure_events
    cross join as_of
    inner join variations_seen
        on variations_seen.experiment_id = valid_exposure_events.experiment_id
            and variations_seen.account_id = valid_exposure_events.account_id
    where valid_exposure_events.exposure_rank = 1

)

select * from final
