"""The raw and quarantine zones: bytes exactly as received, gzip-compressed, never rewritten."""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone

from ingest.storage import ObjectStore


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


def quarantine(store: ObjectStore, raw: str, gz_body: bytes, reason: str, run_id: str, **about: str) -> str:
    """Keep bad bytes under quarantine/, mirroring their raw-zone key ``raw``, with a reason beside them."""
    key = "quarantine/" + raw.removeprefix("raw/")
    store.put(key, gz_body, content_type="application/gzip")
    note = {"raw_key": raw, "reason": reason, "run_id": run_id, **about,
            "quarantined_at": datetime.now(timezone.utc).isoformat()}
    store.put(key + ".reason.json", json.dumps(note, indent=2).encode(), content_type="application/json")
    return key


def quarantine_landed(store: ObjectStore, landed: Landed, reason: str, run_id: str) -> str:
    return quarantine(store, landed.key, store.get(landed.key), reason, run_id, **landed.to_dict())
