"""Where things are in the warehouse: schema names and the raw tables loaded from the staged zone."""

RAW_SCHEMA = "raw"
MARTS_SCHEMA = "marts"  # dbt's marts layer (dbt_project/macros/generate_schema_name.sql)
# staged dataset -> (raw table, BigQuery partition date, BigQuery clustering).
RAW_TABLES = {
    "facts": ("edgar_facts", "filed", ["cik", "tag"]),
    "companies": ("edgar_companies", None, ["cik"]),
    "filings": ("edgar_filings", "filing_date", ["cik", "form"]),
    "prices": ("yahoo_prices", "trade_date", ["ticker"]),
    "sections": ("edgar_filing_sections", "filing_date", ["cik", "item"]),
    "filing_texts": ("edgar_filing_texts", "filing_date", ["cik"]),
    "text_signals": ("edgar_text_signals", "filing_date", ["cik"]),
}
# Every edgar load appends (cik, loaded_at) for each filer it (re)loaded; build_marts rebuilds the
# filers loaded since the last complete build (ingest/warehouse/changes.py), recorded here.
FILER_LOADS = "edgar_filer_loads"
MART_BUILDS = "mart_builds"
# Each source DAG loads only its own raw tables, after its own gates.
SOURCE_DATASETS = {
    "edgar": ("facts", "companies", "filings", "sections", "filing_texts", "text_signals"),
    "market": ("prices",),
}
