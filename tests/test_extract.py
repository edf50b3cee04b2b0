"""Extraction over the real HTTP client and the replay server, then normalization with quarantine."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import orjson
import pytest
from conftest import APPLE, LPA, SAMPLE, TESLA, landed_key, make_sample_dir, sample_bytes

from ingest.endpoints import Endpoints
from ingest.identifiers import InvalidRequest
from ingest.replay import Faults, ReplayServer
from ingest.sec.extract import Mode, extract_edgar
from ingest.sec.stage import stage_edgar
from ingest.settings import Settings
from ingest.zones.raw import raw_key, read_raw
from ingest.zones.staged import read_staged
from ingest.zones.store import LocalStore

DAY = dt.date(2026, 11, 21)


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
    assert landed_key("companyfacts", "2026-11-21", f"CIK{APPLE}.json") in keys
    assert landed_key("submissions", "2026-11-21", f"CIK{TESLA}-submissions-001.json") in keys
    # LPA has facts but no submissions; Apple's page 001 is not in the sample: both are 404s, not failures.
    assert {(m["cik"], m["dataset"]) for m in extraction.missing if m["dataset"] != "filing_documents"} == {
        (LPA, "submissions"),
        (APPLE, "submissions"),
    }
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


def test_a_block_page_is_a_fair_access_failure_not_bad_data(tmp_path, sample):
    faults = Faults(match=f"companyfacts/CIK{APPLE}", blocked=200)
    store, extraction, staging, _ = _run(tmp_path, sample, faults)
    (failed,) = extraction.failed
    assert (failed["cik"], failed["dataset"], failed["blocked"]) == (APPLE, "companyfacts", True)
    assert "EDGARFLOW_SEC_USER_AGENT" in failed["reason"]
    assert staging.quarantined == [] and not store.list("quarantine/")  # nothing filed as bad data
    assert not store.list("raw/sec/companyfacts/ingest_date=2026-11-21/CIK0000320193")  # nor landed
    assert APPLE not in {cik for _, cik, _, _ in extraction.new_state.resources} | set(extraction.new_state.filers)
    assert staging.rows["facts"] == 768 + 17_718  # LPA and Tesla go on


def test_html_error_page_is_quarantined_and_the_rest_proceeds(tmp_path, sample):
    faults = Faults(match=f"companyfacts/CIK{APPLE}", html_error=True)
    store, _, staging, _ = _run(tmp_path, sample, faults)
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
    kept = extraction.failed[0]["quarantine_key"]  # the extract task records it in edgar.quarantine
    assert kept.startswith(f"quarantine/sec/companyfacts/ingest_date=2026-11-21/CIK{LPA}.json.")
    assert kept in store.list("quarantine/sec/companyfacts/")
    assert 0 < len(read_raw(store, kept)) < len(sample_bytes(f"edgar/companyfacts/CIK{LPA}.json"))
    assert staging.rows["facts"] == 24_579 + 17_718


def test_throttling_is_retried_and_user_agent_declared(tmp_path, sample):
    faults = Faults(match="submissions", throttle=1, retry_after=1)
    _, extraction, staging, server = _run(tmp_path, sample, faults, ciks=(TESLA,))
    assert extraction.failed == []
    assert staging.rows["filings"] > 1000
    statuses = [r.status for r in server.requests if r.path == f"/submissions/CIK{TESLA}.json"]
    assert statuses == [429, 200]
    assert all(r.headers.get("User-Agent") for r in server.requests)


def test_primary_documents_land_with_their_metadata(tmp_path, sample):
    documents = Path("edgar", "documents", f"CIK{APPLE}")
    shutil.copytree(SAMPLE / documents, sample / documents, dirs_exist_ok=True)
    store = LocalStore(tmp_path / "store")
    # Apple's 10-K for FY2024 (filed 2024-11-01) and 10-Q for 2025-03-29 are in the sample; the
    # 10-Q filed between them is not (the replay server answers 404, as SEC does for a missing document).
    mode = Mode(filed_from=dt.date(2024, 11, 1), filed_to=dt.date(2025, 5, 2))
    with ReplayServer(sample) as server:
        settings = Settings(sample_dir=sample, storage_url=str(store.root), http_retries=1)
        endpoints = Endpoints(server.base_url, server.base_url, server.base_url)
        extraction = extract_edgar(settings, store, endpoints, [APPLE], DAY, "run-1", mode)
    assert [d["accession_number"] for d in extraction.documents] == ["0000320193-25-000057", "0000320193-24-000123"]
    assert [m["url"].rsplit("/", 2)[-2:] for m in extraction.missing if m["dataset"] == "filing_documents"] == [
        ["000032019325000008", "aapl-20241228.htm"]
    ]
    ten_k = extraction.documents[1]
    name = f"CIK{APPLE}/0000320193-24-000123/aapl-20240928.htm"
    body = sample_bytes(f"edgar/documents/{name}")
    assert ten_k["key"] == raw_key("sec", "filing_documents", DAY, name, body)
    assert read_raw(store, ten_k["key"]) == body
    meta = orjson.loads(store.get(ten_k["metadata"]))
    assert meta["form"] == "10-K" and meta["filing_date"] == "2024-11-01" and meta["report_date"] == "2024-09-28"
    assert meta["url"].endswith("/Archives/edgar/data/320193/000032019324000123/aapl-20240928.htm")
    assert meta["content_type"] == "text/html" and meta["size"] == len(body) and meta["etag"]
    assert meta["sha256"] == hashlib.sha256(body).hexdigest()


def test_a_documents_only_run_backfills_text_without_companyfacts(tmp_path, sample):
    documents = Path("edgar", "documents", f"CIK{APPLE}")
    shutil.copytree(SAMPLE / documents, sample / documents, dirs_exist_ok=True)
    store = LocalStore(tmp_path / "store")
    mode = Mode(filed_from=dt.date(2024, 11, 1), filed_to=dt.date(2025, 5, 2), documents_only=True)
    with ReplayServer(sample) as server:
        settings = Settings(sample_dir=sample, storage_url=str(store.root), http_retries=1)
        endpoints = Endpoints(server.base_url, server.base_url, server.base_url)
        extraction = extract_edgar(settings, store, endpoints, [APPLE], DAY, "run-1", mode)
        asked = [r.path for r in server.requests]
    assert [d["accession_number"] for d in extraction.documents] == ["0000320193-25-000057", "0000320193-24-000123"]
    assert {x.dataset for x in extraction.landed} == {"submissions"}  # they list the filings
    assert not any("companyfacts" in path for path in asked)
    assert [s["reason"] for s in extraction.skipped] == ["a documents-only run (text backfill)"]
    with pytest.raises(InvalidRequest, match="needs a filing-date range"):
        Mode(documents_only=True)
