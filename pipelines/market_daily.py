"""The functions the tasks of ``market_daily`` call (typed payloads in and out, as in edgar_nightly).

plan_universe -> fetch_prices (per batch) -> backfill_csv (per batch) -> [quality gate]
-> load_postgres + load_warehouse -> check_gaps -> summarize; the warehouse DAG then builds
fct_market_data.

Incremental: a ticker is fetched from its last day in PostgreSQL less LOOKBACK_DAYS, and the
look-back rows are compared with the staged ones. Yahoo rewrites a ticker's whole history when
a split or dividend comes (close is split-adjusted, adj_close also dividend-adjusted), so when
they differ the ticker's full history is fetched again. A ticker with nothing stored (or whose
staged history is gone) is fetched in full.

Bad input is reported per ticker and quarantined, and the other tickers go on: a response that
is not the ticker's daily history (unknown or delisted symbol, wrong shape, no rows) is kept
under quarantine/ with its reason; rows with missing prices or one of Yahoo's known errors go
to quarantine/ as Parquet with theirs. Throttling and outages that outlast the retries are
reported as failed, and the next run fetches from the last stored day again.

The CSV backfill is the documented path for history the chart API does not give: Yahoo CSVs
(market/yahoo_csv in EDGARFLOW_SAMPLE_DIR) fill days that hold no row yet, with null dividend
and split_ratio (a CSV has no corporate actions) and prices on the CSV's own adjustment basis.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest.endpoints import open_endpoints
from ingest.postgres.connection import connect
from ingest.postgres.loader import load_dataset
from ingest.postgres.runs import SUMMARY_STAGE, record_quarantine, record_run
from ingest.sec.client import SecClient
from ingest.settings import Settings
from ingest.yahoo.extract import Fetched as History
from ingest.yahoo.extract import Window, fetch_history
from ingest.yahoo.normalize import CHART, CSV, Normalized, TickerRejected, chart_rows, csv_rows
from ingest.yahoo.session import YahooSession
from ingest.yahoo.stage import DATASET, merge_backfill, merge_fetched, read_company, revised_dates, write_company
from ingest.yahoo.universe import Listing, Universe, csv_files, listings, recorded_symbols, select
from ingest.zones.manifests import manifest_key, read_manifest, write_manifest
from ingest.zones.quarantine import quarantine_landed, quarantine_rows
from ingest.zones.raw import Landed, land
from ingest.zones.staged import read_staged, staged_key
from ingest.zones.store import ObjectStore, open_store
from pipelines.params import MARKET_BATCH_SIZE
from pipelines.payloads import Batch, Fetched, Gate, LoadCounts, Loads

log = logging.getLogger(__name__)

SOURCE = "yahoo"
DAG_ID = "market_daily"
LOOKBACK_DAYS = 7  # calendar days re-fetched before the last stored one, to catch revisions
ALL_DAYS = Window(None, date.max)


@dataclass
class TickerReport:
    """What became of one ticker in one fetch or backfill; kept in the batch's manifest."""

    symbol: str
    cik: str
    source: str  # yahoo_chart, yahoo_csv
    window: str  # Window.label()
    since: str | None
    until: str
    raw_key: str | None
    status: str | None = None  # staged, unchanged, failed, quarantined
    rows: int = 0
    rejected_rows: int = 0
    reason: str | None = None
    revised: bool = False  # Yahoo re-adjusted the history, so all of it was fetched again
    quarantine_key: str | None = None
    rejected_key: str | None = None

    @classmethod
    def of(cls, listing: Listing, source: str, window: Window, raw_key: str | None) -> TickerReport:
        since = window.start.isoformat() if window.start else None
        return cls(listing.symbol, listing.cik, source, window.label(), since, window.end.isoformat(), raw_key)

    def refetched(self, window: Window, raw_key: str | None) -> None:
        self.window, self.since, self.until = window.label(), None, window.end.isoformat()
        self.revised, self.raw_key = True, raw_key

    def failed(self, reason: str) -> None:
        self.status, self.reason = "failed", reason

    def quarantined(self, reason: str, key: str) -> None:
        self.status, self.reason, self.quarantine_key = "quarantined", reason, key

    def rejected(self, rows: int, key: str, reason: str) -> None:
        self.rejected_rows, self.rejected_key, self.reason = rows, key, reason

    def staged(self, rows: int) -> None:
        # Nothing new for a backfill: every day already has a row.
        self.status, self.rows = ("staged" if rows or self.source == CHART else "unchanged"), rows


