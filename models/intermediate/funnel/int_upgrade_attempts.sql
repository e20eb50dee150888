{#- Upgrade attempts (metrics.md "Upgrade attempts"), set-based:
    1. every step-1 event is a candidate start; for each, walk the ordered steps inside
       its window (step k = first step-k event at or after step k-1 was reached and no
       later than start + window) and find where it would end (completion, else
       start + window);
    2. the next start after a candidate is the first step-1 event after that end
       (window functions over start and end markers, no range join);
    3. the real starts are the chain from each account's first candidate (a recursive
       CTE whose depth is the number of attempts of the busiest account). -#}
{%- set steps = var_list('funnel_steps') -%}
{%- set n_steps = steps | length -%}
{%- set window_days = var('conversion_window_days') | int -%}
with recursive

funnel_events as (

    select * from {{ ref('int_funnel_events') }}

),

events as (

    select * from {{ ref('stg_product__events') }}

),

as_of as (

    select * from {{ ref('int_as_of') }}

),

escalation_events as (

    select
        events.account_id,
        events.occurred_at
    from events
    cross join as_of
    where {{ in_list('events.event_name', var_list('escalation_events')) }}
        and events.occurred_at <= as_of.as_of

),

candidates as (

    select
        account_id,
        event_id as attempt_id,
        occurred_at as started_at,
        {{ dbt.dateadd('day', window_days, 'occurred_at') }} as window_end_at,
        row_number() over (
            partition by account_id order by occurred_at, event_id
        ) as candidate_rank
    from funnel_events
    where step_index = 1

),

step_1 as (

    select
        attempt_id,
        account_id,
        window_end_at,
        started_at as reached_at,
        attempt_id as reached_event_id
    from candidates

),
{% for k in range(2, n_steps + 1) %}
step_{{ k }}_matches as (

    select
        previous_step.attempt_id,
        previous_step.account_id,
        previous_step.window_end_at,
        funnel_events.occurred_at as reached_at,
        funnel_events.event_id as reached_event_id,
        row_number() over (
            partition by previous_step.attempt_id
            order by funnel_events.occurred_at, funnel_events.event_id
        ) as match_rank
    from step_{{ k - 1 }} as previous_step
    inner join funnel_events
        on funnel_events.account_id = previous_step.account_id
        and funnel_events.step_index = {{ k }}
        and funnel_events.occurred_at >= previous_step.reached_at
        and funnel_events.occurred_at <= previous_step.window_end_at

),

step_{{ k }} as (

    select
        attempt_id,
        account_id,
        window_end_at,
        reached_at,
        reached_event_id
    from step_{{ k }}_matches
    where match_rank = 1

),
{% endfor %}
candidate_paths as (

    select
        candidates.account_id,
        candidates.attempt_id,
        candidates.candidate_rank,
        candidates.started_at,
        candidates.window_end_at,
        {%- for k in range(2, n_steps + 1) %}
        step_{{ k }}.reached_at as step_{{ k }}_reached_at,
        {%- endfor %}
        step_{{ n_steps }}.reached_event_id as completion_event_id,
        case
            {%- for k in range(n_steps, 1, -1) %}
            when step_{{ k }}.reached_at is not null then {{ k }}
            {%- endfor %}
            else 1
        end as last_step_index,
        coalesce(step_{{ n_steps }}.reached_at, candidates.window_end_at) as ended_at
    from candidates
    {%- for k in range(2, n_steps + 1) %}
    left join step_{{ k }}
        on step_{{ k }}.attempt_id = candidates.attempt_id
    {%- endfor %}

),

-- A start marker per candidate and an end marker per candidate path, in time order;
-- at equal times starts come first, because a step-1 event at the very end of an open
-- attempt (inclusive) is still inside it.
markers as (

    select
        account_id,
        started_at as marker_at,
        0 as marker_kind,
        attempt_id
    from candidates

    union all

    select
        account_id,
        ended_at as marker_at,
        1 as marker_kind,
        attempt_id
    from candidate_paths

),

counted_markers as (

    select
        attempt_id,
        marker_kind,
        sum(case when marker_kind = 0 then 1 else 0 end) over (
            partition by account_id
            order by marker_at, marker_kind
            rows between unbounded preceding and current row
        ) as starts_so_far
    from markers

),

next_candidates as (

    select
        attempt_id,
        starts_so_far + 1 as next_candidate_rank
    from counted_markers
    where marker_kind = 1

),

linked_paths as (

    select
        candidate_paths.*,
        next_candidates.next_candidate_rank
    from candidate_paths
    inner join next_candidates
        on next_candidates.attempt_id = candidate_paths.attempt_id

),

attempt_chain as (

    select
        account_id,
        candidate_rank,
        next_candidate_rank
    from linked_paths
    where candidate_rank = 1

    union all

    select
        linked_paths.account_id,
        linked_paths.candidate_rank,
        linked_paths.next_candidate_rank
    from attempt_chain
    inner join linked_paths
        on linked_paths.account_id = attempt_chain.account_id
        and linked_paths.candidate_rank = attempt_chain.next_candidate_rank

),

attempts as (

    select linked_paths.*
    from linked_paths
    inner join attempt_chain
        on attempt_chain.account_id = linked_paths.account_id
        and attempt_chain.candidate_rank = linked_paths.candidate_rank

),

escalations as (

    select
        attempts.attempt_id,
        count(*) as escalation_events
    from attempts
    inner join escalation_events
        on escalation_events.account_id = attempts.account_id
        and escalation_events.occurred_at >= attempts.started_at
        and escalation_events.occurred_at <= attempts.ended_at
    group by attempts.attempt_id

),

completion_events as (

    select
        event_id,
        change_id
    from funnel_events
    where step_index = {{ n_steps }}

),

final as (

    select
        attempts.attempt_id,
        attempts.account_id,
        attempts.started_at,
        {{ month_of('attempts.started_at') }} as attempt_month,
        attempts.window_end_at,
        attempts.ended_at,
        attempts.last_step_index,
        case attempts.last_step_index
            {%- for step in steps %}
            when {{ loop.index }} then '{{ step }}'
            {%- endfor %}
        end as last_step,
        {%- for k in range(2, n_steps + 1) %}
        attempts.step_{{ k }}_reached_at,
        {%- endfor %}
        attempts.last_step_index = {{ n_steps }} as is_completed,
        case when attempts.last_step_index = {{ n_steps }} then attempts.ended_at end as completed_at,
        attempts.completion_event_id,
        completion_events.change_id as completion_change_id,
        coalesce(escalations.escalation_events, 0) > 0 as is_escalated,
        case
            when attempts.last_step_index = {{ n_steps }}
                and coalesce(escalations.escalation_events, 0) = 0
                then 'completed_self_serve'
            when attempts.last_step_index = {{ n_steps }} then 'completed_assisted'
            when attempts.window_end_at > as_of.as_of then 'in_progress'
            when coalesce(escalations.escalation_events, 0) > 0 then 'escalated'
            else 'abandoned'
        end as outcome
    from attempts
    cross join as_of
    left join escalations
        on escalations.attempt_id = attempts.attempt_id
    left join completion_events
        on completion_events.event_id = attempts.completion_event_id

)

select * from final
