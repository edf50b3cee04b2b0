"""The market_daily pipeline, one function per DAG task (JSON-able in and out, as in ingest.nightly).

plan_universe -> fetch_prices (per batch) -> backfill_csv (per batch) -> [quality gate]
-> load_postgres + load_warehouse -> check_gaps -> summarize; the warehouse DAG then builds
fct_market_data (ingest/warehouse_build.py).

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
import io
import json
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.landing import Landed, land, quarantine_landed
from ingest.market_extract import Fetched, Window, YahooSession, fetch_history
from ingest.market_normalize import Normalized, TickerRejected, chart_rows, csv_rows
from ingest.market_stage import DATASET, merge_backfill, merge_fetched, read_company, revised_dates, write_company
from ingest.market_universe import Listing, Universe, csv_files, listings, recorded_symbols, select
from ingest.settings import Settings
from ingest.sources import open_endpoints
from ingest.staging import read_staged, staged_key
from ingest.storage import ObjectStore, open_store

log = logging.getLogger(__name__)

SOURCE = "yahoo"
DAG_ID = "market_daily"
LOOKBACK_DAYS = 7  # calendar days re-fetched before the last stored one, to catch revisions
BATCH_SIZE = 100  # tickers per fetch task
ALL_DAYS = Window(None, date.max)


def plan_universe(tickers: Iterable[str] | None = None, batch_size: int = BATCH_SIZE) -> dict:
    """Batches of listings to fetch ({symbol, cik, exchange, chart}); ``chart`` False means only
    a CSV backfill applies (a sample symbol without a recorded chart response)."""
    from ingest.http_client import SecClient

    settings = Settings()
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
    batches = [
        [{**x, "chart": recorded is None or x["symbol"] in recorded} for x in batch]
        for batch in universe.batches(batch_size)
    ]
    return {"batches": batches, "unlisted": universe.unlisted}


def fetch_prices(
    batch: list[dict], ingest_date: str, run_id: str, start: str | None = None, end: str | None = None
) -> dict:
    """Fetch, land, normalize and stage one batch; ``end`` (exclusive) defaults to the day after
    ``ingest_date``, ``start`` to incremental per ticker."""
    settings = Settings()
    store = open_store(settings.storage_url)
    day = date.fromisoformat(ingest_date)
    until = date.fromisoformat(end) if end else day + timedelta(days=1)
    since = date.fromisoformat(start) if start else None
    wanted = [_listing(x) for x in batch if x.get("chart", True)]
    last = _last_stored(settings, [x.symbol for x in wanted])
    reports: list[dict] = []
    with open_endpoints(settings) as endpoints, YahooSession(endpoints.yahoo, settings.http_timeout) as session:
        for cik, group in _by_cik(wanted):
            staged = read_company(store, cik)
            changed = False
            for listing in group:
                window = Window(since or _incremental_start(staged, listing.symbol, last.get(listing.symbol)), until)
                staged, report = _fetch_one(session, store, settings, staged, listing, window, day, run_id)
                reports.append(report)
                changed |= report["status"] == "staged"
            if changed:
                write_company(store, cik, staged)
    _log_outcomes("fetch", reports)
    return {"tickers": reports}


def backfill_csv(batch: list[dict], ingest_date: str, run_id: str, enabled: bool | None = None) -> dict:
    """Fill days without a row from the batch's Yahoo CSVs (market/yahoo_csv of the sample dir).
    ``enabled`` None: in sample mode only."""
    settings = Settings()
    if not (enabled if enabled is not None else settings.source_mode == "sample"):
        return {"tickers": []}
    store = open_store(settings.storage_url)
    day = date.fromisoformat(ingest_date)
    files = csv_files(settings.sample_dir)
    reports = []
    for cik, group in _by_cik([x for x in map(_listing, batch) if x.symbol in files]):
        staged = read_company(store, cik)
        added_any = False
        for listing in group:
            body = files[listing.symbol].read_bytes()
            if files[listing.symbol].suffix == ".gz":
                body = gzip.decompress(body)
            landed = Landed(SOURCE, "csv", cik, land(store, SOURCE, "csv", day, f"{listing.symbol}.csv", body))
            report = _report(listing, "yahoo_csv", ALL_DAYS, landed.key)
            try:
                normalized = csv_rows(listing, body)
            except TickerRejected as exc:
                _reject_ticker(store, settings, landed, listing, str(exc), run_id, report)
                reports.append(report)
                continue
            staged, added = merge_backfill(staged, normalized.rows)
            added_any |= added > 0
            _reject_rows(store, settings, normalized, listing, day, f"{listing.symbol}_csv", run_id, report)
            # Nothing new: every day already has a row (from the chart API or an earlier backfill).
            report.update(status="staged" if added else "unchanged", rows=added)
            reports.append(report)
        if added_any:
            write_company(store, cik, staged)
    _log_outcomes("csv backfill", reports)
    return {"tickers": reports}


def load_postgres(manifests: Iterable[dict], run_id: str) -> dict:
    """Upsert the staged rows of the windows this run fetched into price_history."""
    from ingest.pg_load import load_dataset
    from ingest.postgres import connect

    settings = Settings()
    store = open_store(settings.storage_url)
    spans = _loads(manifests)
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
        return {"inserted": 0, "updated": 0, "unchanged": 0}
    with connect(settings) as conn:
        result = load_dataset(conn, DATASET, rows, run_id=run_id)
    log.info("postgres prices: %s", result)
    return vars(result)


def load_warehouse() -> list[dict]:
    from ingest.warehouse import load_raw_tables

    settings = Settings()
    return [vars(x) for x in load_raw_tables(settings, open_store(settings.storage_url))]


def check_gaps(batches: list[list[dict]], run_id: str) -> dict:
    """Sessions of each ticker's exchange without a row, reported (monitored, not gating)."""
    from quality.gate import GateFailed
    from quality.tasks import gate_price_gaps

    exchanges = {x["symbol"]: x["exchange"] for batch in batches for x in batch}
    try:
        return {"success": True, **gate_price_gaps(run_id, exchanges)}
    except GateFailed as exc:
        log.warning("gaps against the trading calendar:\n%s", exc)
        return {"success": False, "failing": str(exc).splitlines()[:20]}


