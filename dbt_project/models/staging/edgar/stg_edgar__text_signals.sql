with

source as (

    select * from {{ source('edgar', 'edgar_text_signals') }}

),

flags as (

    select accession_number, flag from {{ source('edgar', 'edgar_filing_texts') }}

),

renamed as (

    select
        ----- ids
        source.cik,
        source.accession_number,
        source.previous_accession_number,

        ----- strings
        source.form,
        flags.flag as text_flag,

        ----- numerics
        source.risk_factors_chars,
        source.mda_chars,
        source.risk_factors_words,
        source.mda_words,
        source.previous_risk_factors_chars,
        source.previous_mda_chars,
        source.risk_factors_cosine,
        source.risk_factors_jaccard,
        source.mda_cosine,
        source.mda_jaccard,
        source.risk_headings,
        source.risk_headings_added_count,
        source.risk_headings_removed_count,
        source.risk_factors_fog,
        source.mda_fog,

        ----- lists
        source.risk_headings_added,
        source.risk_headings_removed,

        ----- dates
        source.filing_date

    from source
    left join flags on flags.accession_number = source.accession_number

)

select * from renamed
