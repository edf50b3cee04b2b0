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


{#- A FLOAT64 value (as staged) to the exact decimal it was filed as. -#}
{% macro to_value(float_expr) -%}
    {{ return(adapter.dispatch('to_value', 'edgarflow')(float_expr)) }}
{%- endmacro %}

{% macro default__to_value(float_expr) -%}
    cast({{ float_expr }} as {{ type_value() }})
{%- endmacro %}

{#- DuckDB scales the binary double by 10^9 in floating point (383285000000.0 would become
    383284999999.999967232); its shortest text form is the decimal that was filed. -#}
{% macro duckdb__to_value(float_expr) -%}
    cast(cast({{ float_expr }} as varchar) as {{ type_value() }})
{%- endmacro %}
