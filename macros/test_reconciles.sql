{#- Generic test: a total column equals the sum of its parts on every row. -#}
{% test reconciles(model, total, parts) %}

select *
from {{ model }}
where {{ total }} <> {{ parts | join(' + ') }}

{% endtest %}
