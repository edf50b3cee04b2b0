"""End-of-run summaries: what a run processed, what each store now holds, how the gates went.

The summarize tasks of edgar_nightly and warehouse_build record theirs in PostgreSQL
(pipeline_runs, stage 'summary'); ``python -m ingest.run_summary`` prints the latest of each
(``make run`` ends with it).
"""

from __future__ import annotations

import duckdb

from ingest.postgres import connect
from ingest.settings import Settings

SUMMARY_STAGE = "summary"
NIGHTLY_DAG = "edgar_nightly"
WAREHOUSE_DAG = "warehouse_build"
EXAMPLE_QUERY = (
    "select fiscal_year, metric, value from marts.fct_financial_statements "
    "where cik = '0000320193' and fiscal_period = 'FY' and is_latest "
    "and metric in ('revenue', 'net_income') order by fiscal_year desc limit 6"
)


def build_summary(
    settings: Settings,
    run_id: str,
    extraction: dict,
    staging: dict,
    gates: dict,
    pg_loads: dict,
) -> dict:
    return {
        "run_id": run_id,
        "companies": len({x["cik"] for x in extraction["landed"]}),
        "objects_landed": len(extraction["landed"]),
        "fetch_missing": len(extraction["missing"]),
        "fetch_failed": len(extraction["failed"]),
        "not_modified": len(extraction["unchanged"]),
        "skipped_unchanged": len(extraction["skipped"]),
        "documents_landed": len(extraction["documents"]),
        "quarantined": len(staging["quarantined"]),
        "facts_landed": staging["rows"].get("facts", 0),
        "postgres_rows": _postgres_rows(settings),
        "postgres_loads": pg_loads,
        "gates": gates,
    }


def build_warehouse_summary(settings: Settings, run_id: str, marts: dict, gates: dict, published: dict) -> dict:
    return {
        "run_id": run_id,
        "warehouse_rows": _warehouse_rows(settings),
        "postgres_rows": _postgres_rows(settings),
        "gates": gates,
        "dbt": marts,
        "signals_published": published,
        "warehouse": str(settings.duckdb_path) if settings.warehouse == "duckdb" else f"{settings.bq_project}.{settings.bq_dataset}",
    }


def _postgres_rows(settings: Settings) -> dict[str, int]:
    with connect(settings) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM edgar.{table}").fetchone()[0]
            for table in ("companies", "filings", "financial_facts", "price_history", "signals", "quarantine", "dq_results")
        }


def _warehouse_rows(settings: Settings) -> dict[str, int]:
    if settings.warehouse == "bigquery":
        from google.cloud import bigquery

        client = bigquery.Client(project=settings.bq_project, location=settings.bq_location)
        return {
            f"{ds.dataset_id}.{t.table_id}": client.get_table(t).num_rows or 0
            for ds in client.list_datasets()
            if ds.dataset_id.startswith(settings.bq_dataset)
            for t in client.list_tables(ds)
        }
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables}


def record_summary(settings: Settings, dag_id: str, summary: dict) -> None:
    from ingest.pg_load import record_run

    with connect(settings) as conn:
        record_run(conn, dag_id=dag_id, run_id=summary["run_id"], stage=SUMMARY_STAGE, status="success", counts=summary)


def latest_summary(settings: Settings, dag_id: str = NIGHTLY_DAG) -> dict | None:
    with connect(settings) as conn:
        row = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = %s AND stage = %s ORDER BY finished_at DESC LIMIT 1",
            (dag_id, SUMMARY_STAGE),
        ).fetchone()
    return row[0] if row else None


def render(summary: dict) -> str:
    lines = [
        f"{NIGHTLY_DAG} run {summary['run_id']}",
        f"  companies processed  {summary['companies']:>12,}   (objects landed {summary['objects_landed']:,}, "
        f"not at source {summary['fetch_missing']:,}, fetch failures {summary['fetch_failed']:,}, "
        f"quarantined {summary['quarantined']:,})",
        f"  facts landed         {summary['facts_landed']:>12,}   (filing documents {summary['documents_landed']:,}, "
        f"not modified {summary['not_modified']:,}, filers with nothing new {summary['skipped_unchanged']:,})",
        "  PostgreSQL rows",
        *_counts(summary["postgres_rows"]),
        "  gates",
        *_outcomes(summary["gates"]),
    ]
    return "\n".join(lines)


def render_warehouse(summary: dict) -> str:
    lines = [
        f"{WAREHOUSE_DAG} run {summary['run_id']}",
        f"  dbt nodes            {summary['dbt']['nodes']:>12,}   {summary['dbt']['statuses']}",
        f"  signals published    {summary['signals_published']['signals']:>12,}   (companies {summary['signals_published']['companies']:,})",
        "  warehouse rows",
        *_counts(summary["warehouse_rows"]),
        "  gates",
        *_outcomes(summary["gates"]),
        f"  warehouse            {summary['warehouse']}",
        "  try:",
        f'    .venv/bin/python -m ingest.query "{EXAMPLE_QUERY}"',
    ]
    return "\n".join(lines)


def _counts(rows: dict[str, int]) -> list[str]:
    return [f"    {t:<40}{n:>12,}" for t, n in sorted(rows.items())]


def _outcomes(gates: dict) -> list[str]:
    return [f"    {g:<40}{_outcome(r)}" for g, r in sorted(gates.items())]


def _outcome(result: dict) -> str:
    if result.get("success", True):
        return "passed"
    return "WARNING (alerted, not blocking)" if result.get("blocking") is False else "FAILED"


def main() -> None:
    settings = Settings()
    for dag_id, show in ((NIGHTLY_DAG, render), (WAREHOUSE_DAG, render_warehouse)):
        summary = latest_summary(settings, dag_id)
        print(show(summary) if summary else f"no {dag_id} run recorded yet")


if __name__ == "__main__":
    main()
