"""The bundled sample staged as the pipeline stages it, and DuckDB raw tables loaded from it (with
replicas under new CIKs and tickers for volume), shared by the benchmarks that need a warehouse."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
from sample_replicas import replicate

from ingest.sec.normalize import normalize_companyfacts, normalize_submissions
from ingest.settings import BUNDLED_SAMPLE_DIR, Settings
from ingest.warehouse.load import load_raw_tables
from ingest.yahoo.normalize import csv_rows
from ingest.yahoo.universe import csv_files, listings
from ingest.zones.staged import write_staged
from ingest.zones.store import LocalStore


def read(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


def sample_tables() -> dict[str, dict[str, list[pa.Table]]]:
    """Per company (CIK), its staged tables by dataset, as the pipeline stages the sample."""
    edgar = BUNDLED_SAMPLE_DIR / "edgar"
    tables: dict[str, dict[str, list[pa.Table]]] = {}
    for path in sorted((edgar / "companyfacts").glob("CIK*.json.gz")):
        cik = path.name[3:13]
        tables[cik] = {"facts": [normalize_companyfacts(read(path))]}
        main = edgar / "submissions" / f"CIK{cik}.json.gz"
        if main.exists():
            pages = [read(p) for p in sorted((edgar / "submissions").glob(f"CIK{cik}-submissions-*.json.gz"))]
            companies, filings = normalize_submissions(read(main), pages)
            tables[cik].update(companies=[companies], filings=[filings])
    known = listings(read(edgar / "tickers" / "company_tickers_exchange.json.gz"))
    for symbol, path in csv_files(BUNDLED_SAMPLE_DIR).items():
        if symbol in known and known[symbol].cik in tables:
            tables[known[symbol].cik].setdefault("prices", []).append(csv_rows(known[symbol], read(path)).rows)
    return tables


def raw_warehouse(folder: Path, tables: dict[str, dict[str, list[pa.Table]]], copies: int) -> tuple[Path, int]:
    """DuckDB raw tables of the originals and ``copies - 1`` replicas; returns the file and its fact rows."""
    store = LocalStore(folder / "store")
    facts = 0
    for n in range(copies):
        for datasets in tables.values():
            for dataset, parts in datasets.items():
                table = pa.concat_tables(parts)
                table = replicate(table, n) if n else table
                write_staged(store, dataset, table["cik"][0].as_py(), table)
                facts += table.num_rows if dataset == "facts" else 0
    raw = folder / "sample.duckdb"  # not raw.duckdb: its catalog would shadow schema raw
    load_raw_tables(Settings(storage_url=str(folder / "store"), duckdb_path=raw, warehouse="duckdb"), store)
    return raw, facts