def summarize(
    run_id: str, unlisted: list[str], fetches: Iterable[dict], backfills: Iterable[dict], results: dict
) -> dict:
    """One record of the run: per-ticker outcomes, gates, loads; kept in pipeline_runs."""
    from ingest.pg_load import record_run
    from ingest.postgres import connect

    tickers = [t for m in [*fetches, *backfills] for t in m["tickers"]]
    problems = [t for t in tickers if t["status"] not in ("staged", "unchanged") or t["rejected_rows"]]
    summary = {
        "tickers": len({t["symbol"] for t in tickers}),
        "outcomes": dict(Counter(f"{t['source']}:{t['status']}" for t in tickers)),
        "rows_staged": sum(t["rows"] for t in tickers),
        "rows_rejected": sum(t["rejected_rows"] for t in tickers),
        "unlisted": unlisted,
        "problems": [{k: t[k] for k in ("symbol", "source", "status", "reason", "rejected_rows")} for t in problems],
        **results,
    }
    with connect(Settings()) as conn:
        record_run(conn, dag_id=DAG_ID, run_id=run_id, stage="summary", status="success", counts=summary)
    log.info("market_daily %s:\n%s", run_id, json.dumps(summary, indent=2, default=str))
    return summary


# ----- internals


def _fetch_one(
    session: YahooSession, store: ObjectStore, settings: Settings, staged: pd.DataFrame,
    listing: Listing, window: Window, day: date, run_id: str,
) -> tuple[pd.DataFrame, dict]:  # fmt: skip
    """Fetch one ticker and merge it into its company's staged frame; returns (frame, report)."""
    fetched, landed = _fetch_and_land(session, store, settings, listing, window, day)
    report = _report(listing, "yahoo_chart", window, landed.key if landed else None)
    try:
        normalized = _normalized(listing, fetched)
        if window.start is not None and (moved := revised_dates(staged, normalized.rows, listing.symbol)):
            log.info("%s: Yahoo revised %d stored days (first %s): fetching its whole history", listing.symbol,
                     len(moved), moved[0])  # fmt: skip
            # Up to the run's day whatever the window: the re-adjusted basis must hold for every stored row.
            window = Window(None, max(window.end, day + timedelta(days=1)))
            fetched, landed = _fetch_and_land(session, store, settings, listing, window, day)
            report.update(
                window=window.label(), since=None, until=window.end.isoformat(), revised=True,
                raw_key=landed.key if landed else None,
            )  # fmt: skip
            normalized = _normalized(listing, fetched)
    except _Failed as exc:
        report.update(status="failed", reason=str(exc))
        return staged, report
    except TickerRejected as exc:
        if landed is None:
            report.update(status="failed", reason=str(exc))
        else:
            _reject_ticker(store, settings, landed, listing, str(exc), run_id, report)
        return staged, report
    staged = merge_fetched(staged, normalized.rows, listing.symbol, window.start, window.end)
    _reject_rows(store, settings, normalized, listing, day, f"{listing.symbol}_{window.label()}", run_id, report)
    report.update(status="staged", rows=normalized.rows.num_rows)
    return staged, report


