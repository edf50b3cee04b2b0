-- 0011: what apps read besides signals, published from the warehouse marts with them
-- (ingest/publish/serving.py), so that PostgreSQL's serving views answer every read the
-- Redis cache answers (ingest/serving/api.py falls back to them).

-- Each company's latest annual (FY) and latest quarterly (Q1..Q4) statement: the latest
-- version of every metric of that one fiscal period. A snapshot: each publish replaces it.
CREATE TABLE IF NOT EXISTS edgar.latest_statements (
    cik              text NOT NULL CHECK (cik ~ '^\d{10}$') REFERENCES edgar.companies (cik),
    statement        text NOT NULL CHECK (statement IN ('income_statement', 'balance_sheet', 'cash_flow')),
    period_kind      text NOT NULL CHECK (period_kind IN ('annual', 'quarterly')),
    metric           text NOT NULL,
    fiscal_year      integer NOT NULL,
    fiscal_period    text NOT NULL CHECK (fiscal_period IN ('FY', 'Q1', 'Q2', 'Q3', 'Q4')),
    period_start     date,
    period_end       date NOT NULL,
    value            numeric NOT NULL,
    unit             text NOT NULL,
    is_derived       boolean NOT NULL,
    accession_number text NOT NULL CHECK (accession_number ~ '^\d{10}-\d{2}-\d{6}$'),
    filed_date       date NOT NULL,
    PRIMARY KEY (cik, statement, period_kind, metric)
);

-- Each ticker's latest valuation (fct_valuation_signals on its latest trade date). A snapshot.
CREATE TABLE IF NOT EXISTS edgar.latest_valuation (
    ticker            text PRIMARY KEY,
    cik               text CHECK (cik ~ '^\d{10}$'),
    as_of_date        date NOT NULL,
    market_cap        numeric,
    enterprise_value  numeric,
    price_to_earnings numeric,
    price_to_sales    numeric,
    ev_to_ebitda      numeric,
    return_1m         numeric,
    return_3m         numeric,
    return_12m        numeric,
    volatility_3m     numeric
);

CREATE OR REPLACE VIEW serving.latest_statements AS
SELECT cik, statement, period_kind, metric, fiscal_year, fiscal_period, period_start, period_end,
       value, unit, is_derived, accession_number, filed_date
FROM edgar.latest_statements;

-- The latest bar of every ticker (read backwards along the primary key) with its valuation.
CREATE OR REPLACE VIEW serving.latest_market AS
SELECT p.ticker, p.cik, p.trade_date, p.open, p.high, p.low, p.close, p.adj_close, p.volume,
       v.as_of_date AS valuation_date, v.market_cap, v.enterprise_value, v.price_to_earnings,
       v.price_to_sales, v.ev_to_ebitda, v.return_1m, v.return_3m, v.return_12m, v.volatility_3m
FROM (
    SELECT DISTINCT ON (ticker) *
    FROM edgar.price_history
    ORDER BY ticker, trade_date DESC
) p
LEFT JOIN edgar.latest_valuation v USING (ticker);
