"""End-of-run summaries: what a run processed, what each store now holds, how the gates went.

Each DAG's summarize task records its summary in PostgreSQL (pipeline_runs, stage 'summary');
``python -m pipelines.summaries`` prints the latest of each (``make run`` ends with it).
"""

from __future__ import annotations

from collections.abc import Mapping

from ingest.postgres.connection import connect
from ingest.postgres.runs import SUMMARY_STAGE, latest_summary, record_run
from ingest.settings import Settings
from ingest.warehouse.reader import WarehouseReader
from pipelines.payloads import Built, Extracted, Gate, Loads, Published, Staged

NIGHTLY_DAG = "edgar_nightly"
WAREHOUSE_DAG = "warehouse_build"
POSTGRES_TABLES = ("companies", "filings", "financial_facts", "price_history", "signals", "quarantine", "dq_results")
EXAMPLE_QUERY = (
    "select fiscal_year, metric, value from marts.fct_financial_statements "
    "where cik = '0000320193' and fiscal_period = 'FY' and is_latest "
    "and metric in ('revenue', 'net_income') order by fiscal_year desc limit 6"
)


def nightly_summary(
    settings: Settings,
    run_id: str,
    extractions: list[Extracted],
    stagings: list[Staged],
    gates: Mapping[str, Gate],
    loads: Loads,
) -> dict:
    return {
        "run_id": run_id,
        "companies": sum(x.companies for x in extractions),
        "objects_landed": sum(x.landed for x in extractions),
        "fetch_missing": sum(x.missing for x in extractions),
        "fetch_failed": sum(x.failed for x in extractions),
        "not_modified": sum(x.unchanged for x in extractions),
        "skipped_unchanged": sum(x.skipped for x in extractions),
        "documents_landed": sum(x.documents for x in extractions),
        "quarantined": sum(s.quarantined for s in stagings),
        "facts_landed": sum(s.rows.get("facts", 0) for s in stagings),
        "postgres_rows": postgres_rows(settings),
        "postgres_loads": loads.model_dump()["datasets"],
        "gates": {name: gate.model_dump(mode="json") for name, gate in gates.items()},
    }


def warehouse_summary(
    settings: Settings, run_id: str, built: Built, gates: Mapping[str, Gate], published: Published
) -> dict:
    warehouse = WarehouseReader(settings)
    return {
        "run_id": run_id,
        "warehouse_rows": warehouse.table_rows(),
        "postgres_rows": postgres_rows(settings),
        "gates": {name: gate.model_dump(mode="json") for name, gate in gates.items()},
        "dbt": built.model_dump(),
        "signals_published": {"companies": published.companies, "signals": published.signals,
                              **published.load.model_dump()},  # fmt: skip
        "warehouse": warehouse.location(),
    }


def postgres_rows(settings: Settings) -> dict[str, int]:
    with connect(settings) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM edgar.{t}").fetchone()[0] for t in POSTGRES_TABLES}


def record_summary(settings: Settings, dag_id: str, summary: dict) -> None:
    with connect(settings) as conn:
        record_run(conn, dag_id=dag_id, run_id=summary["run_id"], stage=SUMMARY_STAGE, status="success", counts=summary)


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
    published = summary["signals_published"]
    lines = [
        f"{WAREHOUSE_DAG} run {summary['run_id']}",
        f"  dbt nodes            {summary['dbt']['nodes']:>12,}   {summary['dbt']['statuses']}",
        f"  signals published    {published['signals']:>12,}   (companies {published['companies']:,})",
        "  warehouse rows",
        *_counts(summary["warehouse_rows"]),
        "  gates",
        *_outcomes(summary["gates"]),
        f"  warehouse            {summary['warehouse']}",
        "  try:",
        f'    .venv/bin/python -m ingest.warehouse.query "{EXAMPLE_QUERY}"',
    ]
    return "\n".join(lines)


def _counts(rows: dict[str, int]) -> list[str]:
    return [f"    {t:<40}{n:>12,}" for t, n in sorted(rows.items())]


def _outcomes(gates: dict) -> list[str]:
    return [f"    {g:<40}{Gate.model_validate(r).outcome}" for g, r in sorted(gates.items())]


def main() -> None:
    settings = Settings()
    with connect(settings) as conn:
        summaries = {dag_id: latest_summary(conn, dag_id) for dag_id in (NIGHTLY_DAG, WAREHOUSE_DAG)}
    for dag_id, show in ((NIGHTLY_DAG, render), (WAREHOUSE_DAG, render_warehouse)):
        summary = summaries[dag_id]
        print(show(summary) if summary else f"no {dag_id} run recorded yet")


if __name__ == "__main__":
    main()
