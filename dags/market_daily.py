"""market_daily: Yahoo daily prices and corporate actions (yfinance) -> raw -> staged -> PostgreSQL
+ warehouse raw table; when rows changed, `announce` updates the `market_loaded` asset, which
schedules `warehouse_build` (fct_market_data).

| schedule      | UTC   | New York (EST / EDT) | why |
|---------------|-------|----------------------|-----|
| Mon-Fri       | 22:30 | 17:30 / 18:30        | after the US close (16:00 New York) and Yahoo's end-of-day bars |

Each ticker is fetched from its last stored day less a short look-back (a revision there
re-fetches its whole history); tickers that fail or carry bad data are reported and quarantined
while the others land. Manual runs for given tickers and dates:
`airflow dags trigger market_daily --conf '{"tickers": ["AAPL", "BRK.B"], "start": "2024-01-01", "end": "2024-07-01"}'`.
`backfill_csv` (default: on in sample mode) fills older days from the Yahoo CSVs in
EDGARFLOW_SAMPLE_DIR/market/yahoo_csv.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, task
from edgarflow_defaults import (
    DEFAULT_ARGS,
    MARKET_LOADED,
    SEC_POOL,
    WAREHOUSE_POOL,
    announce_if_changed,
    gates,
    gathered,
    run_day,
    tickers_param,
    warehouse,
)  # fmt: skip

from pipelines.params import MARKET_BATCH_SIZE


def _market():
    # Imported when a task runs, never at parse time: it loads pandas, pyarrow and yfinance.
    from pipelines import market_daily

    return market_daily


@dag(
    dag_id="market_daily",
    schedule="30 22 * * 1-5",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["market"],
    params={
        "tickers": tickers_param("Only these tickers, SEC or Yahoo spelling, e.g. AAPL or BRK.B"),
        "start": Param(None, type=["null", "string"], format="date",
                       description="Optional. First day to fetch, e.g. 2024-01-01. Empty: incremental per ticker."),
        "end": Param(None, type=["null", "string"], format="date",
                     description="Optional. Day after the last one to fetch, e.g. 2024-07-01. Empty: the day after "
                                 "the run's date."),
        "batch_size": Param(MARKET_BATCH_SIZE, type="integer", minimum=1,
                            description=f"Tickers per fetch task, a whole number of at least 1, e.g. {MARKET_BATCH_SIZE}."),
        "backfill_csv": Param(None, type=["null", "boolean"],
                              description="Optional. Fill older days from Yahoo CSVs. Empty: in sample mode only."),
    },
)  # fmt: skip
def market_daily():
    @task(pool=SEC_POOL)  # the universe is SEC's ticker list: a request to SEC
    def plan_universe(params=None, run_id=None):
        return _market().plan_universe(run_id, params["tickers"], params["batch_size"])

    @task
    def fetch_prices(batch, params=None, dag_run=None, run_id=None):
        return _market().fetch_prices(batch, run_day(dag_run), run_id, params["start"], params["end"])

    @task
    def backfill_csv(batch, params=None, dag_run=None, run_id=None):
        return _market().backfill_csv(batch, run_day(dag_run), run_id, params["backfill_csv"])

    @task
    def gate_staged(fetched, backfilled, run_id=None):
        return gates().gate_market_staged([*gathered(fetched), *gathered(backfilled)], run_id)

    @task
    def load_postgres(fetched, backfilled, run_id=None):
        return _market().load_postgres([*gathered(fetched), *gathered(backfilled)], run_id)

    @task(pool=WAREHOUSE_POOL)
    def load_warehouse():
        return warehouse().load_warehouse("market")

    @task
    def check_gaps(batches, run_id=None):
        return gates().check_price_gaps(batches, run_id)

    @task
    def summarize(fetched, backfilled, staged_gate, pg_load, gaps, run_id=None):
        gate_results = {"staged": staged_gate, "gaps": gaps}
        _market().summarize(run_id, gathered(fetched), gathered(backfilled), gate_results, pg_load)

    @task(outlets=[MARKET_LOADED])
    def announce(pg_load) -> None:
        announce_if_changed(pg_load)

    batches = plan_universe()
    fetched = fetch_prices.expand(batch=batches)
    # After the chart fetch, so a CSV only fills days the chart API left empty.
    backfilled = backfill_csv.expand(batch=batches)
    fetched >> backfilled
    staged_gate = gate_staged(fetched, backfilled)
    pg_load = load_postgres(fetched, backfilled)
    warehouse_loaded = load_warehouse()
    staged_gate >> [pg_load, warehouse_loaded]
    gaps = check_gaps(batches)
    warehouse_loaded >> gaps
    summarize(fetched, backfilled, staged_gate, pg_load, gaps) >> announce(pg_load)


market_daily()
