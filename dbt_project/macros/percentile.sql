{#- Continuous percentile (linear interpolation, nulls ignored) of `expr` over the rows sharing
    `partition_by`, as a window function: exact and identical on both warehouses. BigQuery's
    PERCENTILE_CONT is analytic only (its aggregate APPROX_QUANTILES is approximate and does not
    interpolate), so callers aggregate the constant per-partition value afterwards.
    Interpolated in double precision on both engines, like safe_divide's ratios.
    `fraction` is a literal in [0, 1]; `partition_by` a list of column names. -#}
{% macro percentile_over(expr, fraction, partition_by) -%}
    {{ return(adapter.dispatch('percentile_over', 'edgarflow')(expr, fraction, partition_by)) }}
{%- endmacro %}

{% macro default__percentile_over(expr, fraction, partition_by) -%}
    quantile_cont(cast({{ expr }} as {{ type_double() }}), {{ fraction }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}

{% macro bigquery__percentile_over(expr, fraction, partition_by) -%}
    percentile_cont(cast({{ expr }} as {{ type_double() }}), {{ fraction }}) over (partition by {{ partition_by | join(', ') }})
{%- endmacro %}
