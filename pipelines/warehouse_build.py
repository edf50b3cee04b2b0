"""The functions the tasks of ``warehouse_build`` call.

It runs when either source DAG has loaded new rows (Airflow Assets) or by hand, one run at a
time: every mart is built by one `dbt build` over the raw tables both sources keep current,
so two source DAGs never build into one warehouse at once, and a night on which both sources
land new data builds once.
"""

from __future__ import annotations

import json
import logging
from collections import Counter

from ingest.identifiers import safe_name
from ingest.publish.cache import warm_cache as warm
from ingest.publish.serving import publish_serving
from ingest.publish.signals import publish_signals as publish
from ingest.settings import Settings
from ingest.warehouse.changes import build_window, record_build
from ingest.warehouse.load import load_raw_tables
from ingest.warehouse.runner import DbtRunError, run_dbt
from ingest.warehouse.tables import SOURCE_DATASETS
from ingest.zones.store import ObjectStore, open_store
from pipelines import docs_site
from pipelines.payloads import Built, Docs, Gate, LoadCounts, Published, TableLoads, Warmed
from pipelines.summaries import record_summary, render_warehouse, warehouse_summary

log = logging.getLogger(__name__)

DAG_ID = "warehouse_build"


def load_warehouse(source: str, ciks: list[str] | None = None) -> TableLoads:
    """A source's staged datasets (edgar or market, after its own gates) into their raw tables;
    both source DAGs end their loads with it. The other source's tables are left as they are.
    ``ciks``: only those companies' rows are replaced (a nightly's filers); None: every table whole."""
    settings = Settings()
    loads = load_raw_tables(settings, open_store(settings.storage_url), SOURCE_DATASETS[source], ciks)
    return TableLoads(tables={x.table: x.rows for x in loads})


def build_marts(run_id: str) -> Built:
    """`dbt build` of every model, snapshot, seed and test, the incremental models over the filers
    loaded since the last complete build (ingest/warehouse/changes.py); run_results.json kept in
    the store."""
    settings = Settings()
    store = open_store(settings.storage_url)
    window = build_window(settings)
    filers = window.filers(settings)
    log.info("rebuilding %d filers loaded after %s through %s", filers, window.after or "the start", window.through)
    dbt_vars = window.dbt_vars()
    args = ["build", "--vars", json.dumps(dbt_vars)]
    try:
        run = run_dbt(settings, args, run_id=safe_name(run_id))
    except DbtRunError as exc:
        _keep_dbt_results(store, run_id, exc.run.run_results())
        raise
    _keep_dbt_results(store, run_id, run.run_results())
    record_build(settings, window, run_id)
    for node in sorted(run.nodes, key=lambda n: -n.execution_time)[:10]:
        log.info("dbt %-10s %-55s %-7s %6.2fs", node.resource_type, node.name, node.status, node.execution_time)
    return Built(
        nodes=len(run.nodes), statuses=dict(Counter(n.status for n in run.nodes)), filers=filers, window=dbt_vars
    )


def _keep_dbt_results(store: ObjectStore, run_id: str, results: dict) -> None:
    if results:
        store.put(f"quality/dbt/run_id={safe_name(run_id)}/run_results.json", json.dumps(results).encode())


def publish_signals(run_id: str) -> Published:
    """What apps read, to PostgreSQL: the latest signals of every company, reconciled against the
    warehouse, and the latest statements and valuation (snapshots) beside them."""
    settings = Settings()
    result = publish(settings, run_id)
    serving = publish_serving(settings, run_id)
    return Published(
        companies=result["companies"],
        signals=result["signals"],
        load=LoadCounts(inserted=result["inserted"], updated=result["updated"], unchanged=result["unchanged"]),
        serving={name: LoadCounts(**vars(load)) for name, load in serving.items()},
    )


def warm_cache() -> Warmed:
    """The Redis cache from PostgreSQL's serving views: only changed documents are written."""
    refresh = warm(Settings())
    log.info("cache generation %s: %s", refresh.generation, refresh)
    return Warmed(
        generation=refresh.generation, written=refresh.written, carried=refresh.carried, removed=refresh.removed
    )


def publish_docs(run_id: str) -> Docs:
    """dbt's docs of this build and the docs index, under docs/ in the store (pipelines/docs_site.py)."""
    settings = Settings()
    return docs_site.publish(settings, open_store(settings.storage_url), run_id)


def summarize(
    run_id: str, built: Built, gates: dict[str, Gate], published: Published, warmed: Warmed, docs: Docs
) -> None:
    """The build's summary, recorded in edgar.pipeline_runs and logged."""
    settings = Settings()
    summary = warehouse_summary(settings, run_id, built, gates, published, warmed, docs)
    record_summary(settings, DAG_ID, summary)
    log.info("\n%s", render_warehouse(summary))
