"""Defaults of the DAGs' parameters. DAG files import this at parse time, so it imports nothing."""

# Filers per extract/normalize task of edgar_nightly: ~38 tasks for SEC's ~18.8k filers.
EDGAR_BATCH_SIZE = 500
# Tickers per fetch task of market_daily.
MARKET_BATCH_SIZE = 100
