{#- A business invariant that every row must satisfy, e.g. `not is_derived or fiscal_period = 'Q4'`. -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
