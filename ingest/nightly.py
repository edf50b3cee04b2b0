"""The nightly EDGAR pipeline up to loaded, reconciled raw tables; one function per DAG task.

Each function takes and returns plain JSON-able values (they travel as XCom), opens what it
needs from Settings, and reads only what the stage before it wrote. Extraction and
normalization run once per batch of filers (mapped tasks); the later stages take every batch's
results. The marts are built by the warehouse DAG (ingest/warehouse_build.py).
"""

from __future__ import annotations

import logging
from datetime import date

from ingest.extract import Mode, extract_edgar
from ingest.landing import Landed
from ingest.settings import Settings
from ingest.sources import open_endpoints
from ingest.stage_edgar import stage_edgar
from ingest.storage import local_copies, open_store
from ingest.universe import sample_ciks, select

log = logging.getLogger(__name__)

# Parents before children: filings and facts reference companies.
PG_LOAD_ORDER = ("companies", "filings", "facts")
# Filers per extract/normalize task: ~38 tasks for SEC's ~18.8k filers.
BATCH_SIZE = 500


def plan_batches(
    ciks: list[str] | None = None, tickers: list[str] | None = None, batch_size: int = BATCH_SIZE, bulk: bool = False
) -> list[list[str]]:
    """This run's filers in batches, one extract task each. A bulk run is one batch: every
    batch would otherwise stream SEC's whole archives again."""
    universe = plan_universe(ciks, tickers)
    size = len(universe) if bulk else batch_size
    return [universe[i : i + size] for i in range(0, len(universe), max(size, 1))]


def plan_universe(ciks: list[str] | None = None, tickers: list[str] | None = None) -> list[str]:
    settings = Settings()
    by_ticker = _ticker_map(settings) if (tickers or settings.source_mode == "live") else {}
    if settings.source_mode == "sample":
        universe = sample_ciks(settings.sample_dir)
    else:
        universe = sorted(set(by_ticker.values()))
    return select(universe, ciks, tickers, by_ticker)


def _ticker_map(settings: Settings) -> dict[str, str]:
    from ingest.http_client import SecClient
    from ingest.universe import ticker_map

    with open_endpoints(settings) as endpoints, SecClient(settings) as client:
        return ticker_map(client.get(endpoints.tickers_exchange()).body)


def extract(
    ciks: list[str],
    ingest_date: str,
    run_id: str,
    full_refresh: bool = False,
    filed_from: str | None = None,
    filed_to: str | None = None,
    bulk: bool = False,
) -> dict:
    """Land what changed for ``ciks`` (see ingest.extract for the modes); record what was landed.

    ``bulk``: a full refresh from SEC's nightly companyfacts.zip and submissions.zip instead of
    two or more requests per filer.
    """
    from ingest.bulk import extract_bulk
    from ingest.pg_load import record_quarantine
    from ingest.postgres import connect
    from ingest.source_state import SourceState, load_state, save_state

    settings = Settings()
    store = open_store(settings.storage_url)
    day = date.fromisoformat(ingest_date)
    mode = Mode(full_refresh or bulk, _date(filed_from), _date(filed_to))
    with connect(settings) as conn:
        known = SourceState() if mode.full_refresh else load_state(conn, settings.source_mode, ciks)
    with open_endpoints(settings) as endpoints:
        if bulk:
            extraction = extract_bulk(settings, store, endpoints, ciks, day)
        else:
            extraction = extract_edgar(settings, store, endpoints, ciks, day, run_id, mode, known)
    with connect(settings) as conn:
        save_state(conn, settings.source_mode, run_id, extraction.new_state)
        for failed in extraction.failed:
            if "quarantine_key" in failed:  # a body cut short: its bytes are kept, say so where runs are read
                record_quarantine(
                    conn, run_id=run_id, source="sec", dataset=failed["dataset"], cik=failed["cik"],
                    object_key=failed["quarantine_key"], reason=failed["reason"],
                )
    return extraction.to_dict()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def normalize(extraction: dict, run_id: str) -> dict:
    from ingest.pg_load import record_quarantine
    from ingest.postgres import connect

    settings = Settings()
    landed = [Landed(**x) for x in extraction["landed"]]
    staging = stage_edgar(open_store(settings.storage_url), landed, run_id).to_dict()
    if staging["quarantined"]:
        with connect(settings) as conn:
            for q in staging["quarantined"]:
                record_quarantine(
                    conn, run_id=run_id, source="sec", dataset=q["dataset"], cik=q["cik"],
                    object_key=q["key"], reason=q["reason"],
                )
    return staging


def merged(results: list[dict]) -> dict:
    """One result from every batch's: lists concatenated, counts added, mappings merged."""
    out: dict = {}
    for result in results:
        for key, value in result.items():
            if isinstance(value, dict):
                out[key] = merged([out.get(key, {}), value])
            elif isinstance(value, list):
                out[key] = out.get(key, []) + value
            else:
                out[key] = out.get(key, 0) + value
    return out


def load_postgres(stagings: list[dict], run_id: str) -> dict:
    """Upsert this run's staged companies, filings and facts; one transaction per dataset."""
    from ingest.pg_load import load_dataset
    from ingest.postgres import connect

    settings = Settings()
    store = open_store(settings.storage_url)
    staged = merged(stagings).get("staged", {})
    # Re-listed rather than taken from `staging`: the staged gate may have restaged files.
    keys = {d: [k for k in staged.get(d, []) if store.exists(k)] for d in PG_LOAD_ORDER}
    results = {}
    with connect(settings) as conn:
        for dataset in PG_LOAD_ORDER:
            with local_copies(store, keys[dataset]) as paths:
                result = load_dataset(conn, dataset, paths, run_id=run_id)
            results[dataset] = vars(result)
            log.info("postgres %s: %s", dataset, result)
    return results


def load_warehouse() -> list[dict]:
    from ingest.warehouse import load_raw_tables

    settings = Settings()
    return [vars(x) for x in load_raw_tables(settings, open_store(settings.storage_url))]


def summarize(run_id: str, extractions: list[dict], stagings: list[dict], gates: dict, pg_loads: dict) -> dict:
    from ingest.run_summary import NIGHTLY_DAG, build_summary, record_summary, render

    settings = Settings()
    summary = build_summary(settings, run_id, merged(extractions), merged(stagings), gates, pg_loads)
    record_summary(settings, NIGHTLY_DAG, summary)
    log.info("\n%s", render(summary))
    return summary
