"""The BI dashboard (dashboards/, an Evidence project): its sources from Settings, its static build,
and a local server for the build.

    python -m ops.dashboard build          `make dashboard`: npm ci, sources, static build
    python -m ops.dashboard serve [--port] `make dashboard-serve`: the build on http://127.0.0.1:3000/

Evidence extracts each source query to Parquet at build time; the pages then query those files in
the browser (DuckDB-WASM), so the built site is static and needs no database. Two sources:

- ``warehouse``: the marts, from the DuckDB file (Evidence opens it read-only) or, with
  ``EDGARFLOW_WAREHOUSE=bigquery``, from BigQuery with Application Default Credentials;
- ``operations``: PostgreSQL's serving views of pipeline health, read as ``bi_reader``.

The queries live in dashboards/queries/ with the warehouse's schema names as template variables;
``sources/`` is written from them and the settings on each build (a password, where the DSN has
one, goes to Evidence through the environment, never into a file).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import yaml
from jinja2 import Environment, StrictUndefined
from psycopg.conninfo import conninfo_to_dict

from ingest.settings import LOCAL_DIR, PROJECT_ROOT, Settings

DASHBOARD_DIR = PROJECT_ROOT / "dashboards"
BUILD_DIR = DASHBOARD_DIR / "build"
# What a copy of the project needs besides node_modules, which it shares (build(project=…)).
PROJECT_FILES = ("package.json", "package-lock.json", ".npmrc", "evidence.config.yaml", "evidence.plugins.yaml",
                 "evidence.settings.json", "pages", "queries")
LOG = LOCAL_DIR / "logs" / "make-dashboard.log"
MIN_NODE = 18
DEFAULT_PORT = 3000
LOCAL_URL = f"http://127.0.0.1:{DEFAULT_PORT}/"  # what `make dashboard-serve` serves
READER_ROLE = "bi_reader"
# npm ci ran for this lock file: its hash, kept inside node_modules.
_INSTALLED = DASHBOARD_DIR / "node_modules" / ".edgarflow-lock-sha256"


class DashboardError(RuntimeError):
    pass


def node_version() -> tuple[int, int, int] | None:
    """Node's version, or None when there is no ``node`` on PATH."""
    node = shutil.which("node")
    if node is None:
        return None
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    major, minor, patch = (int(part) for part in re.findall(r"\d+", out)[:3])
    return major, minor, patch


def require_node() -> None:
    version = node_version()
    if version is None or shutil.which("npm") is None:
        raise DashboardError(
            "the dashboard needs Node.js 18 or later with npm, and none is on PATH: install it "
            "(Debian/Ubuntu: `apt-get install nodejs npm`; macOS: `brew install node`), then `make dashboard`"
        )
    if version[0] < MIN_NODE:
        raise DashboardError(
            f"the dashboard needs Node.js {MIN_NODE} or later; this is {'.'.join(map(str, version))}: "
            "upgrade it, then `make dashboard`"
        )


def install() -> None:
    """``npm ci`` from the committed lock file, unless node_modules already holds exactly it."""
    lock = hashlib.sha256((DASHBOARD_DIR / "package-lock.json").read_bytes()).hexdigest()
    if not (_INSTALLED.exists() and _INSTALLED.read_text() == lock):
        _npm("ci")
        _INSTALLED.write_text(lock)


def write_sources(settings: Settings, project: Path = DASHBOARD_DIR) -> dict[str, str]:
    """``project``/sources for ``settings``: each source's connection and its rendered queries.
    Returns the environment Evidence needs besides (a password, if any)."""
    shutil.rmtree(project / "sources", ignore_errors=True)
    connection, variables = _warehouse_source(settings, project)
    _write_source(project, "warehouse", connection, variables)
    connection, env = _operations_source(settings)
    _write_source(project, "operations", connection, {})
    return env


def _warehouse_source(settings: Settings, project: Path) -> tuple[dict, dict[str, str]]:
    if settings.warehouse == "bigquery":
        connection = {
            "type": "bigquery",
            # gcloud-cli: the client's own Application Default Credentials (a service account on
            # the worker, or `gcloud auth application-default login`); no key in a file.
            "options": {"project_id": settings.bq_project, "location": settings.bq_location, "authenticator": "gcloud-cli"},
        }
        schemas = {name: f"`{settings.bq_project}.{settings.bq_dataset}_{name}`" for name in ("marts", "seeds")}
        return connection, {**schemas, "float": "float64"}
    # Evidence opens a DuckDB file read-only, so a build that starts meanwhile waits for it
    # (profiles.yml's retries) instead of failing; the file is in DuckDB 1.4's storage format.
    # Evidence joins the filename to the source's directory, absolute or not: give it relative.
    filename = os.path.relpath(Path(settings.duckdb_path).resolve(), project / "sources" / "warehouse")
    connection = {"type": "duckdb", "options": {"filename": filename}}
    return connection, {"marts": "marts", "seeds": "seeds", "float": "double"}


