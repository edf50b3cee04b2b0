"""The edgar_nightly DAG end to end on two real sample companies, every backend real and local."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import orjson
import pytest
from conftest import APPLE, LPA, fresh_database, make_sample_dir, run_dag, sample_bytes

from ingest.postgres import connect


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, pg_dsn):
    """One DAG run over Apple (facts + submissions) and LPA (facts only, cik sent as a string)."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = {
        "EDGARFLOW_SAMPLE_DIR": str(make_sample_dir(tmp / "sample", [APPLE, LPA])),
        "EDGARFLOW_STORAGE_URL": str(tmp / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "e2e"),
    }
    return run_dag("edgar_nightly", env, dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc))


def test_every_task_succeeded(pipeline_run):
    run, _ = pipeline_run
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states
    assert len(states) == 12


def test_raw_zone_partitioned_by_ingest_date(pipeline_run):
    _, settings = pipeline_run
    store = Path(settings.storage_url)
    raw = sorted(p.relative_to(store).as_posix() for p in store.rglob("*.gz"))
    assert f"raw/sec/companyfacts/ingest_date=2026-11-20/CIK{APPLE}.json.gz" in raw
    assert f"raw/sec/companyfacts/ingest_date=2026-11-20/CIK{LPA}.json.gz" in raw
    assert f"raw/sec/submissions/ingest_date=2026-11-20/CIK{APPLE}.json.gz" in raw


def test_postgres_rows(pipeline_run):
    _, settings = pipeline_run
    apple_filings = len(orjson.loads(sample_bytes(f"edgar/submissions/CIK{APPLE}.json"))["filings"]["recent"]["form"])
    with connect(settings) as conn:
        count = lambda table: conn.execute(f"SELECT count(*) FROM edgar.{table}").fetchone()[0]  # noqa: E731
        assert count("companies") == 2  # LPA has no submissions: a stub from its facts' entity name
        assert count("filings") == apple_filings
        assert count("financial_facts") == 24_579 + 768
        assert count("quarantine") == 0
        # Latest signals of both companies published from the warehouse.
        assert conn.execute("SELECT count(DISTINCT cik) FROM serving.latest_signals").fetchone()[0] == 2
        assert conn.execute("SELECT bool_and(success), count(*) > 0 FROM edgar.dq_results").fetchone() == (True, True)


def test_warehouse_rows_and_apple_revenue(pipeline_run):
    _, settings = pipeline_run
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.edgar_facts").fetchone()[0] == 24_579 + 768
        assert con.execute("SELECT count(DISTINCT cik) FROM marts.fct_financial_statements").fetchone()[0] == 2
        revenue = con.execute(
            """
            SELECT value, unit, accession_number FROM marts.fct_financial_statements
            WHERE cik = '0000320193' AND metric = 'revenue' AND fiscal_period = 'FY'
              AND period_end = DATE '2023-09-30' AND is_first_reported
            """
        ).fetchall()
    assert revenue == [(383_285_000_000, "USD", "0000320193-23-000106")]


def test_summary_recorded(pipeline_run):
    from ingest.run_summary import latest_summary, render

    _, settings = pipeline_run
    summary = latest_summary(settings)
    assert summary["companies"] == 2 and summary["facts_landed"] == 24_579 + 768
    text = render(summary)
    assert "marts.fct_financial_statements" in text and "ingest.query" in text
