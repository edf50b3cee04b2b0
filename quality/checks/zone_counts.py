"""Rows of a staged dataset over the whole zone, from Parquet footers and the warehouse's raw table."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping

import pandas as pd
import pyarrow.parquet as pq

from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import RAW_SCHEMA, RAW_TABLES
from ingest.zones.staged import staged_cik
from ingest.zones.store import ObjectStore
from quality.checks.postgres_state import table_frame


def zone_rows(store: ObjectStore, dataset: str, warehouse: WarehouseReader, written: Iterable[str]) -> int:
    """The zone's rows of ``dataset`` after a run that ``written`` files: those files' footers
    plus the warehouse raw table's rows of every other company, which hold what their staged
    files held when last loaded. A nightly reads its own few files, not the universe's (on GCS, a
    download per file); a bulk run, which writes every file, reads them all."""
    written = list(written)
    ciks = sorted({staged_cik(k) for k in written})  # a company whose file is gone counts none
    table = RAW_TABLES[dataset][0]
    others = 0
    if warehouse.exists(RAW_SCHEMA, table):
        sql = f"SELECT count(*) AS n FROM {warehouse.table(RAW_SCHEMA, table)}"
        if ciks:
            sql += " WHERE cik NOT IN (SELECT * FROM UNNEST(?))"
        others = warehouse.query(sql, [ciks] if ciks else []).column("n")[0].as_py()
    return others + _footer_rows(store, [k for k in written if store.exists(k)])


def _footer_rows(store: ObjectStore, keys: Iterable[str]) -> int:
    return sum(pq.read_metadata(io.BytesIO(store.get(key))).num_rows for key in keys)


def counts_frame(rows: Mapping[str, int], previous: Mapping[str, int]) -> pd.DataFrame:
    """dataset, row_count, previous_row_count, change (null where no passing run counted it)."""
    frame = table_frame(rows, previous).rename(columns={"table": "dataset"})
    return frame.assign(change=(frame["row_count"] / frame["previous_row_count"] - 1).astype("Float64"))
