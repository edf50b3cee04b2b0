"""The cache against PostgreSQL: a sample of cached documents must equal what the serving views give.

The sample is drawn from both sides: keys of the cached generation (stale or corrupted values) and
companies and tickers of PostgreSQL's universe (documents the cache lacks). Each key becomes one
row (key, in_cache, in_postgres, matches) for the ``cache_entries`` suite.
"""

from __future__ import annotations

import psycopg
import pyarrow as pa
import redis

from ingest.cache import generations
from ingest.serving.documents import company_key, documents, financials_key, market_key, ratios_key

SAMPLE_SIZE = 200  # keys from each side


def cache_sample(client: redis.Redis, conn: psycopg.Connection, size: int = SAMPLE_SIZE) -> pa.Table:
    keys: set[str] = set()
    generation = generations.current(client)
    if generation is not None:
        keys.update(k.decode() for k in client.hrandfield(generations.digests_key(generation), size) or [])
    # The companies are drawn first, then each one's ticker looked up among its own tickers: the
    # view of latest bars is read per ticker (its key), never once per company of the universe.
    for cik, ticker in conn.execute(
        "SELECT s.cik, (SELECT min(m.ticker) FROM serving.latest_market m"
        "               WHERE m.ticker = ANY(c.tickers) AND m.cik = s.cik) "
        "FROM (SELECT cik FROM (SELECT DISTINCT cik FROM serving.latest_statements) u ORDER BY random() LIMIT %s) s "
        "LEFT JOIN edgar.companies c USING (cik)",
        (size,),
    ):
        keys.update({company_key(cik), ratios_key(cik), financials_key(cik, "income_statement")})
        if ticker:
            keys.add(market_key(ticker))
    # PostgreSQL's documents of the sampled companies and tickers, built in one pass.
    ciks = sorted({k.split(":")[1] for k in keys if not k.startswith("market:")})
    tickers = sorted({k.split(":")[1] for k in keys if k.startswith("market:")})
    served = dict(documents(conn, ciks=ciks, tickers=tickers))
    rows = []
    for key in sorted(keys):
        cached, stored = generations.read(client, key), served.get(key)
        rows.append(
            {"key": key, "in_cache": cached is not None, "in_postgres": stored is not None, "matches": cached == stored}
        )
    schema = pa.schema([("key", pa.string()), ("in_cache", pa.bool_()), ("in_postgres", pa.bool_()), ("matches", pa.bool_())])
    return pa.Table.from_pylist(rows, schema=schema)
