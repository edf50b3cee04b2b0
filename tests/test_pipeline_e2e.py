"""edgar_nightly then warehouse_build end to end on two real sample companies, every backend real
and local, with a filing-text backfill between them; then a second nightly run on the same day,
which finds nothing new."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson
import pytest
from airflow.models import DagRun
from conftest import APPLE, LPA, fresh_database, landed_key, make_sample_dir, run_dag, sample_bytes

from ingest.postgres.connection import connect
from ingest.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.dag, pytest.mark.dbt]

NIGHT = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
# Apple's filing text of 2024-2025, as `make run` backfills the sample's: its FY2024 10-K and its
# 2025-03-29 10-Q are in the sample; its other periodic filings of those years are not (404).
TEXT_BACKFILL = {"filed_from": "2024-01-01", "filed_to": "2025-12-31", "documents_only": True}


@dataclass(frozen=True)
class Runs:
    nightly: DagRun
    backfill: DagRun
    warehouse: DagRun
    again: DagRun
    settings: Settings


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory, pg_dsn):
    """Apple (facts + submissions) and LPA (facts only, cik sent as a string), one filer per
    batch; then the warehouse build that the nightly run's asset update schedules.
    Between them, Apple's filing text of 2024-2025 is backfilled."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = {
        "EDGARFLOW_SAMPLE_DIR": str(make_sample_dir(tmp / "sample", [APPLE, LPA])),
        "EDGARFLOW_STORAGE_URL": str(tmp / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(tmp / "warehouse.duckdb"),
        "EDGARFLOW_REDIS_DATA_DIR": str(tmp / "redis"),
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "e2e"),
    }
    nightly, settings = run_dag("edgar_nightly", env, NIGHT, run_conf={"batch_size": 1})
    backfill, _ = run_dag("edgar_nightly", env, NIGHT + dt.timedelta(minutes=10), run_conf=TEXT_BACKFILL)
    warehouse, _ = run_dag("warehouse_build", env, NIGHT + dt.timedelta(minutes=30))
    again, _ = run_dag("edgar_nightly", env, NIGHT + dt.timedelta(hours=1))
    return Runs(nightly, backfill, warehouse, again, settings)


def _states(run) -> dict[tuple[str, int], str]:
    return {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}


def test_every_task_succeeded_one_filer_per_mapped_task(pipeline_run):
    nightly, warehouse = pipeline_run.nightly, pipeline_run.warehouse
    states = _states(nightly)
    assert set(states.values()) == {"success"}, states
    assert {i for t, i in states if t in ("extract", "normalize")} == {0, 1}  # two batches of one filer
    assert len(states) == 13  # 11 tasks, extract and normalize mapped twice
    assert set(_states(warehouse).values()) == {"success"}, _states(warehouse)


def test_rerun_finds_nothing_new_and_does_not_announce(pipeline_run):
    """The same day again: SEC's daily index lists no filing since the first run covered the
    universe, so nothing is asked, every task up to the summary skips, and the summary records."""
    again, settings = pipeline_run.again, pipeline_run.settings
    states = _states(again)
    ran = {task for (task, _), state in states.items() if state == "success"}
    assert ran == {"plan_batches", "summarize"}, states
    assert {state for state in states.values()} == {"success", "skipped"}, states
    assert states[("announce", -1)] == "skipped"  # no asset update, so no warehouse build
    with connect(settings) as conn:
        loads = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = 'edgar_nightly' AND run_id = %s", (again.run_id,)
        ).fetchone()[0]["postgres_loads"]
    assert all(load["inserted"] == load["updated"] == 0 for load in loads.values())


def test_raw_zone_partitioned_by_ingest_date(pipeline_run):
    settings = pipeline_run.settings
    store = Path(settings.storage_url)
    raw = sorted(p.relative_to(store).as_posix() for p in store.rglob("*.gz"))
    assert landed_key("companyfacts", "2026-11-20", f"CIK{APPLE}.json") in raw
    assert landed_key("companyfacts", "2026-11-20", f"CIK{LPA}.json") in raw
    assert landed_key("submissions", "2026-11-20", f"CIK{APPLE}.json") in raw


def test_postgres_rows(pipeline_run):
    settings = pipeline_run.settings
    apple_filings = len(orjson.loads(sample_bytes(f"edgar/submissions/CIK{APPLE}.json"))["filings"]["recent"]["form"])
    with connect(settings) as conn:
        count = lambda table: conn.execute(f"SELECT count(*) FROM edgar.{table}").fetchone()[0]  # noqa: E731
        assert count("companies") == 2  # LPA has no submissions: a stub from its facts' entity name
        assert count("filings") == apple_filings
        assert count("financial_facts") == 24_579 + 768
        assert count("quarantine") == 0
        # Latest signals of both companies published from the warehouse.
        assert conn.execute("SELECT count(DISTINCT cik) FROM serving.latest_signals").fetchone()[0] == 2
        assert conn.execute("SELECT bool_and(success), count(*) > 0 FROM edgar.dq_results").fetchone() == (True, True)


