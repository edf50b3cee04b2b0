{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- One share count per filing that reports one: the cover page's dei:EntityCommonStockSharesOutstanding
-- when the filing has it (dated weeks after the balance sheet, so the freshest, and free of the
-- scaling slips some balance sheets carry: Apple's 10-Q of 2014-04-24 tagged 861,745 shares, in
-- thousands), else the filing's latest balance-sheet count (us-gaap:CommonStockSharesOutstanding).
-- Foreign private issuers' forms are left out (var foreign_issuer_forms): their counts are of
-- ordinary shares, while the US listing is often an ADR of several (TSMC: 1 ADR = 5 shares).
-- Multi-class filers that tag their counts only per class (with XBRL dimensions, which
-- companyfacts omits) have none.

with

counts as (

    select
        cik,
        accession_number,
        form,
        filed_date,
        period_end,
        value,
        concat(taxonomy, ':', tag) as source_tag,
        row_number() over (
            partition by cik, accession_number
            order by case when taxonomy = 'dei' then 0 else 1 end, period_end desc, value desc
        ) as count_rank
    from {{ ref('int_facts__mapped_to_metrics') }}
    where {{ changed_filers() }}
      and metric = 'shares_outstanding'
      and value > 0
      and form not in (select form from {{ ref('sec_forms') }} where is_foreign_issuer)

)

select
    cik,
    accession_number,
    form,
    filed_date,
    period_end as count_date,
    value as shares,
    source_tag
from counts
where count_rank = 1
