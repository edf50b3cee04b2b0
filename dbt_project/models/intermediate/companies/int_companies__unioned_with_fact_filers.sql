-- Every company the warehouse knows: those in the submissions API plus filers seen only in
-- companyfacts (named by their latest entity name), so every fact has a company to join to.
-- fiscal_year_end falls back to the one inferred from annual facts.

with

companies as (

    select * from {{ ref('stg_edgar__companies') }}

),

fact_filers as (

    select
        cik,
        entity_name,
        row_number() over (partition by cik order by filed_date desc, accession_number desc) as recency
    from {{ ref('stg_edgar__facts') }}

),

fact_only as (

    select fact_filers.cik, fact_filers.entity_name
    from fact_filers
    left join companies
        on fact_filers.cik = companies.cik
    where fact_filers.recency = 1
      and companies.cik is null

),

unioned as (

    select
        cik,
        name,
        entity_type,
        category,
        sic,
        sic_description,
        state_of_incorporation,
        tickers,
        exchanges,
        true as has_submissions
    from companies

    union all

    select
        cik,
        entity_name as name,
        cast(null as {{ dbt.type_string() }}) as entity_type,
        cast(null as {{ dbt.type_string() }}) as category,
        cast(null as {{ dbt.type_string() }}) as sic,
        cast(null as {{ dbt.type_string() }}) as sic_description,
        cast(null as {{ dbt.type_string() }}) as state_of_incorporation,
        cast(null as {{ dbt.type_string() }}) as tickers,
        cast(null as {{ dbt.type_string() }}) as exchanges,
        false as has_submissions
    from fact_only

),

with_fiscal_year_end as (

    select
        unioned.*,
        fiscal_year_ends.fiscal_year_end
    from unioned
    left join {{ ref('int_companies__fiscal_year_ends_resolved') }} as fiscal_year_ends
        on unioned.cik = fiscal_year_ends.cik

)

select * from with_fiscal_year_end
