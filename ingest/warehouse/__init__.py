"""The warehouse (DuckDB locally, BigQuery in production): raw-table loads from the staged zone,
one reader for both engines, and dbt run in-process. Imports the layers below it; never postgres.
"""
