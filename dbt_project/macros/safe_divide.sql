{#- numerator / denominator, null when the denominator is zero or null. In double precision on
    both engines: DuckDB divides two decimals in DOUBLE, BigQuery divides NUMERIC by NUMERIC in
    NUMERIC with its own rounding, so the same ratio would differ in its last digits. -#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0)
{%- endmacro %}
