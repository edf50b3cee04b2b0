"""edgar_nightly: SEC submissions and companyfacts -> raw -> staged -> PostgreSQL + warehouse -> marts.

| schedule | UTC   | New York        | why |
|----------|-------|-----------------|-----|
| daily    | 06:30 | 01:30 / 02:30   | after SEC's nightly recompile of submissions and companyfacts |

Every stage reads only what the one before it wrote, and gates (GX) stop the run before bad
data moves on. Manual runs: `airflow dags trigger edgar_nightly --conf '{"tickers": ["AAPL"]}'`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from common import DEFAULT_ARGS

from ingest import nightly
from quality import tasks as gates


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
    def gate_staged(staging: dict, run_id=None) -> dict:
        return gates.gate_staged(run_id)

    @task
    def load_postgres(staging: dict, run_id=None) -> dict:
        return nightly.load_postgres(staging, run_id)

    @task
    def load_warehouse() -> list[dict]:
        return nightly.load_warehouse()

    @task
    def reconcile(run_id=None) -> dict:
        return gates.reconcile_facts(run_id)

    @task
    def build_marts(run_id=None) -> dict:
        return nightly.build_marts(run_id)

    @task
    def gate_marts(run_id=None) -> dict:
        return gates.gate_warehouse(run_id)

    @task
    def check_freshness(ciks: list[str], run_id=None) -> dict:
        return nightly.check_freshness(run_id, ciks)

    @task
    def summarize(extraction, staging, staged_gate, pg_loads, reconciled, marts, marts_gate, freshness, run_id=None):
        gate_results = {"staged": staged_gate, "reconcile": reconciled, "marts": marts_gate, "freshness": freshness}
        return nightly.summarize(run_id, extraction, staging, gate_results, pg_loads, marts)

    ciks = plan_universe()
    extraction = extract(ciks)
    staging = normalize(extraction)
    staged_gate = gate_staged(staging)
    pg_loads = load_postgres(staging)
    warehouse_loads = load_warehouse()
    staged_gate >> [pg_loads, warehouse_loads]
    reconciled = reconcile()
    [pg_loads, warehouse_loads] >> reconciled
    marts = build_marts()
    reconciled >> marts
    marts_gate = gate_marts()
    marts >> marts_gate
    freshness = check_freshness(ciks)
    marts_gate >> freshness
    summarize(extraction, staging, staged_gate, pg_loads, reconciled, marts, marts_gate, freshness)


edgar_nightly()
