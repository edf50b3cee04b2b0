"""edgar_nightly: SEC submissions and companyfacts -> raw -> staged -> PostgreSQL + warehouse -> marts.

| schedule | UTC   | New York |
|----------|-------|----------|
| daily    | 06:30 | 01:30/02:30, after SEC's nightly bulk recompile (~03:00 ET is done by then for most days) |
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from common import DEFAULT_ARGS

from ingest import nightly


@dag(
    dag_id="edgar_nightly",
    schedule="30 6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["edgar"],
    params={
        "ciks": Param([], type="array", items={"type": "string", "pattern": r"^\d{1,10}$"},
                      description="Only these CIKs (default: the whole universe)"),
        "tickers": Param([], type="array", items={"type": "string"}, description="Only these tickers"),
    },
)
def edgar_nightly():
    @task
    def plan_universe(params=None) -> list[str]:
        return nightly.plan_universe(params["ciks"], params["tickers"])

    @task
    def extract(ciks: list[str], ds=None, run_id=None) -> dict:
        return nightly.extract(ciks, ds, run_id)

    @task
    def normalize(extraction: dict, run_id=None) -> dict:
        return nightly.normalize(extraction, run_id)

    @task
    def load_warehouse(staging: dict) -> list[dict]:
        return nightly.load_warehouse()

    load_warehouse(normalize(extract(plan_universe())))


edgar_nightly()
