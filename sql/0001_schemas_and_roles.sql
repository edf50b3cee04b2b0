-- 0001: schemas and group roles.
-- `edgar` holds the operational tables the pipeline writes; `serving` holds the
-- views applications read. Roles are NOLOGIN groups: a login user is granted
-- one of them. Every statement is idempotent because yoyo records a migration
-- only after it has committed, so a process killed in between re-runs it.

CREATE SCHEMA IF NOT EXISTS edgar;
CREATE SCHEMA IF NOT EXISTS serving;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pipeline_loader') THEN
        CREATE ROLE pipeline_loader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bi_reader') THEN
        CREATE ROLE bi_reader NOLOGIN;
    END IF;
    -- Loads run as `SET LOCAL ROLE pipeline_loader`; a superuser may always do
    -- that, any other migrating user needs the membership.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT pipeline_loader TO %I', current_user);
    END IF;
    -- Temporary tables are a CREATE too: only the loader (COPY staging) gets them.
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO pipeline_loader', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO pipeline_loader, bi_reader', current_database());
END
$$;

-- PostgreSQL 15+ already denies CREATE on `public` to PUBLIC; say it for older servers.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

GRANT USAGE ON SCHEMA edgar TO pipeline_loader;
GRANT USAGE ON SCHEMA serving TO bi_reader;

-- Tables, sequences and views created by later migrations get their grants here.
ALTER DEFAULT PRIVILEGES IN SCHEMA edgar
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO pipeline_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA edgar
    GRANT USAGE, SELECT ON SEQUENCES TO pipeline_loader;
ALTER DEFAULT PRIVILEGES IN SCHEMA serving
    GRANT SELECT ON TABLES TO bi_reader;
-- Functions are executable by PUBLIC unless revoked; each function grants explicitly.
ALTER DEFAULT PRIVILEGES IN SCHEMA edgar REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
