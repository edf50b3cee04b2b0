-- 0013: the sections of periodic reports (ingest/text/: 10-K items, 10-Q parts and items), with
-- a full-text index, and serving.search_sections, the one way bi_reader reaches their text: a
-- ranked search that returns snippets, not whole sections.
--
-- The prose column is named `text` like the staged column (schemas.SECTIONS): the loader stores
-- staged columns under their own names. Keys are shape-checked but reference no table: a
-- filing's sections may be loaded before its companies and filings rows, which the search joins
-- when they are there.

CREATE TABLE IF NOT EXISTS edgar.filing_sections (
    cik              text NOT NULL CHECK (cik ~ '^\d{10}$'),
    accession_number text NOT NULL CHECK (accession_number ~ '^\d{10}-\d{2}-\d{6}$'),
    form             text NOT NULL,
    filing_date      date NOT NULL,
    -- A 10-K item ("1A", "7") or a 10-Q part and item ("I-2", "II-1A").
    item             text NOT NULL CHECK (item ~ '^((I|II)-)?\d{1,2}[A-D]?$'),
    covers           text[] NOT NULL,  -- every item a combined heading names ("Items 1 and 2")
    title            text,
    position         integer NOT NULL CHECK (position >= 0),
    text             text NOT NULL,  -- the prose; tables are in table_text
    table_text       text,
    char_count       bigint NOT NULL CHECK (char_count >= 0),
    word_count       bigint NOT NULL CHECK (word_count >= 0),
    headings         text[],
    -- The title weighs more than the prose. Only the first 250,000 characters of the prose are
    -- indexed: a tsvector must stay under 1 MB or the row is rejected, and sections pass the
    -- staged gate up to 2,000,000 characters. Real filing prose makes 0.25-0.6 bytes of tsvector
    -- per character (the sample's 10-Ks); the worst ASCII text, every word a new 4-letter one,
    -- about 2.3, i.e. under 600 kB here. The prefix covers every real Risk Factors and MD&A
    -- (55k-110k characters in the sample), and words past ~16,000 all share tsvector's last
    -- position anyway, so ranking would gain little from more.
    search           tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('english'::regconfig, left(text, 250000)), 'B')
    ) STORED,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cik, accession_number, item)
);

-- Serves the @@ match of serving.search_sections. Inserted rows wait in GIN's pending list, which
-- every search reads through until it is merged (by an insert that fills it, or a vacuum). At the
-- default 4 MB, a load left searches reading up to 4 MB more and the planner, costing that (1,467
-- against 30 for "export controls" once merged), chose sequential scans of small tables; 512 kB
-- bounds that (137). Loading bench/bench_search.py's 21,690 paragraph sections took 3.5 s with
-- this, 3.1 s at 4 MB, 10.3 s with fastupdate off (every row's lexemes merged as it comes).
CREATE INDEX IF NOT EXISTS filing_sections_search ON edgar.filing_sections USING gin (search)
    WITH (gin_pending_list_limit = 512);

-- Serves its filters, a company's sections in a date range (also ANDed with the match's bitmap).
CREATE INDEX IF NOT EXISTS filing_sections_cik_filing_date ON edgar.filing_sections (cik, filing_date);

-- Sections matching a web-search style query (websearch_to_tsquery: "quoted phrase", or, -word),
-- best first by cover density (ts_rank_cd, not normalized by length: a section that keeps coming
-- back to the subject outranks one that mentions it once; ties: the newest filing first), if asked
-- of one company (cik, zero-padded or not), one form (exactly: '10-K' is not '10-K/A'), filing dates
-- in [filed_from, filed_to]; max_results NULL means 20, and at most 1,000 are returned.
-- ts_headline parses again the whole text it marks up (~10 ms per 100,000 characters), so
-- snippets are made after the LIMIT, for the returned rows only, from the indexed prefix.
-- url: the filing's primary document when edgar.filings knows it, else its index page.
-- SECURITY DEFINER, with its owner's rights as the serving views have: callers need no grant on
-- edgar.*. Parameters are qualified with the function's name: in a query, a bare `cik` or `form`
-- is the column.
CREATE OR REPLACE FUNCTION serving.search_sections(
    query       text,
    cik         text DEFAULT NULL,
    form        text DEFAULT NULL,
    filed_from  date DEFAULT NULL,
    filed_to    date DEFAULT NULL,
    max_results integer DEFAULT 20
)
RETURNS TABLE (
    cik              text,
    company          text,
    accession_number text,
    form             text,
    filing_date      date,
    item             text,
    title            text,
    rank             real,
    snippet          text,
    url              text
)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- Planned with each call's values: absent filters drop out of the plan, and the query's words
-- meet the column's statistics (a rare word is read from the GIN index, a common one may not be).
SET plan_cache_mode = force_custom_plan
AS $$
    SELECT h.cik, c.name, h.accession_number, h.form, h.filing_date, h.item, h.title, h.rank,
           ts_headline('english'::regconfig, left(h.text, 250000),
                       websearch_to_tsquery('english'::regconfig, search_sections.query),
                       'MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" ... "'),
           coalesce(f.primary_document_url,
                    'https://www.sec.gov/Archives/edgar/data/' || ltrim(h.cik, '0') || '/'
                    || replace(h.accession_number, '-', '') || '/' || h.accession_number || '-index.htm')
    FROM (
        SELECT s.cik, s.accession_number, s.form, s.filing_date, s.item, s.title, s.position, s.text,
               ts_rank_cd(s.search, websearch_to_tsquery('english'::regconfig, search_sections.query)) AS rank
        FROM edgar.filing_sections s
        WHERE s.search @@ websearch_to_tsquery('english'::regconfig, search_sections.query)
          AND (search_sections.cik IS NULL OR s.cik = lpad(search_sections.cik, 10, '0'))
          AND (search_sections.form IS NULL OR s.form = search_sections.form)
          AND (search_sections.filed_from IS NULL OR s.filing_date >= search_sections.filed_from)
          AND (search_sections.filed_to IS NULL OR s.filing_date <= search_sections.filed_to)
        ORDER BY rank DESC, s.filing_date DESC, s.cik, s.accession_number, s.position
        LIMIT least(greatest(coalesce(search_sections.max_results, 20), 0), 1000)
    ) h
    LEFT JOIN edgar.companies c ON c.cik = h.cik
    LEFT JOIN edgar.filings f ON f.cik = h.cik AND f.accession_number = h.accession_number
    ORDER BY h.rank DESC, h.filing_date DESC, h.cik, h.accession_number, h.position
$$;

REVOKE EXECUTE ON FUNCTION serving.search_sections(text, text, text, date, date, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION serving.search_sections(text, text, text, date, date, integer) TO bi_reader;
