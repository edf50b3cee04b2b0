"""Pipeline bookkeeping in PostgreSQL: stage records of each run (edgar.pipeline_runs), what was
quarantined (edgar.quarantine) and validation outcomes (edgar.dq_results)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest.postgres.connection import connect
from ingest.postgres.loader import as_loader
from ingest.settings import Settings

log = logging.getLogger(__name__)

# The stage under which each DAG's summary of a run is kept; a run with one has finished.
SUMMARY_STAGE = "summary"


def record_run(
    conn: psycopg.Connection,
    *,
    dag_id: str,
    run_id: str,
    stage: str,
    status: str,
    logical_date: datetime | None = None,
    counts: Mapping[str, Any] | None = None,
) -> None:
    """Upsert a stage's row in pipeline_runs: 'running' (re)starts it, any other status finishes it."""
    with as_loader(conn):
        conn.execute(
            """
            INSERT INTO edgar.pipeline_runs AS r
                (dag_id, run_id, stage, status, logical_date, counts, finished_at)
            VALUES (%(dag_id)s, %(run_id)s, %(stage)s, %(status)s, %(logical_date)s, %(counts)s,
                    CASE WHEN %(status)s = 'running' THEN NULL ELSE now() END)
            ON CONFLICT (dag_id, run_id, stage) DO UPDATE SET
                status = EXCLUDED.status,
                logical_date = coalesce(EXCLUDED.logical_date, r.logical_date),
                counts = coalesce(EXCLUDED.counts, r.counts),
                started_at = CASE WHEN EXCLUDED.status = 'running' THEN now() ELSE r.started_at END,
                finished_at = EXCLUDED.finished_at
            """,
            {
                "dag_id": dag_id,
                "run_id": run_id,
                "stage": stage,
                "status": status,
                "logical_date": logical_date,
                "counts": Jsonb(dict(counts)) if counts is not None else None,
            },
        )


def record_task_failure(settings: Settings, *, dag_id: str, run_id: str, task_id: str, error: BaseException | None) -> None:
    """A task that failed for good, as a failed stage of its run (serving.pipeline_runs shows it).
    Only the error's type is kept: its message may quote a URL or a DSN. Never raises: the store
    may be what failed, and the caller (the DAGs' failure callback) still has an alert to send."""
    try:
        with connect(settings) as conn:
            record_run(conn, dag_id=dag_id, run_id=run_id, stage=task_id, status="failed",
                       counts={"error": type(error).__name__ if error else None})  # fmt: skip
    except Exception:
        log.exception("could not record the failure of %s in %s", task_id, run_id)


def record_quarantine(
    conn: psycopg.Connection,
    *,
    source: str,
    dataset: str,
    reason: str,
    run_id: str | None = None,
    cik: str | None = None,
    object_key: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Record a quarantined input (its bytes stay in the store's quarantine/ zone); returns its id."""
    with as_loader(conn):
        row = conn.execute(
            """
            INSERT INTO edgar.quarantine (run_id, source, dataset, cik, object_key, reason, detail)
            VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id
            """,
            (run_id, source, dataset, cik, object_key, reason, Jsonb(dict(detail)) if detail is not None else None),
        ).fetchone()
    assert row is not None
    return int(row[0])


def record_dq_result(
    conn: psycopg.Connection,
    *,
    stage: str,
    suite: str,
    success: bool,
    evaluated: int,
    failed: int,
    run_id: str | None = None,
    failing: Any = None,
    result_uri: str | None = None,
) -> int:
    """Record one validation suite's outcome; returns its id."""
    with as_loader(conn):
        row = conn.execute(
            """
            INSERT INTO edgar.dq_results (run_id, stage, suite, success, evaluated, failed, failing, result_uri)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
            """,
            (
                run_id,
                stage,
                suite,
                success,
                evaluated,
                failed,
                Jsonb(failing) if failing is not None else None,
                result_uri,
            ),
        ).fetchone()
    assert row is not None
    return int(row[0])


def failed_results(conn: psycopg.Connection, run_id: str) -> list[tuple[str, str, list[dict]]]:
    """(stage, suite, failing checks) of every gate that failed in run ``run_id``, in order."""
    rows = conn.execute(
        "SELECT stage, suite, failing FROM edgar.dq_results WHERE run_id = %s AND NOT success ORDER BY id", (run_id,)
    ).fetchall()
    return [(stage, suite, failing or []) for stage, suite, failing in rows]


def latest_summary(conn: psycopg.Connection, dag_id: str) -> dict | None:
    """The summary the latest finished run of ``dag_id`` recorded."""
    row = conn.execute(
        "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = %s AND stage = %s ORDER BY finished_at DESC LIMIT 1",
        (dag_id, SUMMARY_STAGE),
    ).fetchone()
    return row[0] if row else None
