-- 0002: companies (from submissions, or a stub from companyfacts' entityName)
-- and filings (submissions' filing index), keyed by SEC identifiers whose
-- shape is checked here so a malformed key never enters the store.

CREATE TABLE IF NOT EXISTS edgar.companies (
    cik                    text PRIMARY KEY CHECK (cik ~ '^\d{10}$'),
    name                   text NOT NULL,
    entity_type            text,
    sic                    text,
    sic_description        text,
    tickers                text[],
    exchanges              text[],
    state_of_incorporation text,
    fiscal_year_end        text CHECK (fiscal_year_end ~ '^\d{4}$'),  -- MMDD
    category               text,
    ein                    text,
    former_names           jsonb CHECK (jsonb_typeof(former_names) = 'array'),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- One row per filer and accession: a filing with several filers (an insider's Form 4
-- lists both the issuer and the reporting owner) appears in each filer's submissions index.
CREATE TABLE IF NOT EXISTS edgar.filings (
    accession_number        text NOT NULL CHECK (accession_number ~ '^\d{10}-\d{2}-\d{6}$'),
    cik                     text NOT NULL REFERENCES edgar.companies (cik),
    form                    text NOT NULL,
    filing_date             date NOT NULL,
    report_date             date,
    acceptance_datetime     timestamptz,
    primary_document        text,
    -- Derived, so it can never disagree with the columns it is built from.
    primary_document_url    text GENERATED ALWAYS AS (
        CASE WHEN primary_document <> '' THEN
            'https://www.sec.gov/Archives/edgar/data/' || ltrim(cik, '0') || '/'
            || replace(accession_number, '-', '') || '/' || primary_document
        END
    ) STORED,
    primary_doc_description text,
    size                    bigint CHECK (size >= 0),
    is_xbrl                 boolean,
    is_inline_xbrl          boolean,
    items                   text,
    processing_status       text NOT NULL DEFAULT 'pending'
                            CHECK (processing_status IN ('pending', 'processed', 'failed')),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cik, accession_number)
);
-- Serves lookups by accession alone (document fetches, signals' filing reference).
CREATE INDEX IF NOT EXISTS filings_accession ON edgar.filings (accession_number);

-- Serves "a company's filings, newest first" (filing lists, 10-K/10-Q lookups by form).
CREATE INDEX IF NOT EXISTS filings_cik_filing_date
    ON edgar.filings (cik, filing_date DESC) INCLUDE (form);

-- Serves the document work queue: "oldest pending filings first"
-- (WHERE processing_status = 'pending' ORDER BY filing_date ... FOR UPDATE SKIP LOCKED);
-- stays small because processed filings leave it.
CREATE INDEX IF NOT EXISTS filings_pending
    ON edgar.filings (filing_date, accession_number) WHERE processing_status = 'pending';
