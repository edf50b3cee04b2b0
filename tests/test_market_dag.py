"""The market_daily DAG end to end (dag.test) on recorded Yahoo responses and a Yahoo CSV:
yfinance over loopback, object store, PostgreSQL, GX gates, DuckDB; then the warehouse build its
asset update schedules (dbt, fct_market_data and its gate)."""

from __future__ import annotations

import datetime as dt

import duckdb
import psycopg
import pytest
from airflow.dag_processing.dagbag import BundleDagBag
from conftest import REPO, SAMPLE, fresh_database, market_sample, run_dag

from ingest.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.dag, pytest.mark.dbt]

CHARTS = SAMPLE / "market" / "yahoo_chart_api"


@pytest.fixture(scope="module")
def dag_runs(tmp_path_factory, pg_dsn):
    """A scheduled run after the close of 2026-11-20 and the warehouse build after it, then a
    manual run for NVDA in June 2024 (which changes nothing)."""
    tmp = tmp_path_factory.mktemp("market_dag")
    sample = market_sample(tmp / "sample", {s: CHARTS / f"{s}.json.gz" for s in ("AAPL", "MSFT", "NVDA")}, ["SPY"])
    env = {
        "EDGARFLOW_SAMPLE_DIR": str(sample),
        "EDGARFLOW_STORAGE_URL": str(tmp / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "EDGARFLOW_REDIS_DATA_DIR": str(tmp / "redis"),
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "t_market_dag"),
    }
    scheduled, settings = run_dag("market_daily", env, dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC))
    built, _ = run_dag("warehouse_build", env, dt.datetime(2026, 11, 20, 22, 45, tzinfo=dt.UTC))
    manual, _ = run_dag(
        "market_daily", env, dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC),
        run_conf={"tickers": ["NVDA"], "start": "2024-06-01", "end": "2024-07-01"},
    )  # fmt: skip
    return scheduled, built, manual, settings


def summaries(settings: Settings) -> list[dict]:
    with psycopg.connect(settings.pg_dsn.get_secret_value()) as conn:
        rows = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = 'market_daily' ORDER BY started_at"
        ).fetchall()
    return [r[0] for r in rows]


def test_schedule_after_the_us_close_and_params():
    dag = BundleDagBag(dag_folder=str(REPO / "dags"), bundle_path=REPO / "dags").dags["market_daily"]
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("30 22 * * 1-5", "UTC")
    assert set(dag.params) == {"tickers", "start", "end", "batch_size", "backfill_csv"}


def test_every_task_succeeded_and_only_new_rows_announce(dag_runs):
    scheduled, built, manual = (
        {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()} for run in dag_runs[:3]
    )
    assert set(scheduled.values()) == {"success"} and ("announce", -1) in scheduled, scheduled
    assert set(built.values()) == {"success"} and ("gate_market", -1) in built, built
    assert manual.pop(("announce", -1)) == "skipped"  # nothing new: the warehouse is not rebuilt
    assert set(manual.values()) == {"success"}, manual


def test_mart_holds_every_ticker_with_its_company_and_corporate_actions(dag_runs):
    *_, settings = dag_runs
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        counts = dict(con.sql("SELECT ticker, count(*) FROM marts.fct_market_data GROUP BY ticker").fetchall())
        columns = dict(con.sql("SELECT column_name, column_type FROM (DESCRIBE marts.fct_market_data)").fetchall())
        split = con.sql(
            "SELECT cik, split_ratio, close FROM marts.fct_market_data "
            "WHERE ticker = 'NVDA' AND trade_date = '2024-06-10'"
        ).fetchall()
        dividend = con.sql(
            "SELECT dividend FROM marts.fct_market_data WHERE ticker = 'AAPL' AND trade_date = '2025-05-12'"
        ).fetchall()
        csv_actions = con.sql(
            "SELECT count(*) FROM marts.fct_market_data "
            "WHERE ticker = 'SPY' AND dividend IS NULL AND split_ratio IS NULL"
        ).fetchall()[0][0]
    # SPY: its CSV's 2,519 days less the two whose open is below the low (quarantined by the gate).
    assert counts == {"AAPL": 127, "MSFT": 127, "NVDA": 754, "SPY": 2517}
    assert columns == {
        "ticker": "VARCHAR", "cik": "VARCHAR", "trade_date": "DATE", "open": "DOUBLE", "high": "DOUBLE",
        "low": "DOUBLE", "close": "DOUBLE", "adj_close": "DOUBLE", "volume": "BIGINT", "dividend": "DOUBLE",
        "split_ratio": "DOUBLE",
    }  # fmt: skip
    assert split == [("0001045810", 10.0, 121.79000091552734)]
    assert dividend == [(0.26,)]
    assert csv_actions == 2517


def test_gates_and_summary_are_recorded(dag_runs):
    *_, settings = dag_runs
    with psycopg.connect(settings.pg_dsn.get_secret_value()) as conn:
        suites = dict(conn.execute("SELECT suite, bool_and(success) FROM edgar.dq_results GROUP BY suite").fetchall())
        prices = conn.execute("SELECT count(*) FROM edgar.price_history").fetchone()[0]
    # Gaps are monitored: SPY's two quarantined days are missing sessions, reported, not fatal.
    assert {s: suites[s] for s in ("staged_prices", "fct_market_data", "price_gaps")} == {
        "staged_prices": True, "fct_market_data": True, "price_gaps": False,
    }  # fmt: skip
    assert prices == 127 + 127 + 754 + 2517
    first = summaries(settings)[0]
    assert first["outcomes"] == {"yahoo_chart:staged": 3, "yahoo_csv:staged": 1}
    assert sum(s["quarantined"] for s in first["gates"]["staged"]["suites"]) == 2
    assert first["gates"]["gaps"]["success"] is False and first["gates"]["gaps"]["blocking"] is False


def test_manual_run_fetches_only_the_given_ticker_and_dates_and_changes_nothing(dag_runs):
    *_, settings = dag_runs
    manual = summaries(settings)[-1]
    assert manual["tickers"] == 1 and manual["outcomes"] == {"yahoo_chart:staged": 1}
    assert manual["rows_staged"] == 19  # NVDA's June 2024 sessions
    loaded = manual["postgres"]
    assert (loaded["inserted"], loaded["updated"], loaded["unchanged"]) == (0, 0, 19)
