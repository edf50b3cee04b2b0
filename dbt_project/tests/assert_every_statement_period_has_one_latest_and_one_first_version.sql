-- Each company, metric, fiscal period and its dates have exactly one latest and one
-- first-reported version (uniqueness alone would not catch a period left with none).
select
    cik,
    metric,
    fiscal_period,
    period_start,
    period_end,
    sum(case when is_latest then 1 else 0 end) as latest_versions,
    sum(case when is_first_reported then 1 else 0 end) as first_versions
from {{ ref('fct_financial_statements') }}
group by cik, metric, fiscal_period, period_start, period_end
having sum(case when is_latest then 1 else 0 end) <> 1
    or sum(case when is_first_reported then 1 else 0 end) <> 1
