{#- Layers get their own schema. DuckDB: the layer name as is (`staging`, `marts`, next to `raw`).
    BigQuery: prefixed with the target dataset (`edgarflow_marts`, next to `edgarflow_raw`),
    so several environments can share one project. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.type == 'bigquery' -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
