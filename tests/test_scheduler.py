"""The DAGs as operators run them: a real scheduler, DAG processor and API server (LocalExecutor),
started and stopped by ops/services.py as `make airflow` and `make stop` do; runs triggered
exactly as the README shows (CLI with --conf and no logical date) and through the REST API;
warehouse_build started by the scheduler from the edgar_loaded asset."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import APPLE, LPA, REPO, fresh_database, make_sample_dir

from ops import services

pytestmark = [pytest.mark.slow, pytest.mark.dag]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
RUN_TIMEOUT = 600  # seconds for one DAG run on this 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def airflow(tmp_path_factory, pg_dsn):
    """Airflow's services on a home of their own, Airflow's defaults for every timeout; yields
    (env for the CLI, API base URL, bearer-token headers)."""
    root = tmp_path_factory.mktemp("scheduler")
    home = root / "airflow"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EDGARFLOW_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW_CONFIG=str(REPO / "airflow.cfg"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(home / "logs"),
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",  # as the Makefile sets it locally
        AIRFLOW__CORE__FERNET_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        AIRFLOW__API__SECRET_KEY=secrets.token_urlsafe(32),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
        DO_NOT_TRACK="1",
        EDGARFLOW_SAMPLE_DIR=str(make_sample_dir(root / "sample", [APPLE, LPA])),
        EDGARFLOW_STORAGE_URL=str(root / "store"),
        EDGARFLOW_DUCKDB_PATH=str(root / "warehouse.duckdb"),
        EDGARFLOW_REDIS_DATA_DIR=str(root / "redis"),
        EDGARFLOW_PG_DSN=fresh_database(pg_dsn, "t_scheduler"),
    )
    for command in (["db", "migrate"], ["pools", "import", str(REPO / "ops" / "pools.json")]):
        done = subprocess.run([AIRFLOW, *command], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    port = _free_port()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        services.start(port)
        try:
            user, password, _ = services.login()
            base = f"http://127.0.0.1:{port}"
            token = requests.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=30)
            token.raise_for_status()
            yield env, base, {"Authorization": f"Bearer {token.json()['access_token']}"}
        finally:
            services.stop_services()
            assert all(pid is None for pid in services.status().values())


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([AIRFLOW, *args], env=env, capture_output=True, text=True, timeout=300)


def runs(base: str, headers: dict, dag_id: str) -> list[dict]:
    answer = requests.get(f"{base}/api/v2/dags/{dag_id}/dagRuns", headers=headers, timeout=30)
    answer.raise_for_status()
    return answer.json()["dag_runs"]


def wait_for(base: str, headers: dict, dag_id: str, run_id: str) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        run = next((r for r in runs(base, headers, dag_id) if r["dag_run_id"] == run_id), None)
        if run is not None and run["state"] in ("success", "failed"):
            return run
        time.sleep(5)
    raise AssertionError(f"{dag_id} {run_id} did not finish within {RUN_TIMEOUT}s")


def task_states(base: str, headers: dict, dag_id: str, run_id: str) -> dict[str, str]:
    answer = requests.get(f"{base}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", headers=headers, timeout=30)
    answer.raise_for_status()
    return {t["task_id"]: t["state"] for t in answer.json()["task_instances"]}


@pytest.fixture(scope="module")
def triggered(airflow):
    """The README's trigger (CLI, --conf, no logical date), then the same through the REST API."""
    env, base, headers = airflow
    done = cli(env, "dags", "trigger", "edgar_nightly", "--conf", json.dumps({"tickers": ["AAPL"]}), "-o", "json")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (listed,) = [line for line in done.stdout.splitlines() if line.startswith("[{")]  # past Airflow's log lines
    by_cli = json.loads(listed)[0]["dag_run_id"]
    posted = requests.post(
        f"{base}/api/v2/dags/edgar_nightly/dagRuns", headers=headers,
        json={"logical_date": None, "conf": {"ciks": [LPA.lstrip("0")]}}, timeout=30,
    )  # fmt: skip
    assert posted.status_code == 200, posted.text
    by_rest = posted.json()["dag_run_id"]
    return by_cli, wait_for(base, headers, "edgar_nightly", by_cli), by_rest, wait_for(base, headers, "edgar_nightly", by_rest)


def test_no_dag_has_an_import_error_with_the_default_timeouts(airflow):
    env, base, headers = airflow
    done = cli(env, "dags", "list-import-errors", "-o", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[]" in done.stdout or "No data found" in done.stdout, done.stdout[-2000:]
    listed = {d["dag_id"]: d for d in requests.get(f"{base}/api/v2/dags", headers=headers, timeout=30).json()["dags"]}
    assert set(listed) == {"edgar_nightly", "market_daily", "warehouse_build"}
    assert not any(d["is_paused"] for d in listed.values())  # local: unpaused at creation


def test_runs_triggered_without_a_logical_date_succeed(airflow, triggered):
    env, base, headers = airflow
    by_cli, cli_run, by_rest, rest_run = triggered
    for run_id, run in ((by_cli, cli_run), (by_rest, rest_run)):
        assert run["logical_date"] is None and run["run_type"] == "manual"
        states = task_states(base, headers, "edgar_nightly", run_id)
        assert run["state"] == "success", states
        assert states["extract"] == states["load_postgres"] == "success"


def test_the_asset_update_starts_warehouse_build(airflow, triggered):
    env, base, headers = airflow
    deadline = time.monotonic() + RUN_TIMEOUT
    while not (built := [r for r in runs(base, headers, "warehouse_build") if r["run_type"] == "asset_triggered"]):
        assert time.monotonic() < deadline, "no warehouse_build run from the edgar_loaded asset"
        time.sleep(5)
    run = wait_for(base, headers, "warehouse_build", built[0]["dag_run_id"])
    assert run["state"] == "success", task_states(base, headers, "warehouse_build", run["dag_run_id"])


def test_an_invalid_parameter_is_explained_in_words(airflow):
    env, base, headers = airflow
    posted = requests.post(
        f"{base}/api/v2/dags/edgar_nightly/dagRuns", headers=headers,
        json={"logical_date": None, "conf": {"ciks": ["abc"]}}, timeout=30,
    )  # fmt: skip
    assert posted.status_code == 400 and "a CIK is 1 to 10 digits" in posted.text, posted.text
    done = cli(env, "dags", "trigger", "edgar_nightly", "--conf", json.dumps({"ciks": ["abc"]}))
    assert done.returncode != 0 and "a CIK is 1 to 10 digits" in done.stdout + done.stderr
