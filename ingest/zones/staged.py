"""The staged zone: typed Parquet, one file per dataset and company, the only input of loaders.

    staged/{dataset}/CIK##########.parquet   a company's current state of the dataset
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.zones import schemas
from ingest.zones.store import ObjectStore

_KEY = re.compile(r"^staged/[a-z_]+/CIK(\d{10})\.parquet$")


def staged_key(dataset: str, cik: str) -> str:
    return f"staged/{dataset}/CIK{cik}.parquet"


def staged_cik(key: str) -> str | None:
    """The company a staged key belongs to; None when ``key`` is not a staged file."""
    m = _KEY.match(key)
    return m.group(1) if m else None


def staged_keys(store: ObjectStore, dataset: str, ciks: Iterable[str] | None = None) -> list[str]:
    """Every company's staged file of ``dataset``, or those of ``ciks`` that exist (one listing,
    not a request per company)."""
    keys = [k for k in store.list(f"staged/{dataset}/") if k.endswith(".parquet")]
    if ciks is None:
        return keys
    wanted = set(ciks)
    return [k for k in keys if staged_cik(k) in wanted]


def write_staged(store: ObjectStore, dataset: str, cik: str, table: pa.Table) -> str:
    """Replace the company's current state of ``dataset``; returns the key written."""
    table = table.cast(schemas.BY_DATASET[dataset])
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    key = staged_key(dataset, cik)
    store.put(key, buf.getvalue())
    return key


def read_staged(store: ObjectStore, key: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(io.BytesIO(store.get(key)), columns=columns)
