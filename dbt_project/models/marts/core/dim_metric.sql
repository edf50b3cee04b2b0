-- The canonical metrics of fct_financial_statements, from seed metric_map, with the XBRL tags
-- that feed each one in priority order (the first one a filing reports wins).

with

metric_map as (

    select * from {{ ref('metric_map') }}

),

metrics as (

    select
        metric,
        statement,
        period_type,
        unit_type,
        {{ dbt.listagg("concat(taxonomy, ':', tag)", "', '", "order by taxonomy desc, priority, tag") }} as source_tags,
        count(*) as source_tag_count
    from metric_map
    group by metric, statement, period_type, unit_type

),

final as (

    select
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(statement as {{ dbt.type_string() }}) as statement,
        cast(period_type as {{ dbt.type_string() }}) as period_type,
        cast(unit_type as {{ dbt.type_string() }}) as unit_type,
        -- Q4 of these is derived as FY minus nine months when not filed.
        period_type = 'duration' and unit_type = 'currency' as is_additive,
        cast(source_tags as {{ dbt.type_string() }}) as source_tags,
        cast(source_tag_count as {{ dbt.type_bigint() }}) as source_tag_count
    from metrics

)

select * from final
