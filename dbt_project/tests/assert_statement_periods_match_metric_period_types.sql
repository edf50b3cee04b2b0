-- Balance-sheet (instant) metrics have no period_start and never a Q4 (a fiscal year end is FY);
-- flow (duration) metrics always have one.
select statements.*
from {{ ref('fct_financial_statements') }} as statements
inner join {{ ref('dim_metric') }} as metrics
    on statements.metric = metrics.metric
where (metrics.period_type = 'instant' and (statements.period_start is not null or statements.fiscal_period = 'Q4'))
   or (metrics.period_type = 'duration' and statements.period_start is null)
