{{ config(materialized='incremental', pre_hook="{{ delete_changed_filers() }}", partition_by=month_partitions('as_of_date')) }}
-- Financial signals of each company as of each annual report it filed, from financial statement
-- values only, each computed from what was filed on or before the report's filing date
-- (int_signals__annual_values_known_at_filings). Formulas are documented per column in
-- _signals.yml; "prior" is the previous fiscal year as known at the same date, "average" the mean
-- of the year's opening (prior year end) and closing balances.

with

known as (

    select * from {{ ref('int_signals__annual_values_known_at_filings') }}
    where {{ changed_filers() }}

),

inputs as (

    select
        known.*,
        coalesce(gross_profit, revenue - cost_of_revenue) as gross_profit_resolved,
        coalesce(gross_profit_prior, revenue_prior - cost_of_revenue_prior) as gross_profit_prior_resolved,
        coalesce(total_liabilities, liabilities_and_equity - total_equity) as total_liabilities_resolved,
        (stockholders_equity + coalesce(stockholders_equity_prior, stockholders_equity)) / 2 as average_equity,
        (total_assets + coalesce(total_assets_prior, total_assets)) / 2 as average_assets,
        operating_cash_flow - capex as free_cash_flow
    from known

),

ratios as (

    select
        inputs.*,
        {{ safe_divide('gross_profit_resolved', 'revenue') }} as gross_margin,
        {{ safe_divide('gross_profit_prior_resolved', 'revenue_prior') }} as gross_margin_prior,
        {{ safe_divide('current_assets', 'current_liabilities') }} as current_ratio,
        {{ safe_divide('current_assets_prior', 'current_liabilities_prior') }} as current_ratio_prior,
        {{ safe_divide('long_term_debt', 'total_assets') }} as long_term_debt_to_assets,
        {{ safe_divide('long_term_debt_prior', 'total_assets_prior') }} as long_term_debt_to_assets_prior,
        -- Piotroski's return on and turnover of beginning-of-year assets.
        {{ safe_divide('net_income', 'total_assets_prior') }} as return_on_beginning_assets,
        {{ safe_divide('net_income_prior', 'total_assets_prior2') }} as return_on_beginning_assets_prior,
        {{ safe_divide('revenue', 'total_assets_prior') }} as asset_turnover,
        {{ safe_divide('revenue_prior', 'total_assets_prior2') }} as asset_turnover_prior
    from inputs

),

piotroski as (

    select
        ratios.*,
        case when net_income is not null then case when net_income > 0 then 1 else 0 end end as f_roa_positive,
        case when operating_cash_flow is not null then case when operating_cash_flow > 0 then 1 else 0 end end
            as f_cfo_positive,
        case when return_on_beginning_assets is not null and return_on_beginning_assets_prior is not null then
            case when return_on_beginning_assets > return_on_beginning_assets_prior then 1 else 0 end end
            as f_roa_improved,
        case when operating_cash_flow is not null and net_income is not null then
            case when operating_cash_flow > net_income then 1 else 0 end end as f_accruals,
        case when long_term_debt_to_assets is not null and long_term_debt_to_assets_prior is not null then
            case when long_term_debt_to_assets < long_term_debt_to_assets_prior
                   or (long_term_debt_to_assets = 0 and long_term_debt_to_assets_prior = 0) then 1 else 0 end end
            as f_leverage_down,
        case when current_ratio is not null and current_ratio_prior is not null then
            case when current_ratio > current_ratio_prior then 1 else 0 end end as f_liquidity_up,
        case when weighted_shares_diluted is not null and weighted_shares_diluted_prior is not null then
            case when weighted_shares_diluted <= weighted_shares_diluted_prior then 1 else 0 end end
            as f_no_dilution,
        case when gross_margin is not null and gross_margin_prior is not null then
            case when gross_margin > gross_margin_prior then 1 else 0 end end as f_gross_margin_up,
        case when asset_turnover is not null and asset_turnover_prior is not null then
            case when asset_turnover > asset_turnover_prior then 1 else 0 end end as f_asset_turnover_up
    from ratios

),