def plan_universe(
    run_id: str, tickers: Iterable[str] | None = None, batch_size: int = MARKET_BATCH_SIZE
) -> list[Batch]:
    """Batches of listings to fetch; each manifest lists {symbol, cik, exchange, chart}, where
    ``chart`` False means only a CSV backfill applies (a sample symbol without a recorded chart
    response). Symbols SEC does not list are kept in the plan's own manifest for the summary."""
    settings = Settings()
    store = open_store(settings.storage_url)
    with open_endpoints(settings) as endpoints, SecClient(settings) as client:
        known = listings(client.get(endpoints.tickers_exchange()).body)
    recorded: set[str] | None = None
    if tickers:
        universe = select(known, tickers)
    elif settings.source_mode == "sample":
        recorded = recorded_symbols(settings.sample_dir)
        universe = select(known, recorded | set(csv_files(settings.sample_dir)))
    else:
        universe = Universe(sorted(known.values(), key=lambda x: x.symbol), [])
    if universe.unlisted:
        log.warning("not in SEC's company_tickers_exchange (no CIK), skipped: %s", ", ".join(universe.unlisted))
    write_manifest(store, _plan_key(run_id), {"unlisted": universe.unlisted})
    batches = []
    for index, batch in enumerate(universe.batches(batch_size)):
        items = [{**x, "chart": recorded is None or x["symbol"] in recorded} for x in batch]
        key = write_manifest(store, manifest_key(DAG_ID, run_id, "plan_universe", f"batch-{index:05d}"), items)
        batches.append(Batch(index=index, size=len(items), manifest=key))
    return batches


def _plan_key(run_id: str) -> str:
    return manifest_key(DAG_ID, run_id, "plan_universe", "plan")


def fetch_prices(
    batch: Batch, ingest_date: str, run_id: str, start: str | None = None, end: str | None = None
) -> Fetched:
    """Fetch, land, normalize and stage one batch; ``end`` (exclusive) defaults to the day after
    ``ingest_date``, ``start`` to incremental per ticker."""
    settings = Settings()
    store = open_store(settings.storage_url)
    day = date.fromisoformat(ingest_date)
    until = date.fromisoformat(end) if end else day + timedelta(days=1)
    since = date.fromisoformat(start) if start else None
    wanted = [_listing(x) for x in read_manifest(store, batch.manifest) if x.get("chart", True)]
    last = _last_stored(settings, [x.symbol for x in wanted])
    reports: list[TickerReport] = []
    with open_endpoints(settings) as endpoints, YahooSession(endpoints.yahoo, settings.http_timeout) as session:
        for cik, group in _by_cik(wanted):
            staged = read_company(store, cik)
            changed = False
            for listing in group:
                window = Window(since or _incremental_start(staged, listing.symbol, last.get(listing.symbol)), until)
                staged, report = _fetch_one(session, store, settings, staged, listing, window, day, run_id)
                reports.append(report)
                changed |= report.status == "staged"
            if changed:
                write_company(store, cik, staged)
    return _fetched(store, run_id, "fetch_prices", batch, CHART, reports)


