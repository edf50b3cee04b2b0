"""The production warehouse path, executed: the three DAGs on the bundled sample with
EDGARFLOW_WAREHOUSE=bigquery against bqemulator and EDGARFLOW_STORAGE_URL=gs://… against
gcp-storage-emulator (load jobs from the staged Parquet in GCS, dbt-bigquery's build of every
model and test, the mart gates and publish_signals through WarehouseReader); then the same staged
data built on DuckDB, and every mart compared between the two engines."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import pprint
import re
import shutil
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import APPLE, BQ_PROJECT, SAMPLE, fresh_database, run_dag

from ingest.identifiers import safe_name
from ingest.postgres.connection import connect
from ingest.settings import Settings
from ingest.warehouse.bigquery_client import bigquery_client
from ingest.warehouse.load import load_raw_tables
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.runner import ARTIFACTS_DIR, run_dbt
from ingest.warehouse.tables import MARTS_SCHEMA, SOURCE_DATASETS
from ingest.yahoo.normalize import csv_rows
from ingest.yahoo.universe import Listing
from ingest.zones.staged import staged_cik, staged_keys, write_staged
from ingest.zones.store import open_store

pytestmark = [pytest.mark.slow, pytest.mark.dag, pytest.mark.dbt]

DAY = dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.UTC)
DAGS = ("market_daily", "edgar_nightly", "warehouse_build")  # make run's order
# Columns that record when or how a row was made, not what it says: dbt snapshot times and ids.
BOOKKEEPING = {"dim_company": {"company_version_id", "valid_from", "valid_to"}}
# The differences between the engines, each named with its reason; everything else is equal.
# Two sector quartiles interpolate, in double precision, between the same ratios: bqemulator's
# PERCENTILE_CONT and DuckDB's quantile_cont land a few ulps apart, on either side of a 9th-decimal
# rounding boundary (0.059074514 vs 0.059074515, 0.100531831 vs 0.100531832).
KNOWN_DIFFERENCES = {"agg_sector_benchmarks": {"return_on_assets_p25", "return_on_assets_p75"}}
# The BigQuery physical design of the marts: (partition column, clustering columns).
PHYSICAL_DESIGN = {
    "fct_financial_statements": ("period_end", ["cik", "metric"]),
    "fct_financial_ttm": ("period_end", ["cik", "metric"]),
    "fct_financial_ttm_point_in_time": ("period_end", ["cik", "metric"]),
    "fct_financial_signals": ("as_of_date", ["cik"]),
    "fct_valuation_signals": ("as_of_date", ["ticker"]),
    "fct_market_data": ("trade_date", ["ticker"]),
}


@pytest.fixture(scope="module")
def bigquery_run(bq_emulator, gcs_emulator, pg_dsn, tmp_path_factory):
    """The three DAGs against both emulators: ({dag_id: dag run}, settings)."""
    tmp = tmp_path_factory.mktemp("bigquery")
    env = {
        "EDGARFLOW_STORAGE_URL": f"gs://{gcs_emulator}/bigquery-e2e",
        "EDGARFLOW_WAREHOUSE": "bigquery",
        "EDGARFLOW_BQ_PROJECT": BQ_PROJECT,
        "EDGARFLOW_BQ_API_ENDPOINT": bq_emulator,
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "t_bigquery"),
        "EDGARFLOW_REDIS_DATA_DIR": str(tmp / "redis"),
    }
    runs, settings = {}, None
    for i, dag_id in enumerate(DAGS):
        runs[dag_id], settings = run_dag(dag_id, env, DAY + dt.timedelta(minutes=10 * i))
    return runs, settings


@pytest.fixture(scope="module")
def duckdb_twin(bigquery_run, tmp_path_factory):
    """The same staged data (in the GCS emulator) loaded and built on DuckDB."""
    _, settings = bigquery_run
    tmp = tmp_path_factory.mktemp("duckdb_twin")
    twin = settings.model_copy(update={"warehouse": "duckdb", "duckdb_path": tmp / "warehouse.duckdb"})
    load_raw_tables(twin, open_store(twin.storage_url))
    run_dbt(twin, ["build"], run_id="twin", artifacts_dir=tmp / "dbt")
    return twin


def test_every_task_of_the_three_dags_succeeded_on_bigquery(bigquery_run):
    runs, _ = bigquery_run
    for dag_id, run in runs.items():
        states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
        assert set(states.values()) == {"success"}, (dag_id, states)


def test_raw_tables_come_from_load_jobs_over_the_staged_parquet_in_gcs(bigquery_run):
    """load_warehouse loads the run's files of gs://…/staged/<dataset>/ (ingest/warehouse/load.py),
    replacing its filers' rows; what landed is every staged row, with the staged schema's types,
    and each filer loaded is recorded for the build."""
    _, settings = bigquery_run
    store = open_store(settings.storage_url)
    staged = sum(pq.ParquetFile(io.BytesIO(store.get(k))).metadata.num_rows for k in staged_keys(store, "facts"))
    reader = WarehouseReader(settings)

    def count(table: str, what: str = "*") -> int:
        # A query, not table metadata: bqemulator does not count rows a DML statement inserted.
        return reader.query(f"select count({what}) as n from {reader.table('raw', table)}").column("n")[0].as_py()

    assert count("edgar_facts") == staged == 193_912 and count("yahoo_prices") > 0
    staged_filers = {staged_cik(k) for d in SOURCE_DATASETS["edgar"] for k in staged_keys(store, d)}
    assert count("edgar_filer_loads") == count("edgar_filer_loads", "distinct cik") == len(staged_filers)
    facts = bigquery_client(settings).get_table(f"{BQ_PROJECT}.edgarflow_raw.edgar_facts")
    assert {f.name: f.field_type for f in facts.schema}["value"] == "NUMERIC"


def test_gates_and_publish_ran_on_bigquery(bigquery_run):
    runs, settings = bigquery_run
    with connect(settings) as conn:
        summary = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = 'warehouse_build' AND run_id = %s "
            "AND stage = 'summary'",
            (runs["warehouse_build"].run_id,),
        ).fetchone()[0]
        published = conn.execute("SELECT count(DISTINCT cik) FROM serving.latest_signals").fetchone()[0]
    assert summary["warehouse"] == f"{BQ_PROJECT}.edgarflow_*"
    assert summary["gates"]["financials"]["success"] and summary["gates"]["market"]["success"]
    assert summary["signals_published"]["companies"] == published == 13
    # dbt's docs and the index went to GCS; the emulator has no __TABLES__ for dbt's catalog
    # queries, so the docs there carry the documented columns without the warehouse's types.
    store = open_store(settings.storage_url)
    assert summary["docs"] == store.uri("docs/index.html")
    assert b"fct_financial_statements" in store.get("docs/dbt/index.html")
    assert b"dbt/index.html" in store.get("docs/index.html")


def test_every_mart_is_the_same_on_both_engines(bigquery_run, duckdb_twin):
    """Row count and an order-independent hash of every business column, mart by mart; a
    difference names the columns whose values differ."""
    _, bigquery = bigquery_run
    duck = WarehouseReader(duckdb_twin)
    marts = duck.query(
        "select table_name from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE'",
        [MARTS_SCHEMA],
    )["table_name"].to_pylist()
    assert len(marts) >= 10
    differ = {}
    for mart in sorted(marts):
        big, small = (_rows(WarehouseReader(s), mart) for s in (bigquery, duckdb_twin))
        if _fingerprint(big) != _fingerprint(small):
            columns = [c for c in big[0] if sorted(map(repr, (r[c] for r in big))) != sorted(map(repr, (r[c] for r in small)))]
            examples = {c: sorted({repr(r[c]) for r in big} ^ {repr(r[c]) for r in small})[:4] for c in columns}
            differ[mart] = (len(big), len(small), examples)
    assert not differ, pprint.pformat(differ, width=200)


def test_marts_are_partitioned_by_month_and_clustered(bigquery_run):
    """From the DDL dbt-bigquery ran on the emulator. bqemulator keeps neither a month
    partitioning (`partition by date_trunc(d, month)`) nor any clustering in the metadata of a
    table made by CREATE TABLE ... AS (get_table and INFORMATION_SCHEMA.COLUMNS report none), so
    the metadata check is the README's first-production-run list, not this test."""
    runs, _ = bigquery_run
    ddl_dir = ARTIFACTS_DIR / safe_name(runs["warehouse_build"].run_id) / "target" / "run" / "edgarflow" / "models"
    found = {}
    for table in PHYSICAL_DESIGN:
        (path,) = ddl_dir.rglob(f"{table}.sql")
        ddl = " ".join(path.read_text().split()).lower()
        partition = re.search(r"partition by date_trunc\((\w+), month\)", ddl)
        clustering = re.search(r"cluster by ([\w, ]+?) options", ddl)
        found[table] = (partition and partition.group(1), clustering and clustering.group(1).split(", "))
    assert found == PHYSICAL_DESIGN


