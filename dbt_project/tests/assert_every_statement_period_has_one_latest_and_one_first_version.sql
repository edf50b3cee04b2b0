-- Each company, metric, fiscal year and fiscal period has exactly one latest and one
-- first-reported version, and at most one latest annual-report version (uniqueness alone would
-- not catch a period left with none).
select
    cik,
    metric,
    fiscal_year,
    fiscal_period,
    sum(case when is_latest then 1 else 0 end) as latest_versions,
    sum(case when is_first_reported then 1 else 0 end) as first_versions,
    sum(case when is_latest_annual_report then 1 else 0 end) as latest_annual_versions
from {{ ref('fct_financial_statements') }}
group by cik, metric, fiscal_year, fiscal_period
having sum(case when is_latest then 1 else 0 end) <> 1
    or sum(case when is_first_reported then 1 else 0 end) <> 1
    or sum(case when is_latest_annual_report then 1 else 0 end) > 1
