"""Data quality, no Airflow: GX plumbing (gate), plain reports of what gates found (report, light
to import), suites/ (one module per stage), checks/ (reconciliation, freshness, PostgreSQL state,
row quarantine) and alerts. May import ingest; ingest never imports quality.
"""
