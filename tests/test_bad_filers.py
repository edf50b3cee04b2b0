"""A few bad filers never stop the run: with two of eight companyfacts documents corrupted, the
six healthy filers reach PostgreSQL and the warehouse, and the summary counts the two."""

from __future__ import annotations

import datetime as dt
import gzip

import pytest
from conftest import (
    APPLE,
    DUOLINGO,
    FORD,
    LPA,
    NVIDIA,
    SOUTHWEST,
    TESLA,
    TSMC,
    fresh_database,
    make_sample_dir,
    run_dag,
)

from ingest.postgres.connection import connect
from ingest.postgres.runs import latest_summary

pytestmark = [pytest.mark.slow, pytest.mark.dag]

FILERS = [APPLE, NVIDIA, TSMC, LPA, TESLA, FORD, DUOLINGO, SOUTHWEST]


def test_two_corrupt_documents_of_eight_are_quarantined_and_the_rest_proceeds(tmp_path, pg_dsn):
    sample = make_sample_dir(tmp_path / "sample", FILERS)
    facts = sample / "edgar" / "companyfacts"
    for cik, body in (
        (DUOLINGO, lambda doc: doc[: len(doc) // 2]),  # truncated mid-document
        (FORD, lambda doc: b"<!DOCTYPE html><html><body>Service unavailable</body></html>"),  # HTML, status 200
    ):
        gz = facts / f"CIK{cik}.json.gz"
        (facts / f"CIK{cik}.json").write_bytes(body(gzip.decompress(gz.read_bytes())))
        gz.unlink()
    env = {
        "EDGARFLOW_SAMPLE_DIR": str(sample),
        "EDGARFLOW_STORAGE_URL": str(tmp_path / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "bad_filers"),
    }
    run, settings = run_dag("edgar_nightly", env, dt.datetime(2026, 11, 21, tzinfo=dt.timezone.utc))
    assert run.state == "success"

    with connect(settings) as conn:
        loaded = {r[0] for r in conn.execute("SELECT DISTINCT cik FROM edgar.financial_facts")}
        quarantined = {r[0] for r in conn.execute("SELECT DISTINCT cik FROM edgar.quarantine")}
        summary = latest_summary(conn, "edgar_nightly")
    assert loaded == set(FILERS) - {DUOLINGO, FORD}
    assert {DUOLINGO, FORD} <= quarantined
    assert summary["quarantined"] == 2
    assert summary["gates"]["raw"]["suites"][0]["bad"] == 2
