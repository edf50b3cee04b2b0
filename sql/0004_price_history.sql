-- 0004: price_history, daily OHLCV per ticker with dividends and splits.
-- cik is informative, not a foreign key: prices arrive for tickers (funds,
-- ETFs, companies without submissions) that have no row in companies.

CREATE TABLE IF NOT EXISTS edgar.price_history (
    ticker      text NOT NULL,
    trade_date  date NOT NULL,
    cik         text CHECK (cik ~ '^\d{10}$'),
    open        numeric CHECK (open > 0),
    high        numeric CHECK (high > 0),
    low         numeric CHECK (low > 0),
    close       numeric CHECK (close > 0),
    adj_close   numeric CHECK (adj_close > 0),
    volume      bigint CHECK (volume >= 0),
    dividend    numeric CHECK (dividend >= 0),
    split_ratio numeric CHECK (split_ratio > 0),
    -- The key serves per-ticker ranges (WHERE ticker = $1 AND trade_date BETWEEN ...).
    PRIMARY KEY (ticker, trade_date)
);

-- Serves cross-ticker date scans ("all closes on D", sector benchmarks over a
-- window). Daily loads append the newest dates, which is what BRIN needs.
CREATE INDEX IF NOT EXISTS price_history_trade_date_brin
    ON edgar.price_history USING brin (trade_date date_minmax_multi_ops);
