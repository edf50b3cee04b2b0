"""The SEC HTTP client against the replay server over real loopback HTTP."""

from __future__ import annotations

import gzip
import itertools
import multiprocessing
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.replay import Faults, RecordedRequest, ReplayServer
from ingest.sec.client import SAMPLE_USER_AGENT, BadResponse, Blocked, FetchError, SecClient
from ingest.settings import BUNDLED_SAMPLE_DIR, Settings

SAMPLE = BUNDLED_SAMPLE_DIR
UA = "edgarflow tests admin@example.com"
APPLE_FACTS = "/api/xbrl/companyfacts/CIK0000320193.json"


def make_client(
    limiter_db: Path,
    rate: float = 9,
    timeout: float = 5,
    retries: int = 3,
    backoff_factor: float = 0.1,
    redis_url: str | None = None,
) -> SecClient:
    settings = Settings(
        sec_user_agent=UA, sec_rate_limit=rate, http_timeout=timeout, http_retries=retries, redis_url=redis_url
    )
    return SecClient(settings, limiter_db=limiter_db, backoff_factor=backoff_factor, backoff_jitter=0.1)


def peak_per_second(recorded: list[RecordedRequest]) -> int:
    """Most requests that arrived within any 1-second window."""
    times = sorted(r.at for r in recorded)
    start, peak = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - 1.0:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    with ReplayServer(SAMPLE) as srv:
        yield srv


@pytest.fixture
def client(tmp_path: Path) -> Iterator[SecClient]:
    with make_client(tmp_path / "limiter.sqlite") as c:
        yield c


def test_get_returns_decoded_body_and_validators(server: ReplayServer, client: SecClient) -> None:
    before = len(server.requests)
    result = client.get(server.base_url + APPLE_FACTS)
    assert result.status == 200 and not result.not_modified
    assert result.body == gzip.decompress((SAMPLE / "edgar/companyfacts/CIK0000320193.json.gz").read_bytes())
    assert result.content_type == "application/json"
    assert result.etag and result.last_modified
    (request,) = server.requests[before:]
    assert request.headers["Accept-Encoding"] == "gzip"
    assert request.headers["User-Agent"] == UA


def test_yahoo_chart_through_the_same_server(server: ReplayServer, client: SecClient) -> None:
    result = client.get(server.base_url + "/v8/finance/chart/AAPL?interval=1d")
    assert result.body.startswith(b'{"chart":{"result":[{"meta":{"currency":"USD","symbol":"AAPL"')


