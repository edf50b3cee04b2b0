-- Facts of the tags in seed metric_map, from financial reports, in a unit that fits the
-- metric: a currency code (USD, TWD, ...), a currency per share (USD/shares), or shares;
-- and of the metric's period type (a duration has a start, an instant has none).

with

facts as (

    select * from {{ ref('stg_edgar__facts') }}
    where form in (select form from {{ ref('sec_forms') }} where is_financial_report)

),

metric_map as (

    select * from {{ ref('metric_map') }}

),

mapped as (

    select
        facts.cik,
        facts.accession_number,
        metric_map.metric,
        metric_map.priority,
        metric_map.period_type,
        metric_map.unit_type,
        facts.taxonomy,
        facts.tag,
        facts.unit,
        case metric_map.unit_type
            when 'currency' then facts.unit
            when 'per_share' then substr(facts.unit, 1, 3)
        end as currency,
        {{ to_value("facts.value") }} as value,
        facts.period_start,
        facts.period_end,
        facts.form,
        facts.filed_date
    from facts
    inner join metric_map
        on facts.taxonomy = metric_map.taxonomy
        and facts.tag = metric_map.tag

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
