-- Financial statements, every version as filed: one row per company, metric, fiscal period
-- and filing (accession). Versions of a value are the rows of one company, metric, fiscal period,
-- period_start and period_end. "What did we know on date D": the rows with filed_date <= D,
-- latest filed per period. "Latest value": is_latest. Fiscal periods come from each fact's own dates
-- (intermediate/facts/int_facts__fiscal_periods_assigned.sql); Q4 of flow metrics is derived
-- where not filed (is_derived, intermediate/financials/int_financials__q4_derived.sql).

with

filed as (

    select
        cik,
        metric,
        fiscal_year,
        fiscal_period,
        period_start,
        period_end,
        value,
        unit,
        taxonomy,
        tag,
        accession_number,
        form,
        filed_date,
        false as is_derived
    from {{ ref('int_facts__best_tag_selected') }}
    where fiscal_period in ('FY', 'Q1', 'Q2', 'Q3', 'Q4')

),

derived as (

    select
        cik,
        metric,
        fiscal_year,
        fiscal_period,
        period_start,
        period_end,
        value,
        unit,
        taxonomy,
        tag,
        accession_number,
        form,
        filed_date,
        true as is_derived
    from {{ ref('int_financials__q4_derived') }}

),

statements as (

    select * from filed
    union all
    select * from derived

),

versioned as (

    select
        statements.*,
        row_number() over (
            partition by cik, metric, fiscal_year, fiscal_period, period_start, period_end
            order by filed_date, accession_number
        ) = 1 as is_first_reported,
        row_number() over (
            partition by cik, metric, fiscal_year, fiscal_period, period_start, period_end
            order by filed_date desc, accession_number desc
        ) = 1 as is_latest
    from statements

),

final as (

    select
        ----- ids
        cast(cik as {{ dbt.type_string() }}) as cik,
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(fiscal_year as {{ dbt.type_bigint() }}) as fiscal_year,
        cast(fiscal_period as {{ dbt.type_string() }}) as fiscal_period,

        ----- period
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,

        ----- numerics
        cast(value as {{ type_value() }}) as value,
        cast(unit as {{ dbt.type_string() }}) as unit,

        ----- lineage: the filing and XBRL tag every number comes from
        cast(concat(taxonomy, ':', tag) as {{ dbt.type_string() }}) as source_tag,
        cast(accession_number as {{ dbt.type_string() }}) as accession_number,
        cast(form as {{ dbt.type_string() }}) as form,
        cast(filed_date as date) as filed_date,

        ----- version flags
        is_first_reported,
        is_latest,
        is_derived

    from versioned

)

select * from final
