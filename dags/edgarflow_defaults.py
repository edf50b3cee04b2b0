"""Defaults shared by every edgarflow DAG: retries, timeouts, failure alerts, pools and assets.

Imported at parse time by every DAG file, so it imports only Airflow's SDK, settings and the
light alerting modules: never GX, dbt, pandas or pyarrow (bench/bench_dag_parse.py measures it).
The DAG processor skips this file (dags/.airflowignore): it defines no DAG.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from airflow.sdk import Asset, ExceptionRetryPolicy, Param, RetryAction, RetryRule
from airflow.sdk.exceptions import AirflowSkipException

from ingest.identifiers import TICKER_INPUT, InvalidRequest
from ingest.settings import Settings
from quality.alerts import AlertFailed, post_task_failure
from quality.report import GateFailed

log = logging.getLogger(__name__)

# Shared by every task that calls SEC: its slots divide SEC's rate budget between workers.
SEC_POOL = "sec_api"
# One slot, taken by every task that writes the warehouse (raw loads, dbt build): DuckDB's file
# has one writer at a time, and neither engine should build marts from half-loaded raw tables.
WAREHOUSE_POOL = "warehouse"

# A source's rows loaded into PostgreSQL and the warehouse's raw tables, gated and reconciled;
# an update of either schedules the warehouse build.
EDGAR_LOADED = Asset(name="edgar_loaded", uri="edgarflow://loaded/edgar")
MARKET_LOADED = Asset(name="market_loaded", uri="edgarflow://loaded/market")


def announce_if_changed(loads) -> None:
    """End a source DAG: succeed (and so update the task's outlet asset) only when the load
    (a pipelines.payloads.Loads) inserted or updated rows; a run that changed nothing skips, and
    no warehouse build follows."""
    if not loads.changed:
        raise AirflowSkipException("no row inserted or updated: nothing new for the warehouse")


def tickers_param(description: str) -> Param:
    """An optional list of tickers, each checked against what a person may type for one."""
    return Param(
        None, type=["null", "array"],
        items={"type": "string", "pattern": TICKER_INPUT,
               "description": "a ticker is 1 to 10 letters, digits, '.', '-' or '/'"},
        description=f"Optional. {description}, one per line. Empty: the whole universe.",
    )  # fmt: skip


def gates():
    """pipelines.gates, imported when a gate task runs, never at parse time: it loads GX (~20 s)."""
    from pipelines import gates

    return gates


def warehouse():
    """pipelines.warehouse_build, imported when a task runs (it loads pandas and pyarrow)."""
    from pipelines import warehouse_build

    return warehouse_build


def run_day(dag_run) -> str:
    """The run's day (YYYY-MM-DD): its logical date, or, for a run triggered without one (the
    default of `airflow dags trigger` and of the REST API in Airflow 3), the time it was queued for."""
    return (dag_run.logical_date or dag_run.run_after).date().isoformat()


def gathered(mapped) -> list:
    """The results of a mapped task as a list. One slice request: iterating the lazy sequence
    would probe one index past its end."""
    return list(mapped[:])


def on_task_failure(context) -> None:
    """A task failed for good: record it as a failed stage of its run (serving.pipeline_runs shows
    failed runs to the dashboard), then post it to EDGARFLOW_ALERT_WEBHOOK; gates have already
    posted their checks."""
    from ingest.postgres.runs import record_task_failure  # psycopg: not for parse time

    error = context.get("exception")
    ti = context["ti"]
    settings = Settings()
    record_task_failure(settings, dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, error=error)
    webhook = settings.alert_webhook
    if webhook is None or isinstance(error, GateFailed):
        return
    try:
        post_task_failure(webhook.get_secret_value(), ti.dag_id, ti.run_id, ti.task_id, f"{type(error).__name__}: {error}")
    except AlertFailed as exc:
        log.error("%s", exc)


# Retries are for what may pass next time (SEC or a database briefly away), not for a failed
# gate or a request that can never succeed: those fail at once, with their reason in the log.
NOT_TRANSIENT = ExceptionRetryPolicy(
    rules=[
        RetryRule(GateFailed, RetryAction.FAIL, reason="a data-quality gate failed: not transient"),
        RetryRule(InvalidRequest, RetryAction.FAIL, reason="the run's parameters can never succeed"),
    ]
)

DEFAULT_ARGS = {
    "owner": "edgarflow",
    "retries": 2,
    "retry_policy": NOT_TRANSIENT,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(hours=2),
    "on_failure_callback": on_task_failure,
}