def backfill_csv(batch: Batch, ingest_date: str, run_id: str, enabled: bool | None = None) -> Fetched:
    """Fill days without a row from the batch's Yahoo CSVs (market/yahoo_csv of the sample dir).
    ``enabled`` None: in sample mode only."""
    settings = Settings()
    store = open_store(settings.storage_url)
    if not (enabled if enabled is not None else settings.source_mode == "sample"):
        return _fetched(store, run_id, "backfill_csv", batch, CSV, [])
    day = date.fromisoformat(ingest_date)
    files = csv_files(settings.sample_dir)
    reports = []
    batch_listings = [_listing(x) for x in read_manifest(store, batch.manifest)]
    for cik, group in _by_cik([x for x in batch_listings if x.symbol in files]):
        staged = read_company(store, cik)
        added_any = False
        for listing in group:
            body = files[listing.symbol].read_bytes()
            if files[listing.symbol].suffix == ".gz":
                body = gzip.decompress(body)
            landed = Landed(SOURCE, "csv", cik, land(store, SOURCE, "csv", day, f"{listing.symbol}.csv", body))
            report = TickerReport.of(listing, CSV, ALL_DAYS, landed.key)
            try:
                normalized = csv_rows(listing, body)
            except TickerRejected as exc:
                _reject_ticker(store, settings, landed, listing, str(exc), run_id, report)
                reports.append(report)
                continue
            staged, added = merge_backfill(staged, normalized.rows)
            added_any |= added > 0
            _reject_rows(store, settings, normalized, listing, f"{listing.symbol}_csv", run_id, report)
            report.staged(added)
            reports.append(report)
        if added_any:
            write_company(store, cik, staged)
    return _fetched(store, run_id, "backfill_csv", batch, CSV, reports)


def _fetched(store: ObjectStore, run_id: str, task: str, batch: Batch, source: str,
             reports: list[TickerReport]) -> Fetched:  # fmt: skip
    log.info("%s: %d tickers: %s", task, len(reports), dict(Counter(r.status for r in reports)))
    key = write_manifest(store, manifest_key(DAG_ID, run_id, task, f"batch-{batch.index:05d}"),
                         [asdict(r) for r in reports])  # fmt: skip
    return Fetched(
        batch=batch.index, source=source, manifest=key, tickers=len(reports),
        outcomes=dict(Counter(str(r.status) for r in reports)),
        rows=sum(r.rows for r in reports), rejected_rows=sum(r.rejected_rows for r in reports),
    )  # fmt: skip


def ticker_reports(results: Iterable[Fetched]) -> list[TickerReport]:
    """Every ticker's report of these fetch or backfill batches."""
    store = open_store(Settings().storage_url)
    return [TickerReport(**r) for result in results for r in read_manifest(store, result.manifest)]


def touched_ciks(results: Iterable[Fetched]) -> set[str]:
    """The companies whose staged prices these fetch or backfill batches wrote or read."""
    return {r.cik for r in ticker_reports(results)}


def load_postgres(results: Iterable[Fetched], run_id: str) -> Loads:
    """Upsert the staged rows of the windows this run fetched into price_history."""
    settings = Settings()
    store = open_store(settings.storage_url)
    spans = _loads(ticker_reports(results))
    tables = []
    for cik in sorted({cik for cik, _ in spans}):
        key = staged_key(DATASET, cik)
        if not store.exists(key):
            continue
        table = read_staged(store, key)
        for (c, symbol), (start, until) in spans.items():
            if c != cik:
                continue
            mask = pc.and_(pc.equal(table["ticker"], symbol), pc.less(table["trade_date"], _day(until)))
            if start is not None:
                mask = pc.and_(mask, pc.greater_equal(table["trade_date"], _day(start)))
            tables.append(table.filter(mask))
    rows = pa.concat_tables(tables) if tables else None
    if rows is None or rows.num_rows == 0:
        return Loads(datasets={DATASET: LoadCounts()})
    with connect(settings) as conn:
        result = load_dataset(conn, DATASET, rows, run_id=run_id)
    log.info("postgres prices: %s", result)
    return Loads(datasets={DATASET: LoadCounts(inserted=result.inserted, updated=result.updated,
                                               unchanged=result.unchanged)})  # fmt: skip


def exchanges(batches: list[Batch]) -> dict[str, str | None]:
    """Symbol -> its exchange as SEC lists it, over the run's batches (for the trading calendars)."""
    store = open_store(Settings().storage_url)
    return {x["symbol"]: x["exchange"] for batch in batches for x in read_manifest(store, batch.manifest)}


