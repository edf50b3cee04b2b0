"""The operational store's schema on a real PostgreSQL 18: migrations, constraints, roles, partitions."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from conftest import APPLE, REPO, sample_bytes
from psycopg import sql

from ingest.postgres import loader as pg_load
from ingest.postgres.connection import SQL_DIR, migrate
from ingest.sec.normalize import normalize_companyfacts

MIGRATIONS = sorted(p.stem for p in SQL_DIR.glob("*.sql"))


def test_migrations_apply_once_record_versions_and_survive_concurrency(new_pg_database):
    dsn = new_pg_database
    # Three processes migrate the empty database at once: each migration runs exactly once.
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from ingest.postgres.connection import migrate; print(','.join(migrate(sys.argv[1])))",
                dsn,
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    applied = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    ran = [m for out in applied for m in out.split(",") if m]
    assert sorted(ran) == MIGRATIONS

    assert migrate(dsn) == []
    with psycopg.connect(dsn) as conn:
        recorded = [r[0] for r in conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY migration_id")]
        assert recorded == MIGRATIONS
        # A migrator killed while holding yoyo's lock leaves its row behind; the next run is not blocked.
        conn.execute("INSERT INTO yoyo_lock (locked, ctime, pid) VALUES (1, now(), 999999)")
        conn.commit()
    assert migrate(dsn) == []


def test_check_constraints_reject_malformed_keys_and_values(pg_store):
    with psycopg.connect(pg_store) as conn:
        conn.execute("INSERT INTO edgar.companies (cik, name) VALUES (%s, 'Apple Inc.')", (APPLE,))
        conn.commit()
        rejected = [
            "INSERT INTO edgar.companies (cik, name) VALUES ('320193', 'unpadded')",
            "INSERT INTO edgar.companies (cik, name) VALUES ('000032019X', 'letter')",
            f"INSERT INTO edgar.filings (accession_number, cik, form, filing_date) VALUES ('0000320193-23-106', '{APPLE}', '10-K', '2023-11-03')",
            f"INSERT INTO edgar.filings (accession_number, cik, form, filing_date, processing_status) VALUES ('0000320193-23-000106', '{APPLE}', '10-K', '2023-11-03', 'done')",
            f"""INSERT INTO edgar.financial_facts (cik, taxonomy, tag, unit, value, period_end, form, filed, accession_number)
                VALUES ('{APPLE}', 'us-gaap', 'Revenues', 'USD', 1, '2023-09-30', '10-K', '2023-11-03', '000032019323000106')""",
            f"""INSERT INTO edgar.financial_facts (cik, taxonomy, tag, unit, value, period_start, period_end, form, filed, accession_number)
                VALUES ('{APPLE}', 'us-gaap', 'Revenues', 'USD', 1, '2023-10-01', '2023-09-30', '10-K', '2023-11-03', '0000320193-23-000106')""",
            "INSERT INTO edgar.price_history (ticker, trade_date, close) VALUES ('AAPL', '2024-01-02', 0)",
            "INSERT INTO edgar.price_history (ticker, trade_date, volume) VALUES ('AAPL', '2024-01-02', -1)",
            f"INSERT INTO edgar.signals (cik, as_of_date, category, name, confidence) VALUES ('{APPLE}', '2024-01-02', 'financial', 'x', 1.5)",
            f"INSERT INTO edgar.signals (cik, as_of_date, category, name) VALUES ('{APPLE}', '2024-01-02', 'astrology', 'x')",
            "INSERT INTO edgar.dq_results (stage, suite, success, evaluated, failed) VALUES ('staged', 'facts', false, 3, 4)",
        ]
        for statement in rejected:
            with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
                conn.execute(statement)
        # The foreign key keeps filings to known companies.
        with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
            conn.execute(
                "INSERT INTO edgar.filings (accession_number, cik, form, filing_date) "
                "VALUES ('0001045810-24-000029', '0001045810', '10-K', '2024-02-21')"
            )


def test_filing_document_url_is_derived(pg_store):
    with psycopg.connect(pg_store) as conn:
        conn.execute("INSERT INTO edgar.companies (cik, name) VALUES (%s, 'Apple Inc.')", (APPLE,))
        conn.execute(
            "INSERT INTO edgar.filings (accession_number, cik, form, filing_date, primary_document) "
            "VALUES ('0000320193-23-000106', %s, '10-K', '2023-11-03', 'aapl-20230930.htm')",
            (APPLE,),
        )
        url, status = conn.execute("SELECT primary_document_url, processing_status FROM edgar.filings").fetchone()
    assert url == "https://www.sec.gov/Archives/edgar/data/320193/000032019323000106/aapl-20230930.htm"
    assert status == "pending"


def _as(conn: psycopg.Connection, role: str, statement: str) -> list[tuple]:
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


def test_bi_reader_reads_serving_views_only(pg_store):
    with psycopg.connect(pg_store) as conn:
        pg_load.load_dataset(conn, "facts", normalize_companyfacts(sample_bytes(f"edgar/companyfacts/CIK{APPLE}.json")))
        assert _as(conn, "bi_reader", f"SELECT count(*) FROM serving.latest_facts WHERE cik = '{APPLE}'")[0][0] > 500
        assert _as(conn, "bi_reader", "SELECT name FROM serving.companies") == [("Apple Inc.",)]
        assert _as(conn, "bi_reader", "SELECT count(*) FROM serving.latest_signals") == [(0,)]

        denied = [
            "SELECT count(*) FROM edgar.financial_facts",
            "SELECT count(*) FROM edgar.companies",
            "SELECT count(*) FROM edgar.audit_log",
            "SELECT count(*) FROM _yoyo_migration",
            "INSERT INTO serving.companies (cik, name) VALUES ('0000000001', 'x')",
            "CREATE TABLE public.mine (x int)",
            "CREATE TABLE serving.mine (x int)",
            "CREATE TABLE edgar.mine (x int)",
            "CREATE SCHEMA mine",
            "CREATE TEMP TABLE mine (x int)",
            "CREATE VIEW serving.mine AS SELECT 1",
            "SELECT edgar.ensure_audit_partitions(12)",
        ]
        for statement in denied:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                _as(conn, "bi_reader", statement)

        # The loader writes operational tables but creates nothing and cannot rewrite the audit trail.
        for statement in (
            "CREATE TABLE edgar.mine (x int)",
            "UPDATE edgar.audit_log SET actor = 'x'",
            "DELETE FROM edgar.audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                _as(conn, "pipeline_loader", statement)


def test_pipeline_health_views_show_finished_and_failed_runs_to_bi_reader(pg_store):
    """The views over what the pipeline records (a real failed run: test_pipeline_gates.py)."""
    from ingest.postgres.runs import record_dq_result, record_quarantine, record_run

    with psycopg.connect(pg_store) as conn:
        record_run(conn, dag_id="edgar_nightly", run_id="r1", stage="summary", status="success",
                   counts={"companies": 39, "warehouse": "/secret/path"})
        record_dq_result(conn, run_id="r1", stage="staged", suite="staged_facts", success=True, evaluated=12,
                         failed=0, failing=[{"row": "detail"}], result_uri="gs://b/quality/x.json")
        for cik in ("0000320193", "0000320193", "0001045810"):
            record_quarantine(conn, run_id="r1", source="sec", dataset="companyfacts", cik=cik,
                              object_key="quarantine/x", reason="unparseable", detail={"rows": 2})
        record_run(conn, dag_id="edgar_nightly", run_id="r2", stage="load_postgres", status="failed",
                   counts={"error": "LoadError"})
        conn.commit()

    with psycopg.connect(pg_store) as conn:
        runs = _as(conn, "bi_reader", "SELECT run_id, status, failed_tasks, companies FROM serving.pipeline_runs ORDER BY run_id")
        assert runs == [("r1", "success", None, 39), ("r2", "failed", "load_postgres", None)]
        assert _as(conn, "bi_reader", "SELECT suite, success, evaluated, failed FROM serving.gate_results") == [
            ("staged_facts", True, 12, 0)
        ]
        assert _as(conn, "bi_reader", "SELECT dataset, reason, items, filers, rows FROM serving.quarantine_daily") == [
            ("companyfacts", "unparseable", 3, 2, 6)
        ]
        columns = {c for (c,) in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'serving' "
            "AND table_name IN ('pipeline_runs', 'gate_results', 'quarantine_daily')"
        ).fetchall()}
        assert not columns & {"counts", "failing", "result_uri", "object_key", "detail"}


def test_audit_partitions_are_created_ahead(pg_store):
    def month(offset: int) -> date:
        first = date.today().replace(day=1)
        total = first.year * 12 + first.month - 1 + offset
        return date(total // 12, total % 12 + 1, 1)

    def partitions(conn: psycopg.Connection) -> list[str]:
        return [
            r[0]
            for r in conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'edgar.audit_log'::regclass ORDER BY 1"
            )
        ]

    with psycopg.connect(pg_store) as conn:
        # The migration creates this month and three ahead.
        assert partitions(conn) == [f"audit_log_{month(i):%Y%m}" for i in range(4)]
        assert pg_load.ensure_audit_partitions(conn, months_ahead=6) == 3
        assert pg_load.ensure_audit_partitions(conn, months_ahead=6) == 0
        assert partitions(conn) == [f"audit_log_{month(i):%Y%m}" for i in range(7)]

        inside = datetime.combine(month(6), datetime.min.time(), UTC) + timedelta(days=3)
        conn.execute("INSERT INTO edgar.audit_log (logged_at, action, object) VALUES (%s, 'test', 'x')", (inside,))
        where = conn.execute(
            "SELECT tableoid::regclass::text FROM edgar.audit_log WHERE logged_at = %s", (inside,)
        ).fetchone()
        assert where == (f"edgar.audit_log_{month(6):%Y%m}",)
        conn.commit()

        # Append-only through every partition, those the migrations made and those made since.
        now = f"edgar.audit_log_{month(0):%Y%m}"
        later = f"edgar.audit_log_{month(6):%Y%m}"
        _as(conn, "pipeline_loader", "INSERT INTO edgar.audit_log (action, object) VALUES ('test', 'loader')")
        assert _as(conn, "pipeline_loader", f"SELECT count(*) FROM {now}")[0][0] >= 1
        for table in (now, later):
            for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET actor = 'x'", f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    _as(conn, "pipeline_loader", statement)
        with pytest.raises(psycopg.errors.CheckViolation, match="no partition"):
            conn.execute(
                "INSERT INTO edgar.audit_log (logged_at, action, object) VALUES (%s, 'test', 'x')",
                (inside + timedelta(days=62),),
            )


def test_latest_fact_lookup_uses_covering_index_in_one_partition(pg_store):
    with psycopg.connect(pg_store) as conn:
        pg_load.load_dataset(conn, "facts", normalize_companyfacts(sample_bytes(f"edgar/companyfacts/CIK{APPLE}.json")))
        conn.autocommit = True  # VACUUM: index-only scans need the visibility map
        conn.execute("VACUUM ANALYZE edgar.financial_facts")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT * FROM serving.latest_facts WHERE cik = %s AND tag = 'Revenues'", (APPLE,)
            )
        )
    assert "Index Only Scan" in plan and "cik_tag_taxonomy_unit_period_end" in plan, plan
    assert len(re.findall(r" on financial_facts_p\d\d ", plan)) == 1, plan  # pruned to Apple's partition
    assert "Sort" not in plan, plan  # DISTINCT ON reads the index order
