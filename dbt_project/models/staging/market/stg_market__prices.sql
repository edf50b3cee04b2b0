with

source as (

    select * from {{ source('market', 'yahoo_prices') }}

),

renamed as (

    select
        ----- ids
        ticker,
        cik,

        ----- dates
        trade_date,

        ----- numerics
        open,
        high,
        low,
        close,
        adj_close,
        volume,
        dividend,
        split_ratio,
        capital_gains,

        ----- strings
        source as price_source

    from source

)

select * from renamed
