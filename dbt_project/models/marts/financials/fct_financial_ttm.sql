-- Trailing-twelve-month values of currency flow metrics (revenue, net income, cash flows, ...):
-- per company, metric and fiscal quarter, the sum of that quarter and the three fiscal quarters
-- before it, filed or derived (Q4 = FY - nine months). Current view: each quarter is its latest
-- version (is_latest), so restatements are applied; the sum was knowable from known_as_of_date,
-- the latest filed_date of the four versions. Rows exist only when all four consecutive quarters
-- exist in one unit. Instants, per-share values and share counts are not summed.

with

additive_metrics as (

    select metric from {{ ref('dim_metric') }}
    where is_additive

),

latest_quarters as (

    select
        statements.*,
        statements.fiscal_year * 4 + cast(substr(statements.fiscal_period, 2, 1) as {{ dbt.type_bigint() }}) - 1
            as quarter_index,
        -- A quarter filed twice with different dates (a 14-week quarter restated to 13, NVIDIA
        -- 2011): the latest filed version stands for it.
        row_number() over (
            partition by statements.cik, statements.metric, statements.fiscal_year, statements.fiscal_period
            order by statements.filed_date desc, statements.accession_number desc, statements.period_start desc
        ) as recency
    from {{ ref('fct_financial_statements') }} as statements
    inner join additive_metrics
        on statements.metric = additive_metrics.metric
    where statements.is_latest
      and statements.fiscal_period in ('Q1', 'Q2', 'Q3', 'Q4')

),

windows as (

    select
        cik,
        metric,
        fiscal_year,
        fiscal_period,
        unit,
        period_end,
        accession_number,
        quarter_index,
        filed_date,
        sum(value) over trailing_four as ttm_value,
        count(*) over trailing_four as quarters_found,
        min(quarter_index) over trailing_four as first_quarter_index,
        min(period_start) over trailing_four as ttm_period_start,
        max(filed_date) over trailing_four as known_as_of_date,
        sum(case when is_derived then 1 else 0 end) over trailing_four as derived_quarters
    from latest_quarters
    where recency = 1
    window trailing_four as (
        partition by cik, metric, unit
        order by quarter_index
        rows between 3 preceding and current row
    )

),

final as (

    select
        ----- ids
        cast(cik as {{ dbt.type_string() }}) as cik,
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(fiscal_year as {{ dbt.type_bigint() }}) as fiscal_year,
        cast(fiscal_period as {{ dbt.type_string() }}) as fiscal_period,

        ----- period
        cast(ttm_period_start as date) as period_start,
        cast(period_end as date) as period_end,

        ----- numerics
        cast(ttm_value as {{ type_value() }}) as ttm_value,
        cast(unit as {{ dbt.type_string() }}) as unit,
        cast(derived_quarters as {{ dbt.type_bigint() }}) as derived_quarters,

        ----- point in time
        cast(known_as_of_date as date) as known_as_of_date

    from windows
    -- Four quarters, and consecutive: the window reaches back exactly three quarters.
    where quarters_found = 4
      and first_quarter_index = quarter_index - 3

)

select * from final
