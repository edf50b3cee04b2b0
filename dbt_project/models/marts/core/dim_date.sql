-- One row per calendar day from var dim_date_start to var dim_date_end. Built from a literal
-- series so it compiles without querying the warehouse (BigQuery compiles offline).

{%- set start = modules.datetime.date.fromisoformat(var('dim_date_start')) %}
{%- set days = (modules.datetime.date.fromisoformat(var('dim_date_end')) - start).days + 1 %}

with

day_numbers as (

    {{ dbt.generate_series(days) }}

),

day_offsets as (

    -- generate_series multiplies by power(2, n): FLOAT64 on BigQuery, whose intervals need INT64.
    select cast(generated_number as {{ dbt.type_bigint() }}) - 1 as day_offset
    from day_numbers

),

days as (

    select
        cast({{ dbt.dateadd('day', 'day_offset', "cast('" ~ start.isoformat() ~ "' as date)") }} as date) as date_day,
        -- ISO day of week (Monday = 1 .. Sunday = 7), counted from the first day's; the engines'
        -- own day-of-week functions disagree (DuckDB Sunday = 0, BigQuery Sunday = 1).
        mod(day_offset + {{ start.isoweekday() - 1 }}, 7) + 1 as iso_day_of_week
    from day_offsets

),

final as (

    select
        date_day,
        cast(extract(year from date_day) as {{ dbt.type_bigint() }}) as calendar_year,
        cast(extract(quarter from date_day) as {{ dbt.type_bigint() }}) as calendar_quarter,
        cast(extract(month from date_day) as {{ dbt.type_bigint() }}) as calendar_month,
        cast(extract(day from date_day) as {{ dbt.type_bigint() }}) as day_of_month,
        cast(iso_day_of_week as {{ dbt.type_bigint() }}) as iso_day_of_week,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        cast({{ dbt.last_day('date_day', 'month') }} as date) as month_end,
        date_day = cast({{ dbt.last_day('date_day', 'month') }} as date) as is_month_end,
        date_day = cast({{ dbt.last_day('date_day', 'quarter') }} as date) as is_quarter_end
    from days

)

select * from final
