with

source as (

    select * from {{ source('edgar', 'edgar_facts') }}

),

renamed as (

    select
        ----- ids
        cik,
        accession_number,

        ----- concept
        taxonomy,
        tag,
        unit,
        entity_name,

        ----- numerics
        value,

        ----- period of the fact itself (period_start is null for instants)
        period_start,
        period_end,

        ----- filing that reported the fact: fy/fp describe the filing, not the fact's period
        form,
        filed as filed_date,
        fy as filing_fiscal_year,
        fp as filing_fiscal_period,
        frame

    from source

)

select * from renamed
