"""Incremental extraction: state in a real PostgreSQL, requests over loopback to the replay server."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import orjson
import psycopg
import pytest
from conftest import APPLE, LPA, TESLA, landed_key, make_sample_dir, nightly_extract

from ingest.endpoints import Endpoints
from ingest.postgres.runs import record_quarantine, record_run
from ingest.postgres.source_state import load_state, save_state
from ingest.replay import Faults, RecordedRequest, ReplayServer
from ingest.sec.extract import Extraction, Mode, extract_edgar
from ingest.sec.stage import stage_edgar
from ingest.settings import Settings
from ingest.zones.staged import read_staged, staged_key
from ingest.zones.store import LocalStore

ALL = [APPLE, LPA, TESLA]
DAY1, DAY2 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
FACTS = "/api/xbrl/companyfacts/CIK{}.json"
MAIN = "/submissions/CIK{}.json"
PAGE = "/submissions/CIK{}-submissions-001.json"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return make_sample_dir(tmp_path / "sample", ALL)


@pytest.fixture
def conn(pg_store: str):
    with psycopg.connect(pg_store, autocommit=True) as c:
        yield c


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def run(
    sample: Path,
    store: LocalStore,
    conn: psycopg.Connection,
    run_id: str,
    day: dt.date,
    *,
    ciks: list[str] = ALL,
    mode: Mode | None = None,
    succeed: bool = True,
    faults: Faults | None = None,
) -> tuple[Extraction, list[RecordedRequest]]:
    """One extraction as the nightly task does it: load state, extract, save state; then,
    if ``succeed``, the summary row that marks the whole run successful."""
    known = load_state(conn, "sample", ciks)
    settings = Settings(sample_dir=sample, storage_url=str(store.root), http_retries=1)
    with ReplayServer(sample, faults=faults) as server:
        endpoints = Endpoints(server.base_url, server.base_url, server.base_url)
        extraction = extract_edgar(settings, store, endpoints, ciks, day, run_id, mode or Mode(), known)
    save_state(conn, "sample", run_id, extraction.new_state)
    if succeed:
        record_run(conn, dag_id="edgar_nightly", run_id=run_id, stage="summary", status="success")
    return extraction, server.requests


def answers(requests: list[RecordedRequest]) -> dict[str, int]:
    return {r.path: r.status for r in requests}


def rewrite_submissions(sample: Path, cik: str, change) -> None:
    path = sample / "edgar" / "submissions" / f"CIK{cik}.json.gz"
    doc = orjson.loads(gzip.decompress(path.read_bytes()))
    change(doc)
    path.write_bytes(gzip.compress(orjson.dumps(doc)))


def test_nightly_after_a_successful_run_downloads_nothing_unchanged(sample, store, conn):
    first, requests = run(sample, store, conn, "run-1", DAY1)
    assert len(first.landed) == 6 and all(r.status in (200, 404) for r in requests)

    second, requests = run(sample, store, conn, "run-2", DAY2)
    assert second.landed == [] and second.failed == []
    assert answers(requests) == {
        MAIN.format(APPLE): 304,
        MAIN.format(TESLA): 304,
        MAIN.format(LPA): 404,  # no submissions: its companyfacts' own validators decide
        FACTS.format(LPA): 304,
    }
    conditional = [r for r in requests if r.status == 304]
    assert all(r.headers.get("If-None-Match") and r.headers.get("If-Modified-Since") for r in conditional)
    assert {(s["cik"], s["dataset"]) for s in second.skipped} == {(APPLE, "companyfacts"), (TESLA, "companyfacts")}
    assert not store.list("raw/sec/companyfacts/ingest_date=2026-11-21/")


def test_new_accession_fetches_companyfacts_and_a_changed_main_keeps_its_pages(sample, store, conn):
    run(sample, store, conn, "run-1", DAY1)

    def new_filing(doc: dict) -> None:
        new = {"accessionNumber": "0000320193-26-000999", "filingDate": "2026-11-20"}
        for column, values in doc["filings"]["recent"].items():
            values.insert(0, new.get(column, values[0]))

    rewrite_submissions(sample, APPLE, new_filing)
    rewrite_submissions(sample, TESLA, lambda doc: doc.update(website="https://www.tesla.com"))

    second, requests = run(sample, store, conn, "run-2", DAY2)
    got = answers(requests)
    # Apple filed: companyfacts asked for (unchanged at the source, so 304) and its page revalidated.
    assert got[MAIN.format(APPLE)] == 200 and got[FACTS.format(APPLE)] == 304
    assert got[PAGE.format(APPLE)] == 404
    # Tesla's document changed but lists nothing newer: its companyfacts are not requested.
    assert got[MAIN.format(TESLA)] == 200 and FACTS.format(TESLA) not in got
    assert got[PAGE.format(TESLA)] == 304
    assert [s["reason"] for s in second.skipped if s["cik"] == TESLA] == [
        "no accession newer than 0001104659-26-021746"
    ]
    # The unchanged page is handed on from the earlier landing, so Tesla's filings stay complete.
    keys = sorted(x.key for x in second.landed if x.cik == TESLA)
    assert keys[0] == landed_key("submissions", "2026-11-20", f"CIK{TESLA}-submissions-001.json")
    assert keys[1].startswith(f"raw/sec/submissions/ingest_date=2026-11-21/CIK{TESLA}.json.")  # as rewritten
    staged = stage_edgar(store, second.landed, "run-2")
    assert staged.quarantined == [] and staged.rows["filings"] > 1000 + 700

    third, requests = run(sample, store, conn, "run-3", DAY2 + dt.timedelta(days=1))
    assert third.landed == [] and {r.status for r in requests} == {304, 404}
    assert load_state(conn, "sample", [APPLE]).filers[APPLE].accession == "0000320193-26-000999"


def test_state_of_an_unfinished_run_is_not_trusted(sample, store, conn):
    run(sample, store, conn, "run-1", DAY1, succeed=False)  # e.g. a later gate failed
    second, requests = run(sample, store, conn, "run-2", DAY2)
    assert 304 not in {r.status for r in requests}
    assert not any("If-None-Match" in r.headers for r in requests)
    assert len(second.landed) == 6


def test_a_filer_quarantined_by_the_run_is_fetched_again(sample, store, conn):
    run(sample, store, conn, "run-1", DAY1)
    record_quarantine(conn, run_id="run-1", source="sec", dataset="companyfacts", cik=APPLE, reason="test")
    _, requests = run(sample, store, conn, "run-2", DAY2)
    got = answers(requests)
    assert got[MAIN.format(APPLE)] == 200 and got[FACTS.format(APPLE)] == 200
    assert got[MAIN.format(TESLA)] == 304


def test_a_failed_fetch_leaves_no_state_for_that_filer(sample, store, conn):
    faults = Faults(match=FACTS.format(APPLE), unavailable=10)
    first, _ = run(sample, store, conn, "run-1", DAY1, faults=faults)
    assert [(f["cik"], f["dataset"]) for f in first.failed] == [(APPLE, "companyfacts")]
    assert APPLE not in first.new_state.filers and TESLA in first.new_state.filers
    _, requests = run(sample, store, conn, "run-2", DAY2)
    got = answers(requests)
    assert got[MAIN.format(APPLE)] == 200 and got[FACTS.format(APPLE)] == 200
    assert got[MAIN.format(TESLA)] == 304


def test_new_universe_member_is_fetched_in_full(sample, store, conn):
    run(sample, store, conn, "run-1", DAY1, ciks=[APPLE])
    second, requests = run(sample, store, conn, "run-2", DAY2, ciks=[APPLE, TESLA])
    got = answers(requests)
    assert got[MAIN.format(APPLE)] == 304
    assert got[MAIN.format(TESLA)] == got[PAGE.format(TESLA)] == got[FACTS.format(TESLA)] == 200
    assert {x.cik for x in second.landed} == {TESLA}


def test_filing_date_range_selects_filers_by_their_filings(sample, store, conn):
    run(sample, store, conn, "run-1", DAY1)
    # Apple's older-filings page spans 1994-2015; Tesla's filings start in 2005.
    mode = Mode(filed_from=dt.date(1994, 1, 1), filed_to=dt.date(1995, 12, 31))
    second, requests = run(sample, store, conn, "run-2", DAY2, mode=mode)
    got = answers(requests)
    assert got[MAIN.format(APPLE)] == got[MAIN.format(TESLA)] == 200  # always read, to look at the dates
    assert got[FACTS.format(APPLE)] == 200  # asked for unconditionally: the range is a re-fetch
    assert FACTS.format(TESLA) not in got
    assert got[FACTS.format(LPA)] == 200  # no submissions to tell: fetched
    assert [(s["cik"], s["reason"]) for s in second.skipped] == [(TESLA, "no filing within the requested dates")]


def test_full_refresh_ignores_state(sample, store, conn):
    run(sample, store, conn, "run-1", DAY1)
    second, requests = run(sample, store, conn, "run-2", DAY2, mode=Mode(full_refresh=True), ciks=ALL)
    assert not any("If-None-Match" in r.headers or "If-Modified-Since" in r.headers for r in requests)
    assert len(second.landed) == 6 and second.skipped == []


def test_modes_are_checked():
    with pytest.raises(ValueError, match="either a full refresh or"):
        Mode(full_refresh=True, filed_from=dt.date(2024, 1, 1))
    with pytest.raises(ValueError, match="empty filing-date range"):
        Mode(filed_from=dt.date(2024, 2, 1), filed_to=dt.date(2024, 1, 1))


def test_nightly_task_keeps_state_across_runs(sample, tmp_path, pg_store, monkeypatch, conn):
    """The DAG's extract task: each call starts its own replay server (another port) and the
    state still applies, because it is keyed by the URL's path."""
    monkeypatch.setenv("EDGARFLOW_PG_DSN", pg_store)
    monkeypatch.setenv("EDGARFLOW_SAMPLE_DIR", str(sample))
    monkeypatch.setenv("EDGARFLOW_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.delenv("EDGARFLOW_SOURCE_MODE", raising=False)
    counted, first = nightly_extract(ALL, "2026-11-20", "manual-1")
    assert len(first["landed"]) == 6 and counted.landed == 6
    record_run(conn, dag_id="edgar_nightly", run_id="manual-1", stage="summary", status="success")
    counted, second = nightly_extract(ALL, "2026-11-21", "scheduled-2")
    assert second["landed"] == [] and len(second["unchanged"]) == 3
    assert (counted.landed, counted.unchanged) == (0, 3)
    _, refreshed = nightly_extract([APPLE], "2026-11-21", "manual-3", full_refresh=True)
    assert {x["dataset"] for x in refreshed["landed"]} == {"companyfacts", "submissions"}
    _, ranged = nightly_extract([TESLA], "2026-11-21", "manual-4", filed_from="2026-02-27", filed_to="2026-03-31")
    assert [x["dataset"] for x in ranged["landed"]] == ["submissions", "submissions", "companyfacts"]


def test_a_changed_document_refetched_the_same_day_lands_beside_the_old_one(sample, store, conn):
    """SEC changed Tesla's submissions after the day's first run: a full refresh of the same date
    lands the new bytes at a key of their own and normalizes them; the first bytes stay."""
    first, _ = run(sample, store, conn, "run-1", DAY1)
    (old,) = [x.key for x in first.landed if x.cik == TESLA and x.dataset == "submissions" and "-submissions-" not in x.key]
    rewrite_submissions(sample, TESLA, lambda doc: doc.update(category="changed at SEC"))

    again, _ = run(sample, store, conn, "run-2", DAY1, mode=Mode(full_refresh=True))
    (new,) = [x.key for x in again.landed if x.cik == TESLA and x.dataset == "submissions" and "-submissions-" not in x.key]
    assert new != old and store.exists(old) and store.exists(new)  # never rewritten, nothing lost
    staged = stage_edgar(store, again.landed, "run-2")
    assert staged.quarantined == []
    (company,) = [c for c in read_staged(store, staged_key("companies", TESLA)).to_pylist()]
    assert company["category"] == "changed at SEC"
    # The state records the bytes normalization read, so the next night's 304 hides nothing.
    assert load_state(conn, "sample", [TESLA]).resources[MAIN.format(TESLA)].raw_key == new


def test_a_filer_whose_bytes_were_corrupt_recovers_on_a_refetch_of_the_same_day(sample, store, conn):
    facts = sample / "edgar" / "companyfacts" / f"CIK{LPA}.json.gz"
    good = facts.read_bytes()
    facts.write_bytes(gzip.compress(b"<!DOCTYPE html><html><body>Service unavailable</body></html>"))
    first, _ = run(sample, store, conn, "run-1", DAY1, ciks=[LPA])
    assert [q["cik"] for q in stage_edgar(store, first.landed, "run-1").quarantined] == [LPA]

    facts.write_bytes(good)  # SEC serves the document again
    again, _ = run(sample, store, conn, "run-2", DAY1, ciks=[LPA], mode=Mode(full_refresh=True))
    staged = stage_edgar(store, again.landed, "run-2")
    assert staged.quarantined == [] and staged.rows["facts"] == 768
