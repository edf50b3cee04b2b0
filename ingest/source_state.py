"""Extraction state kept in PostgreSQL (sql/0009_source_state.sql), for incremental runs.

Per resource (a URL's path): the ETag / Last-Modified of the version landed and its raw-zone
key, so the next run sends a conditional GET and, on 304, can reuse the bytes already landed. Per filer: the newest
accession its submissions listed, so a nightly run skips companyfacts of filers with nothing new.

Extraction writes the state of the filers whose fetches all succeeded, tagged with its run id.
State is read back only when the run that wrote it finished (its summary row in
edgar.pipeline_runs) and did not quarantine that filer: a run that fails or quarantines after
extraction can never make a later run skip data that was not stored. Rows are per origin
(Settings.source_mode), so the replay server's answers never decide requests to SEC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import psycopg

from ingest.pg_load import as_loader
from ingest.run_summary import SUMMARY_STAGE


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



# Rows written by a run count once that run has its summary and kept the filer out of quarantine.
_TRUSTED = f"""
    EXISTS (SELECT 1 FROM edgar.pipeline_runs r
            WHERE r.run_id = s.run_id AND r.stage = '{SUMMARY_STAGE}' AND r.status = 'success')
    AND NOT EXISTS (SELECT 1 FROM edgar.quarantine q WHERE q.run_id = s.run_id AND q.cik = s.cik)
"""


def load_state(conn: psycopg.Connection, origin: str, ciks: Iterable[str]) -> SourceState:
    """The trusted state of ``ciks`` from ``origin``."""
    wanted = (origin, list(ciks))
    state = SourceState()
    rows = conn.execute(
        "SELECT resource, etag, last_modified, raw_key FROM edgar.source_state s"
        f" WHERE origin = %s AND cik = ANY(%s) AND {_TRUSTED}",
        wanted,
    )
    for resource, etag, last_modified, raw_key in rows:
        state.resources[resource] = Seen(etag, last_modified, raw_key)
    rows = conn.execute(
        "SELECT cik, last_accession, last_filing_date FROM edgar.filer_state s"
        f" WHERE origin = %s AND cik = ANY(%s) AND {_TRUSTED}",
        wanted,
    )
    for cik, accession, filing_date in rows:
        state.filers[cik] = FilerMark(accession, filing_date)
    return state


def save_state(conn: psycopg.Connection, origin: str, run_id: str, new: NewState) -> None:
    """Record what ``run_id`` landed from ``origin`` (one transaction, as the loader role)."""
    with as_loader(conn), conn.cursor() as cur:
        cur.executemany(
            """
            INSERT INTO edgar.source_state (origin, resource, cik, dataset, etag, last_modified, raw_key, run_id)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (origin, resource) DO UPDATE SET
                cik = EXCLUDED.cik, dataset = EXCLUDED.dataset, etag = EXCLUDED.etag,
                last_modified = EXCLUDED.last_modified, raw_key = EXCLUDED.raw_key,
                run_id = EXCLUDED.run_id, fetched_at = now()
            """,
            [
                (origin, resource, cik, dataset, v.etag, v.last_modified, v.raw_key, run_id)
                for resource, cik, dataset, v in new.resources
            ],
        )
        cur.executemany(
            """
            INSERT INTO edgar.filer_state (origin, cik, last_accession, last_filing_date, run_id)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (origin, cik) DO UPDATE SET
                last_accession = EXCLUDED.last_accession, last_filing_date = EXCLUDED.last_filing_date,
                run_id = EXCLUDED.run_id, updated_at = now()
            """,
            [(origin, cik, m.accession, m.filing_date, run_id) for cik, m in new.filers.items()],
        )