{%- set f_tests = ['f_roa_positive', 'f_cfo_positive', 'f_roa_improved', 'f_accruals', 'f_leverage_down',
                   'f_liquidity_up', 'f_no_dilution', 'f_gross_margin_up', 'f_asset_turnover_up'] %}

final as (

    select
        ----- ids
        cast(cik as {{ dbt.type_string() }}) as cik,
        cast(as_of_accession_number as {{ dbt.type_string() }}) as as_of_accession_number,
        cast(as_of_form as {{ dbt.type_string() }}) as as_of_form,
        cast(as_of_date as date) as as_of_date,
        cast(fiscal_year as {{ dbt.type_bigint() }}) as fiscal_year,
        cast(period_end as date) as period_end,
        cast(currency as {{ dbt.type_string() }}) as currency,

        ----- profitability
        cast(gross_margin as {{ type_value() }}) as gross_margin,
        cast({{ safe_divide('operating_income', 'revenue') }} as {{ type_value() }}) as operating_margin,
        cast({{ safe_divide('net_income', 'revenue') }} as {{ type_value() }}) as net_margin,
        cast(case when average_equity > 0 then {{ safe_divide('net_income', 'average_equity') }} end
             as {{ type_value() }}) as return_on_equity,
        cast({{ safe_divide('net_income', 'average_assets') }} as {{ type_value() }}) as return_on_assets,

        ----- growth
        cast(case when revenue_prior > 0 then {{ safe_divide('revenue', 'revenue_prior') }} - 1 end
             as {{ type_value() }}) as revenue_growth_yoy,
        cast(case when eps_diluted_prior > 0 then {{ safe_divide('eps_diluted', 'eps_diluted_prior') }} - 1 end
             as {{ type_value() }}) as eps_diluted_growth_yoy,

        ----- balance sheet
        cast(current_ratio as {{ type_value() }}) as current_ratio,
        cast(case
                 when stockholders_equity > 0 and (long_term_debt is not null or short_term_debt is not null)
                     then {{ safe_divide('coalesce(long_term_debt, 0) + coalesce(short_term_debt, 0)', 'stockholders_equity') }}
             end as {{ type_value() }}) as debt_to_equity,

        ----- cash flow
        cast(free_cash_flow as {{ type_value() }}) as free_cash_flow,
        cast({{ safe_divide('free_cash_flow', 'revenue') }} as {{ type_value() }}) as free_cash_flow_margin,

        ----- scores
        cast({% for f in f_tests %}coalesce({{ f }}, 0){{ ' + ' if not loop.last }}{% endfor %}
             as {{ dbt.type_bigint() }}) as piotroski_f_score,
        cast({% for f in f_tests %}case when {{ f }} is null then 0 else 1 end{{ ' + ' if not loop.last }}{% endfor %}
             as {{ dbt.type_bigint() }}) as piotroski_tests_available,
        -- The coefficients as floats on both engines (a literal such as 0.847 is FLOAT64 in
        -- BigQuery, DECIMAL in DuckDB): the score is an approximation, not an exact decimal.
        {%- set coefficient = 'cast(%s as ' ~ type_double() ~ ')' %}
        cast(
            {{ coefficient % '0.717' }} * {{ safe_divide('current_assets - current_liabilities', 'total_assets') }}
            + {{ coefficient % '0.847' }} * {{ safe_divide('retained_earnings', 'total_assets') }}
            + {{ coefficient % '3.107' }} * {{ safe_divide('operating_income', 'total_assets') }}
            + {{ coefficient % '0.420' }} * {{ safe_divide('coalesce(total_equity, stockholders_equity)', 'total_liabilities_resolved') }}
            + {{ coefficient % '0.998' }} * {{ safe_divide('revenue', 'total_assets') }}
            as {{ type_value() }}) as altman_z_score

    from piotroski

)

select * from final
