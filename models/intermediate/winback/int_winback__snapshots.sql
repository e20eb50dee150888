{#- Who the win-back model is about, at each snapshot (docs/winback.md "Snapshots"):
    accounts activated at or before the cutoff with no upgrade (mrr_delta > 0) at or
    before it. At the scoring snapshot (as_of) that is every such account (the list of
    the `winback` command); at the training snapshots, the accounts of a bounded,
    deterministic sample: activated accounts in the order of a hash of their id, taken
    while their training snapshots add up to at most `winback_max_training_rows`
    (whatever the size of the warehouse). An account beyond the bound in that order
    changes nothing in the sample (unit tests in _winback__models.yml).
    The label of a training snapshot: a self_serve upgrade with changed_at in
    (cutoff, cutoff + horizon_days], which ends at or before as_of (fully observed).
    The scoring snapshot has no label (null). snapshot_id numbers the snapshots (oldest
    cutoff first, then by account). -#}
{%- set horizon = var('horizon_days') | int -%}
{%- set max_rows = var('winback_max_training_rows') | int -%}
with

{{ import_ctes({
    'accounts': ref('dim_accounts'),
    'changes': ref('fct_subscription_changes'),
    'cutoffs': ref('int_winback__cutoffs'),
}) }}

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

candidates as (

    select
        activated.account_id,
        activated.activated_at,
        cutoffs.cutoff_at,
        cutoffs.cutoff_offset_days,
        cutoffs.is_scoring
    from activated
    cross join cutoffs
    where activated.activated_at <= cutoffs.cutoff_at
        and (
            activated.first_upgrade_at is null
            or activated.first_upgrade_at > cutoffs.cutoff_at
        )

),

training_rows as (

    select
        account_id,
        count(*) as n_snapshots
    from candidates
    where not is_scoring
    group by account_id

),

training_sample as (

    select
        account_id
    from (
        select
            account_id,
            sum(n_snapshots) over (
                order by {{ dbt.hash('account_id') }}, account_id
                rows between unbounded preceding and current row
            ) as rows_through
        from training_rows
    ) as ranked
    where rows_through <= {{ max_rows }}

),

eligible as (

    select candidates.*
    from candidates
    left join training_sample
        on training_sample.account_id = candidates.account_id
    where candidates.is_scoring or training_sample.account_id is not null

),

outcomes as (

    select
        eligible.account_id,
        eligible.cutoff_at,
        min(changes.changed_at) as upgraded_at
    from eligible
    inner join changes
        on changes.account_id = eligible.account_id
            and {{ is_self_serve_upgrade('changes') }}
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
