-- Trailing-twelve-month sums are defined only for additive metrics (currency flows): a summed
-- balance, EPS or share count would be meaningless.
select ttm.cik, ttm.metric
from {{ ref('fct_financial_ttm') }} as ttm
left join {{ ref('dim_metric') }} as metrics
    on ttm.metric = metrics.metric
where metrics.is_additive is null or not metrics.is_additive
