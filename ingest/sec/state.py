"""What incremental extraction knows of earlier runs, and what a run adds to it.

Per resource (a URL's path): the ETag / Last-Modified of the version landed and its raw-zone
key, so the next run sends a conditional GET and, on 304, can reuse the bytes already landed.
Per filer: the newest accession its submissions listed, so a nightly run skips companyfacts of
filers with nothing new. Kept in PostgreSQL (ingest/postgres/source_state.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Seen:
    """A resource version an earlier run landed."""

    etag: str | None
    last_modified: str | None
    raw_key: str


@dataclass(frozen=True)
class FilerMark:
    """The newest filing a filer's submissions listed when they were landed."""

    accession: str
    filing_date: date | None


@dataclass
class SourceState:
    resources: dict[str, Seen] = field(default_factory=dict)  # resource (URL path) -> version
    filers: dict[str, FilerMark] = field(default_factory=dict)  # cik -> newest filing


@dataclass
class NewState:
    """What a run landed, to be saved once extraction is over."""

    resources: list[tuple[str, str, str, Seen]] = field(default_factory=list)  # (resource, cik, dataset, version)
    filers: dict[str, FilerMark] = field(default_factory=dict)