def _operations_source(settings: Settings) -> tuple[dict, dict[str, str]]:
    from ingest.postgres.connection import dsn

    params = conninfo_to_dict(dsn(settings))
    options = {
        "host": params.get("host", "localhost"),  # a directory for a Unix socket (the embedded server)
        "port": int(params.get("port") or 5432),
        "database": params["dbname"],
        "user": params.get("user", "postgres"),
        "schema": "serving",
        # Every query runs as bi_reader: the serving views and nothing else.
        "options": f"-c role={READER_ROLE}",
    }
    if params.get("sslmode") in ("require", "verify-ca", "verify-full"):
        options["ssl"] = {"rejectUnauthorized": params["sslmode"] == "verify-full"}
    env = {"EVIDENCE_SOURCE__operations__password": params["password"]} if params.get("password") else {}
    return {"type": "postgres", "options": options}, env


def _write_source(project: Path, name: str, connection: dict, variables: dict[str, str]) -> None:
    target = project / "sources" / name
    target.mkdir(parents=True)
    (target / "connection.yaml").write_text(yaml.safe_dump({"name": name, **connection}, sort_keys=False))
    templates = Environment(undefined=StrictUndefined, keep_trailing_newline=True)
    for query in sorted((project / "queries" / name).glob("*.sql")):
        (target / query.name).write_text(templates.from_string(query.read_text()).render(**variables))


def build(settings: Settings, project: Path = DASHBOARD_DIR) -> Path:
    """The static dashboard in ``project``/build over ``settings``' warehouse and PostgreSQL. A
    project other than dashboards/ (a copy of its PROJECT_FILES) shares its node_modules."""
    require_node()
    LOG.unlink(missing_ok=True)
    print(f"dashboard: building {project / 'build'} (npm's output: {LOG})", flush=True)
    install()
    if project != DASHBOARD_DIR and not (project / "node_modules").exists():
        (project / "node_modules").symlink_to(DASHBOARD_DIR / "node_modules", target_is_directory=True)
    env = write_sources(settings, project)
    _npm("run", "sources", env=env, cwd=project)
    shutil.rmtree(project / "build", ignore_errors=True)
    _npm("run", "build", env=env, cwd=project)
    if not (project / "build" / "index.html").exists():
        raise DashboardError(f"Evidence's build wrote no {project / 'build' / 'index.html'}")
    return project / "build"


def _npm(*args: str, env: dict[str, str] | None = None, cwd: Path = DASHBOARD_DIR) -> None:
    run_env = {
        **os.environ,
        **(env or {}),
        # Evidence's telemetry is off by evidence.settings.json; say it to every tool underneath too.
        "DO_NOT_TRACK": "1",
    }
    command = f"npm {' '.join(args)}"
    print(f"  {command} ...", flush=True)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("a") as log:  # npm's and Evidence's output: a log, not the terminal
        log.write(f"\n$ {command}  (in {cwd})\n")
        log.flush()
        result = subprocess.run(["npm", *args], cwd=cwd, env=run_env, stdout=log, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        tail = "".join(LOG.read_text(errors="replace").splitlines(keepends=True)[-30:])
        raise DashboardError(f"`{command}` in {cwd} failed (exit {result.returncode}); the end of {LOG}:\n{tail}")


def server(build_dir: Path = BUILD_DIR, port: int = DEFAULT_PORT) -> http.server.ThreadingHTTPServer:
    """An HTTP server of the static build on 127.0.0.1:``port`` (0: any free port), not yet serving."""
    if not (build_dir / "index.html").exists():
        raise DashboardError(f"no dashboard at {build_dir}: build it with `make dashboard` (after `make run`)")
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_QuietHandler, directory=str(build_dir)))


def serve(port: int = DEFAULT_PORT) -> None:
    with server(BUILD_DIR, port) as httpd:
        print(f"dashboard: http://127.0.0.1:{httpd.server_port}/  (Ctrl-C stops it)", flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.dashboard", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="npm ci, Evidence's sources and static build, into dashboards/build")
    served = commands.add_parser("serve", help="serve dashboards/build on localhost")
    served.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    # The embedded PostgreSQL's wheel warns that it picks /tmp for its runtime directory: noise here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        if args.command == "build":
            _build_and_stop_what_it_started(Settings())
        else:
            serve(args.port)
    except DashboardError as exc:
        sys.exit(f"error: {exc}")


def _build_and_stop_what_it_started(settings: Settings) -> None:
    from ops.services import stop_embedded_servers_unless_airflow_runs

    try:
        built = build(settings)
    finally:  # the embedded PostgreSQL it read, as `make run` does
        stop_embedded_servers_unless_airflow_runs()
    print(f"dashboard built: {built}\n  open it: make dashboard-serve  ({LOCAL_URL})")


if __name__ == "__main__":
    main()
