-- Stock splits (and reverse splits) inferred from the share counts a company filed
-- (int_signals__share_counts_filed): between two consecutive dated counts, a jump by a factor of 1.5 to 50 that is
-- within 5% of a whole number (or its inverse) is a split of that ratio somewhere in the window
-- (previous_count_date, count_date]. Yahoo's prices are split-adjusted back from the day they
-- were downloaded, filed share counts are not: these factors put them on one basis
-- (fct_valuation_signals). Deriving them from counts filed later than a valuation date leaks no
-- fundamental: they only undo the adjustment Yahoo applied to past prices.

with

counts as (

    select
        cik,
        count_date,
        shares,
        -- A count date reported twice (an amendment): the first report.
        row_number() over (
            partition by cik, count_date
            order by filed_date, accession_number
        ) as version
    from {{ ref('int_signals__share_counts_filed') }}

),

consecutive as (

    select
        cik,
        lag(count_date) over by_date as previous_count_date,
        lag(shares) over by_date as previous_shares,
        count_date,
        shares
    from counts
    where version = 1
    window by_date as (partition by cik order by count_date)

),

ratios as (

    select
        consecutive.*,
        cast(shares as {{ type_price() }}) / cast(previous_shares as {{ type_price() }}) as share_ratio
    from consecutive
    where previous_shares is not null

),

candidates as (

    select
        ratios.*,
        case
            when share_ratio >= 1.5 and share_ratio <= 50.5 then round(share_ratio)
            when share_ratio <= 1 / 1.5 and share_ratio >= 1 / 50.5 then 1 / round(1 / share_ratio)
        end as split_factor
    from ratios

)

select
    cik,
    previous_count_date,
    count_date,
    previous_shares,
    shares,
    share_ratio,
    split_factor
from candidates
where split_factor is not null
  and abs(share_ratio / split_factor - 1) <= 0.05
