"""Extraction over the real HTTP client and the replay server, then normalization with quarantine."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import APPLE, LPA, make_sample_dir

from ingest.extract import extract_edgar
from ingest.landing import read_raw
from ingest.replay import Faults, ReplayServer
from ingest.settings import Settings
from ingest.sources import Endpoints
from ingest.stage_edgar import stage_edgar
from ingest.staging import read_staged
from ingest.storage import LocalStore

DAY = dt.date(2026, 11, 21)
TESLA = "0001318605"


@pytest.fixture
def sample(tmp_path):
    return make_sample_dir(tmp_path / "sample", [APPLE, LPA, TESLA])


def _run(tmp_path, sample, faults: Faults | None = None, ciks=(APPLE, LPA, TESLA)):
    """Extract through a replay server with ``faults``; returns (store, extraction, staging, server)."""
    store = LocalStore(tmp_path / "store")
    with ReplayServer(sample, faults=faults) as server:
        settings = Settings(sample_dir=sample, storage_url=str(store.root), http_retries=2)
        endpoints = Endpoints(server.base_url, server.base_url, server.base_url)
        extraction = extract_edgar(settings, store, endpoints, list(ciks), DAY, "run-1")
    return store, extraction, stage_edgar(store, extraction.landed, "run-1"), server


def test_lands_everything_and_stages_it(tmp_path, sample):
    store, extraction, staging, _ = _run(tmp_path, sample)
    keys = {x.key for x in extraction.landed}
    assert f"raw/sec/companyfacts/ingest_date=2026-11-21/CIK{APPLE}.json.gz" in keys
    assert f"raw/sec/submissions/ingest_date=2026-11-21/CIK{TESLA}-submissions-001.json.gz" in keys
    # LPA has facts but no submissions; Apple's page 001 is not in the sample: both are 404s, not failures.
    assert {(m["cik"], m["dataset"]) for m in extraction.missing} == {(LPA, "submissions"), (APPLE, "submissions")}
    assert extraction.failed == [] and staging.quarantined == []
    assert staging.rows["facts"] == 24_579 + 768 + 17_718
    assert sorted(staging.staged["companies"]) == [
        f"staged/companies/CIK{APPLE}.parquet",
        f"staged/companies/CIK{TESLA}.parquet",
    ]
    assert read_staged(store, f"staged/facts/CIK{LPA}.parquet").num_rows == 768


def test_rerun_of_the_same_date_rewrites_no_raw_object(tmp_path, sample):
    store, first, _, _ = _run(tmp_path, sample)
    before = {k: (store.root / k).stat().st_mtime_ns for k in store.list("raw/")}
    _, second, _, _ = _run(tmp_path, sample)
    assert [x.key for x in second.landed] == [x.key for x in first.landed]
    assert {k: (store.root / k).stat().st_mtime_ns for k in store.list("raw/")} == before


def test_html_error_page_is_quarantined_and_the_rest_proceeds(tmp_path, sample):
    faults = Faults(match=f"companyfacts/CIK{APPLE}", html_error=True)
    store, extraction, staging, _ = _run(tmp_path, sample, faults)
    assert [(q["cik"], q["dataset"]) for q in staging.quarantined] == [(APPLE, "companyfacts")]
    assert "not valid JSON" in staging.quarantined[0]["reason"]
    quarantined = staging.quarantined[0]["key"]
    assert read_raw(store, quarantined).startswith(b"<")  # the bytes as received are kept
    assert store.exists(quarantined + ".reason.json")
    assert staging.rows["facts"] == 768 + 17_718  # LPA and Tesla still staged
    assert not store.exists(f"staged/facts/CIK{APPLE}.parquet")


def test_truncated_body_keeps_the_partial_bytes(tmp_path, sample):
    faults = Faults(match=f"companyfacts/CIK{LPA}", truncate=True)
    store, extraction, staging, _ = _run(tmp_path, sample, faults)
    assert [(f["cik"], f["dataset"]) for f in extraction.failed] == [(LPA, "companyfacts")]
    kept = store.list("quarantine/sec/companyfacts/")
    assert f"quarantine/sec/companyfacts/ingest_date=2026-11-21/CIK{LPA}.json.gz" in kept
    assert staging.rows["facts"] == 24_579 + 17_718


def test_throttling_is_retried_and_user_agent_declared(tmp_path, sample):
    faults = Faults(match="submissions", throttle=1, retry_after=1)
    _, extraction, staging, server = _run(tmp_path, sample, faults, ciks=(TESLA,))
    assert extraction.failed == []
    assert staging.rows["filings"] > 1000
    statuses = [r.status for r in server.requests if r.path == f"/submissions/CIK{TESLA}.json"]
    assert statuses == [429, 200]
    assert all(r.headers.get("User-Agent") for r in server.requests)
