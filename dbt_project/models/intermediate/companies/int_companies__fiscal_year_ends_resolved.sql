{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- One row per company: the month its fiscal year ends (on the fiscal-month scale of
-- macros/fiscal_calendar.sql). The submissions API's fiscalYearEnd wins; companies known only
-- from companyfacts get the month most of their annual (350-380 day) facts end in.

with

annual_period_ends as (

    select
        cik,
        period_end,
        {{ fiscal_month_index('period_end') }} as month_index
    from {{ ref('stg_edgar__facts') }}
    where {{ changed_filers() }}
      and taxonomy in ('us-gaap', 'ifrs-full')
      and period_start is not null
      and {{ dbt.datediff('period_start', 'period_end', 'day') }} between 350 and 380

),

months_ranked as (

    select
        cik,
        mod(month_index, 12) + 1 as fye_month,
        count(*) as annual_facts,
        max(period_end) as latest_period_end,
        row_number() over (
            partition by cik order by count(*) desc, max(period_end) desc
        ) as month_rank
    from annual_period_ends
    group by cik, mod(month_index, 12) + 1

),

inferred as (

    select
        cik,
        fye_month,
        -- MMDD of the latest annual period ending in that month, e.g. '0928' for Apple FY2024.
        concat(
            lpad(cast(extract(month from latest_period_end) as {{ dbt.type_string() }}), 2, '0'),
            lpad(cast(extract(day from latest_period_end) as {{ dbt.type_string() }}), 2, '0')
        ) as fiscal_year_end
    from months_ranked
    where month_rank = 1

),

declared as (

    select
        cik,
        fiscal_year_end,
        {{ fiscal_year_end_month('fiscal_year_end') }} as fye_month
    from {{ ref('stg_edgar__companies') }}
    where {{ changed_filers() }}
      and length(fiscal_year_end) = 4

),

resolved as (

    select
        coalesce(declared.cik, inferred.cik) as cik,
        coalesce(declared.fye_month, inferred.fye_month) as fye_month,
        coalesce(declared.fiscal_year_end, inferred.fiscal_year_end) as fiscal_year_end,
        case
            when declared.cik is not null then 'submissions'
            else 'annual_facts'
        end as fiscal_year_end_source
    from declared
    full outer join inferred
        on declared.cik = inferred.cik

)

select * from resolved
