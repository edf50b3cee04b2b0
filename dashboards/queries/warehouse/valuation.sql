-- Each listing's valuation on its latest trading day.
select
    ticker,
    cik,
    as_of_date,
    close,
    market_cap,
    enterprise_value,
    price_to_earnings,
    price_to_sales,
    ev_to_ebitda,
    return_1m,
    return_3m,
    return_12m,
    volatility_3m,
    cast(ttm_revenue as {{ float }}) as ttm_revenue,
    cast(ttm_net_income as {{ float }}) as ttm_net_income
from {{ marts }}.fct_valuation_signals
where is_latest_trade_date
