-- 0006: pipeline bookkeeping: stage runs, quarantined inputs and data-quality
-- results, written by the DAG tasks as they go.

CREATE TABLE IF NOT EXISTS edgar.pipeline_runs (
    run_id       text NOT NULL,
    dag_id       text NOT NULL,
    logical_date timestamptz,
    stage        text NOT NULL,
    status       text NOT NULL CHECK (status IN ('running', 'success', 'failed', 'skipped')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz CHECK (finished_at >= started_at),
    counts       jsonb,
    PRIMARY KEY (dag_id, run_id, stage)
);

CREATE TABLE IF NOT EXISTS edgar.quarantine (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     text,
    source     text NOT NULL,
    dataset    text NOT NULL,
    cik        text CHECK (cik ~ '^\d{10}$'),
    object_key text,
    reason     text NOT NULL,
    detail     jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Serves "what did run R quarantine" (run reports, the DAG's failure summary).
CREATE INDEX IF NOT EXISTS quarantine_run_id ON edgar.quarantine (run_id);

CREATE TABLE IF NOT EXISTS edgar.dq_results (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id     text,
    stage      text NOT NULL,
    suite      text NOT NULL,
    success    boolean NOT NULL,
    evaluated  integer NOT NULL CHECK (evaluated >= 0),
    failed     integer NOT NULL CHECK (failed BETWEEN 0 AND evaluated),
    failing    jsonb,
    result_uri text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Serves "results of run R" and "latest result of suite S" (gate history).
CREATE INDEX IF NOT EXISTS dq_results_run_id ON edgar.dq_results (run_id);
CREATE INDEX IF NOT EXISTS dq_results_suite_created ON edgar.dq_results (suite, created_at DESC);
