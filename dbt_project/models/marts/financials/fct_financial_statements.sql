{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}", partition_by=month_partitions('period_end')) }}
-- Financial statements, every version as filed: one row per company, metric, fiscal period
-- and filing (accession). The versions of a value are the rows of one company, metric, fiscal
-- year and fiscal period, whatever dates each filing gave it (a 10-Q may date the prior year-end
-- balance sheet a day or two off the 10-K's). "What did we know on date D": the rows with
-- filed_date <= D, latest filed per period. "Latest value": is_latest (any form, so a later 8-K
-- recast or 10-Q restatement wins); "latest annual report": is_latest_annual_report. Fiscal
-- periods come from each fact's own dates (intermediate/facts/int_facts__fiscal_periods_assigned.sql).
-- Derived values (is_derived, derivation names the rule): metrics computed from other metrics of
-- the same filing (intermediate/facts/int_facts__metrics_derived.sql) and Q4 of flow metrics
-- where not filed (intermediate/financials/int_financials__q4_derived.sql).

with

values_filed as (

    select
        cik,
        metric,
        fiscal_year,
        fiscal_period,
        period_start,
        period_end,
        value,
        unit,
        source_tag,
        accession_number,
        form,
        filed_date,
        derivation
    from {{ ref('int_facts__metric_values') }}
    where {{ changed_filers() }}
      and fiscal_period in ('FY', 'Q1', 'Q2', 'Q3', 'Q4')

),

q4_derived as (

    select
        cik,
        metric,
        fiscal_year,
        fiscal_period,
        period_start,
        period_end,
        value,
        unit,
        source_tag,
        accession_number,
        form,
        filed_date,
        derivation
    from {{ ref('int_financials__q4_derived') }}
    where {{ changed_filers() }}

),

statements as (

    select * from values_filed
    union all
    select * from q4_derived

),

annual_report_forms as (

    select form from {{ ref('sec_forms') }}
    where is_annual_report

),

versioned as (

    select
        statements.*,
        annual_report_forms.form is not null as is_annual_report,
        row_number() over (
            partition by statements.cik, statements.metric, statements.fiscal_year, statements.fiscal_period
            order by statements.filed_date, statements.accession_number
        ) = 1 as is_first_reported,
        row_number() over (
            partition by statements.cik, statements.metric, statements.fiscal_year, statements.fiscal_period
            order by statements.filed_date desc, statements.accession_number desc
        ) = 1 as is_latest,
        row_number() over (
            partition by statements.cik, statements.metric, statements.fiscal_year, statements.fiscal_period
            order by
                case when annual_report_forms.form is not null then 0 else 1 end,
                statements.filed_date desc,
                statements.accession_number desc
        ) as annual_report_rank
    from statements
    left join annual_report_forms
        on statements.form = annual_report_forms.form

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

        ----- lineage: the filing and XBRL tag(s) every number comes from
        cast(source_tag as {{ dbt.type_string() }}) as source_tag,
        cast(accession_number as {{ dbt.type_string() }}) as accession_number,
        cast(form as {{ dbt.type_string() }}) as form,
        cast(filed_date as date) as filed_date,

        ----- version flags
        is_first_reported,
        is_latest,
        is_annual_report and annual_report_rank = 1 as is_latest_annual_report,
        derivation is not null as is_derived,
        cast(derivation as {{ dbt.type_string() }}) as derivation

    from versioned

)

select * from final
