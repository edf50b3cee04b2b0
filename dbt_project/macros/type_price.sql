{#- Binary floating point of prices and what is computed from them (market value, returns):
    Yahoo's prices are doubles, as in fct_market_data. DuckDB's FLOAT is single precision. -#}
{% macro type_price() -%}
    {{ return(adapter.dispatch('type_price', 'edgarflow')()) }}
{%- endmacro %}

{% macro default__type_price() -%}
    double
{%- endmacro %}

{% macro bigquery__type_price() -%}
    float64
{%- endmacro %}
