"""The raw zone: bytes exactly as received, gzip-compressed, never rewritten.

    raw/{source}/{dataset}/ingest_date=YYYY-MM-DD/{name}.{digest}.gz

``digest`` is the first 16 hex digits of the body's SHA-256, so a key names one body: a fetch
that brings new bytes for the same date (SEC changed the document, or the last fetch was corrupt)
lands beside the old object instead of being dropped, and normalization reads what was fetched;
a re-run that brings the same bytes writes nothing.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
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


class CorruptRaw(ValueError):
    """A raw object whose stored bytes are not the gzip they were written as."""


def raw_key(source: str, dataset: str, ingest_date: date, name: str, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()[:16]
    return f"raw/{source}/{dataset}/ingest_date={ingest_date.isoformat()}/{name}.{digest}.gz"


def land(store: ObjectStore, source: str, dataset: str, ingest_date: date, name: str, body: bytes) -> str:
    """Store a response body under the raw zone at its own key; returns the key."""
    key = raw_key(source, dataset, ingest_date, name, body)
    # mtime=0: the same bytes always compress to the same object.
    store.put_if_absent(key, gzip.compress(body, compresslevel=6, mtime=0), content_type="application/gzip")
    return key


def unpack(stored: bytes) -> bytes:
    """A raw object's bytes as received; CorruptRaw when what is stored is not whole gzip."""
    try:
        return gzip.decompress(stored)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise CorruptRaw(f"the stored object is not whole gzip ({type(exc).__name__}: {exc})") from exc


def read_raw(store: ObjectStore, key: str) -> bytes:
    """A raw object's bytes as received. A store failure (OSError and the like) propagates: it is
    infrastructure, to retry, never a reason to quarantine."""
    return unpack(store.get(key))