def summarize(run_id: str, fetches: list[Fetched], backfills: list[Fetched], gate_results: dict[str, Gate],
              load: Loads) -> None:  # fmt: skip
    """One record of the run: per-ticker outcomes, gates, loads; kept in pipeline_runs."""
    settings = Settings()
    unlisted = read_manifest(open_store(settings.storage_url), _plan_key(run_id))["unlisted"]
    tickers = ticker_reports([*fetches, *backfills])
    problems = [t for t in tickers if t.status not in ("staged", "unchanged") or t.rejected_rows]
    summary = {
        "run_id": run_id,
        "tickers": len({t.symbol for t in tickers}),
        "outcomes": dict(Counter(f"{t.source}:{t.status}" for t in tickers)),
        "rows_staged": sum(t.rows for t in tickers),
        "rows_rejected": sum(t.rejected_rows for t in tickers),
        "unlisted": unlisted,
        "problems": [{k: getattr(t, k) for k in ("symbol", "source", "status", "reason", "rejected_rows")}
                     for t in problems],  # fmt: skip
        "gates": {name: gate.model_dump(mode="json") for name, gate in gate_results.items()},
        "postgres": load.datasets[DATASET].model_dump(),
    }
    with connect(settings) as conn:
        record_run(conn, dag_id=DAG_ID, run_id=run_id, stage=SUMMARY_STAGE, status="success", counts=summary)
    log.info("market_daily %s:\n%s", run_id, json.dumps(summary, indent=2, default=str))


# ----- internals


def _fetch_one(
    session: YahooSession, store: ObjectStore, settings: Settings, staged: pd.DataFrame,
    listing: Listing, window: Window, day: date, run_id: str,
) -> tuple[pd.DataFrame, TickerReport]:  # fmt: skip
    """Fetch one ticker and merge it into its company's staged frame; returns (frame, report)."""
    fetched, landed = _fetch_and_land(session, store, settings, listing, window, day)
    report = TickerReport.of(listing, CHART, window, landed.key if landed else None)
    try:
        normalized = _normalized(listing, fetched)
        if window.start is not None and (moved := revised_dates(staged, normalized.rows, listing.symbol)):
            log.info("%s: Yahoo revised %d stored days (first %s): fetching its whole history", listing.symbol,
                     len(moved), moved[0])  # fmt: skip
            # Up to the run's day whatever the window: the re-adjusted basis must hold for every stored row.
            window = Window(None, max(window.end, day + timedelta(days=1)))
            fetched, landed = _fetch_and_land(session, store, settings, listing, window, day)
            report.refetched(window, landed.key if landed else None)
            normalized = _normalized(listing, fetched)
    except _Failed as exc:
        report.failed(str(exc))
        return staged, report
    except TickerRejected as exc:
        if landed is None:
            report.failed(str(exc))
        else:
            _reject_ticker(store, settings, landed, listing, str(exc), run_id, report)
        return staged, report
    staged = merge_fetched(staged, normalized.rows, listing.symbol, window.start, window.end)
    _reject_rows(store, settings, normalized, listing, f"{listing.symbol}_{window.label()}", run_id, report)
    report.staged(normalized.rows.num_rows)
    return staged, report


class _Failed(Exception):
    """Nothing usable arrived (throttled, unavailable, unreachable): not the data's fault."""


def _fetch_and_land(
    session: YahooSession, store: ObjectStore, settings: Settings, listing: Listing, window: Window, day: date
) -> tuple[History, Landed | None]:
    fetched = fetch_history(session, listing.symbol, window, settings)
    landed = None
    response = fetched.response
    if response is not None and not fetched.transient and response.body:
        name = f"{listing.symbol}_{window.label()}.json"
        landed = Landed(SOURCE, "chart", listing.cik, land(store, SOURCE, "chart", day, name, response.body))
    return fetched, landed


def _normalized(listing: Listing, fetched: History) -> Normalized:
    if fetched.transient:
        raise _Failed(f"gave up after retries: {fetched.error}")
    if fetched.error is not None:
        status = fetched.response.status if fetched.response else None
        if status == 404:
            raise TickerRejected(f"unknown or delisted symbol: Yahoo answered 404 ({fetched.error})")
        if fetched.response is None:
            raise _Failed(f"no response: {fetched.error}")
        raise TickerRejected(f"wrong shape: yfinance could not read the response ({fetched.error})")
    assert fetched.frame is not None
    return chart_rows(listing, fetched.frame, fetched.metadata, fetched.window)


