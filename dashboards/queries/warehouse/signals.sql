-- Fundamental signals per company and fiscal year, as of the latest report of the year.
select
    cik,
    fiscal_year,
    period_end,
    as_of_date,
    as_of_accession_number,
    cast(gross_margin as {{ float }}) as gross_margin,
    cast(operating_margin as {{ float }}) as operating_margin,
    cast(net_margin as {{ float }}) as net_margin,
    cast(return_on_equity as {{ float }}) as return_on_equity,
    cast(return_on_assets as {{ float }}) as return_on_assets,
    cast(revenue_growth_yoy as {{ float }}) as revenue_growth_yoy,
    cast(current_ratio as {{ float }}) as current_ratio,
    cast(debt_to_equity as {{ float }}) as debt_to_equity,
    cast(free_cash_flow_margin as {{ float }}) as free_cash_flow_margin,
    piotroski_f_score,
    cast(altman_z_score as {{ float }}) as altman_z_score
from {{ marts }}.fct_financial_signals
where true
qualify row_number() over (partition by cik, fiscal_year order by as_of_date desc) = 1
