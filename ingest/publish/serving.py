"""Publish each company's latest statements and each ticker's latest valuation to PostgreSQL.

Both are snapshots (the loader deletes what the marts no longer hold), read by PostgreSQL's serving
views and, through them, by the Redis cache (ingest/publish/cache.py). With the signals
(ingest/publish/signals.py) they are everything an app reads.
"""

from __future__ import annotations

import pyarrow as pa

from ingest.postgres.connection import connect
from ingest.postgres.loader import LoadResult, load_dataset
from ingest.settings import Settings
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import MARTS_SCHEMA

# The latest annual (FY) and the latest quarterly (Q1..Q4) period of each company and statement,
# and the latest version of every metric of that one period: a statement is never a mix of years.
LATEST_STATEMENTS_SQL = """
with latest as (
    select f.cik, m.statement,
           case when f.fiscal_period = 'FY' then 'annual' else 'quarterly' end as period_kind,
           f.metric, f.fiscal_year, f.fiscal_period, f.period_start, f.period_end, f.value, f.unit,
           f.is_derived, f.accession_number, f.filed_date
    from {facts} f
    join {metrics} m on m.metric = f.metric
    where f.is_latest
)
select * from latest
qualify dense_rank() over (
    partition by cik, statement, period_kind order by fiscal_year desc, fiscal_period desc
) = 1
"""

LATEST_VALUATION_SQL = """
select ticker, cik, as_of_date, market_cap, enterprise_value, price_to_earnings, price_to_sales,
       ev_to_ebitda, return_1m, return_3m, return_12m, volatility_3m
from {valuation}
where is_latest_trade_date
"""


def latest_statement_rows(settings: Settings) -> pa.Table:
    warehouse = WarehouseReader(settings)
    return warehouse.query(
        LATEST_STATEMENTS_SQL.format(
            facts=warehouse.table(MARTS_SCHEMA, "fct_financial_statements"),
            metrics=warehouse.table(MARTS_SCHEMA, "dim_metric"),
        )
    )


def latest_valuation_rows(settings: Settings) -> pa.Table:
    warehouse = WarehouseReader(settings)
    return warehouse.query(LATEST_VALUATION_SQL.format(valuation=warehouse.table(MARTS_SCHEMA, "fct_valuation_signals")))


def publish_serving(settings: Settings, run_id: str) -> dict[str, LoadResult]:
    statements, valuation = latest_statement_rows(settings), latest_valuation_rows(settings)
    with connect(settings) as conn:
        return {
            "latest_statements": load_dataset(conn, "latest_statements", statements, run_id=run_id),
            "latest_valuation": load_dataset(conn, "latest_valuation", valuation, run_id=run_id),
        }