def test_warehouse_rows_and_apple_revenue(pipeline_run):
    settings = pipeline_run.settings
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.edgar_facts").fetchone()[0] == 24_579 + 768
        assert con.execute("SELECT count(DISTINCT cik) FROM marts.fct_financial_statements").fetchone()[0] == 2
        revenue = con.execute(
            """
            SELECT value, unit, accession_number FROM marts.fct_financial_statements
            WHERE cik = '0000320193' AND metric = 'revenue' AND fiscal_period = 'FY'
              AND period_end = DATE '2023-09-30' AND is_first_reported
            """
        ).fetchall()
    assert revenue == [(383_285_000_000, "USD", "0000320193-23-000106")]


def test_summaries_recorded(pipeline_run):
    from ingest.postgres.runs import latest_summary
    from pipelines.summaries import NIGHTLY_DAG, WAREHOUSE_DAG, render, render_warehouse

    nightly, warehouse, again, settings = (pipeline_run.nightly, pipeline_run.warehouse, pipeline_run.again,
                                           pipeline_run.settings)  # fmt: skip
    first = next(s for s in _summaries(settings, NIGHTLY_DAG) if s["run_id"] == nightly.run_id)
    assert first["companies"] == 2 and first["facts_landed"] == 24_579 + 768
    with connect(settings) as conn:
        latest, built = latest_summary(conn, NIGHTLY_DAG), latest_summary(conn, WAREHOUSE_DAG)
    assert latest["run_id"] == again.run_id and "facts landed" in render(first)
    assert built["run_id"] == warehouse.run_id and built["signals_published"]["companies"] == 2
    text = render_warehouse(built)
    assert "marts.fct_financial_statements" in text and "ingest.warehouse.query" in text


def _summaries(settings, dag_id: str) -> list[dict]:
    with connect(settings) as conn:
        rows = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = %s AND stage = 'summary'", (dag_id,)
        ).fetchall()
    return [r[0] for r in rows]


def test_the_build_warmed_the_cache(pipeline_run):
    from ingest.serving.api import ServingAPI

    warehouse, settings = pipeline_run.warehouse, pipeline_run.settings
    with connect(settings) as conn:
        built = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = 'warehouse_build' AND run_id = %s AND stage = 'summary'",
            (warehouse.run_id,),
        ).fetchone()[0]
    assert built["cache"]["written"] == 2 + 2 * 3 + 2  # two companies, three statements each, two ratios
    assert built["gates"]["cache"]["success"]
    reading = ServingAPI(settings).read(f"financials:{APPLE}:income_statement")
    assert reading.source == "redis" and reading.document["annual"]["values"]["revenue"]["unit"] == "USD"


def test_the_backfill_landed_sectioned_and_loaded_apples_filing_text(pipeline_run):
    """Only documents, no companyfacts; the 10-K and the 10-Q in the sample are sectioned, loaded
    into PostgreSQL and the warehouse, and searchable; the filings SEC (the sample) lacks are 404s."""
    backfill, settings = pipeline_run.backfill, pipeline_run.settings
    assert set(_states(backfill).values()) == {"success"}, _states(backfill)
    summary = next(s for s in _summaries(settings, "edgar_nightly") if s["run_id"] == backfill.run_id)
    assert summary["facts_landed"] == 0 and summary["documents_landed"] == 2 and summary["filings_sectioned"] == 2
    assert summary["missing_by_dataset"]["filing_documents"] > 0
    with connect(settings) as conn:
        sections = dict(conn.execute(
            "SELECT accession_number, array_agg(item ORDER BY position) FROM edgar.filing_sections GROUP BY 1"
        ).fetchall())  # fmt: skip
        hits = conn.execute(
            "SELECT accession_number, item, snippet FROM serving.search_sections('supply chain', %s)", (APPLE,)
        ).fetchall()
    assert sections["0000320193-24-000123"][:3] == ["1", "1A", "1B"] and "II-1A" in sections["0000320193-25-000057"]
    assert hits and {h[0] for h in hits} <= set(sections) and all("supply" in h[2].lower() for h in hits)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        (row,) = con.execute(
            "SELECT accession_number, previous_accession_number, risk_factors_chars, mda_chars, text_flag "
            "FROM marts.fct_filing_text_signals WHERE cik = ?", [APPLE]
        ).fetchall()
    assert row[0] == "0000320193-24-000123" and row[1] is None and row[2] > 40_000 and row[3] > 10_000 and row[4] is None


def test_the_build_publishes_dbt_docs_and_an_index_of_every_gates_data_docs(pipeline_run):
    import re
    from urllib.parse import unquote

    settings = pipeline_run.settings
    with connect(settings) as conn:
        summary = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = 'warehouse_build' AND stage = 'summary'"
        ).fetchone()[0]
        suites = conn.execute("SELECT count(DISTINCT (stage, suite)) FROM edgar.dq_results").fetchone()[0]
    index = Path(summary["docs"])
    assert index == Path(settings.storage_url) / "docs" / "index.html"
    page = index.read_text()
    links = re.findall(r'href="([^"#]+)"', page)
    local = [unquote(link) for link in links if not link.startswith("http")]
    assert "dbt/index.html" in local and settings.dashboard_url in links
    data_docs = [link for link in local if link.startswith("../quality/")]
    assert len(data_docs) == suites  # the latest result of every suite, each with its data docs
    assert all((index.parent / link).resolve().is_file() for link in local)
    # dbt's docs are one self-contained page: the manifest and catalog are inside it.
    dbt_page = (index.parent / "dbt" / "index.html").read_text()
    assert "fct_financial_statements" in dbt_page and "dashboard_company" in dbt_page
