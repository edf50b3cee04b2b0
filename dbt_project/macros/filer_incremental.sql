{#- Incremental by filer: a model of per-company rows rebuilds only the companies loaded since the
    last complete build. edgar's raw load records each company it loads in edgar_filer_loads;
    build_marts passes the window of loads since its last complete build as the vars
    filers_loaded_after and filers_loaded_through (ingest/warehouse/changes.py).

    A model opts in with
        {{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
    and filters each per-company input with `where {{ changed_filers() }}`: the pre-hook deletes
    the window's companies, the model's select inserts them again. Without the vars (`dbt build`
    by hand) the window is every company; `--full-refresh` recreates the table. The strategy
    (append on DuckDB, merge with no key, i.e. insert, on BigQuery) is set in dbt_project.yml. -#}

{#- Without the vars nothing is asked of the warehouse, so `dbt compile --no-introspect` works;
    a unit test has no relation (`this` is none) and tests the full build's select. -#}
{% macro changed_filers(column='cik') -%}
    {%- if var('filers_loaded_after', none) is not none and this is not none and is_incremental() -%}
        {{ column }} in (
            select cik from {{ source('edgar', 'edgar_filer_loads') }}
            where loaded_at > cast('{{ var("filers_loaded_after") }}' as timestamp)
              and loaded_at <= cast('{{ var("filers_loaded_through") }}' as timestamp)
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro delete_changed_filers() -%}
    {%- if this is not none and is_incremental() -%}
        delete from {{ this }} where {{ changed_filers() }}
    {%- endif -%}
{%- endmacro %}
