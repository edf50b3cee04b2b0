{#- BigQuery: a mart partitioned by month of a date column (daily partitions would pass the
    4,000-partition cap over decades of filings and prices). DuckDB has no such layout: none. -#}
{% macro month_partitions(field) -%}
    {%- if target.type == 'bigquery' -%}
        {{ return({"field": field, "data_type": "date", "granularity": "month"}) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
