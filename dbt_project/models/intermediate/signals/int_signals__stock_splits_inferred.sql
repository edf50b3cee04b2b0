{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Stock splits (and reverse splits) inferred from the share counts a company filed
-- (int_signals__share_counts_filed): between two consecutive dated counts, a jump by a factor of
-- 1.25 to 50 that is a simple fraction n/d (d <= 4: 5-for-4, 3-for-2, 2-for-1, 10-for-1, ...),
-- within 5% of a whole number or 2% of a fraction, is a split of that ratio somewhere in the
-- window (previous_count_date, count_date]; a fall by the inverse is a reverse split. The
-- smallest denominator that fits wins, so 2.0 is 2-for-1, never 4-for-2. A share issuance
-- (1.05x, 1.3x) fits no such fraction. Yahoo's prices are split-adjusted back from the day they
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
    where {{ changed_filers() }}

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
        cast(shares as {{ type_double() }}) / cast(previous_shares as {{ type_double() }}) as share_ratio
    from consecutive
    where previous_shares is not null

),

denominators as (

    select 1 as denominator
    union all select 2
    union all select 3
    union all select 4

),

fitted as (

    select
        ratios.*,
        denominators.denominator,
        round(jump * denominators.denominator) as numerator
    from (
        select
            ratios.*,
            case when share_ratio >= 1 then share_ratio else 1 / share_ratio end as jump
        from ratios
    ) as ratios
    cross join denominators

),

candidates as (

    select
        fitted.*,
        row_number() over (
            partition by cik, count_date
            order by denominator
        ) as fit_rank
    from fitted
    where numerator > denominator
      and numerator / denominator between 1.25 and 50
      and abs(jump / (numerator / denominator) - 1)
          <= case when denominator = 1 then 0.05 else 0.02 end

)

select
    cik,
    previous_count_date,
    count_date,
    previous_shares,
    shares,
    share_ratio,
    case
        when share_ratio >= 1 then numerator / denominator
        else denominator / numerator
    end as split_factor
from candidates
where fit_rank = 1
