"""The HTTP client every extractor uses to talk to SEC (or the replay server).

- Declares a User-Agent (SEC fair access) and accepts gzip.
- Retries 429, 5xx, connection errors and timeouts with exponential backoff and
  jitter, honouring Retry-After (urllib3's Retry does the policy).
- Holds a request rate shared by every thread and every process on the machine
  that uses the same limiter file (Airflow's LocalExecutor runs tasks as
  separate processes); with EDGARFLOW_REDIS_URL set, by every worker of every
  host that uses that Redis. Every attempt, retries included, waits for the limiter.
- Conditional GET: pass the previous ETag / Last-Modified, get 304 back as
  ``FetchResult.not_modified``.

``stream`` hands a large body (a bulk archive) over in chunks as it arrives.

Outcomes of ``get``: a FetchResult for 200, 304 and 404 (an answer, not an
error: SEC says there is no such document, e.g. a filer without companyfacts).
A 200 is returned whatever its content type, so an HTML error page reaches the
raw zone and gets quarantined there, unless the caller passes ``expect_type``.
BadResponse: the body was cut short or could not be decoded (or did not have
``expect_type``). FetchError: anything else still failing once retries are spent.
Errors carry the URL, the status and whatever body arrived.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import redis
import requests
from pyrate_limiter import Rate, RateItem, RedisBucket, SQLiteBucket
from requests.adapters import HTTPAdapter
from urllib3 import BaseHTTPResponse
from urllib3.util.retry import Retry

from ingest.cache.server import connect as connect_redis
from ingest.settings import LOCAL_DIR, Settings

SAMPLE_USER_AGENT = "edgarflow sample-mode"
DEFAULT_LIMITER_DB = LOCAL_DIR / "http" / "sec-rate-limit.sqlite"
# The Redis key of the one SEC budget that every worker shares when EDGARFLOW_REDIS_URL is set.
REDIS_LIMIT_KEY = "rate_limit:sec"
LOCK_TIMEOUT_SECONDS = 5  # a holder that died releases the Redis lock after this
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A request reaches the server a little after it takes its slot, and that lag
# varies; stretching the limiter's window by this much keeps every 1-second
# window seen by the server within the limit (50 ms was exceeded on a loaded 2-core machine).
SEND_SLACK_MS = 100


@dataclass(frozen=True)
class FetchResult:
    url: str  # final URL, after redirects
    status: int  # 200; 304 when the validators sent still match; 404
    body: bytes  # the entity with any gzip transfer encoding undone; b"" on 304
    etag: str | None
    last_modified: str | None
    content_type: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def not_found(self) -> bool:
        return self.status == 404


class FetchError(Exception):
    def __init__(self, url: str, reason: str, status: int | None = None, body: bytes = b""):
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.status = status
        self.body = body


class Blocked(FetchError):
    """SEC's fair-access block page, at whatever status it came with: the request was refused,
    not answered. Nothing is landed or quarantined; the filer is fetched again on a later run."""


# Sentences of SEC's block page (it comes with 403, and has come with 200).
BLOCK_PAGE_MARKERS = (b"Undeclared Automated Tool", b"Request Rate Threshold Exceeded")
BLOCK_PAGE_MAX_BYTES = 64 * 1024  # the page is a few KB; a filing that quotes the words is not it


def _is_block_page(body: bytes) -> bool:
    head = body.lstrip()[:1]
    return head == b"<" and len(body) <= BLOCK_PAGE_MAX_BYTES and any(m in body for m in BLOCK_PAGE_MARKERS)


class BadResponse(FetchError):
    """A 200 that cannot be trusted: truncated, undecodable, or not the content type asked for."""


def _window(rate: float) -> Rate:
    """A rate that admits at most ``rate`` requests in any 1-second window."""
    if rate >= 1:
        return Rate(math.floor(rate), 1000 + SEND_SLACK_MS)
    return Rate(1, math.ceil(1000 / rate) + SEND_SLACK_MS)


class _ServerClockBucket(RedisBucket):
    """pyrate's Redis bucket stamped with the Redis server's clock: workers on several hosts then
    share one clock, and a host whose clock drifts cannot claim a slot in another's past."""

    def now(self) -> int:
        seconds, micros = self.redis.time()
        return seconds * 1000 + micros // 1000


class RateLimiter:
    """A sliding-window limit shared by every process that opens the same store.

    With ``redis_client``: a sorted set in Redis (pyrate's RedisBucket), shared by every worker on
    every host, guarded by a Redis lock (it expires if its holder dies). Otherwise a SQLite file
    guarded by a file lock, shared by the processes of one machine. Either way the slot's
    timestamp is read while the lock is held, so the window log matches the real order in which
    requests were let through. (pyrate's blocking ``Limiter.try_acquire`` stamps a waiting slot
    with a time computed before it gets the lock back; with two processes that let 10 requests
    into one second under a limit of 9, and so did the Redis bucket's atomic check-and-insert
    without the lock: a slot stamped before another's can be inserted after it.)
    """

    def __init__(self, rate: float, db_path: Path, redis_client: redis.Redis | None = None):
        self._bucket: RedisBucket | SQLiteBucket
        self._lock: AbstractContextManager
        if redis_client is not None:
            self._bucket = _ServerClockBucket.init([_window(rate)], redis_client, REDIS_LIMIT_KEY)
            self._lock = redis_client.lock(f"{REDIS_LIMIT_KEY}:lock", timeout=LOCK_TIMEOUT_SECONDS, sleep=0.002)
        else:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            self._bucket = SQLiteBucket.init_from_file(
                [_window(rate)], db_path=str(db_path), table="requests", use_file_lock=True
            )
            self._lock = self._bucket.lock

    def acquire(self) -> None:
        """Block until a request may be sent."""
        bucket = self._bucket
        while True:
            with self._lock:
                item = RateItem("request", bucket.now())
                if bucket.put(item):
                    bucket.leak(item.timestamp)  # drop entries older than the window
                    return
                wait_ms = bucket.waiting(item)
            assert isinstance(wait_ms, int)  # both buckets are synchronous
            time.sleep(max(wait_ms, 1) / 1000)

    def close(self) -> None:
        if isinstance(self._bucket, SQLiteBucket):
            self._bucket.close()
        else:
            self._bucket.redis.close()


