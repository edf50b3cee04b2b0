"""The DAGs under a real scheduler for the scale bench: Airflow's services (LocalExecutor) on a
home of their own, started and stopped by ops/services.py as `make airflow` does, runs triggered
and awaited through the REST API."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from ingest.settings import PROJECT_ROOT
from ops import services

PLUGINS = Path(__file__).with_name("airflow_plugins")
POLL = 3  # seconds between run-state polls


class RunFailed(RuntimeError):
    pass


class Airflow:
    def __init__(self, base: str, headers: dict[str, str]):
        self.base, self.headers = base, headers

    def _call(self, method: str, path: str, **kwargs) -> dict:
        answer = requests.request(method, f"{self.base}/api/v2{path}", headers=self.headers, timeout=60, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def run(self, dag_id: str, conf: dict | None = None, timeout: float = 4 * 3600) -> dict:
        """Trigger ``dag_id`` (no logical date, as the README's manual trigger) and wait for its end;
        returns the run, with its task states under "tasks"."""
        run_id = self._call("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf or {}})["dag_run_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] in ("success", "failed"):
                tasks = self._call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000})
                run["tasks"] = {(t["task_id"], t["map_index"]): t["state"] for t in tasks["task_instances"]}
                if run["state"] != "success":
                    bad = sorted(f"{t}[{i}]" for (t, i), s in run["tasks"].items() if s not in ("success", "skipped"))
                    raise RunFailed(f"{dag_id} {run_id} {run['state']}: {', '.join(bad)}")
                return run
            time.sleep(POLL)
        raise RunFailed(f"{dag_id} {run_id} did not finish within {timeout:.0f}s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def airflow(root: Path, edgarflow_env: dict[str, str], parallelism: int = 2) -> Iterator[Airflow]:
    """Airflow's services with a fresh home under ``root``, LocalExecutor with ``parallelism``
    task slots, the task-usage plugin, and ``edgarflow_env`` as the whole EDGARFLOW_* configuration."""
    home = root / "airflow"
    home.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "EDGARFLOW_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW_CONFIG=str(PROJECT_ROOT / "airflow.cfg"),
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(PLUGINS),
        AIRFLOW__CORE__PARALLELISM=str(parallelism),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=str(home / "logs"),
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
        # Only the bench's runs: no run of a schedule's latest interval, none from asset updates.
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW__CORE__FERNET_KEY=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        AIRFLOW__API__SECRET_KEY=secrets.token_urlsafe(32),
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
        DO_NOT_TRACK="1",
        **edgarflow_env,
    )
    airflow_cli = str(services.airflow_executable())
    for command in (["db", "migrate"], ["pools", "import", str(PROJECT_ROOT / "ops" / "pools.json")]):
        subprocess.run([airflow_cli, *command], env=env, capture_output=True, check=True)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    port = _free_port()
    try:
        services.start(port)
        user, password, _ = services.login()
        base = f"http://127.0.0.1:{port}"
        token = requests.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=30)
        token.raise_for_status()
        yield Airflow(base, {"Authorization": f"Bearer {token.json()['access_token']}"})
    finally:
        services.stop_services()
        services.stop_embedded_servers()
        os.environ.clear()
        os.environ.update(saved)
