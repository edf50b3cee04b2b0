-- Companies as a type 2 slowly changing dimension: one row per company and version of its
-- attributes, valid from valid_from up to (not including) valid_to; the current version has
-- valid_to null and is_current true. Join facts to the current version, or to the version
-- valid at a date: valid_from <= D and (valid_to > D or valid_to is null).

with

snapshot as (

    select * from {{ ref('snp_edgar__companies') }}

),

final as (

    select
        ----- ids
        cast(dbt_scd_id as {{ dbt.type_string() }}) as company_version_id,
        cast(cik as {{ dbt.type_string() }}) as cik,

        ----- attributes
        cast(name as {{ dbt.type_string() }}) as name,
        cast(entity_type as {{ dbt.type_string() }}) as entity_type,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(sic as {{ dbt.type_string() }}) as sic,
        cast(sic_description as {{ dbt.type_string() }}) as sic_description,
        cast(state_of_incorporation as {{ dbt.type_string() }}) as state_of_incorporation,
        cast(tickers as {{ dbt.type_string() }}) as tickers,
        cast(exchanges as {{ dbt.type_string() }}) as exchanges,
        cast(fiscal_year_end as {{ dbt.type_string() }}) as fiscal_year_end,
        has_submissions,

        ----- validity
        cast(dbt_valid_from as {{ dbt.type_timestamp() }}) as valid_from,
        cast(dbt_valid_to as {{ dbt.type_timestamp() }}) as valid_to,
        dbt_valid_to is null as is_current

    from snapshot

)

select * from final
