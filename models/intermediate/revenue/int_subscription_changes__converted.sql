{#- Each change's MRR delta in the reporting currency, major units (data-contract.md
    fx_rates): converted at the latest rate on or before the change's date; the
    reporting currency converts at 1; without a rate the change is unconverted. -#}
with

{{ import_ctes({
    'changes': ref('int_subscription_changes__revenue'),
    'fx_rates': ref('stg_billing__fx_rates'),
    'currencies': ref('currencies'),
}) }}

candidate_rates as (

    select
        changes.change_id,
        fx_rates.rate_to_reporting,
        row_number() over (
            partition by changes.change_id order by fx_rates.rate_date desc
        ) as rate_rank
    from changes
    inner join fx_rates
        on fx_rates.currency = changes.currency
            and fx_rates.rate_date <= cast(changes.changed_at as date)
    where changes.currency <> {{ sql_string(var("reporting_currency")) }}

),

latest_rates as (

    select
        change_id,
        rate_to_reporting
    from candidate_rates
    where rate_rank = 1

),

final as (

    select
        changes.change_id,
        {{ reporting_rate('changes.currency', 'latest_rates.rate_to_reporting') }}
            as rate_to_reporting,
        {{ to_reporting_currency(
            'changes.mrr_delta', 'changes.currency', 'latest_rates.rate_to_reporting',
            'currencies.minor_unit_exponent'
        ) }} as mrr_delta_reporting
    from changes
    left join latest_rates
        on latest_rates.change_id = changes.change_id
    left join currencies
        on currencies.currency = changes.currency

)

select * from final
