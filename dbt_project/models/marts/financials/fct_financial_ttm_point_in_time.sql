{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}", partition_by=month_partitions('period_end')) }}
-- Trailing-twelve-month values of currency flow metrics as known on every date: per company,
-- metric and fiscal quarter, one row per version of the sum of that quarter and the three before
-- it. A new version starts on each filing date that brings a version (filed, restated or derived
-- Q4 = FY - nine months) of one of the four quarters, from the first date all four are known; it
-- sums, per quarter, the latest version filed on or before that date. So "TTM as known on D" is
-- the row with known_from_date <= D < known_to_date, and nothing filed after D leaks into it.
-- fct_financial_ttm is the latest slice (is_latest). Instants, EPS and share counts are not summed.

with

additive_metrics as (

    select metric from {{ ref('dim_metric') }}
    where is_additive

),

quarter_versions as (

    select
        statements.cik,
        statements.metric,
        statements.unit,
        statements.fiscal_year,
        statements.fiscal_period,
        statements.fiscal_year * 4 + cast(substr(statements.fiscal_period, 2, 1) as {{ dbt.type_bigint() }}) - 1
            as quarter_index,
        statements.period_start,
        statements.period_end,
        statements.value,
        -- Q4 computed as FY less the nine months (not a metric derived from other metrics).
        coalesce(statements.derivation in ('fy_minus_nine_months', 'fy_minus_three_quarters'), false) as is_derived_q4,
        statements.accession_number,
        statements.filed_date,
        -- Several versions of a quarter filed the same day (a 14-week quarter restated to 13,
        -- NVIDIA 2011): the last in version order stands for that day.
        row_number() over (
            partition by statements.cik, statements.metric, statements.unit, statements.fiscal_year,
                statements.fiscal_period, statements.filed_date
            order by statements.accession_number desc, statements.period_start desc
        ) as same_day_rank
    from {{ ref('fct_financial_statements') }} as statements
    inner join additive_metrics
        on statements.metric = additive_metrics.metric
    where {{ changed_filers('statements.cik') }}
      and statements.fiscal_period in ('Q1', 'Q2', 'Q3', 'Q4')

),

-- Each quarter version is the one known from its filed_date until the next version's.
quarter_intervals as (

    select
        quarter_versions.*,
        lead(filed_date) over (
            partition by cik, metric, unit, quarter_index
            order by filed_date
        ) as superseded_date
    from quarter_versions
    where same_day_rank = 1

),

ttm_ends as (

    select distinct cik, metric, unit, fiscal_year, fiscal_period, quarter_index
    from quarter_intervals

),

-- The dates on which what was known about one of the four quarters changed.
knowledge_dates as (

    select distinct
        ttm_ends.cik,
        ttm_ends.metric,
        ttm_ends.unit,
        ttm_ends.fiscal_year,
        ttm_ends.fiscal_period,
        ttm_ends.quarter_index,
        quarters.filed_date as known_from_date
    from ttm_ends
    inner join quarter_intervals as quarters
        on quarters.cik = ttm_ends.cik
        and quarters.metric = ttm_ends.metric
        and quarters.unit = ttm_ends.unit
        and quarters.quarter_index between ttm_ends.quarter_index - 3 and ttm_ends.quarter_index

),

sums as (

    select
        knowledge_dates.cik,
        knowledge_dates.metric,
        knowledge_dates.unit,
        knowledge_dates.fiscal_year,
        knowledge_dates.fiscal_period,
        knowledge_dates.quarter_index,
        knowledge_dates.known_from_date,
        count(*) as quarters_known,
        sum(quarters.value) as ttm_value,
        min(quarters.period_start) as period_start,
        max(case when quarters.quarter_index = knowledge_dates.quarter_index then quarters.period_end end)
            as period_end,
        sum(case when quarters.is_derived_q4 then 1 else 0 end) as derived_quarters,
        max(case when quarters.filed_date = knowledge_dates.known_from_date then quarters.accession_number end)
            as accession_number
    from knowledge_dates
    inner join quarter_intervals as quarters
        on quarters.cik = knowledge_dates.cik
        and quarters.metric = knowledge_dates.metric
        and quarters.unit = knowledge_dates.unit
        and quarters.quarter_index between knowledge_dates.quarter_index - 3 and knowledge_dates.quarter_index
        and quarters.filed_date <= knowledge_dates.known_from_date
        and (quarters.superseded_date is null or quarters.superseded_date > knowledge_dates.known_from_date)
    group by
        knowledge_dates.cik,
        knowledge_dates.metric,
        knowledge_dates.unit,
        knowledge_dates.fiscal_year,
        knowledge_dates.fiscal_period,
        knowledge_dates.quarter_index,
        knowledge_dates.known_from_date

),

versioned as (

    select
        sums.*,
        lead(known_from_date) over (
            partition by cik, metric, unit, quarter_index
            order by known_from_date
        ) as known_to_date,
        row_number() over (
            partition by cik, metric, unit, quarter_index
            order by known_from_date
        ) = 1 as is_first_reported
    from sums
    -- One version of each of the four quarters was known: the sum exists from here on.
    where quarters_known = 4

),

final as (

    select
        ----- ids
        cast(cik as {{ dbt.type_string() }}) as cik,
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(fiscal_year as {{ dbt.type_bigint() }}) as fiscal_year,
        cast(fiscal_period as {{ dbt.type_string() }}) as fiscal_period,

        ----- period
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,

        ----- numerics
        cast(ttm_value as {{ type_value() }}) as ttm_value,
        cast(unit as {{ dbt.type_string() }}) as unit,
        cast(derived_quarters as {{ dbt.type_bigint() }}) as derived_quarters,

        ----- point in time
        cast(known_from_date as date) as known_from_date,
        cast(known_to_date as date) as known_to_date,
        cast(accession_number as {{ dbt.type_string() }}) as accession_number,
        is_first_reported,
        known_to_date is null as is_latest

    from versioned

)

select * from final
