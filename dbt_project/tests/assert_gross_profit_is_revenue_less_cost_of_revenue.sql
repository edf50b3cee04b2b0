{{ config(severity='warn') }}
-- Where one filing reports all three for a period, gross profit = revenue - cost of revenue
-- within 1%. A warning, not an error: it flags a tag mapped to the wrong line for a filer.
with

latest as (

    select cik, fiscal_year, fiscal_period, accession_number, metric, value
    from {{ ref('fct_financial_statements') }}
    where metric in ('revenue', 'cost_of_revenue', 'gross_profit')
      and not is_derived

),

pivoted as (

    select
        cik,
        fiscal_year,
        fiscal_period,
        accession_number,
        max(case when metric = 'revenue' then value end) as revenue,
        max(case when metric = 'cost_of_revenue' then value end) as cost_of_revenue,
        max(case when metric = 'gross_profit' then value end) as gross_profit
    from latest
    group by cik, fiscal_year, fiscal_period, accession_number

)

select *
from pivoted
where abs(revenue - cost_of_revenue - gross_profit) > 0.01 * abs(revenue)
