-- 0003: financial_facts, one row per XBRL fact as listed in companyfacts,
-- every filed version kept (a restatement is a new row under its accession).
--
-- Partitioned by HASH (cik) into 16 partitions:
--  * loads are per company (staged/facts/cik=.../data.parquet), so a load
--    touches one partition and its indexes stay hot;
--  * the dominant reads ("latest value per company and metric", "what did
--    company X report for tag T as of date D") all filter on cik, so they
--    prune to one partition;
--  * cik is in the natural key, as PostgreSQL requires of a partition key;
--  * filed-date RANGE partitioning would spread every company over ~20 yearly
--    partitions, make each per-company load and lookup visit all of them, and
--    force filed into the unique key although it is a property of the accession.
-- 16 keeps partitions near 7M rows for the full SEC universe (18 GB of
-- companyfacts JSON at ~170 bytes per fact: ~110M facts).
--
-- Natural key: (cik, taxonomy, tag, unit, period_start, period_end, accession_number).
-- Checked against every sample company: no two facts share it. The same period
-- repeated in a later filing (comparatives) and restatements differ by accession;
-- instants have no start, so the key treats NULLs as equal (NULLS NOT DISTINCT),
-- otherwise two NULL-start rows would never conflict and re-loads would duplicate.
-- value is numeric: the loader sends the float's shortest round-trip text, which
-- numeric keeps exactly (a float8 -> numeric cast would round to 15 digits).
-- entity_name is not repeated per fact: it lives in companies.
-- cik has no declared foreign key: the loader inserts the companies row (a stub
-- when submissions are missing) in the same transaction, and a per-row RI check
-- would cost ~40% of load time (bench/bench_pg_load.py).
-- Identifier columns use the "C" collation: byte-order comparisons make the two
-- wide btree indexes cheaper to build and probe under any database locale, and
-- these ASCII codes have no linguistic order to lose.

CREATE TABLE IF NOT EXISTS edgar.financial_facts (
    cik              text COLLATE "C" NOT NULL CHECK (cik ~ '^\d{10}$'),
    taxonomy         text COLLATE "C" NOT NULL,
    tag              text COLLATE "C" NOT NULL,
    unit             text COLLATE "C" NOT NULL,
    value            numeric NOT NULL,
    period_start     date,
    period_end       date NOT NULL,
    fy               integer,
    fp               text,
    form             text NOT NULL,
    filed            date NOT NULL,
    accession_number text COLLATE "C" NOT NULL CHECK (accession_number ~ '^\d{10}-\d{2}-\d{6}$'),
    frame            text,
    CHECK (period_start IS NULL OR period_start <= period_end),
    -- period_start last: the nullable column cannot be an equality probe, so the
    -- loader's key lookups (equal on the other six) still narrow to one entry.
    CONSTRAINT financial_facts_natural_key UNIQUE NULLS NOT DISTINCT
        (cik, taxonomy, tag, unit, period_end, accession_number, period_start)
) PARTITION BY HASH (cik);

DO $$
BEGIN
    FOR i IN 0..15 LOOP
        EXECUTE format(
            'CREATE TABLE IF NOT EXISTS edgar.%I PARTITION OF edgar.financial_facts
                 FOR VALUES WITH (MODULUS 16, REMAINDER %s)',
            'financial_facts_p' || lpad(i::text, 2, '0'), i);
    END LOOP;
END
$$;

-- Serves serving.latest_facts and "latest value of tag T for company C"
-- (WHERE cik = $1 AND tag = $2 [AND taxonomy, unit] ORDER BY period_end DESC,
-- filed DESC LIMIT 1), and the point-in-time variant with filed <= D, as
-- index-only scans without a sort.
-- taxonomy and unit sit after tag because one tag can carry several units
-- (TSMC reports 146 tags in both TWD and USD) and a few exist in two taxonomies.
CREATE INDEX IF NOT EXISTS financial_facts_latest
    ON edgar.financial_facts
       (cik, tag, taxonomy, unit, period_end DESC, filed DESC, period_start DESC, accession_number DESC)
    INCLUDE (value, form);

-- Serves "facts filed between D1 and D2" (incremental extracts, daily QA
-- counts). After the backfill rows arrive in filing order, which is what BRIN
-- needs; minmax-multi tolerates the backfill's spread of old dates.
CREATE INDEX IF NOT EXISTS financial_facts_filed_brin
    ON edgar.financial_facts USING brin (filed date_minmax_multi_ops);
