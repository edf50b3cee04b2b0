"""The bulk path: SEC-style nightly zips built and served by the replay server, streamed by the client."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import psycopg
import pytest
import requests
from conftest import APPLE, LPA, SAMPLE, TESLA, landed_key, make_sample_dir, nightly_extract, sample_bytes

from ingest.endpoints import Endpoints
from ingest.postgres.runs import record_run
from ingest.replay import Faults, ReplayServer
from ingest.sec.bulk import extract_bulk
from ingest.sec.client import BadResponse, SecClient
from ingest.sec.stage import stage_edgar
from ingest.settings import Settings
from ingest.zones.store import LocalStore

DAY = dt.date(2026, 11, 21)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return make_sample_dir(tmp_path / "sample", [APPLE, LPA, TESLA])


def endpoints(server: ReplayServer) -> Endpoints:
    return Endpoints(server.base_url, server.base_url, server.base_url)


def test_replay_builds_the_bulk_zips_from_the_sample(sample: Path) -> None:
    with ReplayServer(sample) as server:
        facts = requests.get(endpoints(server).bulk_companyfacts())
        subs = requests.get(endpoints(server).bulk_submissions())
        again = requests.get(endpoints(server).bulk_submissions(), headers={"If-None-Match": subs.headers["ETag"]})
    assert facts.headers["Content-Type"] == "application/zip" and again.status_code == 304
    with zipfile.ZipFile(io.BytesIO(facts.content)) as archive:
        assert archive.namelist() == [f"CIK{c}.json" for c in (APPLE, TESLA, LPA)]
        assert archive.read(f"CIK{LPA}.json") == sample_bytes(f"edgar/companyfacts/CIK{LPA}.json")
    with zipfile.ZipFile(io.BytesIO(subs.content)) as archive:
        # The stray CIK0001318605.edgartools_data_2023.json in the folder is not a member.
        assert archive.namelist() == [f"CIK{APPLE}.json", f"CIK{TESLA}-submissions-001.json", f"CIK{TESLA}.json"]


def test_stream_hands_the_body_over_in_chunks(sample: Path, tmp_path: Path) -> None:
    with (
        ReplayServer(sample) as server,
        SecClient(Settings(), limiter_db=tmp_path / "l") as client,
        client.stream(endpoints(server).bulk_companyfacts(), chunk_size=64 * 1024) as chunks,
    ):
        sizes = [len(c) for c in chunks]
    assert len(sizes) > 1 and max(sizes) <= 64 * 1024


def test_bulk_extract_lands_members_like_the_api_path(sample: Path, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    settings = Settings(sample_dir=sample, storage_url=str(store.root))
    with ReplayServer(sample) as server:
        # Tesla is outside this run's universe: its members are read past, not landed.
        result = extract_bulk(settings, store, endpoints(server), [APPLE, LPA], DAY)
        requested = [r.path for r in server.requests]
    assert requested == [
        "/Archives/edgar/daily-index/bulkdata/submissions.zip",
        "/Archives/edgar/daily-index/xbrl/companyfacts.zip",
    ]
    assert sorted(x.key for x in result.landed) == [
        landed_key("companyfacts", "2026-11-21", f"CIK{APPLE}.json"),
        landed_key("companyfacts", "2026-11-21", f"CIK{LPA}.json"),
        landed_key("submissions", "2026-11-21", f"CIK{APPLE}.json"),
    ]
    assert result.failed == []
    assert result.new_state.filers[APPLE].accession == "0001059235-26-000004"
    staging = stage_edgar(store, result.landed, "run-1")
    assert staging.quarantined == [] and staging.rows["facts"] == 24_579 + 768


def test_a_truncated_archive_is_reported_and_records_no_accessions(sample: Path, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    settings = Settings(sample_dir=sample, storage_url=str(store.root), http_retries=1)
    with ReplayServer(sample, faults=Faults(match="companyfacts.zip", truncate=True)) as server:
        result = extract_bulk(settings, store, endpoints(server), [APPLE, LPA, TESLA], DAY)
    assert [(f["dataset"], f["reason"].split(":")[0]) for f in result.failed] == [("companyfacts", "BadResponse")]
    # The intact archive's members stay landed; the member the cut went through is not landed.
    assert sorted(x.key for x in result.landed if x.dataset == "submissions") == sorted(
        landed_key("submissions", "2026-11-21", name)
        for name in (f"CIK{APPLE}.json", f"CIK{TESLA}-submissions-001.json", f"CIK{TESLA}.json")
    )
    assert not store.list(f"raw/sec/companyfacts/ingest_date=2026-11-21/CIK{APPLE}.json")
    assert result.new_state.filers == {}  # a later nightly run must not skip anyone


def test_truncated_stream_raises_bad_response(sample: Path, tmp_path: Path) -> None:
    faults = Faults(match="submissions.zip", truncate=True)
    with (
        ReplayServer(sample, faults=faults) as server,
        SecClient(Settings(), limiter_db=tmp_path / "l") as client,
        pytest.raises(BadResponse, match="cut short"),
        client.stream(endpoints(server).bulk_submissions()) as chunks,
    ):
        b"".join(chunks)


def test_nightly_after_a_bulk_refresh_fetches_only_submissions(sample, tmp_path, pg_store, monkeypatch) -> None:
    monkeypatch.setenv("EDGARFLOW_PG_DSN", pg_store)
    monkeypatch.setenv("EDGARFLOW_SAMPLE_DIR", str(sample))
    monkeypatch.setenv("EDGARFLOW_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.delenv("EDGARFLOW_SOURCE_MODE", raising=False)
    counted, bulk = nightly_extract([APPLE, LPA, TESLA], "2026-11-20", "bulk-1", bulk=True)
    assert len(bulk["landed"]) == 6 and bulk["failed"] == []
    assert (counted.landed, counted.companies, counted.failed) == (6, 3, 0)
    with psycopg.connect(pg_store, autocommit=True) as conn:
        record_run(conn, dag_id="edgar_nightly", run_id="bulk-1", stage="summary", status="success")
    _, after = nightly_extract([APPLE, LPA, TESLA], "2026-11-21", "scheduled-2")
    assert {(s["cik"], s["dataset"]) for s in after["skipped"]} == {(APPLE, "companyfacts"), (TESLA, "companyfacts")}
    assert {(x["cik"], x["dataset"]) for x in after["landed"]} == {
        (APPLE, "submissions"),
        (TESLA, "submissions"),
        (LPA, "companyfacts"),  # no submissions to decide by, no validators from the bulk run
    }


def test_bundled_sample_zip_covers_every_companyfacts_file() -> None:
    with ReplayServer(SAMPLE) as server:
        archive = zipfile.ZipFile(io.BytesIO(requests.get(endpoints(server).bulk_companyfacts()).content))
    assert len(archive.namelist()) == len(list((SAMPLE / "edgar" / "companyfacts").glob("CIK*.json.gz"))) == 13
