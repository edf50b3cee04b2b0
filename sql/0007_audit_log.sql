-- 0007: audit_log, an append-only record of what changed the store (each load
-- writes one row, committed with the load). Partitioned by RANGE of month on
-- logged_at so old months are dropped or archived as whole tables.
-- edgar.ensure_audit_partitions(months_ahead) creates the current month and the
-- next months_ahead months; the pipeline calls it before writing, and a
-- maintenance task calls it ahead of time so no insert ever lacks a partition.

CREATE TABLE IF NOT EXISTS edgar.audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY,
    logged_at timestamptz NOT NULL DEFAULT now(),
    run_id    text,
    actor     text NOT NULL DEFAULT current_user,
    action    text NOT NULL,
    object    text NOT NULL,
    detail    jsonb,
    PRIMARY KEY (id, logged_at)
) PARTITION BY RANGE (logged_at);

-- Append-only for the pipeline.
REVOKE UPDATE, DELETE ON edgar.audit_log FROM pipeline_loader;

-- Serves "what happened between T1 and T2" across partitions; rows are appended
-- in time order, BRIN's ideal case.
CREATE INDEX IF NOT EXISTS audit_log_logged_at_brin ON edgar.audit_log USING brin (logged_at);

-- SECURITY DEFINER: the loader role may create audit partitions, nothing else.
CREATE OR REPLACE FUNCTION edgar.ensure_audit_partitions(months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $$
DECLARE
    this_month date := date_trunc('month', now())::date;
    month_start date;
    partition_name text;
    created integer := 0;
BEGIN
    IF months_ahead IS NULL OR months_ahead < 0 THEN
        RAISE EXCEPTION 'months_ahead must be >= 0, got %', months_ahead;
    END IF;
    -- Concurrent callers would race on the same CREATE; serialize them.
    PERFORM pg_advisory_xact_lock(hashtext('edgar.ensure_audit_partitions'));
    FOR i IN 0..months_ahead LOOP
        month_start := this_month + make_interval(months => i);
        partition_name := 'audit_log_' || to_char(month_start, 'YYYYMM');
        IF to_regclass('edgar.' || partition_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE edgar.%I PARTITION OF edgar.audit_log FOR VALUES FROM (%L) TO (%L)',
                partition_name, month_start::timestamptz, (month_start + interval '1 month')::timestamptz);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

REVOKE EXECUTE ON FUNCTION edgar.ensure_audit_partitions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION edgar.ensure_audit_partitions(integer) TO pipeline_loader;

DO $$ BEGIN PERFORM edgar.ensure_audit_partitions(3); END $$;
