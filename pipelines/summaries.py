"""End-of-run summaries: what a run processed, what each store now holds, how the gates went.

Each DAG's summarize task records its summary in PostgreSQL (pipeline_runs, stage 'summary');
``python -m pipelines.summaries`` prints the latest of each DAG (``make run`` ends with them).
Every count says what it counts: this run's work, or a table's rows when the run ended (which
later runs, of this DAG or another, change).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from ingest.postgres.connection import connect
from ingest.postgres.runs import SUMMARY_STAGE, failed_results, latest_summary, record_run
from ingest.settings import Settings
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import MARTS_SCHEMA, RAW_SCHEMA
from pipelines.payloads import Built, Docs, Extracted, Gate, Loads, Published, Staged, Warmed
from quality.report import FailedCheck

NIGHTLY_DAG = "edgar_nightly"
MARKET_DAG = "market_daily"
WAREHOUSE_DAG = "warehouse_build"
INTERNAL_SCHEMAS = ("staging.", "intermediate.")
POSTGRES_TABLES = (
    "companies", "filings", "financial_facts", "filing_sections", "price_history", "signals", "quarantine", "dq_results",
)  # fmt: skip
EXAMPLE_QUERY = (
    "select fiscal_year, metric, value from marts.fct_financial_statements "
    "where cik = '0000320193' and fiscal_period = 'FY' and is_latest "
    "and metric in ('revenue', 'net_income') order by fiscal_year desc limit 6"
)
# What a failed monitor (a non-blocking check) means for the person reading the summary.
MONITOR_MEANING = {
    "freshness": "some filers lag their filings index by more than 3 days, or never landed; they are "
                 "alerted and the rest is published (on the sample: 33 of its 46 filers have no companyfacts, "
                 "and Tesla's stop in 2022)",
    "sign_flips": "a later filing reported a fact with the opposite sign (named below with both "
                  "accessions); payments stay non-negative in the marts, the rest is as filed",
    "gaps": "some tickers lack rows on their exchange's trading days (quarantined or missing bars); the "
            "rows present are loaded",
}  # fmt: skip


def nightly_summary(
    settings: Settings,
    run_id: str,
    extractions: list[Extracted],
    stagings: list[Staged],
    gates: Mapping[str, Gate],
    loads: Loads,
) -> dict:
    missing = sum((Counter(x.missing) for x in extractions), Counter())
    return {
        "run_id": run_id,
        "companies": sum(x.companies for x in extractions),
        "objects_landed": sum(x.landed for x in extractions),
        "fetch_missing": sum(missing.values()),
        "missing_by_dataset": dict(missing),
        "fetch_failed": sum(x.failed for x in extractions),
        "blocked_by_sec": sum(x.blocked for x in extractions),
        "not_modified": sum(x.unchanged for x in extractions),
        "skipped_unchanged": sum(x.skipped for x in extractions),
        "documents_landed": sum(x.documents for x in extractions),
        "quarantined": sum(s.quarantined for s in stagings),
        "rows_quarantined": sum(g.quarantined for g in gates.values()),
        "facts_landed": sum(s.rows.get("facts", 0) for s in stagings),
        "filings_sectioned": sum(s.rows.get("filing_texts", 0) for s in stagings),
        "sections_staged": sum(s.rows.get("sections", 0) for s in stagings),
        "postgres_rows": postgres_rows(settings),
        "postgres_loads": loads.model_dump()["datasets"],
        "gates": {name: gate.model_dump(mode="json") for name, gate in gates.items()},
    }


def warehouse_summary(
    settings: Settings,
    run_id: str,
    built: Built,
    gates: Mapping[str, Gate],
    published: Published,
    warmed: Warmed,
    docs: Docs,
) -> dict:
    warehouse = WarehouseReader(settings)
    current = warehouse.query(f"SELECT count(*) AS n FROM {warehouse.table(MARTS_SCHEMA, 'dim_company')} WHERE is_current")
    return {
        "run_id": run_id,
        # What users query and what the build read; dbt's intermediate tables are its own business.
        "warehouse_rows": {t: n for t, n in warehouse.table_rows().items() if not t.startswith(INTERNAL_SCHEMAS)},
        "current_companies": current["n"][0].as_py(),
        "postgres_rows": postgres_rows(settings),
        "gates": {name: gate.model_dump(mode="json") for name, gate in gates.items()},
        "dbt": built.model_dump(),
        "signals_published": {"companies": published.companies, "signals": published.signals,
                              **published.load.model_dump()},  # fmt: skip
        "serving_published": {name: load.model_dump() for name, load in published.serving.items()},
        "cache": warmed.model_dump(),
        "warehouse": warehouse.location(),
        "docs": docs.index,
        "docs_catalog_errors": docs.catalog_errors,
    }


def postgres_rows(settings: Settings) -> dict[str, int]:
    with connect(settings) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM edgar.{t}").fetchone()[0] for t in POSTGRES_TABLES}


def record_summary(settings: Settings, dag_id: str, summary: dict) -> None:
    with connect(settings) as conn:
        record_run(conn, dag_id=dag_id, run_id=summary["run_id"], stage=SUMMARY_STAGE, status="success", counts=summary)


def render(summary: dict) -> str:
    missing = ", ".join(f"{d} {n:,}" for d, n in sorted(summary.get("missing_by_dataset", {}).items()))
    lines = [
        f"{NIGHTLY_DAG} run {summary['run_id']}",
        f"  companies processed  {summary['companies']:>12,}   (objects landed {summary['objects_landed']:,}, "
        f"fetch failures {summary['fetch_failed']:,})",
        *(f"  blocked by SEC       {summary['blocked_by_sec']:>12,}   (SEC's fair-access block page: check "
          "EDGARFLOW_SEC_USER_AGENT and the request rate; these filers are fetched again next run)"
          for _ in [0] if summary.get("blocked_by_sec")),
        f"  not at SEC (404)     {summary['fetch_missing']:>12,}   "
        f"(documents SEC does not have for a filer: {missing or 'none'}; not an error)",
        f"  facts landed         {summary['facts_landed']:>12,}   (filing documents {summary['documents_landed']:,}, "
        f"not modified {summary['not_modified']:,}, filers with nothing new {summary['skipped_unchanged']:,})",
        f"  filings sectioned    {summary.get('filings_sectioned', 0):>12,}   ({summary.get('sections_staged', 0):,} sections "
        "of the primary documents landed, searchable with `python -m ingest.search`)",
        f"  quarantined          {summary['quarantined']:>12,}   documents, and "
        f"{summary.get('rows_quarantined', 0):,} rows, by this run",
        "  PostgreSQL rows when this run ended (every run and source so far; warehouse_build publishes signals later)",
        *_counts(summary["postgres_rows"]),
        "  gates",
        *_outcomes(summary["gates"]),
    ]
    return "\n".join(lines)


def render_market(summary: dict) -> str:
    gates = summary["gates"]
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items()))
    lines = [
        f"{MARKET_DAG} run {summary['run_id']}",
        f"  tickers              {summary['tickers']:>12,}   ({outcomes})",
        f"  rows staged          {summary['rows_staged']:>12,}   (rejected by normalization {summary['rows_rejected']:,}, "
        f"by the staged gate {Gate.model_validate(gates['staged']).quarantined:,}: quarantined)",
        f"  loaded to PostgreSQL {summary['postgres']['inserted']:>12,}   new rows "
        f"(updated {summary['postgres']['updated']:,}, unchanged {summary['postgres']['unchanged']:,})",
        *(f"  not listed by SEC    {', '.join(summary['unlisted'])} (no CIK to keep prices with: skipped)"
          for _ in [0] if summary["unlisted"]),
        *(f"  problem              {p['symbol']} ({p['source']}): {p['status']}, {p['reason']}"
          for p in summary["problems"]),
        "  gates",
        *_outcomes(gates),
    ]  # fmt: skip
    return "\n".join(lines)


def render_warehouse(summary: dict) -> str:
    published = summary["signals_published"]
    rows = summary["warehouse_rows"]
    raw_companies = rows.get(f"{RAW_SCHEMA}.edgar_companies")
    lines = [
        f"{WAREHOUSE_DAG} run {summary['run_id']}",
        f"  dbt nodes            {summary['dbt']['nodes']:>12,}   {summary['dbt']['statuses']}",
        f"  filers rebuilt       {summary['dbt']['filers']:>12,}   "
        + ("(every filer)" if not summary["dbt"]["window"] else "(loaded since the last complete build)"),
        f"  signals published    {published['signals']:>12,}   to PostgreSQL edgar.signals "
        f"(companies {published['companies']:,}; new {published['inserted']:,})",
        *_cache_lines(summary),
        "  warehouse rows",
        *_counts(rows),
    ]
    if raw_companies is not None and "current_companies" in summary:
        lines.append(
            f"    (dim_company has {summary['current_companies']:,} current companies: the {raw_companies:,} of "
            f"raw.edgar_companies, which have submissions, and {summary['current_companies'] - raw_companies:,} "
            "known only from their facts)"
        )
    lines += [
        "  gates",
        *_outcomes(summary["gates"]),
        f"  warehouse            {summary['warehouse']}",
        *([f"  docs                 {summary['docs']}   (dbt docs, GX data docs, the dashboard)"]
          if "docs" in summary else []),
        *([f"    (the warehouse refused {summary['docs_catalog_errors']} catalog queries: see the log of publish_docs)"]
          if summary.get("docs_catalog_errors") else []),  # fmt: skip
        "  try:",
        f'    .venv/bin/python -m ingest.warehouse.query "{EXAMPLE_QUERY}"',
    ]
    return "\n".join(lines)


def _cache_lines(summary: dict) -> list[str]:
    cache = summary.get("cache")
    if cache is None:
        return []
    return [
        f"  cache warmed         {cache['written']:>12,}   documents written to Redis (generation {cache['generation']}; "
        f"unchanged {cache['carried']:,}, removed {cache['removed']:,})",
        '    read: .venv/bin/python -c "from ingest.serving.api import ServingAPI; from ingest.settings import Settings; '
        "print(ServingAPI(Settings()).get_ratios('320193'))\"",
    ]


RENDER = {NIGHTLY_DAG: render, MARKET_DAG: render_market, WAREHOUSE_DAG: render_warehouse}


def render_all(settings: Settings | None = None) -> str:
    """The latest summary of every DAG, in the order make run runs them."""
    with connect(settings or Settings()) as conn:
        summaries = {dag_id: latest_summary(conn, dag_id) for dag_id in (MARKET_DAG, NIGHTLY_DAG, WAREHOUSE_DAG)}
    return "\n\n".join(
        RENDER[dag_id](summary) if summary else f"no {dag_id} run recorded yet" for dag_id, summary in summaries.items()
    )


def render_failed_gates(run_id: str, settings: Settings | None = None) -> str:
    """The gates that failed in ``run_id`` and their failing checks, for a run that stopped on one."""
    with connect(settings or Settings()) as conn:
        failed = failed_results(conn, run_id)
    lines = []
    for stage, suite, checks in failed:
        lines.append(f"  {stage} gate failed: suite {suite}")
        lines += [f"    - {FailedCheck(**check).describe()[:300]}" for check in checks]
    return "\n".join(lines)


def _counts(rows: dict[str, int]) -> list[str]:
    return [f"    {t:<40}{n:>12,}" for t, n in sorted(rows.items())]


def _outcomes(gates: dict) -> list[str]:
    lines = []
    for name, result in sorted(gates.items()):
        gate = Gate.model_validate(result)
        lines.append(f"    {name:<40}{gate.outcome}")
        if not gate.success:
            lines.append(f"      what it means: {MONITOR_MEANING.get(name, 'see the failing checks below')}")
            for line in gate.failing[1:3]:
                lines.append(f"      {line.strip()[:200]}")
                if " e.g. " in line:  # the first failing row's keys, which the cut above may hide
                    lines.append(f"        e.g. {line.split(' e.g. ', 1)[1].split(' | ')[0][:200]}")
    return lines


def main() -> None:
    print(render_all())


if __name__ == "__main__":
    main()
