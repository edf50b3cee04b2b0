"""Profiles of the raw documents a run landed, one small row per document group, written while
normalizing parses them so the raw-zone gate never reads a document again.

    quality/raw_profiles/run_id={run_id}/{dataset}/CIK{first cik of the batch}.parquet

A run normalizes its filers in batches, each writing its own file; a retried batch rewrites its own.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.identifiers import run_key
from ingest.zones.store import ObjectStore

# One row per landed document group; counts are null where the document did not parse.
RAW_PROFILE = pa.schema(
    [
        ("cik", pa.string()),  # the filer requested
        ("dataset", pa.string()),
        ("object_key", pa.string()),  # the main document's raw key
        ("objects", pa.int32()),  # the main document and its pages
        ("bytes", pa.int64()),  # uncompressed JSON; null when the gzip stream is broken
        ("parsed", pa.bool_()),
        ("reason", pa.string()),  # why not, as recorded with the quarantined bytes
        ("document_cik", pa.string()),  # the filer the document is about
        ("entity_name", pa.string()),  # "" when the document names none; null when unknown
        ("facts", pa.int64()),  # companyfacts only
        ("taxonomies", pa.int32()),  # companyfacts only
        ("filings", pa.int64()),  # distinct accessions: of the facts, or of the filings index
    ]
)


def profiles_prefix(run_id: str, dataset: str) -> str:
    """Where the run's profiles of ``dataset`` are, one Parquet file per normalize batch."""
    return f"quality/raw_profiles/run_id={run_key(run_id)}/{dataset}/"


def write_profiles(store: ObjectStore, run_id: str, dataset: str, rows: list[dict[str, Any]]) -> str:
    """One batch's profiles of ``dataset``; batches hold disjoint filers, so the first names the file."""
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=RAW_PROFILE), buf, compression="zstd")
    key = f"{profiles_prefix(run_id, dataset)}CIK{rows[0]['cik']}.parquet"
    store.put(key, buf.getvalue())
    return key


def read_profiles(store: ObjectStore, run_id: str, dataset: str) -> pa.Table:
    """Every batch's profiles of ``dataset`` in this run (none: an empty table)."""
    parts = [pq.read_table(io.BytesIO(store.get(k))) for k in store.list(profiles_prefix(run_id, dataset))]
    return pa.concat_tables([RAW_PROFILE.empty_table(), *parts])
