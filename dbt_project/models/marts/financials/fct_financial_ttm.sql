{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}", partition_by=month_partitions('period_end')) }}
-- Trailing-twelve-month values of currency flow metrics, current view: the latest version of
-- each TTM in fct_financial_ttm_point_in_time (its four quarters each in their latest version,
-- restatements applied). known_as_of_date is the first day this sum was known: the latest
-- filed_date of the four quarter versions summed.

with

latest as (

    select * from {{ ref('fct_financial_ttm_point_in_time') }}
    where {{ changed_filers() }}
      and is_latest

),

final as (

    select
        ----- ids
        cik,
        metric,
        fiscal_year,
        fiscal_period,

        ----- period
        period_start,
        period_end,

        ----- numerics
        ttm_value,
        unit,
        derived_quarters,

        ----- point in time
        known_from_date as known_as_of_date

    from latest

)

select * from final
