{#- Who the win-back model is about, at each snapshot (docs/winback.md "Snapshots"):
    accounts activated at or before the cutoff with no upgrade (mrr_delta > 0) at or
    before it. At the scoring snapshot (as_of) that is every such account (the list of
    the `winback` command); at the training snapshots, the accounts of a deterministic
    sample (the first `winback_max_training_accounts` activated accounts in the order of
    a hash of their id; all of them in most warehouses).
    The label of a training snapshot: a self_serve upgrade with changed_at in
    (cutoff, cutoff + horizon_days], which ends at or before as_of (fully observed).
    The scoring snapshot has no label (null). snapshot_id numbers the snapshots (oldest
    cutoff first, then by account). -#}
{%- set horizon = var('horizon_days') | int -%}
{%- set max_accounts = var('winback_max_training_accounts') | int -%}
with

accounts as (

    select * from {{ ref('dim_accounts') }}

),

changes as (

    select * from {{ ref('fct_subscription_changes') }}

),

cutoffs as (

    select * from {{ ref('int_winback__cutoffs') }}

),

first_upgrades as (

    select
        changes.account_id,
        min(changes.changed_at) as first_upgrade_at
    from changes
    where changes.is_upgrade
    group by changes.account_id

),

activated as (

    select
        accounts.account_id,
        accounts.activated_at,
        first_upgrades.first_upgrade_at
    from accounts
    left join first_upgrades
        on first_upgrades.account_id = accounts.account_id
    where accounts.activated_at is not null

),

training_sample as (

    select
        account_id
    from (
        select
            account_id,
            row_number() over (order by {{ dbt.hash('account_id') }}, account_id) as sample_rank
        from activated
    ) as ranked
    where sample_rank <= {{ max_accounts }}

),

candidates as (

    select
        activated.account_id,
        activated.activated_at,
        activated.first_upgrade_at,
        cutoffs.cutoff_at,
        cutoffs.cutoff_offset_days,
        cutoffs.is_scoring
    from activated
    cross join cutoffs
    where cutoffs.is_scoring

    union all

    select
        activated.account_id,
        activated.activated_at,
        activated.first_upgrade_at,
        cutoffs.cutoff_at,
        cutoffs.cutoff_offset_days,
        cutoffs.is_scoring
    from activated
    inner join training_sample
        on training_sample.account_id = activated.account_id
    cross join cutoffs
    where not cutoffs.is_scoring

),

eligible as (

    select *
    from candidates
    where activated_at <= cutoff_at
        and (first_upgrade_at is null or first_upgrade_at > cutoff_at)

),

outcomes as (

    select
        eligible.account_id,
        eligible.cutoff_at,
        min(changes.changed_at) as upgraded_at
    from eligible
    inner join changes
        on changes.account_id = eligible.account_id
            and changes.is_upgrade
            and changes.channel = 'self_serve'
            and changes.changed_at > eligible.cutoff_at
            and changes.changed_at <= {{ dbt.dateadd('day', horizon, 'eligible.cutoff_at') }}
    where not eligible.is_scoring
    group by eligible.account_id, eligible.cutoff_at

),

final as (

    select
        -- bigint on every engine (Spark's row_number is an int, DuckDB's a bigint)
        cast(row_number() over (
            order by eligible.cutoff_offset_days desc, eligible.account_id
        ) as {{ dbt.type_bigint() }}) as snapshot_id,
        eligible.account_id,
        eligible.cutoff_at,
        eligible.cutoff_offset_days,
        eligible.is_scoring,
        eligible.activated_at,
        case
            when eligible.is_scoring then cast(null as {{ dbt.type_boolean() }})
            else outcomes.upgraded_at is not null
        end as upgraded_within_horizon,
        outcomes.upgraded_at as self_serve_upgrade_at
    from eligible
    left join outcomes
        on outcomes.account_id = eligible.account_id
            and outcomes.cutoff_at = eligible.cutoff_at

)

select * from final
