{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Annual values as known when each annual report was filed: one row per company and annual
-- report (10-K, 20-F, 40-F and their amendments) that reports a fiscal year, with, for that
-- fiscal year (t) and the two before it (t-1, t-2), the latest version of each metric filed on
-- or before the report's filing date. Later restatements never leak into earlier as-of points;
-- the report's own comparatives (restated prior years) are used from the report on.

{%- set current = ['revenue', 'cost_of_revenue', 'gross_profit', 'operating_income', 'net_income',
                   'eps_diluted', 'weighted_shares_diluted', 'total_assets', 'current_assets',
                   'current_liabilities', 'long_term_debt', 'short_term_debt', 'stockholders_equity',
                   'total_equity', 'total_liabilities', 'liabilities_and_equity', 'retained_earnings',
                   'operating_cash_flow', 'capex'] %}
{%- set prior = ['revenue', 'cost_of_revenue', 'gross_profit', 'net_income', 'eps_diluted',
                 'weighted_shares_diluted', 'total_assets', 'current_assets', 'current_liabilities',
                 'long_term_debt', 'stockholders_equity', 'operating_cash_flow'] %}
{%- set prior2 = ['total_assets'] %}

with

statements as (

    select * from {{ ref('fct_financial_statements') }}
    where {{ changed_filers() }}
      and fiscal_period = 'FY'

),

annual_reports as (

    select
        cik,
        accession_number,
        form,
        filed_date,
        max(fiscal_year) as fiscal_year
    from statements
    where period_start is not null
      and form in (select form from {{ ref('sec_forms') }} where is_annual_report)
    group by cik, accession_number, form, filed_date

),

known as (

    select
        annual_reports.cik,
        annual_reports.accession_number as as_of_accession_number,
        annual_reports.form as as_of_form,
        annual_reports.filed_date as as_of_date,
        annual_reports.fiscal_year,
        annual_reports.fiscal_year - statements.fiscal_year as years_back,
        statements.metric,
        statements.value,
        statements.unit,
        statements.period_end,
        row_number() over (
            partition by annual_reports.cik, annual_reports.accession_number,
                statements.metric, statements.fiscal_year
            order by statements.filed_date desc, statements.accession_number desc
        ) as recency
    from annual_reports
    inner join statements
        on statements.cik = annual_reports.cik
        and statements.fiscal_year between annual_reports.fiscal_year - 2 and annual_reports.fiscal_year
        and statements.filed_date <= annual_reports.filed_date

),

pivoted as (

    select
        cik,
        as_of_accession_number,
        as_of_form,
        as_of_date,
        fiscal_year,
        max(case when years_back = 0 and metric = 'revenue' then unit end) as currency,
        max(case when years_back = 0 then period_end end) as period_end,
        {%- for metric in current %}
        max(case when years_back = 0 and metric = '{{ metric }}' then value end) as {{ metric }},
        {%- endfor %}
        {%- for metric in prior %}
        max(case when years_back = 1 and metric = '{{ metric }}' then value end) as {{ metric }}_prior,
        {%- endfor %}
        {%- for metric in prior2 %}
        max(case when years_back = 2 and metric = '{{ metric }}' then value end) as {{ metric }}_prior2{{ ',' if not loop.last }}
        {%- endfor %}
    from known
    where recency = 1
    group by cik, as_of_accession_number, as_of_form, as_of_date, fiscal_year

)

select * from pivoted
