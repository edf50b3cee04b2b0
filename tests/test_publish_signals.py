"""Latest signals go from the warehouse mart to PostgreSQL in one load and read back equal."""

from __future__ import annotations

import duckdb
import psycopg
import pyarrow.compute as pc
import pytest
from conftest import NVIDIA

from ingest.postgres.connection import connect
from ingest.postgres.loader import load_dataset
from ingest.publish.serving import latest_statement_rows, publish_serving
from ingest.publish.signals import SIGNALS, latest_signal_rows, publish_signals
from ingest.settings import Settings
from ingest.zones.staged import staged_keys
from ingest.zones.store import open_store

pytestmark = [pytest.mark.slow, pytest.mark.dbt]


@pytest.fixture
def settings(warehouse, pg_store):
    """The built warehouse, and PostgreSQL loaded from the same staged companies and facts."""
    built, _ = warehouse
    settings = Settings(duckdb_path=built.duckdb_path, storage_url=built.storage_url, pg_dsn=pg_store)
    store = open_store(settings.storage_url)
    with connect(settings) as conn:
        for dataset in ("companies", "facts"):
            load_dataset(conn, dataset, [store.uri(k) for k in staged_keys(store, dataset)])
    return settings


def test_publishes_latest_report_per_company(settings):
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        (as_of, accession, net_margin, f_score, tests) = con.execute(
            "select as_of_date, as_of_accession_number, net_margin, piotroski_f_score, piotroski_tests_available "
            "from marts.fct_financial_signals where cik = ? order by as_of_date desc limit 1",
            [NVIDIA],
        ).fetchone()
        companies = con.execute("select count(distinct cik) from marts.fct_financial_signals").fetchone()[0]

    outcome = publish_signals(settings, run_id="publish-1")
    assert outcome["companies"] == companies and outcome["inserted"] == outcome["signals"] > companies

    with psycopg.connect(settings.pg_dsn.get_secret_value()) as conn:
        rows = dict(
            (name, (value, confidence, acc, day))
            for name, value, confidence, acc, day in conn.execute(
                "select name, value, confidence, accession_number, as_of_date from serving.latest_signals where cik = %s",
                (NVIDIA,),
            )
        )
    assert rows["net_margin"] == (net_margin, 1, accession, as_of)
    assert rows["piotroski_f_score"][0] == f_score
    assert rows["piotroski_f_score"][1] == round(tests / 9, 4)
    assert set(rows) <= set(SIGNALS)

    # Publishing the same marts again changes nothing.
    again = publish_signals(settings, run_id="publish-2")
    assert (again["inserted"], again["updated"]) == (0, 0)


def test_null_signals_are_not_published(settings):
    rows = latest_signal_rows(settings)
    assert rows.num_rows > 0 and rows["value"].null_count == 0


def test_latest_statements_are_one_fiscal_period_each_and_a_snapshot(settings):
    """Each company's latest FY and latest quarter, every metric of that one period; publishing
    again writes nothing, and a company gone from the marts is deleted from the snapshot."""
    first = publish_serving(settings, "serving-1")["latest_statements"]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        year, revenue, accession = con.execute(
            "select fiscal_year, value, accession_number from marts.fct_financial_statements where cik = ? "
            "and metric = 'revenue' and fiscal_period = 'FY' and is_latest order by fiscal_year desc limit 1",
            [NVIDIA],
        ).fetchone()
    with psycopg.connect(settings.pg_dsn.get_secret_value()) as conn:
        mixed = conn.execute(
            "select cik, statement, period_kind from serving.latest_statements "
            "group by 1, 2, 3 having count(distinct (fiscal_year, fiscal_period)) > 1"
        ).fetchall()
        published = conn.execute(
            "select fiscal_year, value, accession_number from serving.latest_statements "
            "where cik = %s and metric = 'revenue' and period_kind = 'annual'",
            (NVIDIA,),
        ).fetchone()
        nvidia_rows = conn.execute("select count(*) from edgar.latest_statements where cik = %s", (NVIDIA,)).fetchone()[0]
    assert first.inserted > 0 and published == (year, revenue, accession)
    assert mixed == []
    again = publish_serving(settings, "serving-2")["latest_statements"]
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)

    rows = latest_statement_rows(settings)
    without_nvidia = rows.filter(pc.not_equal(rows["cik"], NVIDIA))
    with connect(settings) as conn:
        gone = load_dataset(conn, "latest_statements", without_nvidia, run_id="serving-3")
        left = conn.execute("select count(*) from edgar.latest_statements where cik = %s", (NVIDIA,)).fetchone()[0]
    assert (gone.deleted, gone.inserted, gone.updated, left) == (nvidia_rows, 0, 0, 0)
