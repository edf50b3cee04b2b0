with

source as (

    select * from {{ source('edgar', 'edgar_companies') }}

),

renamed as (

    select
        ----- ids
        cik,
        ein,

        ----- strings
        name,
        entity_type,
        category,
        sic,
        sic_description,
        state_of_incorporation,
        -- Lists become comma-separated text: comparable by snapshots and equal on both warehouses.
        array_to_string(tickers, ',') as tickers,
        array_to_string(exchanges, ',') as exchanges,
        former_names,

        ----- dates
        fiscal_year_end

    from source

)

select * from renamed
