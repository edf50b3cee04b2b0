{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- The latest value of the balances valuations use (shares outstanding, cash, debt) and of
-- fiscal-year depreciation and amortization, as known from each date a company filed one until
-- the next: per company and metric, a row per filing date with the value of the latest period
-- (then the latest filed version) among everything filed on or before that date. An as-of date D
-- reads the row with known_from_date <= D < known_to_date. Share counts are the filings' own
-- (int_signals__share_counts_filed: cover page first, no foreign private issuers' forms).

{%- set balances = ['cash', 'long_term_debt', 'short_term_debt', 'long_term_debt_current',
                    'short_term_borrowings', 'commercial_paper'] %}
{%- set annual_flows = ['depreciation_amortization'] %}

with

candidates as (

    select
        cik,
        metric,
        value,
        unit,
        period_end,
        form,
        filed_date,
        accession_number,
        -- Only a filing's latest period can ever be the latest known value.
        row_number() over (
            partition by cik, metric, accession_number
            order by period_end desc
        ) as period_rank
    from {{ ref('fct_financial_statements') }}
    where {{ changed_filers() }}
      and (
        (metric in ('{{ balances | join("', '") }}') and period_start is null)
        or (metric in ('{{ annual_flows | join("', '") }}') and fiscal_period = 'FY')
    )

    union all

    select
        cik,
        'shares_outstanding' as metric,
        shares as value,
        'shares' as unit,
        count_date as period_end,
        form,
        filed_date,
        accession_number,
        1 as period_rank
    from {{ ref('int_signals__share_counts_filed') }}
    where {{ changed_filers() }}

),

filed as (

    select * from candidates
    where period_rank = 1

),

knowledge_dates as (

    select distinct cik, metric, filed_date as known_from_date
    from filed

),

known as (

    select
        knowledge_dates.known_from_date,
        filed.*,
        row_number() over (
            partition by knowledge_dates.cik, knowledge_dates.metric, knowledge_dates.known_from_date
            order by filed.period_end desc, filed.filed_date desc, filed.accession_number desc
        ) as recency
    from knowledge_dates
    inner join filed
        on filed.cik = knowledge_dates.cik
        and filed.metric = knowledge_dates.metric
        and filed.filed_date <= knowledge_dates.known_from_date

)

select
    cik,
    metric,
    value,
    unit,
    period_end,
    form,
    filed_date,
    accession_number,
    known_from_date,
    lead(known_from_date) over (partition by cik, metric order by known_from_date) as known_to_date
from known
where recency = 1
