-- One fact per company, metric, fiscal period and filing. Where a filing tags the same period
-- with several tags of one metric, the seed's priority picks: the total (us-gaap:Revenues)
-- beats a part of it (RevenueFromContractWithCustomerExcludingAssessedTax, which leaves out
-- e.g. Ford Credit's financing revenue). Ranking is per filing, so a company that changed tags
-- over the years keeps each filing's own best tag. Then the company's reporting currency beats
-- a convenience translation (TSMC's 20-F gives TWD and USD).

with

facts as (

    select * from {{ ref('int_facts__fiscal_periods_assigned') }}

),

reporting_currencies as (

    select cik, currency
    from (
        select
            cik,
            currency,
            row_number() over (partition by cik order by count(*) desc, currency) as currency_rank
        from facts
        where unit_type = 'currency'
        group by cik, currency
    ) as ranked
    where currency_rank = 1

),

ranked as (

    select
        facts.*,
        row_number() over (
            partition by facts.cik, facts.metric, facts.fiscal_year, facts.fiscal_period, facts.accession_number
            order by
                facts.priority,
                case when facts.currency = reporting_currencies.currency then 0 else 1 end,
                facts.period_end desc,
                facts.value desc
        ) as tag_rank
    from facts
    left join reporting_currencies
        on facts.cik = reporting_currencies.cik

)

select * from ranked
where tag_rank = 1
