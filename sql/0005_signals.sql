-- 0005: signals published from the warehouse marts, one row per company,
-- signal and as-of date; accession_number names the filing a signal comes from.
-- It is provenance, not a foreign key: a filer known only from companyfacts has
-- no filings index, and its signals still trace to their accession.

CREATE TABLE IF NOT EXISTS edgar.signals (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cik              text NOT NULL CHECK (cik ~ '^\d{10}$') REFERENCES edgar.companies (cik),
    accession_number text,
    as_of_date       date NOT NULL,
    category         text NOT NULL CHECK (category IN ('financial', 'sentiment', 'risk', 'management')),
    name             text NOT NULL,
    value            numeric,
    confidence       numeric CHECK (confidence BETWEEN 0 AND 1),
    computed_at      timestamptz NOT NULL DEFAULT now()
);

-- Natural key (re-publishing a signal replaces it) and, with as_of_date
-- descending, the exact order serving.latest_signals reads.
CREATE UNIQUE INDEX IF NOT EXISTS signals_natural_key
    ON edgar.signals (cik, category, name, as_of_date DESC);
