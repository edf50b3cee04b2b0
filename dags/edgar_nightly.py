"""edgar_nightly: SEC submissions and companyfacts -> raw -> staged -> PostgreSQL + warehouse raw tables.

| schedule | UTC   | New York        | why |
|----------|-------|-----------------|-----|
| daily    | 06:30 | 01:30 / 02:30   | after SEC's nightly recompile of submissions and companyfacts |

Every stage reads only what the one before it wrote, and gates (GX) stop the run before bad
data moves on: on the raw documents (profiled while normalizing), the staged Parquet, PostgreSQL
after the load, and staged vs PostgreSQL vs warehouse (reconcile). Filers are extracted and
normalized in batches (mapped tasks; extraction in the `sec_api` pool, which shares SEC's rate
budget between workers). A scheduled run asks only about the filers SEC's daily indexes list since
the last run (ingest/sec/daily_index.py) and fetches only what changed (ingest/sec/extract.py).
The primary documents of new 10-K and 10-Q filings land with them and `normalize` stages their
sections (ingest/text/), loaded into PostgreSQL's full-text index and the warehouse.
When the load changed rows, `announce` updates the `edgar_loaded` asset, which schedules
`warehouse_build`.
Manual runs: `airflow dags trigger edgar_nightly --conf '{"tickers": ["AAPL"]}'`,
`--conf '{"filed_from": "2026-01-01", "filed_to": "2026-01-31"}'`, `--conf '{"full_refresh": true}'`,
`--conf '{"bulk": true}'` (full refresh from SEC's nightly bulk zips),
`--conf '{"filed_from": "2023-01-01", "filed_to": "2025-12-31", "documents_only": true}'` (land and
section the primary documents of a date range: a filing-text backfill).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from edgarflow_defaults import (
    DEFAULT_ARGS,
    EDGAR_LOADED,
    SEC_POOL,
    WAREHOUSE_POOL,
    announce_if_changed,
    gates,
    gathered,
    run_day,
    tickers_param,
)  # fmt: skip

from ingest.identifiers import CIK_INPUT
from pipelines.params import EDGAR_BATCH_SIZE


def _nightly():
    # Imported when a task runs, never at parse time: it loads pandas and pyarrow.
    from pipelines import edgar_nightly

    return edgar_nightly


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
        "ciks": Param(
            None, type=["null", "array"],
            items={"type": "string", "pattern": CIK_INPUT, "description": "a CIK is 1 to 10 digits"},
            title="CIKs",
            description="Optional. Only these companies, by CIK: 1 to 10 digits, leading zeros optional, "
                        "one per line, e.g. 320193. Empty: the whole universe.",
        ),
        "tickers": tickers_param("Only these companies, by ticker as SEC lists it, e.g. AAPL or BRK-B"),
        "full_refresh": Param(False, type="boolean",
                              description="Fetch everything again, ignoring what earlier runs landed."),
        "bulk": Param(False, type="boolean",
                      description="Full refresh from SEC's nightly companyfacts.zip and submissions.zip "
                                  "(two requests instead of two or more per filer)."),
        "filed_from": Param(None, type=["null", "string"], format="date",
                            description="Optional. Only filers with a filing on or after this date, e.g. 2026-01-01."),
        "filed_to": Param(None, type=["null", "string"], format="date",
                          description="Optional. Only filers with a filing on or before this date, e.g. 2026-01-31."),
        "documents_only": Param(False, type="boolean",
                                description="Only the primary documents of filings within filed_from..filed_to "
                                            "(a filing-text backfill): companyfacts are not fetched."),
        "batch_size": Param(EDGAR_BATCH_SIZE, type="integer", minimum=1,
                            description=f"Filers per extract task, a whole number of at least 1, e.g. {EDGAR_BATCH_SIZE}."),
    },
)  # fmt: skip
def edgar_nightly():
    @task(pool=SEC_POOL)  # the universe is SEC's ticker list: a request to SEC
    def plan_batches(params=None, dag_run=None, run_id=None):
        return _nightly().plan_batches(
            run_id, run_day(dag_run), params["ciks"], params["tickers"], params["batch_size"], params["bulk"],
            params["full_refresh"], params["filed_from"], params["filed_to"],
        )  # fmt: skip

    @task(pool=SEC_POOL)
    def extract(batch, params=None, dag_run=None, run_id=None):
        return _nightly().extract(
            batch, run_day(dag_run), run_id, full_refresh=params["full_refresh"], bulk=params["bulk"],
            filed_from=params["filed_from"], filed_to=params["filed_to"], documents_only=params["documents_only"],
        )  # fmt: skip

    @task
    def normalize(extracted, run_id=None):
        return _nightly().normalize(extracted, run_id)

    @task
    def gate_raw(stagings, run_id=None):
        return gates().gate_raw(run_id)

    @task
    def gate_staged(stagings, run_id=None):
        return gates().gate_staged(run_id, gathered(stagings))

    @task
    def load_postgres(stagings, run_id=None):
        return _nightly().load_postgres(gathered(stagings), run_id)

    @task(pool=WAREHOUSE_POOL)
    def load_warehouse(stagings, params=None):
        return _nightly().load_warehouse(gathered(stagings), params["bulk"])

    @task
    def gate_postgres(stagings, run_id=None):
        return gates().gate_postgres(run_id, _nightly().run_ciks(gathered(stagings)))

    @task
    def reconcile(stagings, run_id=None):
        return gates().reconcile_facts(run_id, _nightly().run_ciks(gathered(stagings)))

    # Also after a run with no batch (nothing filed since the last run), whose other tasks skipped.
    @task(trigger_rule="none_failed")
    def summarize(extractions, stagings, raw_gate, staged_gate, pg_loads, pg_gate, reconciled, run_id=None):
        gate_results = {"raw": raw_gate, "staged": staged_gate, "postgres": pg_gate, "reconcile": reconciled}
        _nightly().summarize(run_id, gathered(extractions), gathered(stagings), gate_results, pg_loads)

    @task(outlets=[EDGAR_LOADED])
    def announce(pg_loads) -> None:
        announce_if_changed(pg_loads)

    extractions = extract.expand(batch=plan_batches())
    stagings = normalize.expand(extracted=extractions)
    raw_gate = gate_raw(stagings)
    staged_gate = gate_staged(stagings)
    raw_gate >> staged_gate
    pg_loads = load_postgres(stagings)
    warehouse_loads = load_warehouse(stagings)
    staged_gate >> [pg_loads, warehouse_loads]
    pg_gate = gate_postgres(stagings)
    pg_loads >> pg_gate
    reconciled = reconcile(stagings)
    [pg_gate, warehouse_loads] >> reconciled
    summary = summarize(extractions, stagings, raw_gate, staged_gate, pg_loads, pg_gate, reconciled)
    summary >> announce(pg_loads)


edgar_nightly()
