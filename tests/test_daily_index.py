"""The nightly's change feed: SEC's daily indexes, served by the replay server, narrow a nightly
run over the whole universe to the filers that filed (and those never landed) since the last run
that covered everything; no mark, an unreadable index or a run with failed fetches means asking
about every filer again."""

from __future__ import annotations

import datetime as dt
import gzip

import psycopg
import pytest
from conftest import APPLE, LPA, TESLA, make_sample_dir

from ingest.endpoints import Endpoints
from ingest.postgres.runs import record_run
from ingest.postgres.source_state import save_state
from ingest.replay import Faults, ReplayServer
from ingest.sec.client import SecClient
from ingest.sec.daily_index import IndexUnavailable, filers_in_index, filers_since, index_days
from ingest.sec.state import FilerMark, NewState
from ingest.settings import Settings
from ingest.zones.manifests import read_manifest
from ingest.zones.store import open_store
from pipelines import edgar_nightly

HEAD = (
    "Description:           Daily Index of EDGAR Dissemination Feed by Company Name\n"
    "Last Data Received:    December 1, 2026\n\n"
    "CIK|Company Name|Form Type|Date Filed|File Name\n" + "-" * 80 + "\n"
)


def test_the_index_names_the_filers_of_its_day():
    body = HEAD + "320193|Apple Inc.|10-K|20261201|edgar/data/320193/0000320193-26-000101.txt\n"
    body += "1318605|Tesla, Inc.|8-K|20261201|edgar/data/1318605/0001318605-26-000042.txt\nnot a row\n"
    assert filers_in_index(body.encode()) == {APPLE, TESLA}
    assert filers_in_index(HEAD.encode()) == set()
    assert index_days(dt.date(2026, 11, 29), dt.date(2026, 12, 1)) == [
        dt.date(2026, 11, 29), dt.date(2026, 11, 30), dt.date(2026, 12, 1),
    ]  # fmt: skip


@pytest.fixture
def nightly(tmp_path, pg_store, monkeypatch):
    sample = make_sample_dir(tmp_path / "sample", [APPLE, LPA, TESLA])
    for name, value in {"PG_DSN": pg_store, "SAMPLE_DIR": str(sample), "STORAGE_URL": str(tmp_path / "store")}.items():
        monkeypatch.setenv(f"EDGARFLOW_{name}", value)
    monkeypatch.delenv("EDGARFLOW_SOURCE_MODE", raising=False)
    with psycopg.connect(pg_store, autocommit=True) as conn:
        yield sample, conn


def planned(run_id: str, day: str, **params) -> list[str]:
    store = open_store(Settings().storage_url)
    return [cik for b in edgar_nightly.plan_batches(run_id, day, **params) for cik in read_manifest(store, b.manifest)]


def succeed(conn, run_id: str, landed: list[str], fetch_failed: int = 0) -> None:
    save_state(conn, "sample", run_id, NewState(filers={c: FilerMark("0000320193-26-000001", None) for c in landed}))
    record_run(conn, dag_id="edgar_nightly", run_id=run_id, stage="summary", status="success",
               counts={"fetch_failed": fetch_failed})  # fmt: skip


def index(sample, day: dt.date, body: str) -> None:
    path = sample / "edgar" / "daily-index" / f"master.{day:%Y%m%d}.idx.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(body.encode()))


def test_a_nightly_asks_only_about_filers_that_filed_or_were_never_landed(nightly):
    sample, conn = nightly
    assert planned("run-1", "2026-11-30") == [APPLE, TESLA, LPA]  # no mark yet: every filer
    succeed(conn, "run-1", [APPLE, TESLA])  # LPA never landed (say it failed to parse)

    # Nothing in the indexes of 2026-11-30 .. 2026-12-01: only LPA, never landed, is asked about.
    assert planned("run-2", "2026-12-01") == [LPA]
    succeed(conn, "run-2", [LPA])
    index(sample, dt.date(2026, 12, 2), HEAD + "320193|Apple Inc.|10-Q|20261202|edgar/data/320193/x.txt\n")
    assert planned("run-3", "2026-12-02") == [APPLE]
    # A manual run for given filers, or a full refresh, is not narrowed.
    assert planned("run-4", "2026-12-02", tickers=["TSLA"]) == [TESLA]
    assert planned("run-5", "2026-12-02", full_refresh=True) == [APPLE, TESLA, LPA]


def test_no_narrowing_after_a_run_with_failed_fetches(nightly):
    sample, conn = nightly
    planned("run-1", "2026-11-30")
    succeed(conn, "run-1", [APPLE, LPA, TESLA], fetch_failed=1)  # the failed filer kept its older state
    assert planned("run-2", "2026-12-01") == [APPLE, TESLA, LPA]
    succeed(conn, "run-2", [APPLE, LPA, TESLA])
    assert edgar_nightly.plan_batches("run-3", "2026-12-02") == []  # nothing to ask: no batch at all


def test_an_index_that_is_not_an_index_is_an_error_not_an_empty_day(nightly):
    sample, _ = nightly
    days = (dt.date(2026, 12, 1), dt.date(2026, 12, 2))
    with ReplayServer(sample, faults=Faults(match="daily-index", html_error=True)) as server:
        endpoints = Endpoints(server.base_url, server.base_url, server.base_url)
        with SecClient(Settings()) as client, pytest.raises(IndexUnavailable, match="daily index of 2026-12-01"):
            filers_since(client, endpoints.daily_index, *days)
    index(sample, days[1], HEAD + "1318605|Tesla, Inc.|8-K|20261202|edgar/data/1318605/x.txt\n")
    with ReplayServer(sample) as server, SecClient(Settings()) as client:
        endpoints = Endpoints(server.base_url, server.base_url, server.base_url)
        assert filers_since(client, endpoints.daily_index, *days) == {TESLA}  # 12-01: 404, no index that day
        assert server.requests[-1].path == "/Archives/edgar/daily-index/2026/QTR4/master.20261202.idx"
