{#- Generic test: a numeric column is not below a bound (nulls pass). -#}
{% test at_least(model, column_name, min_value, exclusive=false) %}

select *
from {{ model }}
where {{ column_name }} {{ '<=' if exclusive else '<' }} {{ min_value }}

{% endtest %}