def _reject_ticker(
    store: ObjectStore, settings: Settings, landed: Landed, listing: Listing, reason: str, run_id: str,
    report: TickerReport,
) -> None:  # fmt: skip
    key = quarantine_landed(store, landed, reason, run_id)
    log.warning("%s quarantined: %s", listing.symbol, reason)
    with connect(settings) as conn:
        record_quarantine(
            conn, run_id=run_id, source=SOURCE, dataset=landed.dataset, cik=listing.cik, object_key=key,
            reason=reason, detail={"ticker": listing.symbol, "raw_key": landed.key},
        )  # fmt: skip
    report.quarantined(reason, key)


def _reject_rows(
    store: ObjectStore, settings: Settings, normalized: Normalized, listing: Listing, name: str, run_id: str,
    report: TickerReport,
) -> None:  # fmt: skip
    """Rejected rows -> the quarantine zone as Parquet, with reason (and yfinance's repaired
    values for Yahoo's known errors), recorded in edgar.quarantine."""
    rejected = normalized.rejected
    if rejected.num_rows == 0:
        return
    repairs = pd.DataFrame(normalized.details, columns=["trade_date", "repaired_dividend", "repaired_adj_close"])
    frame = rejected.to_pandas().assign(trade_date=lambda d: d["trade_date"].map(date.isoformat))
    frame = frame.merge(repairs, on="trade_date", how="left")
    key = quarantine_rows(store, pa.Table.from_pandas(frame, preserve_index=False), source=SOURCE, dataset=DATASET,
                          run_id=run_id, name=name)  # fmt: skip
    reasons = Counter(frame["reason"])
    log.warning("%s: %d rows quarantined: %s", listing.symbol, len(frame), dict(reasons))
    with connect(settings) as conn:
        record_quarantine(
            conn, run_id=run_id, source=SOURCE, dataset=DATASET, cik=listing.cik, object_key=key,
            reason="; ".join(sorted(reasons)),
            detail={"ticker": listing.symbol, "rows": len(frame), "reasons": dict(reasons),
                    "dates": frame["trade_date"].head(20).tolist()},
        )  # fmt: skip
    report.rejected(len(frame), key, "; ".join(sorted(reasons)))


def _loads(reports: Iterable[TickerReport]) -> dict[tuple[str, str], tuple[date | None, date]]:
    """(cik, symbol) -> the days to load, [first (None: all), until), over every window that staged it."""
    spans: dict[tuple[str, str], tuple[date | None, date]] = {}
    for t in reports:
        if t.status != "staged":
            continue
        key = (t.cik, t.symbol)
        start, until = (date.fromisoformat(t.since) if t.since else None), date.fromisoformat(t.until)
        if key in spans:
            first, last = spans[key]
            start = None if start is None or first is None else min(start, first)
            until = max(until, last)
        spans[key] = (start, until)
    return spans


def _last_stored(settings: Settings, symbols: list[str]) -> dict[str, date]:
    if not symbols:
        return {}
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT ticker, max(trade_date) FROM edgar.price_history WHERE ticker = ANY(%s) GROUP BY ticker",
            (symbols,),
        ).fetchall()
    return dict(rows)


def _incremental_start(staged: pd.DataFrame, symbol: str, last: date | None) -> date | None:
    """From the last stored day less the look-back; None (everything) when nothing is stored, or
    when the staged history the window would be merged into is not there."""
    if last is None or not (staged["ticker"] == symbol).any():
        return None
    return last - timedelta(days=LOOKBACK_DAYS)


def _day(day: date) -> pa.Scalar:
    return pa.scalar(day, pa.date32())


def _listing(item: dict) -> Listing:
    return Listing(item["symbol"], item["cik"], item.get("exchange"))


def _by_cik(items: list[Listing]) -> list[tuple[str, list[Listing]]]:
    groups: dict[str, list[Listing]] = {}
    for item in items:
        groups.setdefault(item.cik, []).append(item)
    return sorted(groups.items())
