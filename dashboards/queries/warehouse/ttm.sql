-- Each company's latest trailing-twelve-month value per metric.
select cik, metric, fiscal_year, fiscal_period, period_end, cast(ttm_value as {{ float }}) as ttm_value, unit
from {{ marts }}.fct_financial_ttm
where true
qualify row_number() over (partition by cik, metric order by period_end desc) = 1
