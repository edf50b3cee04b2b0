{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Every metric value of every filing and fiscal period: the best tagged fact
-- (int_facts__best_tag_selected) or, where the filing tags none of the metric's tags, the value
-- derived from its other metrics (int_facts__metrics_derived, derivation not null).

with

tagged as (

    select
        cik,
        metric,
        fiscal_year,
        fiscal_period,
        period_start,
        period_end,
        value,
        unit,
        period_type,
        unit_type,
        source_tag,
        accession_number,
        form,
        filed_date,
        cast(null as {{ dbt.type_string() }}) as derivation
    from {{ ref('int_facts__best_tag_selected') }}
    where {{ changed_filers() }}

),

derived as (

    select
        cik,
        metric,
        fiscal_year,
        fiscal_period,
        period_start,
        period_end,
        value,
        unit,
        period_type,
        unit_type,
        source_tag,
        accession_number,
        form,
        filed_date,
        derivation
    from {{ ref('int_facts__metrics_derived') }}
    where {{ changed_filers() }}

)

select * from tagged
union all
select * from derived
