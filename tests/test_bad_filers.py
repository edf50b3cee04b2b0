"""A few bad filers never stop the run: with two of eight companyfacts documents corrupted (one
truncated, one replaced by SEC's block page served with status 200), the six healthy filers reach
PostgreSQL, the truncated one is quarantined, and the blocked one is reported as a fair-access
refusal (not bad data) to be fetched again; the summary counts both."""

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
from ingest.replay.server import UNDECLARED_TOOL_PAGE
from pipelines.summaries import render

pytestmark = [pytest.mark.slow, pytest.mark.dag]

FILERS = [APPLE, NVIDIA, TSMC, LPA, TESLA, FORD, DUOLINGO, SOUTHWEST]


def test_two_corrupt_documents_of_eight_are_quarantined_and_the_rest_proceeds(tmp_path, pg_dsn):
    sample = make_sample_dir(tmp_path / "sample", FILERS)
    facts = sample / "edgar" / "companyfacts"
    for cik, body in (
        (DUOLINGO, lambda doc: doc[: len(doc) // 2]),  # truncated mid-document
        (FORD, lambda doc: UNDECLARED_TOOL_PAGE.encode()),  # served with status 200
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
    assert DUOLINGO in quarantined and FORD not in quarantined
    assert summary["quarantined"] == 1 and summary["blocked_by_sec"] == 1
    assert summary["gates"]["raw"]["suites"][0]["bad"] == 1
    assert "blocked by SEC" in render(summary)