class _Failed(Exception):
    """Nothing usable arrived (throttled, unavailable, unreachable): not the data's fault."""


def _fetch_and_land(
    session: YahooSession, store: ObjectStore, settings: Settings, listing: Listing, window: Window, day: date
) -> tuple[Fetched, Landed | None]:
    fetched = fetch_history(session, listing.symbol, window, settings)
    landed = None
    response = fetched.response
    if response is not None and not fetched.transient and response.body:
        name = f"{listing.symbol}_{window.label()}.json"
        landed = Landed(SOURCE, "chart", listing.cik, land(store, SOURCE, "chart", day, name, response.body))
    return fetched, landed


def _normalized(listing: Listing, fetched: Fetched) -> Normalized:
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
    store: ObjectStore, settings: Settings, landed: Landed, listing: Listing, reason: str, run_id: str, report: dict
) -> None:
    from ingest.pg_load import record_quarantine
    from ingest.postgres import connect

    key = quarantine_landed(store, landed, reason, run_id)
    log.warning("%s quarantined: %s", listing.symbol, reason)
    with connect(settings) as conn:
        record_quarantine(
            conn, run_id=run_id, source=SOURCE, dataset=landed.dataset, cik=listing.cik, object_key=key,
            reason=reason, detail={"ticker": listing.symbol, "raw_key": landed.key},
        )  # fmt: skip
    report.update(status="quarantined", reason=reason, quarantine_key=key)


def _reject_rows(
    store: ObjectStore, settings: Settings, normalized: Normalized, listing: Listing, day: date, name: str,
    run_id: str, report: dict,
) -> None:  # fmt: skip
    """Rejected rows -> quarantine/yahoo/prices/ingest_date=D/<name>.parquet, with reason (and
    yfinance's repaired values for Yahoo's known errors), recorded in edgar.quarantine."""
    from ingest.pg_load import record_quarantine
    from ingest.postgres import connect

    rejected = normalized.rejected
    if rejected.num_rows == 0:
        return
    repairs = pd.DataFrame(normalized.details, columns=["trade_date", "repaired_dividend", "repaired_adj_close"])
    frame = rejected.to_pandas().assign(trade_date=lambda d: d["trade_date"].map(date.isoformat))
    frame = frame.merge(repairs, on="trade_date", how="left")
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf, compression="zstd")
    key = f"quarantine/{SOURCE}/{DATASET}/ingest_date={day.isoformat()}/{name}.parquet"
    store.put(key, buf.getvalue())
    reasons = Counter(frame["reason"])
    log.warning("%s: %d rows quarantined: %s", listing.symbol, len(frame), dict(reasons))
    with connect(settings) as conn:
        record_quarantine(
            conn, run_id=run_id, source=SOURCE, dataset=DATASET, cik=listing.cik, object_key=key,
            reason="; ".join(sorted(reasons)),
            detail={"ticker": listing.symbol, "rows": len(frame), "reasons": dict(reasons),
                    "dates": frame["trade_date"].head(20).tolist()},
        )  # fmt: skip
    report.update(rejected_rows=len(frame), rejected_key=key, reason="; ".join(sorted(reasons)))


def _report(listing: Listing, source: str, window: Window, raw_key: str | None) -> dict[str, Any]:
    return {
        "symbol": listing.symbol, "cik": listing.cik, "source": source, "window": window.label(),
        "since": window.start.isoformat() if window.start else None, "until": window.end.isoformat(),
        "status": None, "rows": 0, "rejected_rows": 0,
        "reason": None, "raw_key": raw_key, "revised": False,
    }  # fmt: skip


def _loads(manifests: Iterable[dict]) -> dict[tuple[str, str], tuple[date | None, date]]:
    """(cik, symbol) -> the days to load, [first (None: all), until), over every window that staged it."""
    spans: dict[tuple[str, str], tuple[date | None, date]] = {}
    for manifest in manifests:
        for t in manifest["tickers"]:
            if t["status"] != "staged":
                continue
            key = (t["cik"], t["symbol"])
            start, until = (date.fromisoformat(t["since"]) if t["since"] else None), date.fromisoformat(t["until"])
            if key in spans:
                first, last = spans[key]
                start = None if start is None or first is None else min(start, first)
                until = max(until, last)
            spans[key] = (start, until)
    return spans


def _last_stored(settings: Settings, symbols: list[str]) -> dict[str, date]:
    if not symbols:
        return {}
    from ingest.postgres import connect

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


def _log_outcomes(stage: str, reports: list[dict]) -> None:
    log.info("%s: %d tickers: %s", stage, len(reports), dict(Counter(r["status"] for r in reports)))
