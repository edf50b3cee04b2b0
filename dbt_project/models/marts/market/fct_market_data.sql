{{ config(partition_by=month_partitions('trade_date')) }}
-- Daily market data: one row per ticker and trading day, with the company (cik) the ticker
-- belongs to. Prices as Yahoo reports them: open/high/low/close split-adjusted, adj_close also
-- dividend-adjusted. Rows backfilled from Yahoo CSVs have null dividend and split_ratio.

with

prices as (

    select * from {{ ref('stg_market__prices') }}

)

select
    ticker,
    cik,
    trade_date,
    open,
    high,
    low,
    close,
    adj_close,
    volume,
    dividend,
    split_ratio
from prices
