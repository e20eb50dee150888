{#- Generic test: one column is not after another in the same row (nulls pass). -#}
{% test not_after(model, column_name, other_column, strict=false) %}

select *
from {{ model }}
where {{ column_name }} {{ '>=' if strict else '>' }} {{ other_column }}

{% endtest %}
