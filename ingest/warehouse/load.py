"""Warehouse raw tables from the staged Parquet: DuckDB locally, BigQuery load jobs in production.

Each load replaces the raw tables with the current staged state of every company, so it can
be re-run for the same date and changes nothing the second time. dbt reads these tables as sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from ingest.settings import Settings
from ingest.warehouse.tables import RAW_SCHEMA, RAW_TABLES
from ingest.zones import schemas
from ingest.zones.staged import staged_keys
from ingest.zones.store import GCSStore, ObjectStore, local_copies


@dataclass(frozen=True)
class RawLoad:
    table: str
    files: int
    rows: int


def load_raw_tables(settings: Settings, store: ObjectStore) -> list[RawLoad]:
    if settings.warehouse == "bigquery":
        return _load_bigquery(settings, store)
    return _load_duckdb(settings, store)


def _load_duckdb(settings: Settings, store: ObjectStore) -> list[RawLoad]:
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    loads = []
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        con.execute("BEGIN")  # all raw tables switch together
        for dataset, (table, _, _) in RAW_TABLES.items():
            keys = staged_keys(store, dataset)
            target = f"{RAW_SCHEMA}.{table}"
            with local_copies(store, keys) as paths:
                if paths:
                    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_parquet(?)", [paths])
                else:
                    empty = schemas.BY_DATASET[dataset].empty_table()  # noqa: F841 (read by DuckDB)
                    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM empty")
            rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            loads.append(RawLoad(target, len(keys), rows))
        con.execute("COMMIT")
    return loads


def _load_bigquery(settings: Settings, store: ObjectStore) -> list[RawLoad]:
    from google.cloud import bigquery

    if not isinstance(store, GCSStore):
        raise ValueError("the BigQuery warehouse loads from GCS: set EDGARFLOW_STORAGE_URL=gs://bucket/prefix")
    client = bigquery.Client(project=settings.bq_project, location=settings.bq_location)
    dataset_id = f"{settings.bq_project}.{settings.bq_dataset}_{RAW_SCHEMA}"
    client.create_dataset(dataset_id, exists_ok=True)
    loads = []
    for dataset, (table, partition_field, cluster) in RAW_TABLES.items():
        keys = staged_keys(store, dataset)
        if not keys:
            continue
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            clustering_fields=cluster,
            parquet_options=_parquet_options(bigquery),
        )
        if partition_field:
            # Monthly: daily partitions over 15+ years of filings would pass BigQuery's 4,000 cap.
            config.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.MONTH, field=partition_field
            )
        uri = store.uri(f"staged/{dataset}/*")
        job = client.load_table_from_uri(uri, f"{dataset_id}.{table}", job_config=config)
        job.result()
        loads.append(RawLoad(f"{dataset_id}.{table}", len(keys), job.output_rows or 0))
    return loads


def _parquet_options(bigquery):
    options = bigquery.ParquetOptions()
    options.enable_list_inference = True  # list<string> columns land as REPEATED STRING
    return options
