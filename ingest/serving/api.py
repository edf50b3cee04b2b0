"""The read API apps call: Redis first, PostgreSQL's serving views when the cache cannot answer.

    api = ServingAPI(Settings())
    api.get_company("320193")                         # dict, or None for an unknown company
    api.get_financials("320193", "income_statement")  # latest annual and quarterly statement
    api.get_ratios("320193")
    api.get_market("AAPL")

A cache miss (never warmed, expired, not in the universe) or a cache that is down (refused,
timed out, killed mid-read) is answered from PostgreSQL, with the same document the cache would
hold (ingest/serving/documents.py). A cache that failed is left alone for RETRY_SECONDS, so
an outage costs apps one timeout, not one per read.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import psycopg
import redis

from ingest.cache import generations
from ingest.cache.server import CacheUnavailable, connect
from ingest.postgres.connection import dsn
from ingest.serving.documents import STATEMENTS, company_key, document, financials_key, market_key, ratios_key
from ingest.settings import Settings

log = logging.getLogger(__name__)
RETRY_SECONDS = 10.0


@dataclass(frozen=True)
class Reading:
    document: dict[str, Any] | None
    source: Literal["redis", "postgres"]


class ServingAPI:
    """``pg_dsn``: the fallback's DSN, e.g. a ``bi_reader`` login (default: edgarflow's own store).
    Holds one Redis client and, once the cache first fails to answer, one PostgreSQL connection:
    use one instance per thread."""

    def __init__(self, settings: Settings, *, pg_dsn: str | None = None):
        self._settings = settings
        self._pg_dsn = pg_dsn
        self._redis: redis.Redis | None = None
        self._pg: psycopg.Connection | None = None
        self._skip_cache_until = 0.0

    def get_company(self, cik: str | int) -> dict[str, Any] | None:
        return self.read(company_key(_cik(cik))).document

    def get_financials(self, cik: str | int, statement: str) -> dict[str, Any] | None:
        if statement not in STATEMENTS:
            raise ValueError(f"unknown statement {statement!r}; one of {', '.join(STATEMENTS)}")
        return self.read(financials_key(_cik(cik), statement)).document

    def get_ratios(self, cik: str | int) -> dict[str, Any] | None:
        return self.read(ratios_key(_cik(cik))).document

    def get_market(self, ticker: str) -> dict[str, Any] | None:
        return self.read(market_key(ticker.strip().upper())).document

    def read(self, key: str) -> Reading:
        cached = self._from_cache(key)
        if cached is not None:
            return Reading(orjson.loads(cached), "redis")
        found = self._from_postgres(key)
        return Reading(orjson.loads(found) if found is not None else None, "postgres")

    def _from_cache(self, key: str) -> bytes | None:
        if time.monotonic() < self._skip_cache_until:
            return None
        try:
            if self._redis is None:
                self._redis = connect(self._settings)
            return generations.read(self._redis, key)
        except (redis.RedisError, CacheUnavailable) as exc:
            log.warning("cache unavailable, reading %s from PostgreSQL: %s", key, exc)
            self._redis = None
            self._skip_cache_until = time.monotonic() + RETRY_SECONDS
            return None

    def _from_postgres(self, key: str) -> bytes | None:
        if self._pg is None or self._pg.closed:
            self._pg = psycopg.connect(self._pg_dsn or dsn(self._settings))
        try:
            with self._pg.transaction():
                return document(self._pg, key)
        except psycopg.OperationalError:
            self._pg.close()  # a dropped connection: the next read opens a new one
            raise

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()
        if self._pg is not None:
            self._pg.close()


def _cik(cik: str | int) -> str:
    text = str(cik).strip()
    if not text.isdigit() or len(text) > 10:
        raise ValueError(f"a CIK is up to 10 digits, got {cik!r}")
    return text.zfill(10)
