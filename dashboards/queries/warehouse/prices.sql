-- Daily prices with the day's dividend and split, for the company pages' charts.
select ticker, cik, trade_date, close, adj_close, volume, dividend, split_ratio
from {{ marts }}.fct_market_data
