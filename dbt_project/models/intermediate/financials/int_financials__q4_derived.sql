{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}") }}
-- Q4 of currency flow metrics (revenue, net income, cash flows, ...) for years in which the
-- company filed no three-month Q4, as most 10-K filers do: FY minus the nine months to Q3.
-- Point in time: one derived row per filed FY version, from that FY value and the latest
-- nine-month value filed on or before it; when no nine-month value was filed by then, from
-- Q1 + Q2 + Q3 as filed by then. The row carries the FY filing's accession, form, filed date
-- and tag, so it is traced to the filing that made it computable. Per-share and share-count
-- metrics are not additive and get no derived Q4.

with

flows as (

    select * from {{ ref('int_facts__metric_values') }}
    where {{ changed_filers() }}
      and period_type = 'duration'
      and unit_type = 'currency'

),

fiscal_years as (

    select * from flows
    where fiscal_period = 'FY'

),

years_with_filed_q4 as (

    select distinct cik, metric, fiscal_year
    from flows
    where fiscal_period = 'Q4'

),

-- Year-to-date and quarter values known when each FY version was filed, latest first.
known_before_fy as (

    select
        fiscal_years.cik,
        fiscal_years.metric,
        fiscal_years.fiscal_year,
        fiscal_years.accession_number,
        earlier.fiscal_period,
        earlier.value,
        earlier.period_end,
        row_number() over (
            partition by fiscal_years.cik, fiscal_years.metric, fiscal_years.fiscal_year,
                fiscal_years.accession_number, earlier.fiscal_period
            order by earlier.filed_date desc, earlier.accession_number desc
        ) as recency
    from fiscal_years
    inner join flows as earlier
        on earlier.cik = fiscal_years.cik
        and earlier.metric = fiscal_years.metric
        and earlier.fiscal_year = fiscal_years.fiscal_year
        and earlier.unit = fiscal_years.unit
        and earlier.fiscal_period in ('M9', 'Q1', 'Q2', 'Q3')
        and earlier.filed_date <= fiscal_years.filed_date
        -- Year-to-date and Q1 values must start with the fiscal year they are subtracted from.
        and (
            earlier.fiscal_period not in ('M9', 'Q1')
            or abs({{ dbt.datediff('fiscal_years.period_start', 'earlier.period_start', 'day') }}) <= 7
        )

),

nine_months as (

    select cik, metric, fiscal_year, accession_number, value, period_end
    from known_before_fy
    where fiscal_period = 'M9'
      and recency = 1

),

three_quarters as (

    select
        cik,
        metric,
        fiscal_year,
        accession_number,
        sum(value) as value,
        max(period_end) as period_end
    from known_before_fy
    where fiscal_period in ('Q1', 'Q2', 'Q3')
      and recency = 1
    group by cik, metric, fiscal_year, accession_number
    having count(*) = 3

),

derived as (

    select
        fiscal_years.cik,
        fiscal_years.metric,
        fiscal_years.fiscal_year,
        'Q4' as fiscal_period,
        cast({{ dbt.dateadd('day', 1, 'coalesce(nine_months.period_end, three_quarters.period_end)') }} as date)
            as period_start,
        fiscal_years.period_end,
        fiscal_years.value - coalesce(nine_months.value, three_quarters.value) as value,
        fiscal_years.unit,
        fiscal_years.source_tag,
        fiscal_years.accession_number,
        fiscal_years.form,
        fiscal_years.filed_date,
        case
            when nine_months.value is not null then 'fy_minus_nine_months'
            else 'fy_minus_three_quarters'
        end as derivation
    from fiscal_years
    left join years_with_filed_q4
        on fiscal_years.cik = years_with_filed_q4.cik
        and fiscal_years.metric = years_with_filed_q4.metric
        and fiscal_years.fiscal_year = years_with_filed_q4.fiscal_year
    left join nine_months
        on fiscal_years.cik = nine_months.cik
        and fiscal_years.metric = nine_months.metric
        and fiscal_years.fiscal_year = nine_months.fiscal_year
        and fiscal_years.accession_number = nine_months.accession_number
    left join three_quarters
        on fiscal_years.cik = three_quarters.cik
        and fiscal_years.metric = three_quarters.metric
        and fiscal_years.fiscal_year = three_quarters.fiscal_year
        and fiscal_years.accession_number = three_quarters.accession_number
    where years_with_filed_q4.cik is null
      and coalesce(nine_months.value, three_quarters.value) is not null

)

select * from derived
