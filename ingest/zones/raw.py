"""The raw zone: bytes exactly as received, gzip-compressed, never rewritten.

    raw/{source}/{dataset}/ingest_date=YYYY-MM-DD/{name}.gz
"""

from __future__ import annotations

import gzip
from dataclasses import asdict, dataclass
from datetime import date

from ingest.zones.store import ObjectStore


@dataclass(frozen=True)
class Landed:
    """One landed object: what it is, for whom, and where its raw bytes are."""

    source: str  # sec, yahoo
    dataset: str  # companyfacts, submissions, ...
    cik: str
    key: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def raw_key(source: str, dataset: str, ingest_date: date, name: str) -> str:
    return f"raw/{source}/{dataset}/ingest_date={ingest_date.isoformat()}/{name}.gz"


def land(store: ObjectStore, source: str, dataset: str, ingest_date: date, name: str, body: bytes) -> str:
    """Store a response body under the raw zone; the first landing of a logical date wins, so
    re-running the date neither duplicates nor rewrites raw data."""
    key = raw_key(source, dataset, ingest_date, name)
    # mtime=0: the same bytes always compress to the same object.
    store.put_if_absent(key, gzip.compress(body, compresslevel=6, mtime=0), content_type="application/gzip")
    return key


def read_raw(store: ObjectStore, key: str) -> bytes:
    return gzip.decompress(store.get(key))
