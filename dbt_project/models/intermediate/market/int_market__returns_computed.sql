-- Per ticker and trading day: total returns over 21, 63 and 252 trading days (about one, three
-- and twelve months) and the annualized volatility of daily log returns over 63 trading days,
-- all from adj_close (dividends and splits reinvested). Yahoo adjusts a whole history on the day
-- it is downloaded, so a return only compares rows of one price source (chart API or one CSV
-- backfill: one adjustment basis) and never bridges a hole in the data (a span too long for its
-- trading days). price_basis_date is the latest day of the ticker's rows from the same source:
-- the day whose splits the prices are adjusted to. is_as_of_date marks the last trading day of
-- each calendar month with prices, and the ticker's latest trading day.

{%- set horizons = {'1m': [21, 35], '3m': [63, 100], '12m': [252, 380]} %}
{%- set volatility_days = 63 %}

with

prices as (

    select ticker, cik, trade_date, close, adj_close, price_source
    from {{ ref('stg_market__prices') }}

),

sequenced as (

    select
        prices.*,
        max(trade_date) over (partition by ticker, price_source) as price_basis_date,
        lead(trade_date) over by_day as next_trade_date,
        lag(trade_date) over by_day as previous_trade_date,
        lag(adj_close) over by_day as previous_adj_close,
        lag(price_source) over by_day as previous_price_source,
        {%- for name, (days, _) in horizons.items() %}
        lag(trade_date, {{ days }}) over by_day as trade_date_{{ name }}_ago,
        lag(adj_close, {{ days }}) over by_day as adj_close_{{ name }}_ago,
        lag(price_source, {{ days }}) over by_day as price_source_{{ name }}_ago{{ ',' if not loop.last }}
        {%- endfor %}
    from prices
    window by_day as (partition by ticker order by trade_date)

),

daily as (

    select
        sequenced.*,
        -- A day's log return needs the trading day before it in the same series (a week at most
        -- covers exchange holidays).
        case
            when previous_price_source = price_source
                and {{ dbt.datediff('previous_trade_date', 'trade_date', 'day') }} <= 7
                then ln(adj_close / previous_adj_close)
        end as log_return
    from sequenced

),

windowed as (

    select
        daily.*,
        stddev_samp(log_return) over trailing_volatility as log_return_stddev,
        count(log_return) over trailing_volatility as log_returns_in_window
    from daily
    window trailing_volatility as (
        partition by ticker
        order by trade_date
        rows between {{ volatility_days - 1 }} preceding and current row
    )

),

final as (

    select
        ticker,
        cik,
        trade_date,
        close,
        adj_close,
        price_source,
        price_basis_date,
        {%- for name, (days, max_span) in horizons.items() %}
        case
            when price_source_{{ name }}_ago = price_source
                and {{ dbt.datediff('trade_date_' ~ name ~ '_ago', 'trade_date', 'day') }} <= {{ max_span }}
                then adj_close / adj_close_{{ name }}_ago - 1
        end as return_{{ name }},
        {%- endfor %}
        case
            when log_returns_in_window = {{ volatility_days }} then log_return_stddev * sqrt(252)
        end as volatility_3m,
        next_trade_date is null as is_latest_trade_date,
        next_trade_date is null
            or extract(year from next_trade_date) * 12 + extract(month from next_trade_date)
               <> extract(year from trade_date) * 12 + extract(month from trade_date) as is_as_of_date
    from windowed

)

select * from final
