"""The staged zone: typed Parquet, one file per dataset and company, the only input of loaders."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from ingest import schemas
from ingest.storage import ObjectStore


def staged_key(dataset: str, cik: str) -> str:
    return f"staged/{dataset}/CIK{cik}.parquet"


def write_staged(store: ObjectStore, dataset: str, cik: str, table: pa.Table) -> str:
    """Replace the company's current state of ``dataset``; returns the key written."""
    table = table.cast(schemas.BY_DATASET[dataset])
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    key = staged_key(dataset, cik)
    store.put(key, buf.getvalue())
    return key


def read_staged(store: ObjectStore, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(store.get(key)))
