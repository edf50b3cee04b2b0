-- 0010: the audit log is append-only through its partitions too. 0007 revoked UPDATE and DELETE
-- on edgar.audit_log, but each monthly partition is a table of its own that took the schema's
-- default privileges (0001: SELECT, INSERT, UPDATE, DELETE for pipeline_loader), so
-- `DELETE FROM edgar.audit_log_202612` succeeded. Partitions now keep SELECT and INSERT only:
-- the existing ones here, every later one as ensure_audit_partitions creates it.

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
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON edgar.%I FROM pipeline_loader', partition_name);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

REVOKE EXECUTE ON FUNCTION edgar.ensure_audit_partitions(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION edgar.ensure_audit_partitions(integer) TO pipeline_loader;

DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'edgar.audit_log'::regclass LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM pipeline_loader', part);
    END LOOP;
END
$$;
