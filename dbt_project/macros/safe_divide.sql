{#- numerator / denominator, null when the denominator is zero or null (both warehouses). -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
