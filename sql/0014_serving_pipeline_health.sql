-- 0014: pipeline health as BI readers see it (the dashboard's pipeline page): runs, gate results
-- and quarantine over time, without what only operators need (failing rows, object keys, paths).

-- One row per DAG run. A run has finished once its summary is recorded; a task that failed for
-- good records itself as a failed stage (the DAGs' failure callback), so failed runs show too.
CREATE OR REPLACE VIEW serving.pipeline_runs AS
SELECT dag_id,
       run_id,
       max(logical_date) AS logical_date,
       max(finished_at) AS finished_at,
       CASE WHEN bool_or(status = 'failed') THEN 'failed'
            WHEN bool_or(stage = 'summary' AND status = 'success') THEN 'success'
            ELSE 'running' END AS status,
       string_agg(stage, ', ' ORDER BY stage) FILTER (WHERE status = 'failed') AS failed_tasks,
       max((counts ->> 'companies')::integer) FILTER (WHERE stage = 'summary') AS companies,
       max((counts ->> 'tickers')::integer) FILTER (WHERE stage = 'summary') AS tickers,
       max((counts ->> 'current_companies')::integer) FILTER (WHERE stage = 'summary') AS current_companies
FROM edgar.pipeline_runs
GROUP BY dag_id, run_id;

CREATE OR REPLACE VIEW serving.gate_results AS
SELECT run_id, stage, suite, success, evaluated, failed, created_at
FROM edgar.dq_results;

CREATE OR REPLACE VIEW serving.quarantine_daily AS
SELECT created_at::date AS day,
       source,
       dataset,
       reason,
       count(*) AS items,
       count(DISTINCT cik) AS filers,
       sum(CASE WHEN detail ->> 'rows' ~ '^\d+$' THEN (detail ->> 'rows')::bigint ELSE 1 END) AS rows
FROM edgar.quarantine
GROUP BY 1, 2, 3, 4;
