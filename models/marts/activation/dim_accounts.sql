{#- One row per account: attributes, activation, maturity and post-activation
    self-serve conversion (metrics.md "Post-activation self-serve upgrade rate"). -#}
{{ pass_through(ref('int_accounts__activation'), 'accounts') }}