def _rows(warehouse: WarehouseReader, mart: str) -> list[dict]:
    table = warehouse.query(f"select * from {warehouse.table(MARTS_SCHEMA, mart)}")
    skipped = BOOKKEEPING.get(mart, set()) | KNOWN_DIFFERENCES.get(mart, set())
    names = [n for n in table.column_names if n not in skipped]
    return [{k: _normal(v) for k, v in row.items()} for row in table.select(names).to_pylist()]


def _fingerprint(rows: list[dict]) -> tuple[int, str]:
    lines = sorted(repr(tuple(row.values())) for row in rows)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _normal(value):
    """One spelling per value whichever engine computed it: decimals without trailing zeros,
    floats to 12 significant digits (engines differ in the last bits of a float sum)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        return f"{value:.12g}"
    if isinstance(value, list):
        return tuple(_normal(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def test_the_settings_never_reach_google(bigquery_run):
    _, settings = bigquery_run
    assert settings.bq_api_endpoint.startswith("http://127.0.0.1:")
    client = bigquery_client(settings)
    assert client._connection.API_BASE_URL == settings.bq_api_endpoint
    assert type(client._credentials).__name__ == "AnonymousCredentials"


def test_a_dataset_that_became_empty_empties_its_bigquery_table(bq_emulator, gcs_emulator):
    """WRITE_TRUNCATE from an empty Parquet of the staged schema: no stale table is left."""
    settings = Settings(
        warehouse="bigquery",
        bq_project=BQ_PROJECT,
        bq_dataset="emptied",
        bq_api_endpoint=bq_emulator,
        storage_url=f"gs://{gcs_emulator}/emptied",
    )
    store = open_store(settings.storage_url)
    apple = Listing("AAPL", APPLE, "Nasdaq")
    prices = csv_rows(apple, gzip.decompress((SAMPLE / "market" / "yahoo_csv" / "AAPL.csv.gz").read_bytes())).rows
    write_staged(store, "prices", APPLE, prices)
    (loaded,) = load_raw_tables(settings, store, ["prices"])
    assert loaded.rows == prices.num_rows > 0
    store.delete_prefix("staged/prices/")
    (emptied,) = load_raw_tables(settings, store, ["prices"])
    assert emptied.rows == 0
    assert WarehouseReader(settings).table_rows()["raw.yahoo_prices"] == 0


def test_the_dashboards_warehouse_queries_run_on_bigquery_as_on_duckdb(bigquery_run, duckdb_twin, tmp_path):
    """The dashboard's source queries rendered for BigQuery (ops/dashboard.py) run on it and give
    the rows they give on DuckDB: the same dashboard, by setting."""
    from ops import dashboard

    _, settings = bigquery_run
    counts, connections = {}, {}
    for target, warehouse in (("bigquery", settings), ("duckdb", duckdb_twin)):
        project = tmp_path / target
        shutil.copytree(dashboard.DASHBOARD_DIR / "queries", project / "queries")
        dashboard.write_sources(warehouse, project)
        connections[target] = yaml.safe_load((project / "sources" / "warehouse" / "connection.yaml").read_text())
        reader = WarehouseReader(warehouse)
        counts[target] = {
            query.stem: reader.query(f"select count(*) as n from ({query.read_text()}) as q")["n"][0].as_py()
            for query in sorted((project / "sources" / "warehouse").glob("*.sql"))
        }
    assert connections["bigquery"] == {
        "name": "warehouse",
        "type": "bigquery",  # Application Default Credentials: no key in the file
        "options": {"project_id": BQ_PROJECT, "location": "US", "authenticator": "gcloud-cli"},
    }
    assert connections["duckdb"]["type"] == "duckdb"
    assert counts["bigquery"] == counts["duckdb"]
    assert all(n > 0 for n in counts["bigquery"].values()), counts
