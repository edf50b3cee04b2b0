"""The bundled real sample normalized with ingest/sec/normalize.py, once per session, and staged
or loaded from there: the input of the quality tests and of the session's dbt build."""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from conftest import SAMPLE, sample_bytes

from ingest.sec.normalize import normalize_companyfacts, normalize_submissions
from ingest.settings import Settings
from ingest.warehouse.load import load_raw_tables
from ingest.zones.staged import write_staged
from ingest.zones.store import LocalStore

_SUBMISSIONS = re.compile(r"^CIK(\d{10})(-submissions-\d{3})?\.json(\.gz)?$")


def _plain(path: Path) -> str:
    return path.relative_to(SAMPLE).as_posix().removesuffix(".gz")


@functools.cache
def facts() -> pa.Table:
    """Every companyfacts document of the sample, normalized."""
    paths = sorted((SAMPLE / "edgar" / "companyfacts").glob("CIK*.json*"))
    return pa.concat_tables([normalize_companyfacts(sample_bytes(_plain(p))) for p in paths])


@functools.cache
def submissions() -> tuple[pa.Table, pa.Table]:
    """(companies, filings) from every submissions document and its pages."""
    docs: dict[str, dict[bool, list[Path]]] = defaultdict(lambda: {False: [], True: []})
    for path in sorted((SAMPLE / "edgar" / "submissions").iterdir()):
        if match := _SUBMISSIONS.match(path.name):
            docs[match.group(1)][match.group(2) is not None].append(path)
    companies, filings = [], []
    for cik in sorted(docs):
        (main,) = docs[cik][False]
        company, filed = normalize_submissions(sample_bytes(_plain(main)), [sample_bytes(_plain(p)) for p in docs[cik][True]])
        companies.append(company)
        filings.append(filed)
    return pa.concat_tables(companies), pa.concat_tables(filings)


def facts_ciks() -> list[str]:
    """The companies with companyfacts in the sample."""
    return sorted(set(facts()["cik"].to_pylist()))


def stage_sample(store: LocalStore, ciks: list[str] | None = None) -> None:
    """Stage the sample's facts, companies and filings of ``ciks`` (default: every company with
    facts), one file per dataset and company, as normalize does."""
    companies, filings = submissions()
    for cik in ciks or facts_ciks():
        for dataset, table in (("facts", facts()), ("companies", companies), ("filings", filings)):
            rows = table.filter(pc.equal(table["cik"], cik))
            if rows.num_rows:
                write_staged(store, dataset, cik, rows)


def build_raw_warehouse(root: Path, ciks: list[str] | None = None) -> Settings:
    """Stage the sample companies under ``root`` and load DuckDB raw tables; returns the settings."""
    store = LocalStore(root / "store")
    stage_sample(store, ciks)
    settings = Settings(storage_url=str(root / "store"), duckdb_path=root / "warehouse.duckdb", warehouse="duckdb")
    load_raw_tables(settings, store)
    return settings
