{#- Exact decimal type of financial values: XBRL values are decimals, and derived figures
    (Q4 = FY - nine months) must not pick up binary floating-point noise.
    BigQuery NUMERIC is (38, 9); DuckDB's bare DECIMAL would be (18, 3), too coarse for EPS. -#}
{% macro type_value() -%}
    {{ return(adapter.dispatch('type_value', 'edgarflow')()) }}
{%- endmacro %}

{% macro default__type_value() -%}
    decimal(38, 9)
{%- endmacro %}

{% macro bigquery__type_value() -%}
    numeric
{%- endmacro %}


{#- A staged value (the exact decimal as filed, decimal(38, 9) in the raw table) as the marts' type. -#}
{% macro to_value(expr) -%}
    cast({{ expr }} as {{ type_value() }})
{%- endmacro %}
