{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- One fact per company, metric, fiscal period and filing. Where a filing tags the same period
-- with several tags of one metric, the filing's primary taxonomy wins first: the one most of
-- its mapped facts use (us-gaap on a tie; cover-page dei tags last), so a filer moving from
-- us-gaap to IFRS (or reporting both in a transition year) is read in one taxonomy per filing.
-- Then the seed's priority: the total (us-gaap:Revenues) beats a narrower tag
-- (RevenueFromContractWithCustomerExcludingAssessedTax, which leaves out e.g. Ford Credit's
-- financing revenue). Ranking is per filing, so a company that changed tags over the years keeps
-- each filing's own best tag. Then the company's reporting currency beats a convenience
-- translation (TSMC's 20-F gives TWD and USD).

with

facts as (

    select * from {{ ref('int_facts__fiscal_periods_assigned') }}
    where {{ changed_filers() }}

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

primary_taxonomies as (

    select cik, accession_number, taxonomy
    from (
        select
            cik,
            accession_number,
            taxonomy,
            row_number() over (
                partition by cik, accession_number
                order by count(*) desc, case when taxonomy = 'us-gaap' then 0 else 1 end
            ) as taxonomy_rank
        from facts
        where taxonomy <> 'dei'
        group by cik, accession_number, taxonomy
    ) as ranked
    where taxonomy_rank = 1

),

ranked as (

    select
        facts.*,
        row_number() over (
            partition by facts.cik, facts.metric, facts.fiscal_year, facts.fiscal_period, facts.accession_number
            order by
                case
                    when facts.taxonomy = primary_taxonomies.taxonomy then 0
                    when facts.taxonomy = 'dei' then 2
                    else 1
                end,
                facts.priority,
                case when facts.currency = reporting_currencies.currency then 0 else 1 end,
                facts.period_end desc,
                facts.value desc
        ) as tag_rank
    from facts
    left join reporting_currencies
        on facts.cik = reporting_currencies.cik
    left join primary_taxonomies
        on facts.cik = primary_taxonomies.cik
        and facts.accession_number = primary_taxonomies.accession_number

)

select
    ranked.*,
    concat(taxonomy, ':', tag) as source_tag
from ranked
where tag_rank = 1
