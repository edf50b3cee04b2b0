{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Source anomalies: a later filing that reports the same tag, unit and period as an earlier one
-- with the same amount and the opposite sign (Southwest's 2008 capex of 923M, filed as -923M in
-- a later 10-K). One row per fact and pair of filings: the first filing of each sign. The marts
-- keep payments (capex, dividends, buybacks) non-negative by definition; the sign_flips monitor
-- of warehouse_build reports every row here as a warning naming both accessions.

with

tags as (

    select distinct metric, taxonomy, tag from {{ ref('metric_tags') }}

),

facts as (

    select
        tags.metric,
        facts.cik,
        facts.taxonomy,
        facts.tag,
        facts.unit,
        facts.period_start,
        facts.period_end,
        {{ to_value("facts.value") }} as value,
        facts.accession_number,
        facts.form,
        facts.filed_date
    from {{ ref('stg_edgar__facts') }} as facts
    inner join tags
        on facts.taxonomy = tags.taxonomy
        and facts.tag = tags.tag
    where {{ changed_filers('facts.cik') }}
      and facts.form in (select form from {{ ref('sec_forms') }} where is_financial_report)

),

first_of_each_sign as (

    select *
    from (
        select
            facts.*,
            row_number() over (
                partition by metric, cik, taxonomy, tag, unit, period_start, period_end, value
                order by filed_date, accession_number
            ) as filing_rank
        from facts
        where value <> 0
    ) as ranked
    where filing_rank = 1

),

flips as (

    select
        positive.*,
        negative.value as negative_value,
        negative.accession_number as negative_accession_number,
        negative.form as negative_form,
        negative.filed_date as negative_filed_date
    from first_of_each_sign as positive
    inner join first_of_each_sign as negative
        on negative.metric = positive.metric
        and negative.cik = positive.cik
        and negative.taxonomy = positive.taxonomy
        and negative.tag = positive.tag
        and negative.unit = positive.unit
        and negative.period_start is not distinct from positive.period_start
        and negative.period_end = positive.period_end
        and negative.value = -positive.value
    where positive.value > 0

),

ordered as (

    select
        cik,
        metric,
        concat(taxonomy, ':', tag) as source_tag,
        unit,
        period_start,
        period_end,
        case when filed_date <= negative_filed_date then value else negative_value end as first_value,
        case when filed_date <= negative_filed_date then accession_number else negative_accession_number end
            as first_accession_number,
        case when filed_date <= negative_filed_date then filed_date else negative_filed_date end as first_filed_date,
        case when filed_date <= negative_filed_date then negative_value else value end as flipped_value,
        case when filed_date <= negative_filed_date then negative_accession_number else accession_number end
            as flipped_accession_number,
        case when filed_date <= negative_filed_date then negative_form else form end as flipped_form,
        case when filed_date <= negative_filed_date then negative_filed_date else filed_date end as flipped_filed_date
    from flips

)

select
    cast(cik as {{ dbt.type_string() }}) as cik,
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(source_tag as {{ dbt.type_string() }}) as source_tag,
    cast(unit as {{ dbt.type_string() }}) as unit,
    cast(period_start as date) as period_start,
    cast(period_end as date) as period_end,
    cast(first_value as {{ type_value() }}) as first_value,
    cast(first_accession_number as {{ dbt.type_string() }}) as first_accession_number,
    cast(first_filed_date as date) as first_filed_date,
    cast(flipped_value as {{ type_value() }}) as flipped_value,
    cast(flipped_accession_number as {{ dbt.type_string() }}) as flipped_accession_number,
    cast(flipped_form as {{ dbt.type_string() }}) as flipped_form,
    cast(flipped_filed_date as date) as flipped_filed_date
from ordered
