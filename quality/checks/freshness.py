"""Freshness and completeness of the warehouse.

Freshness: per company, the newest filing the warehouse holds vs the newest financial-statement
filing in the submissions index (staged filings). Completeness: expected companies vs landed ones.
Both build a small frame per company and gate it with GX, so failures name the companies.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest.identifiers import sql_name
from ingest.sec.vocab import PERIODIC_REPORT_FORMS
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import MARTS_SCHEMA, RAW_SCHEMA, RAW_TABLES
from ingest.zones.store import ObjectStore
from quality import suites
from quality.gate import Data, run_gate
from quality.report import GateResult

# companyfacts usually lists a filing within a day or two of its acceptance.
MAX_LAG_DAYS = 3


def warehouse_latest_filed(
    warehouse: WarehouseReader,
    table: str = "fct_financial_statements",
    schema: str = MARTS_SCHEMA,
    date_column: str = "filed_date",
) -> pa.Table:
    """(cik, latest_filed) from a warehouse table (DuckDB or BigQuery)."""
    return warehouse.query(latest_filed_sql(warehouse.table(schema, table), date_column))


def latest_filed_sql(table: str, date_column: str = "filed_date") -> str:
    """Per company, the newest ``date_column`` of ``table`` (already qualified)."""
    return f"SELECT cik, max({sql_name(date_column)}) AS latest_filed FROM {table} GROUP BY cik"


def warehouse_periodic_filings(warehouse: WarehouseReader) -> pa.Table:
    """The filings index as the warehouse's raw table holds it, reduced in SQL to what
    freshness_frame reads: per company, its newest periodic XBRL filing (cik, form, is_xbrl,
    filing_date). One row per company, however long the indexes."""
    table = warehouse.table(RAW_SCHEMA, RAW_TABLES["filings"][0])
    sql = (
        "SELECT cik, max(form) AS form, true AS is_xbrl, max(filing_date) AS filing_date"
        f" FROM {table} WHERE form IN (SELECT * FROM UNNEST(?)) AND is_xbrl GROUP BY cik"
    )
    return warehouse.query(sql, [sorted(PERIODIC_REPORT_FORMS)])


def _periodic(filings: pa.Table) -> pa.ChunkedArray:
    return pc.and_(pc.is_in(filings["form"], pa.array(sorted(PERIODIC_REPORT_FORMS))), filings["is_xbrl"])


def freshness_frame(warehouse_latest: Data, filings: Data) -> pd.DataFrame:
    """cik, warehouse_latest, index_latest, lag_days for every company in the warehouse.

    ``warehouse_latest``: (cik, latest_filed); ``filings``: staged filings. A company the index
    does not cover gets a null lag and is not judged.
    """
    if isinstance(filings, pd.DataFrame):
        filings = pa.Table.from_pandas(filings, preserve_index=False)
    index = filings.filter(_periodic(filings)).group_by("cik").aggregate([("filing_date", "max")]).to_pandas()
    held = warehouse_latest.to_pandas() if isinstance(warehouse_latest, pa.Table) else warehouse_latest
    frame = held.rename(columns={"latest_filed": "warehouse_latest"}).merge(
        index.rename(columns={"filing_date_max": "index_latest"}), on="cik", how="left"
    )
    lag = pd.to_datetime(frame["index_latest"]) - pd.to_datetime(frame["warehouse_latest"])
    return frame.assign(lag_days=lag.dt.days.astype("Int64")).sort_values("cik", ignore_index=True)


def completeness_frame(expected_ciks: Iterable[str], landed_ciks: Iterable[str]) -> pd.DataFrame:
    """cik, landed for every expected company."""
    landed = set(landed_ciks)
    expected = sorted(set(expected_ciks))
    return pd.DataFrame({"cik": expected, "landed": [cik in landed for cik in expected]})


def check_freshness(
    warehouse_latest: Data,
    filings: Data,
    *,
    store: ObjectStore,
    run_id: str,
    max_lag_days: int = MAX_LAG_DAYS,
) -> GateResult:
    """Gate: no company's warehouse data is more than ``max_lag_days`` behind its filings."""
    frame = freshness_frame(warehouse_latest, filings)
    return run_gate("freshness", suites.freshness(max_lag_days), frame, store=store, run_id=run_id)


def check_completeness(
    expected_ciks: Iterable[str], landed_ciks: Iterable[str], *, store: ObjectStore, run_id: str
) -> GateResult:
    """Gate: every expected company landed (GateFailed names the missing ones)."""
    frame = completeness_frame(expected_ciks, landed_ciks)
    return run_gate("freshness", suites.completeness(), frame, store=store, run_id=run_id)
