{#- One row per account: attributes, activation, maturity and post-activation
    self-serve conversion (metrics.md "Post-activation self-serve upgrade rate"). -#}
with

accounts as (

    select * from {{ ref('int_accounts__activation') }}

),

final as (

    select * from accounts

)

select * from final
