-- 0009: what extraction fetched before, so an incremental run asks SEC only
-- for what changed (ingest/sec/state.py, ingest/postgres/source_state.py).
--
-- A row records what run `run_id` landed. The extractor trusts it only once
-- that run has finished successfully (its 'summary' row in pipeline_runs) and
-- did not quarantine the filer; a failed or partial run therefore makes the
-- next one fetch that filer again instead of skipping data it never stored.

-- Rows are kept per origin ('live' SEC, or 'sample' for the replay server), so
-- validators and accessions seen in one never decide a request to the other.

-- Per resource (the URL's path: host-independent, as the replay server's port
-- changes between runs): the validators of the version landed, sent back as
-- If-None-Match / If-Modified-Since, and where its bytes are in the raw zone
-- (a 304 for a submissions page reuses them).
CREATE TABLE IF NOT EXISTS edgar.source_state (
    origin        text NOT NULL,
    resource      text NOT NULL,
    cik           text NOT NULL CHECK (cik ~ '^\d{10}$'),
    dataset       text NOT NULL,
    etag          text,
    last_modified text,
    raw_key       text NOT NULL,
    run_id        text NOT NULL,
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin, resource)
);

-- Serves "the state of these filers" at the start of every extraction.
CREATE INDEX IF NOT EXISTS source_state_cik ON edgar.source_state (origin, cik);

-- Per filer: the newest accession its submissions listed when last landed.
-- A nightly run fetches companyfacts only for filers whose newest accession differs.
CREATE TABLE IF NOT EXISTS edgar.filer_state (
    origin           text NOT NULL,
    cik              text NOT NULL CHECK (cik ~ '^\d{10}$'),
    last_accession   text NOT NULL CHECK (last_accession ~ '^\d{10}-\d{2}-\d{6}$'),
    last_filing_date date,
    run_id           text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin, cik)
);

-- The trust check asks "did run R finish" by run_id alone (the key leads with dag_id);
-- "did run R quarantine filer C" is served by quarantine_run_id.
CREATE INDEX IF NOT EXISTS pipeline_runs_run_id_stage ON edgar.pipeline_runs (run_id, stage);
