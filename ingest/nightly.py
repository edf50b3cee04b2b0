"""The nightly EDGAR pipeline, one function per DAG task.

Each function takes and returns plain JSON-able values (they travel as XCom), opens what it
needs from Settings, and reads only what the stage before it wrote.
"""

from __future__ import annotations

from datetime import date

from ingest.extract import extract_edgar
from ingest.landing import Landed
from ingest.settings import Settings
from ingest.sources import open_endpoints
from ingest.stage_edgar import stage_edgar
from ingest.storage import open_store
from ingest.universe import sample_ciks, select


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


def extract(ciks: list[str], ingest_date: str, run_id: str) -> dict:
    settings = Settings()
    store = open_store(settings.storage_url)
    with open_endpoints(settings) as endpoints:
        return extract_edgar(settings, store, endpoints, ciks, date.fromisoformat(ingest_date), run_id).to_dict()


def normalize(extraction: dict, run_id: str) -> dict:
    settings = Settings()
    landed = [Landed(**x) for x in extraction["landed"]]
    return stage_edgar(open_store(settings.storage_url), landed, run_id).to_dict()


def load_warehouse() -> list[dict]:
    from ingest.warehouse import load_raw_tables

    settings = Settings()
    return [vars(x) for x in load_raw_tables(settings, open_store(settings.storage_url))]
