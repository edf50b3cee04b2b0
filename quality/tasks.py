"""The quality gates as DAG tasks: JSON-able arguments and results, stores opened from Settings.

A failing gate is recorded in edgar.dq_results, alerted to EDGARFLOW_ALERT_WEBHOOK when that is
set, and re-raised, so the task fails and nothing downstream of it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

import duckdb
import pyarrow as pa

from ingest import schemas
from ingest.postgres import connect
from ingest.settings import Settings
from ingest.staging import read_staged, staged_key
from ingest.storage import ObjectStore, open_store
from ingest.warehouse import RAW_SCHEMA, RAW_TABLES, staged_keys
from quality import suites
from quality.alerts import AlertFailed, post_alert
from quality.freshness import check_completeness, check_freshness, warehouse_latest_filed
from quality.gate import GateFailed, GateResult, previous_row_count, record_result, run_gate
from quality.quarantine import quarantine, record_quarantine, restage
from quality.reconcile import duckdb_aggregates, postgres_aggregates, reconcile, staged_aggregates

log = logging.getLogger(__name__)

MARTS = "marts"  # the DuckDB schema dbt builds the marts in
STAGED_SUITES = {
    "companies": suites.staged_companies,
    "filings": suites.staged_filings,
    "facts": suites.staged_facts,
}


def gate_staged(run_id: str, settings: Settings | None = None) -> dict:
    """Gate every staged dataset; quarantine tolerated bad rows and drop them from staged/.

    Facts are not checked against staged companies: a filer with facts but no submissions is
    expected (PostgreSQL gets a stub company for it), so that integrity is the warehouse gate's.
    """
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    summary = {}
    with connect(settings) as conn:
        for dataset, make_suite in STAGED_SUITES.items():
            table = _staged(store, dataset)
            if table is None:
                continue
            suite = make_suite()
            baseline = previous_row_count(store, "staged", suite.name)
            result = _recorded(
                conn, lambda: run_gate("staged", suite, table, store=store, run_id=run_id, previous_row_count=baseline)
            )
            moved = quarantine(store, result, table, source="sec", dataset=dataset)
            restage(store, dataset, moved)
            record_quarantine(conn, run_id, "sec", dataset, moved)
            summary[dataset] = {"rows": result.row_count, "quarantined": len(moved.bad), "result": result.result_uri}
    return summary


def gate_warehouse(run_id: str, settings: Settings | None = None) -> dict:
    """Gate the DuckDB mart fct_financial_statements (companies checked against dim_company)."""
    settings = _duckdb_settings(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        frame = con.sql(f"SELECT * FROM {MARTS}.fct_financial_statements").df()
        companies = [cik for (cik,) in con.sql(f"SELECT DISTINCT cik FROM {MARTS}.dim_company").fetchall()]
    store = open_store(settings.storage_url)
    with connect(settings) as conn:
        suite = suites.financial_statements(company_ciks=companies)
        result = _recorded(conn, lambda: run_gate("warehouse", suite, frame, store=store, run_id=run_id))
    return {"rows": result.row_count, "result": result.result_uri}


def reconcile_facts(run_id: str, settings: Settings | None = None) -> dict:
    """Gate: per company, staged facts, edgar.financial_facts and raw.edgar_facts agree."""
    settings = _duckdb_settings(settings)
    store = open_store(settings.storage_url)
    facts = _staged(store, "facts")
    staged = staged_aggregates(facts if facts is not None else schemas.FACTS.empty_table())
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        warehouse = duckdb_aggregates(con, f"{RAW_SCHEMA}.edgar_facts")
    with connect(settings) as conn:
        postgres = postgres_aggregates(conn)
        result = _recorded(conn, lambda: reconcile("facts", staged, postgres, warehouse, store=store, run_id=run_id))
    return {"companies": result.row_count, "result": result.result_uri}


def gate_freshness(run_id: str, expected_ciks: Iterable[str], settings: Settings | None = None) -> dict:
    """Gates: every expected company landed in the warehouse, and none lags its filings index."""
    settings = _duckdb_settings(settings)
    store = open_store(settings.storage_url)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        latest = warehouse_latest_filed(con, f"{MARTS}.fct_financial_statements")
        landed = [cik for (cik,) in con.sql(f"SELECT DISTINCT cik FROM {RAW_SCHEMA}.edgar_facts").fetchall()]
    filings = _staged(store, "filings")
    summary = {}
    with connect(settings) as conn:
        complete = _recorded(conn, lambda: check_completeness(expected_ciks, landed, store=store, run_id=run_id))
        summary["completeness"] = complete.result_uri
        if filings is not None:
            fresh = _recorded(conn, lambda: check_freshness(latest, filings, store=store, run_id=run_id))
            summary["freshness"] = fresh.result_uri
    return summary


def _recorded(conn, gate: Callable[[], GateResult]) -> GateResult:
    """Run ``gate``, record its outcome in edgar.dq_results, alert and re-raise when it fails."""
    try:
        result = gate()
    except GateFailed as failed:
        record_result(conn, failed.result)
        _alert(failed.result)
        raise
    record_result(conn, result)
    return result


def _alert(result: GateResult) -> None:
    webhook = Settings().alert_webhook
    if webhook is None:
        return
    try:
        post_alert(webhook.get_secret_value(), result.run_id, result.stage, result.failing)
    except AlertFailed as exc:
        # The gate's own failure is what the task must report; a lost alert is only logged.
        log.error("could not alert on the failed %s gate: %s", result.stage, exc)


def _staged(store: ObjectStore, dataset: str) -> pa.Table | None:
    keys = staged_keys(store, dataset)
    return pa.concat_tables([read_staged(store, k) for k in keys]) if keys else None


def _duckdb_settings(settings: Settings | None) -> Settings:
    settings = settings or Settings()
    if settings.warehouse != "duckdb":
        raise NotImplementedError("the warehouse gates read DuckDB; reading BigQuery marts is not wired yet")
    return settings


def gate_staged_prices(run_id: str, ciks: Iterable[str], settings: Settings | None = None) -> dict:
    """Gate the staged prices of the companies a market run touched (their whole staged history,
    as staged/prices holds it); quarantine tolerated bad rows and drop them from staged/."""
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    keys = [k for k in (staged_key("prices", cik) for cik in sorted(set(ciks))) if store.exists(k)]
    if not keys:
        return {"rows": 0, "quarantined": 0}
    table = pa.concat_tables([read_staged(store, k) for k in keys])
    with connect(settings) as conn:
        suite = suites.staged_prices()
        result = _recorded(conn, lambda: run_gate("staged", suite, table, store=store, run_id=run_id))
        moved = quarantine(store, result, table, source="yahoo", dataset="prices")
        restage(store, "prices", moved)
        record_quarantine(conn, run_id, "yahoo", "prices", moved)
    return {"rows": result.row_count, "quarantined": len(moved.bad), "result": result.result_uri}


def gate_market_data(run_id: str, settings: Settings | None = None) -> dict:
    """Gate the DuckDB mart fct_market_data (strict)."""
    settings = _duckdb_settings(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        frame = con.sql(f"SELECT * FROM {MARTS}.fct_market_data").df()
    store = open_store(settings.storage_url)
    with connect(settings) as conn:
        result = _recorded(conn, lambda: run_gate("warehouse", suites.market_data(), frame, store=store, run_id=run_id))
    return {"rows": result.row_count, "result": result.result_uri}


def gate_price_gaps(run_id: str, exchanges: Mapping[str, str | None], settings: Settings | None = None) -> dict:
    """Gate (monitored): the days of each ticker in the warehouse's raw prices (what the next
    build turns into fct_market_data) against its exchange's trading calendar."""
    from ingest.market_calendar import gaps

    settings = _duckdb_settings(settings)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        days = con.execute(
            f"SELECT ticker, trade_date FROM {RAW_SCHEMA}.{RAW_TABLES['prices'][0]} WHERE ticker IN (SELECT unnest(?))",
            [sorted(exchanges)],
        ).df()
    frame = gaps(days, dict(exchanges))
    store = open_store(settings.storage_url)
    with connect(settings) as conn:
        result = _recorded(conn, lambda: run_gate("monitor", suites.price_gaps(), frame, store=store, run_id=run_id))
    return {"tickers": result.row_count, "result": result.result_uri}
