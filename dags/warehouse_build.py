"""warehouse_build: raw warehouse tables -> dbt marts -> gates -> published to PostgreSQL -> Redis cache.

| schedule | when |
|----------|------|
| assets `edgar_loaded` or `market_loaded` | after edgar_nightly or market_daily has loaded new rows |

Data-aware: it runs when either source DAG has changed rows in PostgreSQL and the warehouse's raw
tables, and never twice at once, so one `dbt build` at a time writes the marts (see
pipelines/warehouse_build.py). Manual run after fixing a failed build:
`airflow dags trigger warehouse_build`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from edgarflow_defaults import DEFAULT_ARGS, EDGAR_LOADED, MARKET_LOADED, SEC_POOL, WAREHOUSE_POOL, gates, warehouse


@dag(
    dag_id="warehouse_build",
    schedule=(EDGAR_LOADED | MARKET_LOADED),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["warehouse"],
)
def warehouse_build():
    @task(pool=WAREHOUSE_POOL)
    def build_marts(run_id=None):
        return warehouse().build_marts(run_id)

    @task
    def gate_financials(marts, run_id=None):  # the companies this build rebuilt
        return gates().gate_warehouse(run_id, marts.window)

    @task
    def gate_market(run_id=None):
        return gates().gate_market_data(run_id)

    @task
    def check_sign_flips(run_id=None):
        return gates().check_sign_flips(run_id)

    @task
    def publish_signals(run_id=None):
        return warehouse().publish_signals(run_id)

    @task
    def warm_cache():
        return warehouse().warm_cache()

    @task
    def gate_cache(run_id=None):
        return gates().gate_cache(run_id)

    @task(pool=SEC_POOL)  # live, the expected universe is SEC's ticker list: a request to SEC
    def check_freshness(run_id=None):
        return gates().check_universe_freshness(run_id)

    @task(pool=WAREHOUSE_POOL)  # dbt opens the DuckDB file to read its catalog
    def publish_docs(run_id=None):
        return warehouse().publish_docs(run_id)

    @task
    def summarize(marts, financials_gate, market_gate, published, freshness, sign_flips, warmed, cache_gate,
                  docs, run_id=None):  # fmt: skip
        gate_results = {"financials": financials_gate, "market": market_gate, "freshness": freshness,
                        "sign_flips": sign_flips, "cache": cache_gate}  # fmt: skip
        warehouse().summarize(run_id, marts, gate_results, published, warmed, docs)

    marts = build_marts()
    market_gate = gate_market()
    marts >> market_gate
    marts_gates = [gate_financials(marts), market_gate]
    published = publish_signals()
    marts_gates >> published
    freshness = check_freshness()
    published >> freshness
    warmed = warm_cache()
    published >> warmed
    cache_gate = gate_cache()
    warmed >> cache_gate
    sign_flips = check_sign_flips()
    marts >> sign_flips
    # Last: its index links the latest result of every gate, this build's included.
    docs = publish_docs()
    [freshness, cache_gate, sign_flips] >> docs
    summarize(marts, *marts_gates, published, freshness, sign_flips, warmed, cache_gate, docs)


warehouse_build()
