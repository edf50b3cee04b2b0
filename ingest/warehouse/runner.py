"""dbt, run in-process over the warehouse that Settings chooses (DuckDB file or BigQuery).

``run_dbt(settings, ["build"])`` runs the project in ``dbt_project/`` with the target named by
``settings.warehouse``; profiles.yml reads the connection from the EDGARFLOW_* variables set
here for the duration of the run, so no connection detail or secret lives in a file. Each run
writes its artifacts (run_results.json, manifest, logs) to a directory of its own, which the
caller can keep; a failed run raises DbtRunError naming the failing nodes.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ingest.settings import LOCAL_DIR, PROJECT_ROOT, Settings
from ingest.warehouse.tables import RAW_SCHEMA

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
ARTIFACTS_DIR = LOCAL_DIR / "dbt"
# Statuses of nodes that did not do their job (skipped nodes only follow a failure upstream).
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
RESULTS_FILES = ("run_results.json", "sources.json")

# dbt keeps global state (flags, adapters, event manager): one invocation at a time per process.
_dbt_lock = threading.Lock()


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_time: float
    failures: int | None
    message: str | None
    compiled_code: str | None


@dataclass(frozen=True)
class DbtRun:
    run_id: str
    args: list[str]
    success: bool
    nodes: list[NodeResult]
    artifacts_dir: Path
    run_results_path: Path | None

    @property
    def failed(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status in FAILED_STATUSES]

    def run_results(self) -> dict:
        """The run's results artifact (run_results.json; sources.json for `source freshness`)."""
        if self.run_results_path is None:
            return {}
        return json.loads(self.run_results_path.read_text())


class DbtRunError(RuntimeError):
    def __init__(self, run: DbtRun, cause: BaseException | None = None):
        self.run = run
        lines = [f"dbt {' '.join(run.args)} failed (run {run.run_id}, artifacts in {run.artifacts_dir})"]
        lines += [f"  {n.resource_type} {n.name}: {n.status}: {(n.message or '').strip()}" for n in run.failed]
        if cause is not None:
            lines.append(f"  {type(cause).__name__}: {cause}")
        elif not run.failed:
            lines.append("  no node failed; see the dbt log in the artifacts directory")
        super().__init__("\n".join(lines))


def _profile_env(settings: Settings) -> dict[str, str]:
    """The variables profiles.yml and the sources read, for the warehouse ``settings`` choose."""
    if settings.warehouse == "bigquery":
        return {
            "EDGARFLOW_BQ_PROJECT": settings.bq_project or "",
            "EDGARFLOW_BQ_DATASET": settings.bq_dataset,
            "EDGARFLOW_BQ_LOCATION": settings.bq_location,
            "EDGARFLOW_BQ_API_ENDPOINT": settings.bq_api_endpoint or "",
            "EDGARFLOW_DBT_RAW_SCHEMA": f"{settings.bq_dataset}_{RAW_SCHEMA}",
        }
    return {
        "EDGARFLOW_DUCKDB_PATH": str(Path(settings.duckdb_path).resolve()),
        "EDGARFLOW_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "EDGARFLOW_DUCKDB_STORAGE_VERSION": settings.duckdb_storage_version,
        "EDGARFLOW_DBT_RAW_SCHEMA": RAW_SCHEMA,
    }


def run_dbt(
    settings: Settings,
    args: list[str],
    *,
    run_id: str | None = None,
    artifacts_dir: Path | None = None,
) -> DbtRun:
    """Run ``dbt <args>`` against the configured warehouse; raise DbtRunError if it fails.

    ``args`` is a dbt command line without project, profile or target options, e.g.
    ``["build", "--select", "marts"]``. Artifacts go to ``artifacts_dir/run_id``
    (default ``.local/dbt/<UTC timestamp>-<random>``).
    """
    from dbt.cli.main import dbtRunner

    run_id = run_id or f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    out = (artifacts_dir or ARTIFACTS_DIR) / run_id
    out.mkdir(parents=True, exist_ok=True)
    for name in RESULTS_FILES:  # a retry under the same run_id must not report the last attempt's results
        (out / "target" / name).unlink(missing_ok=True)
    full_args = [
        *args,
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", settings.warehouse,
        "--target-path", str(out / "target"),
        "--log-path", str(out / "logs"),
        "--no-use-colors",
    ]  # fmt: skip
    env = {"DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **_profile_env(settings)}
    with _dbt_lock, _environ(env):
        result = dbtRunner().invoke(full_args)

    # `source freshness` records its results in sources.json, every other command in run_results.json.
    results_path = next((p for p in (out / "target" / n for n in RESULTS_FILES) if p.exists()), None)
    run = DbtRun(
        run_id=run_id,
        args=list(args),
        success=result.success,
        nodes=_node_results(result.result),
        artifacts_dir=out,
        run_results_path=results_path,
    )
    if not result.success:
        raise DbtRunError(run, result.exception)
    return run


def _node_results(execution) -> list[NodeResult]:
    nodes = []
    for r in getattr(execution, "results", None) or []:
        node = r.node
        failures = getattr(r, "failures", None)
        nodes.append(
            NodeResult(
                unique_id=node.unique_id,
                name=node.name,
                resource_type=str(node.resource_type),
                status=str(r.status),
                execution_time=float(r.execution_time or 0.0),
                failures=int(failures) if failures is not None else None,
                message=getattr(r, "message", None),
                compiled_code=getattr(node, "compiled_code", None),
            )
        )
    return nodes


@contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the block, then restore what was there."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
