"""Run one SQL query against the configured warehouse and print the result.

    .venv/bin/python -m ingest.query "select * from marts.dim_metric limit 5"
"""

from __future__ import annotations

import sys

import duckdb

from ingest.settings import Settings


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit(__doc__)
    settings = Settings()
    if settings.warehouse == "bigquery":
        from google.cloud import bigquery

        client = bigquery.Client(project=settings.bq_project, location=settings.bq_location)
        print(client.query(argv[0]).to_dataframe().to_string(index=False))
        return
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        con.sql(argv[0]).show(max_rows=100)


if __name__ == "__main__":
    main(sys.argv[1:])
