{#- Double-precision floating point on both engines (dbt's type_float is single precision in
    DuckDB): Yahoo's prices and what is computed from them (market value, returns), and the
    divisions of safe_divide. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'edgarflow')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