def test_conditional_get(server: ReplayServer, client: SecClient) -> None:
    url = server.base_url + "/submissions/CIK0000320193.json"
    first = client.get(url)
    again = client.get(url, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.body == b""
    assert (again.etag, again.last_modified) == (first.etag, first.last_modified)
    by_date = client.get(url, last_modified=first.last_modified)
    assert by_date.not_modified
    changed = client.get(url, etag='"stale"')
    assert changed.status == 200 and changed.body == first.body


def test_not_found_is_an_answer(server: ReplayServer, client: SecClient) -> None:
    result = client.get(server.base_url + "/submissions/CIK0000000001.json")
    assert result.not_found and result.status == 404
    assert b"NoSuchKey" in result.body


def test_429_burst_waits_for_retry_after(tmp_path: Path) -> None:
    with ReplayServer(SAMPLE, faults=Faults(throttle=2, retry_after=1)) as srv, make_client(tmp_path / "l") as c:
        started = time.monotonic()
        result = c.get(srv.base_url + APPLE_FACTS)
        elapsed = time.monotonic() - started
        recorded = srv.requests
    assert result.status == 200
    assert [r.status for r in recorded] == [429, 429, 200]
    assert elapsed >= 2.0
    assert all(b.at - a.at >= 1.0 for a, b in itertools.pairwise(recorded))
    assert all(r.headers.get("User-Agent") == UA for r in recorded)


def test_503_is_retried(tmp_path: Path) -> None:
    with ReplayServer(SAMPLE, faults=Faults(unavailable=2)) as srv, make_client(tmp_path / "l") as c:
        assert c.get(srv.base_url + APPLE_FACTS).status == 200
        assert [r.status for r in srv.requests] == [503, 503, 200]


def test_retries_run_out_with_a_clear_error(tmp_path: Path) -> None:
    with ReplayServer(SAMPLE, faults=Faults(unavailable=10)) as srv, make_client(tmp_path / "l", retries=2) as c:
        with pytest.raises(FetchError) as caught:
            c.get(srv.base_url + APPLE_FACTS)
        assert caught.value.status == 503
        assert len(srv.requests) == 3  # first try + 2 retries


def test_timeouts_are_retried(tmp_path: Path) -> None:
    with (
        ReplayServer(SAMPLE, faults=Faults(delay=0.6)) as srv,
        make_client(tmp_path / "l", timeout=0.2, retries=1) as c,
    ):
        with pytest.raises(FetchError, match="no answer after retries") as caught:
            c.get(srv.base_url + APPLE_FACTS)
        assert caught.value.status is None
        deadline = time.monotonic() + 5  # the server logs each abandoned request once its delay is over
        while len(srv.requests) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(srv.requests) == 2


def test_connection_refused_is_a_fetch_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with make_client(tmp_path / "l", retries=2) as c, pytest.raises(FetchError):
        c.get(f"http://127.0.0.1:{port}/files/company_tickers.json")


@pytest.mark.parametrize("path", [APPLE_FACTS, "/files/company_tickers.json"])
def test_truncated_body_raises(tmp_path: Path, path: str) -> None:
    with (
        ReplayServer(SAMPLE, faults=Faults(truncate=True)) as srv,
        make_client(tmp_path / "l") as c,
        pytest.raises(BadResponse, match="cut short"),
    ):
        c.get(srv.base_url + path)


def test_truncated_plain_body_raises(tmp_path: Path) -> None:
    # Stored uncompressed, so it goes out without gzip.
    (tmp_path / "edgar" / "tickers").mkdir(parents=True)
    plain = gzip.decompress((SAMPLE / "edgar/tickers/company_tickers.json.gz").read_bytes())
    (tmp_path / "edgar" / "tickers" / "company_tickers.json").write_bytes(plain)
    with (
        ReplayServer(tmp_path, faults=Faults(truncate=True)) as srv,
        make_client(tmp_path / "l") as c,
        pytest.raises(BadResponse, match="IncompleteRead"),
    ):
        c.get(srv.base_url + "/files/company_tickers.json")


@pytest.mark.parametrize("status", [200, 403])
def test_secs_block_page_is_a_fair_access_refusal_at_any_status(tmp_path: Path, status: int) -> None:
    with (
        ReplayServer(SAMPLE, faults=Faults(match="companyfacts", blocked=status)) as srv,
        make_client(tmp_path / "l") as c,
        pytest.raises(Blocked, match="EDGARFLOW_SEC_USER_AGENT") as caught,
    ):
        c.get(srv.base_url + APPLE_FACTS)
    assert caught.value.status == status and "fair-access" in str(caught.value)
    assert not isinstance(caught.value, BadResponse)  # refused, not a bad payload to quarantine


def test_html_instead_of_json_is_visible(tmp_path: Path) -> None:
    faults = Faults(match="companyfacts", html_error=True)
    with ReplayServer(SAMPLE, faults=faults) as srv, make_client(tmp_path / "l") as c:
        # By default it is returned, to be landed and quarantined with its bytes...
        page = c.get(srv.base_url + APPLE_FACTS)
        assert page.status == 200
        assert page.content_type is not None and page.content_type.startswith("text/html")
        assert b"temporarily unavailable" in page.body
        # ...or refused on request.
        with pytest.raises(BadResponse, match="expected application/json") as caught:
            c.get(srv.base_url + APPLE_FACTS, expect_type="application/json")
        assert caught.value.status == 200 and caught.value.body == page.body
        assert c.get(srv.base_url + "/v8/finance/chart/AAPL", expect_type="application/json").status == 200


def test_user_agent_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: ReplayServer) -> None:
    monkeypatch.delenv("EDGARFLOW_SEC_USER_AGENT", raising=False)
    with SecClient(Settings(source_mode="sample"), limiter_db=tmp_path / "l") as c:
        c.get(server.base_url + "/files/company_tickers.json")
    assert server.requests[-1].headers["User-Agent"] == SAMPLE_USER_AGENT
    monkeypatch.setenv("EDGARFLOW_SEC_USER_AGENT", UA)
    with SecClient(Settings(), limiter_db=tmp_path / "l") as c:
        c.get(server.base_url + "/files/company_tickers.json")
    assert server.requests[-1].headers["User-Agent"] == UA
    with pytest.raises(ValueError, match="User-Agent"):
        SecClient(Settings(sec_user_agent=" "), limiter_db=tmp_path / "l")


