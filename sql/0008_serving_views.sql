-- 0008: serving views, the only objects bi_reader can read. They run with
-- their owner's rights, so readers need no grant on the base tables.

CREATE OR REPLACE VIEW serving.companies AS
SELECT cik, name, entity_type, sic, sic_description, tickers, exchanges,
       state_of_incorporation, fiscal_year_end, category, ein, former_names, updated_at
FROM edgar.companies;

-- Latest value per company, tag and unit (one tag can be reported in several
-- units, e.g. TWD and USD): the newest period, then the newest filing of it
-- (restatements win), then the shortest period ending that day (the quarter
-- over the year-to-date), then the highest accession. Follows the order of
-- index financial_facts_latest, so filtering on cik (and tag) is an index-only scan.
CREATE OR REPLACE VIEW serving.latest_facts AS
SELECT DISTINCT ON (cik, tag, taxonomy, unit)
       cik, taxonomy, tag, unit, value, period_start, period_end, filed, form, accession_number
FROM edgar.financial_facts
ORDER BY cik, tag, taxonomy, unit, period_end DESC, filed DESC, period_start DESC, accession_number DESC;

-- Latest as-of date per company and signal, read along signals_natural_key.
CREATE OR REPLACE VIEW serving.latest_signals AS
SELECT DISTINCT ON (cik, category, name)
       cik, category, name, as_of_date, value, confidence, accession_number, computed_at
FROM edgar.signals
ORDER BY cik, category, name, as_of_date DESC;
