with

source as (

    select * from {{ source('edgar', 'edgar_filings') }}

),

renamed as (

    select
        ----- ids
        cik,
        accession_number,

        ----- strings
        form,
        primary_document,
        primary_doc_description,
        items,

        ----- numerics
        size as size_bytes,

        ----- booleans
        is_xbrl,
        is_inline_xbrl,

        ----- dates
        filing_date,
        report_date,
        acceptance_datetime

    from source

)

select * from renamed
