"""deploy/celery.env, the production configuration, is one that Airflow and edgarflow accept:
the CeleryExecutor loads with its broker and database read from secret files, edgarflow's
settings choose GCS, BigQuery and live SEC within its fair-access budget, and every DAG parses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO
from dotenv import dotenv_values

DEPLOY = REPO / "deploy"
MOUNT = "/var/run/secrets/edgarflow"
SECRETS = {
    "airflow-db-url": "sqlite:////{tmp}/airflow.db",
    "celery-broker-url": "redis://10.0.0.3:6379/0",
    "celery-result-backend": "db+postgresql://airflow@127.0.0.1:5432/airflow",
    "fernet-key": "Mz0S3IsS_V1v1GYUQ1pdYAyX4rbYkmS0OEJ6uCvHHfU=",
    "api-secret-key": "not-a-real-secret",
    "jwt-secret": "not-a-real-jwt-secret",
    "edgarflow_pg_dsn": "postgresql://pipeline_loader:pw@127.0.0.1:5432/edgarflow",
    "edgarflow_redis_url": "rediss://:redis-auth@10.0.0.4:6378/0",
}


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict[str, str]:
    """deploy/celery.env as a component would see it, with the secret mount and the install
    paths pointed at a temporary directory and this checkout."""
    tmp = tmp_path_factory.mktemp("deploy")
    secrets = tmp / "secrets"
    secrets.mkdir()
    for name, value in SECRETS.items():
        (secrets / name).write_text(value.format(tmp=tmp))  # Airflow keeps a trailing newline of a _CMD
    values = {k: v.replace(MOUNT, str(secrets)) for k, v in dotenv_values(DEPLOY / "celery.env").items()}
    values |= {"AIRFLOW_CONFIG": str(REPO / "airflow.cfg"), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags")}
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EDGARFLOW_"))}
    return {**inherited, **values, "AIRFLOW_HOME": str(tmp / "airflow")}


def _python(env: dict[str, str], code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_file_holds_no_secret():
    values = dotenv_values(DEPLOY / "celery.env")
    for option in ("DATABASE__SQL_ALCHEMY_CONN", "CELERY__BROKER_URL", "CELERY__RESULT_BACKEND", "CORE__FERNET_KEY",
                   "API__SECRET_KEY", "API_AUTH__JWT_SECRET"):
        assert f"AIRFLOW__{option}" not in values and values[f"AIRFLOW__{option}_CMD"].startswith(f"cat {MOUNT}/")
    assert not {"EDGARFLOW_PG_DSN", "EDGARFLOW_ALERT_WEBHOOK", "EDGARFLOW_REDIS_URL"} & values.keys()
    assert values["EDGARFLOW_SECRETS_DIR"] == MOUNT


def test_airflow_loads_the_celery_executor_with_secrets_from_files(production_env):
    out = _python(
        production_env,
        "import json\n"
        "from airflow.configuration import conf\n"
        "from airflow.executors.executor_loader import ExecutorLoader\n"
        "from airflow.providers.celery.executors.celery_executor_utils import app\n"
        "executor = ExecutorLoader.get_default_executor()\n"
        "print(json.dumps([type(executor).__name__, app.conf.broker_url,"
        " conf.get('database', 'sql_alchemy_conn'), conf.getint('celery', 'worker_concurrency'),"
        " conf.getboolean('core', 'dags_are_paused_at_creation')]))",
    )
    executor, broker, database, concurrency, paused = json.loads(out)
    assert paused  # production: nothing runs until a DAG is unpaused on purpose
    assert executor == "CeleryExecutor"
    assert broker == SECRETS["celery-broker-url"]
    assert database.startswith("sqlite:////") and database.endswith("/airflow.db")  # read from its file
    assert concurrency == 8


def test_edgarflow_settings_choose_gcs_bigquery_and_live_sec(production_env):
    out = _python(
        production_env,
        "import json\n"
        "from ingest.settings import Settings\n"
        "s = Settings()\n"
        "print(json.dumps([s.storage_url, s.warehouse, s.bq_project, s.source_mode, s.sec_rate_limit,"
        " s.pg_dsn.get_secret_value(), repr(s.pg_dsn), s.redis_url.get_secret_value(), repr(s.redis_url)]))",
    )
    storage, warehouse, project, mode, rate, dsn, shown, redis_url, redis_shown = json.loads(out)
    assert storage.startswith("gs://") and (warehouse, project, mode) == ("bigquery", "example-edgarflow-prod", "live")
    assert dsn == SECRETS["edgarflow_pg_dsn"] and "pw" not in shown  # from the secret file, masked when printed
    # SEC fair access across every worker: one limiter in Redis holds them all to the rate.
    assert redis_url == SECRETS["edgarflow_redis_url"] and "redis-auth" not in redis_shown
    assert rate <= 9


def test_every_dag_parses_under_the_production_configuration(production_env):
    out = _python(
        production_env,
        "import json\n"
        "from pathlib import Path\n"
        "from airflow.dag_processing.dagbag import BundleDagBag\n"
        f"bag = BundleDagBag(dag_folder={str(REPO / 'dags')!r}, bundle_path=Path({str(REPO / 'dags')!r}))\n"
        "print(json.dumps([sorted(bag.dags), {k: str(v)[:300] for k, v in bag.import_errors.items()}]))",
    )
    dags, errors = json.loads(out)
    assert errors == {}
    assert dags == ["edgar_nightly", "market_daily", "warehouse_build"]
