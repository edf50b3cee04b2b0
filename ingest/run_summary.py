"""The end-of-run summary: what a run processed, what each store now holds, how the gates went.

The summarize task records it in PostgreSQL (pipeline_runs, stage 'summary');
``python -m ingest.run_summary`` prints the latest one (``make run`` ends with it).
"""

from __future__ import annotations

import duckdb

from ingest.postgres import connect
from ingest.settings import Settings

SUMMARY_STAGE = "summary"
NIGHTLY_DAG = "edgar_nightly"
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
    marts: dict,
    published: dict,
) -> dict:
    with connect(settings) as conn:
        pg_rows = {
            table: conn.execute(f"SELECT count(*) FROM edgar.{table}").fetchone()[0]
            for table in ("companies", "filings", "financial_facts", "price_history", "signals", "quarantine", "dq_results")
        }
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
        "postgres_rows": pg_rows,
        "postgres_loads": pg_loads,
        "warehouse_rows": _warehouse_rows(settings),
        "gates": gates,
        "dbt": marts,
        "signals_published": published,
        "warehouse": str(settings.duckdb_path) if settings.warehouse == "duckdb" else f"{settings.bq_project}.{settings.bq_dataset}",
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


def latest_summary(settings: Settings) -> dict | None:
    with connect(settings) as conn:
        row = conn.execute(
            "SELECT counts FROM edgar.pipeline_runs WHERE dag_id = %s AND stage = %s ORDER BY finished_at DESC LIMIT 1",
            (NIGHTLY_DAG, SUMMARY_STAGE),
        ).fetchone()
    return row[0] if row else None


def render(summary: dict) -> str:
    pg = summary["postgres_rows"]
    wh = summary["warehouse_rows"]
    lines = [
        f"edgarflow run {summary['run_id']}",
        f"  companies processed  {summary['companies']:>12,}   (objects landed {summary['objects_landed']:,}, "
        f"not at source {summary['fetch_missing']:,}, fetch failures {summary['fetch_failed']:,}, "
        f"quarantined {summary['quarantined']:,})",
        f"  facts landed         {summary['facts_landed']:>12,}   (filing documents {summary['documents_landed']:,}, "
        f"not modified {summary['not_modified']:,}, filers with nothing new {summary['skipped_unchanged']:,})",
        "  PostgreSQL rows",
        *(f"    {t:<40}{n:>12,}" for t, n in sorted(pg.items())),
        "  warehouse rows",
        *(f"    {t:<40}{n:>12,}" for t, n in sorted(wh.items())),
        "  gates",
        *(f"    {g:<40}{_outcome(r)}" for g, r in sorted(summary["gates"].items())),
        f"  warehouse            {summary['warehouse']}",
        "  try:",
        f'    .venv/bin/python -m ingest.query "{EXAMPLE_QUERY}"',
    ]
    return "\n".join(lines)


def _outcome(result: dict) -> str:
    if result.get("success", True):
        return "passed"
    return "WARNING (alerted, not blocking)" if result.get("blocking") is False else "FAILED"


def main() -> None:
    summary = latest_summary(Settings())
    print(render(summary) if summary else "no run recorded yet")


if __name__ == "__main__":
    main()
