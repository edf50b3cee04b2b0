-- The canonical metrics of fct_financial_statements (seed metric_definitions), with the XBRL
-- tags that feed each one in priority order (seed metric_tags) and the derivations that stand in
-- when a filing tags none of them (seed metric_derivations).

with

definitions as (

    select * from {{ ref('metric_definitions') }}

),

tags as (

    select
        metric,
        {{ dbt.listagg("concat(taxonomy, ':', tag)", "', '", "order by taxonomy desc, priority, tag") }} as source_tags,
        count(*) as source_tag_count
    from {{ ref('metric_tags') }}
    group by metric

),

operands as (

    select
        metric,
        derivation,
        priority,
        {{ dbt.listagg(
            "concat(case when weight < 0 then '- ' else '+ ' end, operand)",
            "' '",
            "order by weight desc, operand"
        ) }} as signed_operands
    from {{ ref('metric_derivations') }}
    group by metric, derivation, priority

),

derivations as (

    select
        metric,
        {{ dbt.listagg(
            "concat(derivation, ' = ', substr(signed_operands, 3))",
            "'; '",
            "order by priority, derivation"
        ) }} as derivations
    from operands
    group by metric

),

final as (

    select
        cast(definitions.metric as {{ dbt.type_string() }}) as metric,
        cast(definitions.statement as {{ dbt.type_string() }}) as statement,
        cast(definitions.period_type as {{ dbt.type_string() }}) as period_type,
        cast(definitions.unit_type as {{ dbt.type_string() }}) as unit_type,
        cast(definitions.description as {{ dbt.type_string() }}) as description,
        -- Q4 of these is derived as FY minus nine months when not filed.
        definitions.period_type = 'duration' and definitions.unit_type = 'currency' as is_additive,
        definitions.sign = 'non_negative' as is_non_negative,
        cast(tags.source_tags as {{ dbt.type_string() }}) as source_tags,
        cast(tags.source_tag_count as {{ dbt.type_bigint() }}) as source_tag_count,
        cast(derivations.derivations as {{ dbt.type_string() }}) as derivations
    from definitions
    inner join tags
        on definitions.metric = tags.metric
    left join derivations
        on definitions.metric = derivations.metric

)

select * from final
