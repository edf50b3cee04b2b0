"""The quality gates as DAG task functions: stores opened from Settings, results as Gate payloads.
Only this module of pipelines imports GX (~20 s on a 2-core machine): other tasks never pay for it.

A failing gate is recorded in edgar.dq_results, alerted to EDGARFLOW_ALERT_WEBHOOK when that is
set, and re-raised, so the task fails and nothing downstream of it runs. Monitors (freshness,
price gaps, sign flips) are gates whose failure is recorded and alerted but not raised.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping

import pyarrow as pa
import pyarrow.compute as pc

from ingest.cache.server import connect as connect_cache
from ingest.postgres.connection import connect
from ingest.settings import Settings
from ingest.warehouse.changes import BuildWindow
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import MARTS_SCHEMA, RAW_SCHEMA, RAW_TABLES
from ingest.yahoo.trading_calendar import gaps
from ingest.zones import schemas
from ingest.zones.profiles import read_profiles
from ingest.zones.staged import read_staged, staged_cik, staged_key, staged_keys
from ingest.zones.store import ObjectStore, open_store
from pipelines import edgar_nightly, market_daily
from pipelines.payloads import Batch, Fetched, Gate, Staged, SuiteOutcome
from quality import suites
from quality.alerts import AlertFailed, post_alert
from quality.checks.cache import cache_sample
from quality.checks.freshness import (
    check_completeness,
    check_freshness,
    warehouse_latest_filed,
    warehouse_periodic_filings,
)
from quality.checks.postgres_state import company_frame, table_frame, table_rows
from quality.checks.quarantine import quarantine, record_rejected_rows, restage
from quality.checks.reconcile import postgres_aggregates, reconcile, staged_aggregates, warehouse_aggregates
from quality.checks.zone_counts import counts_frame, zone_rows
from quality.gate import previous_baseline, record_result, run_gate
from quality.report import GateFailed, GateResult

log = logging.getLogger(__name__)

# Rows per part of a staged dataset validated in parts: what a staged gate holds in memory (as
# Arrow, then GX's pandas frame) is one part, whatever the run's size.
GATE_PART_ROWS = 1_000_000
# Filers per part of the filing text gate; sections are read without their text.
TEXT_PART_FILERS = 2_000
SECTION_GATE_COLUMNS = ["cik", "accession_number", "form", "filing_date", "item", "covers", "title", "char_count", "word_count"]
STAGED_SUITES = {
    "companies": suites.staged_companies,
    "filings": suites.staged_filings,
    "facts": suites.staged_facts,
}


def gate_raw(run_id: str, settings: Settings | None = None) -> Gate:
    """Gate this run's landed SEC documents by the profiles normalize wrote while parsing them
    (no document is read again). Bad ones are already quarantined with their bytes and the rest
    staged; the run stops only when the circuit breaker trips (Settings.raw_breaker_*: enough bad
    documents to be systemic). Zero documents pass."""
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    outcomes = []
    with connect(settings) as conn:
        for dataset in suites.RAW_CONTENT:  # the datasets normalize parses
            profiles = read_profiles(store, run_id, dataset)
            suite = suites.raw_documents(
                dataset, profiles.num_rows, settings.raw_breaker_fraction, settings.raw_breaker_min_bad
            )
            result = _recorded(conn, lambda: run_gate("raw", suite, profiles, store=store, run_id=run_id))
            bad = pc.sum(pc.invert(profiles["parsed"])).as_py() or 0
            outcomes.append(SuiteOutcome(suite=suite.name, rows=result.row_count, bad=bad, result=result.result_uri))
    return Gate(suites=tuple(outcomes))


def gate_staged(run_id: str, stagings: list[Staged], settings: Settings | None = None) -> Gate:
    """Gate the staged files this run wrote, each dataset in parts of about GATE_PART_ROWS rows
    (whole companies: every key check is within a company), quarantining tolerated bad rows out of
    staged/; the filing text it staged (_gate_texts, strict); then the whole zone's row counts
    against the last passing run (staged_counts; zone_rows: this run's files and the warehouse's
    rows of every other company).

    Facts are not checked against staged companies: a filer with facts but no submissions is
    expected (PostgreSQL gets a stub company for it), so that integrity is the warehouse gate's.
    """
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    written = edgar_nightly.staged_keys(stagings, store)
    outcomes = []
    with connect(settings) as conn:
        for dataset, make_suite in STAGED_SUITES.items():
            suite, rows, quarantined = make_suite(), 0, 0
            for part, table in enumerate(_parts(store, written.get(dataset, []))):
                result = _recorded(conn, lambda: run_gate("staged", suite, table, store=store, run_id=run_id, part=part))
                moved = _quarantined(conn, store, result, table, "sec", dataset, run_id, part)
                rows, quarantined = rows + moved.rows, quarantined + moved.quarantined
                # GX's validation objects hold the part's frame in reference cycles, freed only when
                # the cyclic collector runs, which big allocations rarely trigger: without this the
                # task grew by ~450 MB a part (9.9 GiB over the 10% scale universe's ~40 parts).
                gc.collect()
            if rows:
                folder = store.uri(f"quality/staged/run_id={run_id}/{suite.name}/")
                outcomes.append(SuiteOutcome(suite=suite.name, rows=rows, quarantined=quarantined, result=folder))
        outcomes += _gate_texts(conn, store, written.get("filing_texts", []), run_id)
        warehouse = WarehouseReader(settings)
        counts = {d: zone_rows(store, d, warehouse, written.get(d, [])) for d in STAGED_SUITES}
        previous = (previous_baseline(store, "staged", "staged_counts") or {}).get("datasets", {})
        frame = counts_frame(counts, previous)
        counted = _recorded(
            conn,
            lambda: run_gate("staged", suites.staged_counts(), frame, store=store, run_id=run_id, baseline={"datasets": counts}),
        )
    return Gate(suites=(*outcomes, _outcome(counted)))


def _parts(store: ObjectStore, keys: list[str]) -> Iterator[pa.Table]:
    """The staged files at ``keys`` (those still there: a re-run may have restaged them away),
    concatenated into tables of at least GATE_PART_ROWS rows, the last one smaller."""
    part: list[pa.Table] = []
    rows = 0
    for key in keys:
        if store.exists(key):
            part.append(read_staged(store, key))
            rows += part[-1].num_rows
            if rows >= GATE_PART_ROWS:
                yield pa.concat_tables(part)
                part, rows = [], 0
    if part:
        yield pa.concat_tables(part)


def _gate_texts(conn, store: ObjectStore, keys: list[str], run_id: str) -> list[SuiteOutcome]:
    """Gate the filing text this run staged, in parts of TEXT_PART_FILERS filers: the sections
    without their text (sizes and keys are what is checked), and each document's filing_texts
    row with the sizes of its items 1A and 7 summed from those sections."""
    keys = [k for k in keys if store.exists(k)]
    checks = {"sections": suites.staged_sections(), "filing_texts": suites.staged_filing_texts()}
    rows = dict.fromkeys(checks, 0)
    for part, start in enumerate(range(0, len(keys), TEXT_PART_FILERS)):
        ciks = [staged_cik(k) for k in keys[start : start + TEXT_PART_FILERS]]
        sections = pa.concat_tables(
            [read_staged(store, staged_key("sections", cik), SECTION_GATE_COLUMNS) for cik in ciks
             if store.exists(staged_key("sections", cik))]  # fmt: skip
            or [schemas.SECTIONS.empty_table().select(SECTION_GATE_COLUMNS)]
        )
        texts = _with_required_sizes(pa.concat_tables([read_staged(store, staged_key("filing_texts", c)) for c in ciks]), sections)
        for dataset, table in (("sections", sections), ("filing_texts", texts)):
            suite = checks[dataset]
            result = _recorded(conn, lambda: run_gate("staged", suite, table, store=store, run_id=run_id, part=part))
            rows[dataset] += result.row_count
    return [
        SuiteOutcome(suite=suite.name, rows=rows[d], result=store.uri(f"quality/staged/run_id={run_id}/{suite.name}/"))
        for d, suite in checks.items()
        if rows[d]
    ]


def _with_required_sizes(texts: pa.Table, sections: pa.Table) -> pa.Table:
    """``texts`` with risk_factors_chars and mda_chars: characters of the sections covering
    items 1A and 7 of each filing (null where it has none)."""
    covered = sections.select(["accession_number", "covers", "char_count"]).to_pylist()
    sizes: dict[tuple[str, str], int] = {}
    for row in covered:
        for item in row["covers"]:
            sizes[(row["accession_number"], item)] = sizes.get((row["accession_number"], item), 0) + row["char_count"]
    accessions = texts["accession_number"].to_pylist()
    for column, item in (("risk_factors_chars", "1A"), ("mda_chars", "7")):
        texts = texts.append_column(column, pa.array([sizes.get((a, item)) for a in accessions], pa.int64()))
    return texts


def gate_postgres(run_id: str, ciks: Iterable[str], settings: Settings | None = None) -> Gate:
    """Gate what the loader wrote to PostgreSQL: the run's companies (``ciks``: those it loaded)
    for the integrity the schema does not declare, and every table's row count against the last
    passing run. Reduced in SQL: no fact is fetched."""
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    previous = (previous_baseline(store, "postgres", "postgres_tables") or {}).get("tables", {})
    with connect(settings) as conn:
        # Read in a transaction of its own, so the results recorded next commit even when a gate fails.
        with conn.transaction():
            companies = company_frame(conn, ciks)
            rows = table_rows(conn)
        checked = _recorded(
            conn, lambda: run_gate("postgres", suites.postgres_companies(), companies, store=store, run_id=run_id)
        )
        tables = table_frame(rows, previous)
        counted = _recorded(
            conn,
            lambda: run_gate(
                "postgres", suites.postgres_tables(), tables, store=store, run_id=run_id, baseline={"tables": rows}
            ),
        )
    return Gate(suites=(_outcome(checked), _outcome(counted)))


def reconcile_facts(run_id: str, ciks: Iterable[str] | None = None, settings: Settings | None = None) -> Gate:
    """Gate: per company (of ``ciks``, this run's; default every company), staged facts,
    edgar.financial_facts and the warehouse's raw facts agree. Staged facts are aggregated file
    by file: one company's facts in memory at a time."""
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    ciks = None if ciks is None else sorted(set(ciks))
    per_file = [staged_aggregates(read_staged(store, k)) for k in staged_keys(store, "facts", ciks)]
    staged = pa.concat_tables(per_file) if per_file else staged_aggregates(schemas.FACTS.empty_table())
    warehouse = warehouse_aggregates(WarehouseReader(settings), ciks=ciks)
    with connect(settings) as conn:
        with conn.transaction():  # committed before the result is recorded, which must survive a failure
            postgres = postgres_aggregates(conn, ciks=ciks)
        result = _recorded(conn, lambda: reconcile("facts", staged, postgres, warehouse, store=store, run_id=run_id))
    return Gate(suites=(_outcome(result),))


def gate_warehouse(run_id: str, window: dict[str, str] | None = None, settings: Settings | None = None) -> Gate:
    """Gate the mart fct_financial_statements, in parts of whole companies (each checked against
    dim_company): every check is within a company, so no part needs another. ``window``: the
    build's (Built.window); only the companies it rebuilt are checked, the others' rows being as
    the build that gated them left them. None or empty: every company."""
    settings = settings or Settings()
    warehouse = WarehouseReader(settings)
    suite = suites.financial_statements(company_ciks=_ciks(warehouse, MARTS_SCHEMA, "dim_company"))
    rebuilt = BuildWindow.from_dbt_vars(window or {})
    return Gate(suites=(_mart_in_parts(settings, warehouse, "fct_financial_statements", suite, run_id, rebuilt),))


def gate_cache(run_id: str, settings: Settings | None = None) -> Gate:
    """Gate: a sample of the cache's documents equals what PostgreSQL's serving views give (strict)."""
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    client = connect_cache(settings)
    try:
        with connect(settings) as conn:
            with conn.transaction():  # the sample's reads end before the result is recorded
                sample = cache_sample(client, conn)
            result = _recorded(conn, lambda: run_gate("cache", suites.cache_entries(), sample, store=store, run_id=run_id))
    finally:
        client.close()
    return Gate(suites=(_outcome(result),))


def gate_market_data(run_id: str, settings: Settings | None = None) -> Gate:
    """Gate the mart fct_market_data (strict), in parts of whole companies."""
    settings = settings or Settings()
    return Gate(suites=(_mart_in_parts(settings, WarehouseReader(settings), "fct_market_data", suites.market_data(), run_id),))


def check_sign_flips(run_id: str, settings: Settings | None = None) -> Gate:
    """Monitor: facts a later filing reported with the opposite sign (mart audit_fact_sign_flips),
    a warning naming both accessions. The marts keep payments non-negative, so nothing is held back."""
    settings = settings or Settings()
    warehouse = WarehouseReader(settings)
    frame = warehouse.frame(select_sql(warehouse, MARTS_SCHEMA, "audit_fact_sign_flips"))
    store = open_store(settings.storage_url)
    return _monitor(
        settings, [lambda: run_gate("monitor", suites.sign_flips(), frame, store=store, run_id=run_id)], "sign flips"
    )


def gate_freshness(run_id: str, expected_ciks: Iterable[str], settings: Settings | None = None) -> Gate:
    """Monitor: every expected company landed in the warehouse, and none lags its filings index.
    A filer that lags or never landed is recorded and alerted, and the rest is published."""
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    warehouse = WarehouseReader(settings)
    latest = warehouse_latest_filed(warehouse)
    landed = _ciks(warehouse, RAW_SCHEMA, "edgar_facts")
    filings = warehouse_periodic_filings(warehouse)  # each company's newest, reduced in the warehouse
    checks = [lambda: check_completeness(expected_ciks, landed, store=store, run_id=run_id)]
    if filings.num_rows:
        checks.append(lambda: check_freshness(latest, filings, store=store, run_id=run_id))
    return _monitor(settings, checks, "freshness/completeness")


def check_universe_freshness(run_id: str) -> Gate:
    """Freshness and completeness of the whole universe (warehouse_build), monitored rather than gating."""
    return gate_freshness(run_id, edgar_nightly.plan_universe())


def gate_market_staged(results: Iterable[Fetched], run_id: str) -> Gate:
    """market_daily's staged gate: the staged prices of every company the run fetched or backfilled."""
    return gate_staged_prices(run_id, market_daily.touched_ciks(results))


def check_price_gaps(batches: list[Batch], run_id: str) -> Gate:
    """market_daily's monitor: sessions of each ticker's exchange without a row."""
    return gate_price_gaps(run_id, market_daily.exchanges(batches))


def gate_staged_prices(run_id: str, ciks: Iterable[str], settings: Settings | None = None) -> Gate:
    """Gate the staged prices of the companies a market run touched (their whole staged history,
    as staged/prices holds it); quarantine tolerated bad rows and drop them from staged/."""
    settings = settings or Settings()
    store = open_store(settings.storage_url)
    keys = [k for k in (staged_key("prices", cik) for cik in sorted(set(ciks))) if store.exists(k)]
    if not keys:
        return Gate()
    table = pa.concat_tables([read_staged(store, k) for k in keys])
    with connect(settings) as conn:
        suite = suites.staged_prices()
        result = _recorded(conn, lambda: run_gate("staged", suite, table, store=store, run_id=run_id))
        outcome = _quarantined(conn, store, result, table, "yahoo", "prices", run_id)
    return Gate(suites=(outcome,))


def gate_price_gaps(run_id: str, exchanges: Mapping[str, str | None], settings: Settings | None = None) -> Gate:
    """Monitor: the days of each ticker in the warehouse's raw prices (what the next build turns
    into fct_market_data) against its exchange's trading calendar."""
    settings = settings or Settings()
    warehouse = WarehouseReader(settings)
    days = warehouse.frame(price_days_sql(warehouse), [sorted(exchanges)])
    frame = gaps(days, dict(exchanges))
    store = open_store(settings.storage_url)
    return _monitor(
        settings, [lambda: run_gate("monitor", suites.price_gaps(), frame, store=store, run_id=run_id)], "price gaps"
    )


def _mart_in_parts(settings: Settings, warehouse: WarehouseReader, mart: str, suite: suites.Suite,
                   run_id: str, window: BuildWindow | None = None) -> SuiteOutcome:  # fmt: skip
    """Validate ``mart`` (the companies of ``window``, default every one) in parts of about
    GATE_PART_ROWS rows of whole companies, each part read from the warehouse only when it is
    validated: what the gate holds is one part, whatever the mart's size. An empty mart is
    validated once, empty."""
    store = open_store(settings.storage_url)
    rows = 0
    with connect(settings) as conn:
        for part, ciks in enumerate(company_parts(warehouse, mart, window)):
            # The part is read inside the gate, so it is garbage once the gate returns.
            sql = part_sql(warehouse, mart)
            result = _recorded(
                conn,
                lambda: run_gate("warehouse", suite, warehouse.frame(sql, [ciks]), store=store, run_id=run_id, part=part),
            )
            rows += result.row_count
            gc.collect()  # see gate_staged: GX's reference cycles hold each part's frame
    return SuiteOutcome(suite=suite.name, rows=rows, result=store.uri(f"quality/warehouse/run_id={run_id}/{suite.name}/"))


def company_parts(warehouse: WarehouseReader, mart: str, window: BuildWindow | None = None) -> Iterator[list[str]]:
    """The mart's companies (cik, '' for rows without one, which part_sql matches), those of
    ``window`` when given, in groups of about GATE_PART_ROWS rows, in cik order; one empty group
    for an empty mart."""
    filers, params = window.filers_sql(warehouse) if window and not window.every_filer else (None, [])
    counts = warehouse.query(company_rows_sql(warehouse, mart, filers), params)
    group: list[str] = []
    rows = 0
    for cik, n in zip(counts["cik"].to_pylist(), counts["n"].to_pylist(), strict=True):
        group.append(cik)
        rows += n
        if rows >= GATE_PART_ROWS:
            yield group
            group, rows = [], 0
    if group or not counts.num_rows:
        yield group


def company_rows_sql(warehouse: WarehouseReader, mart: str, companies: str | None = None) -> str:
    """(cik, n): the mart's rows per company, '' for rows without a cik; given ``companies``,
    a query of ciks, only theirs."""
    where = f" WHERE cik IN ({companies})" if companies else ""
    return f"SELECT COALESCE(cik, '') AS cik, COUNT(*) AS n FROM {warehouse.table(MARTS_SCHEMA, mart)}{where} GROUP BY 1 ORDER BY 1"


def part_sql(warehouse: WarehouseReader, mart: str) -> str:
    """The mart's rows of the companies given as the one parameter, a list ('' for no cik)."""
    return f"SELECT * FROM {warehouse.table(MARTS_SCHEMA, mart)} WHERE COALESCE(cik, '') IN (SELECT * FROM UNNEST(?))"


def price_days_sql(warehouse: WarehouseReader) -> str:
    """(ticker, trade_date) from the raw prices, of the tickers given as the one parameter, a list."""
    table = warehouse.table(RAW_SCHEMA, RAW_TABLES["prices"][0])
    return f"SELECT ticker, trade_date FROM {table} WHERE ticker IN (SELECT * FROM UNNEST(?))"


def select_sql(warehouse: WarehouseReader, schema: str, table: str, columns: str = "*") -> str:
    return f"SELECT {columns} FROM {warehouse.table(schema, table)}"


def _ciks(warehouse: WarehouseReader, schema: str, table: str) -> list[str]:
    return warehouse.query(select_sql(warehouse, schema, table, "DISTINCT cik"))["cik"].to_pylist()


def _outcome(result: GateResult) -> SuiteOutcome:
    return SuiteOutcome(suite=result.suite, rows=result.row_count, result=result.result_uri)


def _quarantined(conn, store: ObjectStore, result: GateResult, table: pa.Table, source: str, dataset: str,
                 run_id: str, part: int | None = None) -> SuiteOutcome:  # fmt: skip
    """Move the rows a passing gate tolerated to quarantine, out of staged/, and record them."""
    name = result.suite if part is None else f"{result.suite}-part-{part:05d}"
    moved = quarantine(store, result, table, source=source, dataset=dataset, name=name)
    restage(store, dataset, moved)
    record_rejected_rows(conn, run_id, source, dataset, moved)
    return SuiteOutcome(suite=result.suite, rows=result.row_count, quarantined=len(moved.bad), result=result.result_uri)


def _monitor(settings: Settings, checks: list[Callable[[], GateResult]], what: str) -> Gate:
    """Run monitoring checks: recorded and alerted like gates; a failure is reported, not raised."""
    outcomes = []
    with connect(settings) as conn:
        try:
            for check in checks:
                outcomes.append(_outcome(_recorded(conn, check)))
        except GateFailed as exc:
            log.warning("%s:\n%s", what, exc)
            outcomes.append(_outcome(exc.result))
            return Gate(success=False, blocking=False, suites=tuple(outcomes), failing=tuple(str(exc).splitlines()[:20]))
    return Gate(suites=tuple(outcomes))


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
