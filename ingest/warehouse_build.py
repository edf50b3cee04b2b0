"""The warehouse build, one function per task of the `warehouse_build` DAG.

It runs when either source DAG has loaded new rows (Airflow Assets) or by hand, one run at a
time: every mart is built by one `dbt build` over the raw tables both sources keep current,
so two source DAGs never build into one warehouse at once, and a night on which both sources
land new data builds once.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

from ingest.settings import Settings
from ingest.storage import ObjectStore, open_store

log = logging.getLogger(__name__)

DAG_ID = "warehouse_build"


def build_marts(run_id: str) -> dict:
    """`dbt build` of every model, snapshot, seed and test; run_results.json kept in the store."""
    from ingest.transform import DbtRunError, run_dbt

    settings = Settings()
    store = open_store(settings.storage_url)
    try:
        run = run_dbt(settings, ["build"], run_id=safe_name(run_id))
    except DbtRunError as exc:
        _keep_dbt_results(store, run_id, exc.run.run_results())
        raise
    _keep_dbt_results(store, run_id, run.run_results())
    for node in sorted(run.nodes, key=lambda n: -n.execution_time)[:10]:
        log.info("dbt %-10s %-55s %-7s %6.2fs", node.resource_type, node.name, node.status, node.execution_time)
    return {"nodes": len(run.nodes), "statuses": dict(Counter(n.status for n in run.nodes))}


def _keep_dbt_results(store: ObjectStore, run_id: str, results: dict) -> None:
    if results:
        store.put(f"quality/dbt/run_id={safe_name(run_id)}/run_results.json", json.dumps(results).encode())


def safe_name(run_id: str) -> str:
    """Airflow run ids carry ':' and '+'; keep object keys and paths plain."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)


def publish_signals(run_id: str) -> dict:
    """The latest signals of every company to PostgreSQL, reconciled against the warehouse."""
    from ingest.publish_signals import publish_signals as publish

    return publish(Settings(), run_id)


def check_freshness(run_id: str) -> dict:
    """Freshness and completeness of the whole universe, monitored rather than gating: a filer
    that lags its filings index or never landed is recorded and alerted, and the rest is published."""
    from ingest.nightly import plan_universe
    from quality.gate import GateFailed
    from quality.tasks import gate_freshness

    try:
        return {"success": True, **gate_freshness(run_id, plan_universe())}
    except GateFailed as exc:
        log.warning("freshness/completeness: %s", exc)
        return {"success": False, "blocking": False, "failing": str(exc).splitlines()[:20]}


def summarize(run_id: str, marts: dict, gates: dict, published: dict) -> dict:
    from ingest.run_summary import build_warehouse_summary, record_summary, render_warehouse

    settings = Settings()
    summary = build_warehouse_summary(settings, run_id, marts, gates, published)
    record_summary(settings, DAG_ID, summary)
    log.info("\n%s", render_warehouse(summary))
    return summary
