{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Facts of the tags in seed metric_tags, from financial reports, in a unit that fits the
-- metric (seed metric_definitions): a currency code (USD, TWD, ...), a currency per share
-- (USD/shares), or shares; and of the metric's period type (a duration has a start, an instant
-- has none). A payment (sign non_negative) is its absolute value: filers present capex as a
-- positive payment or as a negative cash flow, and int_facts__sign_flips reports filings that
-- disagree about the same fact.

with

facts as (

    select * from {{ ref('stg_edgar__facts') }}
    where {{ changed_filers() }}
      and form in (select form from {{ ref('sec_forms') }} where is_financial_report)

),

tag_map as (

    select
        metric_tags.metric,
        metric_tags.taxonomy,
        metric_tags.tag,
        metric_tags.priority,
        metric_definitions.period_type,
        metric_definitions.unit_type,
        metric_definitions.sign
    from {{ ref('metric_tags') }} as metric_tags
    inner join {{ ref('metric_definitions') }} as metric_definitions
        on metric_tags.metric = metric_definitions.metric

),

mapped as (

    select
        facts.cik,
        facts.accession_number,
        tag_map.metric,
        tag_map.priority,
        tag_map.period_type,
        tag_map.unit_type,
        facts.taxonomy,
        facts.tag,
        facts.unit,
        case tag_map.unit_type
            when 'currency' then facts.unit
            when 'per_share' then substr(facts.unit, 1, 3)
        end as currency,
        case
            when tag_map.sign = 'non_negative' then abs({{ to_value("facts.value") }})
            else {{ to_value("facts.value") }}
        end as value,
        facts.period_start,
        facts.period_end,
        facts.form,
        facts.filed_date
    from facts
    inner join tag_map
        on facts.taxonomy = tag_map.taxonomy
        and facts.tag = tag_map.tag

),

fitting as (

    select *
    from mapped
    where (period_type = 'instant') = (period_start is null)
      and (
          (unit_type = 'currency' and length(unit) = 3 and upper(unit) = unit)
          or (unit_type = 'per_share' and length(unit) = 10 and substr(unit, 4) = '/shares'
              and upper(substr(unit, 1, 3)) = substr(unit, 1, 3))
          or (unit_type = 'shares' and unit = 'shares')
      )

)

select * from fitting
