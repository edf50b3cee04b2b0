"""SEC extraction state (ingest/sec/state.py) kept in PostgreSQL (sql/0009_source_state.sql).

Extraction writes the state of the filers whose fetches all succeeded, tagged with its run id.
State is read back only when the run that wrote it finished (its summary row in
edgar.pipeline_runs) and did not quarantine that filer: a run that fails or quarantines after
extraction can never make a later run skip data that was not stored. Rows are per origin
(Settings.source_mode), so the replay server's answers never decide requests to SEC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import psycopg

from ingest.postgres.loader import as_loader
from ingest.postgres.runs import SUMMARY_STAGE
from ingest.sec.state import FilerMark, NewState, Seen, SourceState

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


def known_filers(conn: psycopg.Connection, origin: str, ciks: Iterable[str]) -> set[str]:
    """Those of ``ciks`` of which a trusted run has landed anything from ``origin`` (a filer
    without submissions has resources but no filer_state row)."""
    rows = conn.execute(
        f"""SELECT cik FROM edgar.filer_state s WHERE origin = %s AND cik = ANY(%s) AND {_TRUSTED}
            UNION SELECT cik FROM edgar.source_state s WHERE origin = %s AND cik = ANY(%s) AND {_TRUSTED}""",
        (origin, list(ciks)) * 2,
    )
    return {cik for (cik,) in rows}


def covered_through(conn: psycopg.Connection, origin: str, feed: str) -> date | None:
    """The last day a run covered the whole universe through (sql/0012_feed_state.sql): a run
    that succeeded with no failed fetch (a filer that failed keeps its older state, and only a
    run that asks about every filer would ask about it again)."""
    (day,) = conn.execute(
        f"""SELECT max(covered_through) FROM edgar.feed_state s WHERE origin = %s AND feed = %s
            AND EXISTS (SELECT 1 FROM edgar.pipeline_runs r
                        WHERE r.run_id = s.run_id AND r.stage = '{SUMMARY_STAGE}' AND r.status = 'success'
                        AND coalesce((r.counts ->> 'fetch_failed')::int, 0) = 0)""",
        (origin, feed),
    ).fetchone()
    return day


def record_coverage(conn: psycopg.Connection, origin: str, feed: str, day: date, run_id: str) -> None:
    """``run_id`` covers the whole universe through ``day`` (trusted once it succeeds)."""
    with as_loader(conn):
        conn.execute(
            "INSERT INTO edgar.feed_state (origin, feed, covered_through, run_id) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (origin, feed, run_id) DO UPDATE SET covered_through = EXCLUDED.covered_through",
            (origin, feed, day, run_id),
        )
