{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Each mapped fact placed in its company's fiscal calendar from the fact's own start and end
-- (never from the filing's fy/fp, which describe the filing):
--   duration of 350-380 days ending at a fiscal year end     -> FY
--   duration of 80-100 days ending 3/6/9/12 fiscal months in -> Q1/Q2/Q3/Q4
--   duration of 170-190 days ending at the end of Q2         -> H1 (year to date)
--   duration of 260-285 days ending at the end of Q3         -> M9 (year to date, to derive Q4)
--   instant at a fiscal year end                             -> FY; at the end of Q1-Q3 -> Q1-Q3
-- H1 and M9 never reach the marts. Cover-page (dei) instants are dated when the cover was
-- signed, weeks after the period: they take the fiscal period of the report they came with.
-- Facts off the company's calendar (odd lengths, a quarter ending mid-quarter) are left out.

with

facts as (

    select * from {{ ref('int_facts__mapped_to_metrics') }}
    where {{ changed_filers() }}

),

fiscal_year_ends as (

    select cik, fye_month from {{ ref('int_companies__fiscal_year_ends_resolved') }}
    where {{ changed_filers() }}

),

report_periods as (

    -- The period a filing reports on: the latest end among its duration facts (instants if none).
    select
        cik,
        accession_number,
        coalesce(
            max(case when period_start is not null then period_end end),
            max(period_end)
        ) as report_period_end
    from facts
    where taxonomy <> 'dei'
    group by cik, accession_number

),

positioned as (

    select
        facts.*,
        fiscal_year_ends.fye_month,
        case
            when facts.period_start is not null
                then {{ dbt.datediff('facts.period_start', 'facts.period_end', 'day') }}
        end as length_days,
        case
            when facts.taxonomy = 'dei'
                then coalesce(report_periods.report_period_end, facts.period_end)
            else facts.period_end
        end as position_date
    from facts
    inner join fiscal_year_ends
        on facts.cik = fiscal_year_ends.cik
    left join report_periods
        on facts.cik = report_periods.cik
        and facts.accession_number = report_periods.accession_number

),

indexed as (

    select
        positioned.*,
        {{ fiscal_month_index('position_date') }} as month_index
    from positioned

),

placed as (

    select
        indexed.*,
        {{ months_after_fiscal_year_end('month_index', 'fye_month') }} as fiscal_month
    from indexed

),

assigned as (

    select
        placed.*,
        {{ fiscal_year_of('month_index', 'fiscal_month') }} as fiscal_year,
        case
            when length_days is null then
                case fiscal_month when 0 then 'FY' when 3 then 'Q1' when 6 then 'Q2' when 9 then 'Q3' end
            when length_days between 350 and 380 and fiscal_month = 0 then 'FY'
            when length_days between 80 and 100 then
                case fiscal_month when 3 then 'Q1' when 6 then 'Q2' when 9 then 'Q3' when 0 then 'Q4' end
            when length_days between 170 and 190 and fiscal_month = 6 then 'H1'
            when length_days between 260 and 285 and fiscal_month = 9 then 'M9'
        end as fiscal_period
    from placed

)

select * from assigned
where fiscal_period is not null
