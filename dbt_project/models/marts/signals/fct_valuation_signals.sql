{{ config(partition_by=month_partitions('as_of_date')) }}
-- Market and valuation signals per listing (ticker) and as-of date: the last trading day of each
-- calendar month and the latest trading day. Prices are the day's; fundamentals are only what
-- was filed on or before the as-of date (share count and balances from
-- int_signals__latest_values_known_at_filing_dates, TTM flows from
-- fct_financial_ttm_point_in_time). Formulas are documented per column in _signals.yml.

{%- set ttm_metrics = ['revenue', 'net_income', 'operating_income', 'depreciation_amortization'] %}
{%- set balance_metrics = ['shares_outstanding', 'cash', 'long_term_debt', 'short_term_debt',
                           'long_term_debt_current', 'short_term_borrowings', 'commercial_paper',
                           'depreciation_amortization'] %}
{#- Parts of short_term_debt, for filers that tag no total (Apple): short-term borrowings include
    commercial paper, so paper counts only where borrowings are not tagged. #}
{%- set current_debt_parts = ['long_term_debt_current', 'short_term_borrowings', 'commercial_paper'] %}

with

as_of_prices as (

    select * from {{ ref('int_market__returns_computed') }}
    where is_as_of_date

),

latest_values as (

    select
        as_of_prices.ticker,
        as_of_prices.trade_date,
        known.metric,
        known.value,
        known.unit,
        known.period_end,
        known.filed_date,
        known.accession_number
    from as_of_prices
    inner join {{ ref('int_signals__latest_values_known_at_filing_dates') }} as known
        on known.cik = as_of_prices.cik
        and known.known_from_date <= as_of_prices.trade_date
        and (known.known_to_date is null or as_of_prices.trade_date < known.known_to_date)

),

ttm_known as (

    select
        as_of_prices.ticker,
        as_of_prices.trade_date,
        ttm.metric,
        ttm.ttm_value,
        ttm.unit,
        ttm.period_end,
        ttm.known_from_date,
        -- The TTM of the latest fiscal quarter known on the as-of date.
        row_number() over (
            partition by as_of_prices.ticker, as_of_prices.trade_date, ttm.metric
            order by ttm.period_end desc, ttm.unit
        ) as recency
    from as_of_prices
    inner join {{ ref('fct_financial_ttm_point_in_time') }} as ttm
        on ttm.cik = as_of_prices.cik
        and ttm.metric in ('{{ ttm_metrics | join("', '") }}')
        and ttm.known_from_date <= as_of_prices.trade_date
        and (ttm.known_to_date is null or as_of_prices.trade_date < ttm.known_to_date)

),

inputs as (

    select
        as_of_prices.*,
        {%- for metric in balance_metrics %}
        {%- set alias = 'annual_' ~ metric if metric == 'depreciation_amortization' else metric %}
        {{ alias }}.value as {{ alias }},
        {{ alias }}.unit as {{ alias }}_unit,
        {{ alias }}.period_end as {{ alias }}_period_end,
        {%- endfor %}
        shares_outstanding.period_end as shares_as_of_date,
        shares_outstanding.filed_date as shares_filed_date,
        shares_outstanding.accession_number as shares_accession_number,
        {%- for metric in ttm_metrics %}
        ttm_{{ metric }}.ttm_value as ttm_{{ metric }},
        ttm_{{ metric }}.unit as ttm_{{ metric }}_unit,
        ttm_{{ metric }}.period_end as ttm_{{ metric }}_period_end,
        {%- endfor %}
        ttm_net_income.known_from_date as ttm_known_from_date
    from as_of_prices
    {%- for metric in balance_metrics %}
    {%- set alias = 'annual_' ~ metric if metric == 'depreciation_amortization' else metric %}
    left join latest_values as {{ alias }}
        on {{ alias }}.ticker = as_of_prices.ticker
        and {{ alias }}.trade_date = as_of_prices.trade_date
        and {{ alias }}.metric = '{{ metric }}'
    {%- endfor %}
    {%- for metric in ttm_metrics %}
    left join ttm_known as ttm_{{ metric }}
        on ttm_{{ metric }}.ticker = as_of_prices.ticker
        and ttm_{{ metric }}.trade_date = as_of_prices.trade_date
        and ttm_{{ metric }}.metric = '{{ metric }}'
        and ttm_{{ metric }}.recency = 1
    {%- endfor %}

),

-- Splits between the share count's date and the price's adjustment basis (both included).
-- A split whose window straddles either date cannot be placed: the market value stays null.
split_windows as (

    select
        inputs.ticker,
        inputs.trade_date,
        exp(sum(case
            when splits.previous_count_date >= inputs.shares_as_of_date
                and splits.count_date <= inputs.price_basis_date then ln(splits.split_factor)
            else 0
        end)) as split_factor,
        sum(case
            when splits.previous_count_date >= inputs.shares_as_of_date
                and splits.count_date <= inputs.price_basis_date then 0
            else 1
        end) as unplaced_splits
    from inputs
    inner join {{ ref('int_signals__stock_splits_inferred') }} as splits
        on splits.cik = inputs.cik
        and splits.count_date > inputs.shares_as_of_date
        and splits.previous_count_date < inputs.price_basis_date
    group by inputs.ticker, inputs.trade_date

),

-- Debt due within a year: short_term_debt where filed, else the sum of its parts dated as the
-- latest balance sheet (the cash's date), all in one unit.
current_debt_parts as (

    select
        inputs.*,
        {%- for part in current_debt_parts %}
        case when {{ part }}_period_end = cash_period_end then {{ part }} end as {{ part }}_current,
        case when {{ part }}_period_end = cash_period_end then {{ part }}_unit end as {{ part }}_current_unit,
        {%- endfor %}
        cash_period_end as current_debt_parts_date
    from inputs

),

current_debts as (

    select
        current_debt_parts.*,
        case when short_term_borrowings_current is not null then short_term_borrowings_current
             else commercial_paper_current end as borrowings_current,
        case when short_term_borrowings_current is not null then short_term_borrowings_current_unit
             else commercial_paper_current_unit end as borrowings_current_unit
    from current_debt_parts

),

debts as (

    select
        current_debts.*,
        case
            when short_term_debt is not null then short_term_debt
            when long_term_debt_current_current is null then borrowings_current
            when borrowings_current is null then long_term_debt_current_current
            when borrowings_current_unit = long_term_debt_current_current_unit
                then long_term_debt_current_current + borrowings_current
        end as current_debt,
        case
            when short_term_debt is not null then short_term_debt_unit
            when long_term_debt_current_current is null then borrowings_current_unit
            when borrowings_current is null or borrowings_current_unit = long_term_debt_current_current_unit
                then long_term_debt_current_current_unit
        end as current_debt_unit
    from current_debts

),

derived as (

    select
        inputs.*,
        case
            when inputs.shares_outstanding is not null and coalesce(split_windows.unplaced_splits, 0) = 0
                then round(coalesce(split_windows.split_factor, 1), 6)
        end as split_factor,
        -- D&A is a cash-flow line most filers report year to date, so its four-quarter TTM is
        -- rarely complete: the latest fiscal year's D&A stands in for it then.
        case
            when ttm_depreciation_amortization_period_end = ttm_operating_income_period_end
                and ttm_depreciation_amortization_unit = ttm_operating_income_unit
                then ttm_operating_income + ttm_depreciation_amortization
            when annual_depreciation_amortization_unit = ttm_operating_income_unit
                then ttm_operating_income + annual_depreciation_amortization
        end as ttm_ebitda,
        ttm_depreciation_amortization_period_end is null
            or ttm_depreciation_amortization_period_end <> ttm_operating_income_period_end
            as ebitda_uses_annual_da,
        case
            when long_term_debt is not null or current_debt is not null
                then coalesce(long_term_debt, 0) + coalesce(current_debt, 0)
        end as total_debt,
        -- Debt in two currencies has no single unit (and no enterprise value).
        case
            when long_term_debt_unit is null then current_debt_unit
            when current_debt_unit is null or current_debt_unit = long_term_debt_unit then long_term_debt_unit
        end as total_debt_unit
    from debts as inputs
    left join split_windows
        on split_windows.ticker = inputs.ticker
        and split_windows.trade_date = inputs.trade_date

),

valued as (

    select
        derived.*,
        cast(shares_outstanding as {{ type_double() }}) * split_factor * close as market_cap
    from derived

),

-- Prices are in USD: fundamentals in another currency (IFRS filers in TWD, ...) value nothing.
enterprise as (

    select
        valued.*,
        case
            when total_debt_unit = 'USD' and cash_unit = 'USD'
                then market_cap + cast(total_debt as {{ type_double() }}) - cast(cash as {{ type_double() }})
        end as enterprise_value
    from valued

),

final as (

    select
        ----- ids
        cast(ticker as {{ dbt.type_string() }}) as ticker,
        cast(cik as {{ dbt.type_string() }}) as cik,
        cast(trade_date as date) as as_of_date,
        is_latest_trade_date,

        ----- price of the day
        cast(close as {{ type_double() }}) as close,
        cast(adj_close as {{ type_double() }}) as adj_close,
        cast(price_source as {{ dbt.type_string() }}) as price_source,
        cast(price_basis_date as date) as price_basis_date,

        ----- shares and market value
        cast(shares_outstanding as {{ type_value() }}) as shares_outstanding,
        cast(shares_as_of_date as date) as shares_as_of_date,
        cast(shares_filed_date as date) as shares_filed_date,
        cast(shares_accession_number as {{ dbt.type_string() }}) as shares_accession_number,
        cast(split_factor as {{ type_double() }}) as split_factor,
        cast(market_cap as {{ type_double() }}) as market_cap,

        ----- fundamentals known on the as-of date
        cast(coalesce(ttm_net_income_unit, ttm_revenue_unit) as {{ dbt.type_string() }}) as fundamentals_currency,
        cast(ttm_net_income_period_end as date) as ttm_period_end,
        cast(ttm_known_from_date as date) as ttm_known_from_date,
        cast(ttm_revenue as {{ type_value() }}) as ttm_revenue,
        cast(ttm_net_income as {{ type_value() }}) as ttm_net_income,
        cast(ttm_ebitda as {{ type_value() }}) as ttm_ebitda,
        case when ttm_ebitda is not null then ebitda_uses_annual_da end as ebitda_uses_annual_da,
        cast(total_debt as {{ type_value() }}) as total_debt,
        cast(cash as {{ type_value() }}) as cash,
        cast(enterprise_value as {{ type_double() }}) as enterprise_value,

        ----- valuation
        cast(case when ttm_net_income_unit = 'USD' and ttm_net_income > 0
                  then market_cap / cast(ttm_net_income as {{ type_double() }}) end
             as {{ type_double() }}) as price_to_earnings,
        cast(case when ttm_revenue_unit = 'USD' and ttm_revenue > 0
                  then market_cap / cast(ttm_revenue as {{ type_double() }}) end
             as {{ type_double() }}) as price_to_sales,
        cast(case when ttm_operating_income_unit = 'USD' and ttm_ebitda > 0 and enterprise_value > 0
                  then enterprise_value / cast(ttm_ebitda as {{ type_double() }}) end
             as {{ type_double() }}) as ev_to_ebitda,

        ----- momentum
        cast(return_1m as {{ type_double() }}) as return_1m,
        cast(return_3m as {{ type_double() }}) as return_3m,
        cast(return_12m as {{ type_double() }}) as return_12m,
        cast(volatility_3m as {{ type_double() }}) as volatility_3m

    from enterprise

)

select * from final
