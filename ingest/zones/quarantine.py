"""The quarantine zone: what failed, kept with its reason, under one layout per kind.

    quarantine/{source}/{dataset}/ingest_date=YYYY-MM-DD/{name}.{digest}.gz   a whole document's bytes, at
                                                                     the key of its raw object less raw/
    .../{name}.{digest}.gz.reason.json                               why, with the run and the filer
    quarantine/{source}/{dataset}/run_id={run_id}/{name}.parquet     rejected rows, each with its `reason`

Documents mirror their raw keys, so a quarantined one is found from the raw object it came from;
rows are kept per run and check (or per ticker and window), as Parquet of the staged schema plus
`reason`.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.identifiers import run_key
from ingest.zones.raw import Landed
from ingest.zones.store import ObjectStore

REASON = "reason"


def document_key(raw: str) -> str:
    return "quarantine/" + raw.removeprefix("raw/")


def rows_key(source: str, dataset: str, run_id: str, name: str) -> str:
    return f"quarantine/{source}/{dataset}/run_id={run_key(run_id)}/{name}.parquet"


def quarantine_document(store: ObjectStore, raw: str, gz_body: bytes, reason: str, run_id: str, **about: str) -> str:
    """Keep bad bytes (gzip) at the quarantine key of their raw-zone key ``raw``, with a reason beside them."""
    key = document_key(raw)
    store.put(key, gz_body, content_type="application/gzip")
    note = {"raw_key": raw, "reason": reason, "run_id": run_id, **about,
            "quarantined_at": datetime.now(UTC).isoformat()}  # fmt: skip
    store.put(key + ".reason.json", json.dumps(note, indent=2).encode(), content_type="application/json")
    return key


def quarantine_landed(store: ObjectStore, landed: Landed, reason: str, run_id: str) -> str:
    """A landed object, as landed, to quarantine."""
    return quarantine_document(store, landed.key, store.get(landed.key), reason, run_id, **landed.to_dict())


def quarantine_rows(store: ObjectStore, rows: pa.Table, *, source: str, dataset: str, run_id: str, name: str) -> str:
    """Rejected rows (with a ``reason`` column) to the quarantine zone; returns the key written."""
    if REASON not in rows.schema.names:
        raise ValueError(f"quarantined rows need a {REASON!r} column")
    buf = io.BytesIO()
    pq.write_table(rows, buf, compression="zstd")
    key = rows_key(source, dataset, run_id, name)
    store.put(key, buf.getvalue())
    return key