def test_rate_limit_holds_across_threads(tmp_path: Path) -> None:
    rate = 5
    with ReplayServer(SAMPLE) as srv, make_client(tmp_path / "l", rate=rate) as c:
        url = srv.base_url + "/files/company_tickers.json"

        def fetch() -> None:
            for _ in range(5):
                c.get(url)

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        recorded = srv.requests
    assert len(recorded) == 20
    assert peak_per_second(recorded) <= rate
    assert elapsed >= 20 / rate - 1  # the limiter did hold requests back


def test_retries_pass_the_limiter(tmp_path: Path) -> None:
    # No backoff at all: only the limiter spaces these retries.
    faults = Faults(unavailable=4)
    with (
        ReplayServer(SAMPLE, faults=faults) as srv,
        make_client(tmp_path / "l", rate=2, backoff_factor=0, retries=4) as c,
    ):
        assert c.get(srv.base_url + APPLE_FACTS).status == 200
        recorded = srv.requests
    assert len(recorded) == 5
    assert peak_per_second(recorded) <= 2


def _fetch_in_process(
    limiter_db: Path, rate: float, url: str, threads: int, per_thread: int, redis_url: str | None = None
) -> None:
    with make_client(limiter_db, rate=rate, redis_url=redis_url) as c:

        def fetch() -> None:
            for _ in range(per_thread):
                c.get(url)

        workers = [threading.Thread(target=fetch) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()


def test_rate_limit_holds_across_processes(tmp_path: Path) -> None:
    rate = 6
    context = multiprocessing.get_context("spawn")  # like separate Airflow task processes
    with ReplayServer(SAMPLE) as srv:
        args = (tmp_path / "shared-limiter.sqlite", rate, srv.base_url + "/files/company_tickers.json", 3, 4)
        procs = [context.Process(target=_fetch_in_process, args=args) for _ in range(2)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(timeout=60)
        recorded = srv.requests
    assert [p.exitcode for p in procs] == [0, 0]
    assert len(recorded) == 24
    assert len({r.headers["User-Agent"] for r in recorded}) == 1
    assert peak_per_second(recorded) <= rate


def _run_workers(srv: ReplayServer, tmp_path: Path, rate: float, redis_url: str | None) -> tuple[list, float]:
    """Three worker processes, each with its own limiter file (as on three hosts), 2 threads x 8 requests."""
    context = multiprocessing.get_context("spawn")
    url = srv.base_url + "/files/company_tickers.json"
    procs = [
        context.Process(target=_fetch_in_process, args=(tmp_path / f"host-{i}.sqlite", rate, url, 2, 8, redis_url))
        for i in range(3)
    ]
    started = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    return srv.requests, time.monotonic() - started


def test_one_redis_limit_holds_across_hosts(tmp_path: Path, redis_server) -> None:
    """With EDGARFLOW_REDIS_URL, workers that share no file still share one budget of 9/s."""
    client, url = redis_server
    rate = 9
    with ReplayServer(SAMPLE) as srv:
        recorded, elapsed = _run_workers(srv, tmp_path, rate, url)
    assert len(recorded) == 48
    assert peak_per_second(recorded) <= rate
    assert elapsed >= 48 / rate - 1
    assert client.exists("rate_limit:sec")


def test_without_redis_each_host_has_its_own_budget(tmp_path: Path) -> None:
    """The control: the same three workers on separate limiter files overrun 9/s together."""
    with ReplayServer(SAMPLE) as srv:
        recorded, _ = _run_workers(srv, tmp_path, 9, None)
    assert len(recorded) == 48
    assert peak_per_second(recorded) > 9