class _LimitedRetry(Retry):
    """urllib3 retries below the requests adapter; make each retry wait for the limiter too."""

    limiter: RateLimiter | None = None

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.limiter = self.limiter
        return retry

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        super().sleep(response)  # backoff or Retry-After
        if self.limiter is not None:
            self.limiter.acquire()


class _LimitedAdapter(HTTPAdapter):
    def __init__(self, limiter: RateLimiter, retry: _LimitedRetry):
        super().__init__(max_retries=retry, pool_maxsize=16)
        self._limiter = limiter

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self._limiter.acquire()  # first attempt; retries acquire in _LimitedRetry.sleep
        return super().send(request, *args, **kwargs)


class SecClient:
    """User-Agent, timeout, retry count and rate come from Settings.

    ``limiter_db`` is the file that carries the shared rate budget: every
    client on the machine opened with the same path shares one limit. With
    EDGARFLOW_REDIS_URL set, the budget is in that Redis instead, one for all hosts.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        limiter_db: Path = DEFAULT_LIMITER_DB,
        backoff_factor: float = 0.5,
        backoff_jitter: float = 0.5,
    ):
        # Live mode cannot get here without a User-Agent (Settings enforces it).
        user_agent = settings.sec_user_agent or SAMPLE_USER_AGENT
        if not user_agent.strip():
            raise ValueError("a User-Agent is required (SEC fair access)")
        self.timeout = settings.http_timeout
        shared = connect_redis(settings) if settings.redis_url is not None else None
        self._limiter = RateLimiter(settings.sec_rate_limit, limiter_db, shared)
        retry = _LimitedRetry(
            total=settings.http_retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods={"GET", "HEAD"},
            backoff_factor=backoff_factor,
            backoff_jitter=backoff_jitter,
            respect_retry_after_header=True,
            raise_on_status=False,  # hand back the last answer; get() turns it into FetchError
        )
        retry.limiter = self._limiter
        adapter = _LimitedAdapter(self._limiter, retry)
        self._session = requests.Session()
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"User-Agent": user_agent, "Accept-Encoding": "gzip"})

    def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        expect_type: str | None = None,
    ) -> FetchResult:
        """GET ``url``; with ``etag``/``last_modified`` it is a conditional GET.

        ``expect_type``: the media type a 200 must carry, else BadResponse (None accepts any).
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            response = self._session.get(url, headers=headers, timeout=self.timeout, stream=True)
        except requests.RequestException as exc:
            raise FetchError(url, f"no answer after retries ({exc})") from exc
        with response:
            # Read in chunks so that what did arrive of a body cut short is kept (BadResponse.body).
            parts: list[bytes] = []
            try:
                parts.extend(response.iter_content(1 << 16))  # keeps the chunks read before an error
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
                reason = f"body cut short or undecodable ({exc})"
                raise BadResponse(url, reason, response.status_code, b"".join(parts)) from exc
            except requests.RequestException as exc:
                raise FetchError(url, f"no answer after retries ({exc})") from exc
        status, body = response.status_code, b"".join(parts)
        content_type = response.headers.get("Content-Type")
        if _is_block_page(body):
            raise Blocked(
                url,
                f"SEC fair-access block page (HTTP {status}): check EDGARFLOW_SEC_USER_AGENT (a company name and "
                "e-mail) and the request rate (EDGARFLOW_SEC_RATE_LIMIT, sec_api pool slots); fetched again next run",
                status,
                body,
            )
        if status not in (200, 304, 404):
            raise FetchError(url, f"HTTP {status}", status, body)
        if status == 200 and expect_type and _media_type(content_type) != expect_type:
            raise BadResponse(url, f"expected {expect_type}, got {content_type}", status, body)
        return FetchResult(
            url=response.url,
            status=status,
            body=body,
            etag=response.headers.get("ETag") or (etag if status == 304 else None),
            last_modified=response.headers.get("Last-Modified") or (last_modified if status == 304 else None),
            content_type=content_type,
        )

    @contextmanager
    def stream(self, url: str, chunk_size: int = 1 << 20) -> Iterator[Iterator[bytes]]:
        """GET ``url`` (200 expected) and yield its body as chunks while they arrive, so a
        bulk archive is never held whole. The request takes a limiter slot and is retried like
        ``get``; a body cut short raises BadResponse while iterating."""
        try:
            response = self._session.get(url, timeout=self.timeout, stream=True)
        except requests.RequestException as exc:
            raise FetchError(url, f"no answer after retries ({exc})") from exc
        with response:
            if response.status_code != 200:
                raise FetchError(url, f"HTTP {response.status_code}", response.status_code, response.content)
            yield _chunks(response, url, chunk_size)

    def close(self) -> None:
        self._session.close()
        self._limiter.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _chunks(response: requests.Response, url: str, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from response.iter_content(chunk_size)
    except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
        raise BadResponse(url, f"body cut short or undecodable ({exc})") from exc
    except requests.RequestException as exc:
        raise FetchError(url, f"body interrupted ({exc})") from exc


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()
