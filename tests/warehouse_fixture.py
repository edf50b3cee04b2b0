"""A real warehouse from the bundled sample, for tests of dbt and of what reads the marts.

normalize -> staged Parquet in a LocalStore -> DuckDB raw tables, exactly as the pipeline does,
for every company in data/sample/edgar/companyfacts (and their submissions when bundled).
"""

from __future__ import annotations

from pathlib import Path

from conftest import SAMPLE, sample_bytes

from ingest.normalize import normalize_companyfacts, normalize_submissions
from ingest.settings import Settings
from ingest.staging import write_staged
from ingest.storage import LocalStore
from ingest.warehouse import load_raw_tables


def sample_ciks() -> list[str]:
    return sorted(p.name[3:13] for p in (SAMPLE / "edgar" / "companyfacts").glob("CIK*.json.gz"))


def build_raw_warehouse(root: Path, ciks: list[str] | None = None) -> Settings:
    """Stage the sample companies under ``root`` and load DuckDB raw tables; returns the settings."""
    store = LocalStore(root / "store")
    submissions = SAMPLE / "edgar" / "submissions"
    for cik in ciks or sample_ciks():
        write_staged(store, "facts", cik, normalize_companyfacts(sample_bytes(f"edgar/companyfacts/CIK{cik}.json")))
        if (submissions / f"CIK{cik}.json.gz").exists():
            pages = [
                sample_bytes(f"edgar/submissions/{p.name.removesuffix('.gz')}")
                for p in sorted(submissions.glob(f"CIK{cik}-submissions-*.json.gz"))
            ]
            companies, filings = normalize_submissions(sample_bytes(f"edgar/submissions/CIK{cik}.json"), pages)
            write_staged(store, "companies", cik, companies)
            write_staged(store, "filings", cik, filings)
    settings = Settings(storage_url=str(root / "store"), duckdb_path=root / "warehouse.duckdb", warehouse="duckdb")
    load_raw_tables(settings, store)
    return settings
