"""The market pipeline's stages on real components: replay server + yfinance, object store,
embedded PostgreSQL, GX gate. Bad tickers are quarantined with their reason while the others
land; a second run is incremental and changes nothing; a revision re-fetches the history."""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import asdict
from datetime import date

import psycopg
import pyarrow.parquet as pq
import pytest
from conftest import BERKSHIRE, MICROSOFT, NVIDIA, SAMPLE, SPDR, fresh_database, market_sample, sample_bytes

from ingest.settings import Settings
from ingest.zones.manifests import read_manifest
from ingest.zones.raw import raw_key
from ingest.zones.staged import read_staged, staged_key
from ingest.zones.store import open_store
from pipelines import gates
from pipelines import market_daily as market

DAY = "2026-11-20"


def recording(symbol: str) -> dict:
    return json.loads(sample_bytes(f"market/yahoo_chart_api/{symbol}.json"))


def apple_with_two_empty_bars() -> bytes:
    """Apple's recording with the bars of 2025-05-14 and -15 nulled, as Yahoo sends a bar it has no prices for."""
    doc = recording("AAPL")
    result = doc["chart"]["result"][0]
    for series in [*result["indicators"]["quote"][0].values(), result["indicators"]["adjclose"][0]["adjclose"]]:
        series[10] = series[11] = None
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def market_db(pg_dsn):
    """A migrated database of its own on the session's PostgreSQL."""
    from ingest.postgres.connection import migrate

    dsn = fresh_database(pg_dsn, "t_market_pipeline")
    migrate(dsn)
    return dsn


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, market_db):
    """The default sample plan (recorded charts + CSVs), fetched, backfilled, gated and loaded.
    MSFT's recording is Apple's response (wrong shape); Apple's has two empty bars."""
    root = tmp_path_factory.mktemp("market")
    sample = market_sample(
        root / "sample",
        {"AAPL": apple_with_two_empty_bars(), "NVDA": SAMPLE / "market/yahoo_chart_api/NVDA.json.gz",
         "MSFT": SAMPLE / "market/yahoo_chart_api/AAPL.json.gz"},
        ["AAPL", "NVDA", "SPY"],
    )  # fmt: skip
    mp = pytest.MonkeyPatch()
    for name, value in {
        "EDGARFLOW_SAMPLE_DIR": str(sample),
        "EDGARFLOW_STORAGE_URL": str(root / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(root / "warehouse.duckdb"),
        "EDGARFLOW_PG_DSN": market_db,
    }.items():
        mp.setenv(name, value)
    mp.delenv("EDGARFLOW_SOURCE_MODE", raising=False)
    plan = market.plan_universe("run1")
    fetched = [market.fetch_prices(batch, DAY, "run1") for batch in plan]
    backfilled = [market.backfill_csv(batch, DAY, "run1") for batch in plan]
    gate = gates.gate_market_staged(fetched + backfilled, "run1")
    loaded = market.load_postgres(fetched + backfilled, "run1")
    yield {"plan": plan, "fetched": fetched, "backfilled": backfilled, "gate": gate, "loaded": loaded,
           "settings": Settings(), "sample": sample}  # fmt: skip
    mp.undo()


def outcomes(results) -> dict[str, dict]:
    """Symbol -> its report in these fetch or backfill batches, as the batch manifests keep it."""
    return {t.symbol: asdict(t) for t in market.ticker_reports(results)}


def query(dsn: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def test_sample_plan_fetches_recorded_charts_and_backfills_csvs(first_run):
    (batch,) = first_run["plan"]
    listed = read_manifest(open_store(first_run["settings"].storage_url), batch.manifest)
    assert batch.size == 4 and {x["symbol"]: x["chart"] for x in listed} == {"AAPL": True, "MSFT": True, "NVDA": True, "SPY": False}
    assert {x["symbol"]: x["cik"] for x in listed}["SPY"] == SPDR


def test_raw_responses_are_landed_as_received(first_run):
    store = open_store(first_run["settings"].storage_url)
    nvda = outcomes(first_run["fetched"])["NVDA"]
    body = sample_bytes("market/yahoo_chart_api/NVDA.json")
    assert nvda["raw_key"] == raw_key("yahoo", "chart", date.fromisoformat(DAY), "NVDA_max_2026-11-21.json", body)
    assert gzip.decompress(store.get(nvda["raw_key"])) == body
    spy = outcomes(first_run["backfilled"])["SPY"]
    assert gzip.decompress(store.get(spy["raw_key"])) == sample_bytes("market/yahoo_csv/SPY.csv")


def test_a_wrong_shaped_response_is_quarantined_and_the_others_land(first_run):
    fetched, settings = outcomes(first_run["fetched"]), first_run["settings"]
    store = open_store(settings.storage_url)
    msft = fetched["MSFT"]
    assert msft["status"] == "quarantined" and "is for symbol 'AAPL'" in msft["reason"]
    assert store.exists(msft["quarantine_key"])
    note = json.loads(store.get(msft["quarantine_key"] + ".reason.json"))
    assert note["reason"] == msft["reason"] and note["raw_key"] == msft["raw_key"] and note["run_id"] == "run1"
    assert not store.exists(staged_key("prices", MICROSOFT))
    assert (fetched["NVDA"]["status"], fetched["NVDA"]["rows"]) == ("staged", 754)
    recorded = query(
        settings.pg_dsn.get_secret_value(),
        "SELECT source, dataset, object_key, reason FROM edgar.quarantine WHERE cik = %s",
        MICROSOFT,
    )
    assert recorded == [("yahoo", "chart", msft["quarantine_key"], msft["reason"])]


def test_rows_without_prices_are_quarantined_with_their_reason(first_run):
    aapl = outcomes(first_run["fetched"])["AAPL"]
    assert (aapl["status"], aapl["rows"], aapl["rejected_rows"]) == ("staged", 125, 2)
    store = open_store(first_run["settings"].storage_url)
    rejected = pq.read_table(io.BytesIO(store.get(aapl["rejected_key"]))).to_pandas()
    assert rejected["trade_date"].tolist() == ["2025-05-14", "2025-05-15"]
    assert set(rejected["reason"]) == {"missing prices (NaN) in Yahoo's row"}


def test_csv_backfill_fills_only_days_the_chart_left_empty(first_run):
    backfilled = outcomes(first_run["backfilled"])
    assert backfilled["NVDA"]["rows"] == 0  # the chart response covers the whole CSV
    assert backfilled["AAPL"]["rows"] == 3379  # 2004-2018, before the recorded chart
    staged = read_staged(open_store(first_run["settings"].storage_url), staged_key("prices", NVIDIA)).to_pandas()
    assert set(staged["source"]) == {"yahoo_chart"} and len(staged) == 754


def test_gate_quarantines_csv_rows_whose_open_is_below_the_low(first_run):
    """Two real rows of the SPY CSV have an open below the day's low; the gate moves them out."""
    assert first_run["gate"].quarantined == 2
    settings = first_run["settings"]
    store = open_store(settings.storage_url)
    bad = pq.read_table(io.BytesIO(store.get("quarantine/yahoo/prices/run_id=run1/staged_prices.parquet"))).to_pandas()
    assert sorted(bad["trade_date"].map(date.isoformat)) == ["2015-03-05", "2015-03-30"]
    assert set(bad["ticker"]) == {"SPY"} and all("low_ok" in r for r in bad["reason"])
    staged = read_staged(store, staged_key("prices", SPDR)).to_pandas()
    assert date(2015, 3, 5) not in set(staged["trade_date"]) and len(staged) == 2517


def test_postgres_holds_the_gated_rows(first_run):
    dsn = first_run["settings"].pg_dsn.get_secret_value()
    counts = dict(query(dsn, "SELECT ticker, count(*) FROM edgar.price_history GROUP BY ticker"))
    assert counts == {"AAPL": 125 + 3379, "NVDA": 754, "SPY": 2517}
    assert first_run["loaded"].datasets["prices"].inserted == sum(counts.values())
    split = query(dsn, "SELECT split_ratio, dividend, cik FROM edgar.price_history "
                       "WHERE ticker = 'NVDA' AND trade_date = '2024-06-10'")  # fmt: skip
    assert split == [(10, 0, NVIDIA)]
    csv_day = query(dsn, "SELECT dividend, split_ratio, close FROM edgar.price_history "
                         "WHERE ticker = 'AAPL' AND trade_date = '2004-08-19'")  # fmt: skip
    assert csv_day[0][:2] == (None, None) and float(csv_day[0][2]) == 2.193571


def test_second_run_is_incremental_and_changes_nothing(first_run):
    settings = first_run["settings"]
    store = open_store(settings.storage_url)
    before = read_staged(store, staged_key("prices", NVIDIA))
    plan = market.plan_universe("run2")
    fetched = [market.fetch_prices(batch, "2026-11-23", "run2") for batch in plan]
    backfilled = [market.backfill_csv(batch, "2026-11-23", "run2") for batch in plan]
    gates.gate_market_staged(fetched + backfilled, "run2")
    loaded = market.load_postgres(fetched + backfilled, "run2").datasets["prices"]

    nvda, aapl = outcomes(fetched)["NVDA"], outcomes(fetched)["AAPL"]
    # From the last stored day (2026-07-10, 2025-10-29) less the 7-day look-back; no revision.
    assert (nvda["since"], nvda["window"], nvda["revised"]) == ("2026-07-03", "2026-07-03_2026-11-24", False)
    assert (aapl["since"], aapl["rows"]) == ("2025-10-22", 6)
    assert read_staged(store, staged_key("prices", NVIDIA)).equals(before)
    assert (loaded.inserted, loaded.updated) == (0, 0) and not loaded.changed


def apple_as_served_before(day: date) -> bytes:
    """Apple's recording cut before ``day`` (its August dividend's ex-date), with Adj Close as Yahoo
    served it then: without that dividend's factor, which Yahoo applies to the past on the ex-date."""
    doc = recording("AAPL")
    result = doc["chart"]["result"][0]
    dates = [date.fromtimestamp(t) for t in result["timestamp"]]
    keep = sum(d < day for d in dates)
    quote = result["indicators"]["quote"][0]
    dividend = result["events"]["dividends"].pop(str(result["timestamp"][keep]))["amount"]
    factor = 1 - dividend / quote["close"][keep - 1]
    result["timestamp"] = result["timestamp"][:keep]
    for name in quote:
        quote[name] = quote[name][:keep]
    adjclose = result["indicators"]["adjclose"][0]
    adjclose["adjclose"] = [a / factor for a in adjclose["adjclose"][:keep]]
    return json.dumps(doc).encode()


def test_a_revised_history_is_fetched_again_in_full(tmp_path, pg_store, monkeypatch):
    """Stored before Apple's 2025-08-11 dividend; after it, Yahoo's look-back rows moved: the
    whole history is fetched again and PostgreSQL's past adj_close updated."""
    monkeypatch.setenv("EDGARFLOW_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.setenv("EDGARFLOW_PG_DSN", pg_store)
    monkeypatch.delenv("EDGARFLOW_SOURCE_MODE", raising=False)
    then = market_sample(tmp_path / "then", {"AAPL": apple_as_served_before(date(2025, 8, 11))}, [])
    monkeypatch.setenv("EDGARFLOW_SAMPLE_DIR", str(then))
    (batch,) = market.plan_universe("then", ["AAPL"])
    first = market.fetch_prices(batch, "2025-08-08", "then")
    market.load_postgres([first], "then")
    now = market_sample(tmp_path / "now", {"AAPL": SAMPLE / "market/yahoo_chart_api/AAPL.json.gz"}, [])
    monkeypatch.setenv("EDGARFLOW_SAMPLE_DIR", str(now))
    second = market.fetch_prices(batch, "2025-10-30", "now")
    loaded = market.load_postgres([second], "now").datasets["prices"]

    (aapl,) = outcomes([second]).values()
    assert (aapl["revised"], aapl["window"], aapl["since"], aapl["rows"]) == (True, "max_2025-10-31", None, 127)
    assert loaded.updated == outcomes([first])["AAPL"]["rows"]  # every stored day precedes the ex-date
    result = recording("AAPL")["chart"]["result"][0]
    (stored,) = query(
        pg_store, "SELECT adj_close FROM edgar.price_history WHERE ticker = 'AAPL' AND trade_date = '2025-04-30'"
    )
    assert float(stored[0]) == result["indicators"]["adjclose"][0]["adjclose"][0]


def test_unknown_ticker_is_quarantined_with_yahoos_answer(tmp_path, pg_store, monkeypatch):
    monkeypatch.setenv("EDGARFLOW_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.setenv("EDGARFLOW_PG_DSN", pg_store)
    monkeypatch.setenv("EDGARFLOW_SAMPLE_DIR", str(market_sample(tmp_path / "sample", {}, [])))
    monkeypatch.delenv("EDGARFLOW_SOURCE_MODE", raising=False)
    (batch,) = market.plan_universe("run", ["BRK.B"])
    (brk,) = outcomes([market.fetch_prices(batch, DAY, "run")]).values()
    assert (brk["symbol"], brk["cik"], brk["status"]) == ("BRK-B", BERKSHIRE, "quarantined")
    assert brk["reason"].startswith("unknown or delisted symbol: Yahoo answered 404")
    store = open_store(str(tmp_path / "store"))
    assert store.exists(brk["quarantine_key"]) and not store.exists(staged_key("prices", BERKSHIRE))
    assert query(pg_store, "SELECT count(*) FROM edgar.quarantine WHERE cik = %s", BERKSHIRE) == [(1,)]
