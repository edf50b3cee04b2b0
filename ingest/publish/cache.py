"""Warm the Redis cache from PostgreSQL's serving views after each publish.

Every document of the universe is built (ingest/serving/documents.py) and compared by digest
with the cached generation; only new and changed documents are written, companies that left the
universe are dropped, and a run with nothing new writes nothing (ingest/cache/generations.py).
"""

from __future__ import annotations

from ingest.cache import generations
from ingest.cache.server import connect as connect_cache
from ingest.postgres.connection import connect
from ingest.serving.documents import documents
from ingest.settings import Settings


def warm_cache(settings: Settings) -> generations.Refresh:
    client = connect_cache(settings)
    try:
        with connect(settings) as conn:
            return generations.refresh(client, documents(conn), settings.cache_ttl)
    finally:
        client.close()
