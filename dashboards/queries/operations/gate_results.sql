-- Every gate's suite result (serving.gate_results, read as bi_reader).
select run_id, stage, suite, success, evaluated, failed, created_at, cast(created_at as date) as day
from serving.gate_results
