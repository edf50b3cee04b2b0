-- Every DAG run, newest first (serving.pipeline_runs, read as bi_reader).
select dag_id, run_id, logical_date, finished_at, status, failed_tasks, companies, tickers, current_companies
from serving.pipeline_runs
order by coalesce(finished_at, logical_date) desc
