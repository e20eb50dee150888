{#- Upgrade attempts (metrics.md "Upgrade attempts"), set-based, without recursion:
    1. every step-1 event is a candidate start; for each, walk the ordered steps inside
       its window (step k = first step-k event at or after step k-1 was reached and no
       later than start + window) and find where it would end (completion, else
       start + window);
    2. one pass over start and end markers in time order gives each candidate the
       candidate that would start next (the first step-1 event after its end) and tells
       whether any earlier candidate's attempt is open when it starts;
    3. the real starts are the chain of pointers from each account's first candidate.
       A candidate that starts when no earlier candidate's attempt is open is a real
       start whatever came before (a certain start). It opens a segment, which a chain
       never leaves. In most segments the first attempt covers every later candidate:
       the certain start is the only start. In the others, which candidates are on the
       chain from it is found by pointer doubling: at level j every candidate knows the
       candidate 2^j pointers ahead and the lowest candidate that reaches it in fewer
       than 2^j pointers; it is a real start when that lowest one is the segment's
       first. Each level is one window pass and one group by over those candidates (no
       join, no recursion): the work is their number times the number of levels, and
       each level's SQL refers to the previous level once (engines that inline CTEs,
       like Spark, see a plan that grows linearly). A chain is never longer than its
       segment: segments of up to 2^short_levels candidates go through short_levels
       levels, longer ones through chain_levels levels, which cover up to
       2^chain_levels attempts in one segment; a longer chain stops the build with an
       error rather than give wrong attempts. -#}
{%- set steps = var_list('funnel_steps') -%}
{%- set n_steps = steps | length -%}
{%- set window_days = var('conversion_window_days') | int -%}
{%- set short_levels = 5 -%}
{%- set chain_levels = 20 -%}
{#- Spark builds these CTEs as tables first (macros/spark.sql, spark__create_table_as);
    a tier's last level has its first level's columns and no rows without it. -#}
{%- set long_last = 'long_level_' ~ chain_levels -%}
{{ config(meta={
    'spark_table_ctes': ['segments', 'short_level_' ~ short_levels, 'long_level_0', long_last],
    'spark_empty_if_empty': {long_last: 'long_level_0'},
}) }}
with

{{ import_ctes({
    'funnel_events': ref('int_funnel_events'),
    'events': ref('stg_product__events'),
    'as_of': ref('int_as_of'),
}) }}

escalation_events as (

    select
        events.account_id,
        events.occurred_at
    {{ from_events_named(var_list('escalation_events')) }}

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

{# step_1 is read as step_{{ k }} in the loops below (sqlfluff cannot see it). #}
step_1 as (  -- noqa: ST03

    select
        attempt_id,
        account_id,
        window_end_at,
        started_at as reached_at,
        attempt_id as reached_event_id
    from candidates

),
{% for k in range(2, n_steps + 1) %}
-- Step {{ k }}: the first step-{{ k }} event at or after step {{ k - 1 }} was reached, inside the window.
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

-- One pass over the markers: the starts so far (at an end marker, the next candidate
-- is the one after them) and the candidate attempts open at each start. A candidate
-- that starts when no earlier candidate's attempt is open is a real start whatever
-- came before (a "certain" start).
counted_markers as (

    select
        attempt_id,
        marker_kind,
        sum(case when marker_kind = 0 then 1 else 0 end) over (
            partition by account_id
            order by marker_at, marker_kind
            rows between unbounded preceding and current row
        ) as starts_so_far,
        sum(case when marker_kind = 0 then 1 else -1 end) over (
            partition by account_id
            order by marker_at, marker_kind
            rows between unbounded preceding and current row
        ) as open_attempts
    from markers

),

linked_paths as (

    select
        candidate_paths.*,
        start_markers.open_attempts = 1 as is_certain_start,
        end_markers.starts_so_far + 1 as next_candidate_rank
    from candidate_paths
    inner join counted_markers as start_markers
        on start_markers.attempt_id = candidate_paths.attempt_id
            and start_markers.marker_kind = 0
    inner join counted_markers as end_markers
        on end_markers.attempt_id = candidate_paths.attempt_id
            and end_markers.marker_kind = 1

),

-- Segments: a certain start and the candidates up to the next one. A chain of starts
-- never leaves its segment (its last attempt ends before the next certain start).
segments as (

    select
        linked_paths.*,
        max(case when linked_paths.is_certain_start then linked_paths.candidate_rank end) over (
            partition by linked_paths.account_id
            order by linked_paths.candidate_rank
            rows between unbounded preceding and current row
        ) as segment_start_rank,
        -- The next pointers of certain starts increase with their rank: the running max
        -- is the segment start's.
        max(case when linked_paths.is_certain_start then linked_paths.next_candidate_rank end)
            over (
                partition by linked_paths.account_id
                order by linked_paths.candidate_rank
                rows between unbounded preceding and current row
            ) as segment_start_next_rank,
        coalesce(
            min(case when linked_paths.is_certain_start then linked_paths.candidate_rank end) over (
                partition by linked_paths.account_id
                order by linked_paths.candidate_rank
                rows between 1 following and unbounded following
            ),
            max(linked_paths.candidate_rank) over (
                partition by linked_paths.account_id
            ) + 1
        ) as next_segment_rank
    from linked_paths

),

-- Pointer doubling over the segments where a candidate starts after the first attempt
-- ended (elsewhere the first candidate is the only start). A chain has at most as many
-- candidates as its segment, so segments of up to 2^short_levels candidates (in practice
-- all of them) need short_levels levels; the rare longer ones go through chain_levels.
-- Level 0: each candidate points to the next start inside its segment (jump_rank) and
-- is reached by itself (first_reaching_rank).
chain_roles as (

    select 'self' as chain_role
    union all
    select 'jump' as chain_role

),
{% for tier, levels in [('short', short_levels), ('long', chain_levels)] %}
{{ tier }}_level_0 as (

    select
        account_id,
        candidate_rank,
        segment_start_rank,
        case
            when next_candidate_rank < next_segment_rank then next_candidate_rank
        end as jump_rank,
        candidate_rank as first_reaching_rank
    from segments
    where segment_start_next_rank < next_segment_rank
        and next_segment_rank - segment_start_rank
        {{ '<=' if tier == 'short' else '>' }} {{ 2 ** short_levels }}

),
{% for level in range(1, levels + 1) %}
{%- set previous = tier ~ '_level_' ~ (level - 1) %}
{%- set this = tier ~ '_level_' ~ level %}
-- Level {{ level }}: every candidate meets, in one partition, the candidate it jumps to
-- (its 'jump' row) and the candidates that jump to it (its 'self' row).
{{ this }}_rows as (

    select
        {{ previous }}.account_id,
        {{ previous }}.candidate_rank,
        {{ previous }}.segment_start_rank,
        {{ previous }}.jump_rank,
        {{ previous }}.first_reaching_rank,
        chain_roles.chain_role,
        case
            when chain_roles.chain_role = 'self' then {{ previous }}.candidate_rank
            else {{ previous }}.jump_rank
        end as meeting_rank
    from {{ previous }}
    cross join chain_roles
    where chain_roles.chain_role = 'self'
        or {{ previous }}.jump_rank is not null

),

{{ this }}_met as (

    select
        account_id,
        candidate_rank,
        segment_start_rank,
        chain_role,
        max(case when chain_role = 'self' then jump_rank end) over (
            partition by account_id, meeting_rank
        ) as jump_of_meeting,
        min(first_reaching_rank) over (
            partition by account_id, meeting_rank
        ) as first_reaching_meeting
    from {{ this }}_rows

),

{{ this }} as (

    select
        account_id,
        candidate_rank,
        max(segment_start_rank) as segment_start_rank,
        max(case when chain_role = 'jump' then jump_of_meeting end) as jump_rank,
        min(case when chain_role = 'self' then first_reaching_meeting end)
            as first_reaching_rank
    from {{ this }}_met
    group by account_id, candidate_rank

),
{% endfor %}
{%- endfor %}
chained_starts as (

    select
        account_id,
        candidate_rank
    from short_level_{{ short_levels }}
    where first_reaching_rank = segment_start_rank

    union all

    select
        account_id,
        candidate_rank
    from long_level_{{ chain_levels }}
    where first_reaching_rank = segment_start_rank
        and {{ raise_error_if(
            'jump_rank is not null',
            'int_upgrade_attempts: more than 2^' ~ chain_levels
            ~ ' attempts in a row in one account; raise chain_levels'
        ) }}

),

attempts as (

    select segments.*
    from segments
    left join chained_starts
        on chained_starts.account_id = segments.account_id
            and chained_starts.candidate_rank = segments.candidate_rank
    where segments.is_certain_start
        or chained_starts.candidate_rank is not null

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
            when {{ loop.index }} then {{ sql_string(step) }}
            {%- endfor %}
        end as last_step,
        {%- for k in range(2, n_steps + 1) %}
        attempts.step_{{ k }}_reached_at,
        {%- endfor %}
        attempts.last_step_index = {{ n_steps }} as is_completed,
        case when attempts.last_step_index = {{ n_steps }} then attempts.ended_at end
            as completed_at,
        attempts.completion_event_id,
        completion_events.change_id as completion_change_id,
        coalesce(escalations.escalation_events, 0) > 0 as is_escalated,
        -- Matured (metrics.md): start + window <= as_of, whatever the outcome; the
        -- funnel rates are over matured attempts only.
        attempts.window_end_at <= as_of.as_of as is_matured,
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
