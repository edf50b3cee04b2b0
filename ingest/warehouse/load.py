"""Warehouse raw tables from the staged Parquet: DuckDB locally, BigQuery load jobs in production.

Each load replaces the given datasets' raw tables with the current staged state of every
company, so it can be re-run for the same date and changes nothing the second time; a dataset
with nothing staged leaves an empty table on both engines. dbt reads these tables as sources.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.settings import Settings
from ingest.warehouse import duckdb_file
from ingest.warehouse.tables import RAW_SCHEMA, RAW_TABLES
from ingest.zones import schemas
from ingest.zones.staged import staged_keys
from ingest.zones.store import GCSStore, ObjectStore, local_copies


@dataclass(frozen=True)
class RawLoad:
    table: str
    files: int
    rows: int


def load_raw_tables(settings: Settings, store: ObjectStore, datasets: Iterable[str] = tuple(RAW_TABLES)) -> list[RawLoad]:
    """The raw tables of ``datasets`` (staged dataset names; default all) from what is staged."""
    datasets = tuple(datasets)
    unknown = set(datasets) - set(RAW_TABLES)
    if unknown:
        raise ValueError(f"no raw table for staged datasets {sorted(unknown)}")
    if settings.warehouse == "bigquery":
        return _load_bigquery(settings, store, datasets)
    return _load_duckdb(settings, store, datasets)


def _load_duckdb(settings: Settings, store: ObjectStore, datasets: tuple[str, ...]) -> list[RawLoad]:
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    loads = []
    with duckdb_file.connect(
        settings.duckdb_path,
        read_only=False,
        wait_seconds=settings.duckdb_lock_wait,
        memory_limit=settings.duckdb_memory_limit,
        storage_version=settings.duckdb_storage_version,
    ) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        con.execute("BEGIN")  # the tables of one load switch together
        for dataset, (table, _, _) in RAW_TABLES.items():
            target = f"{RAW_SCHEMA}.{table}"
            empty = schemas.BY_DATASET[dataset].empty_table()  # noqa: F841 (read by DuckDB)
            if dataset not in datasets:  # another source's: created empty for dbt until its first load
                con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM empty")
                continue
            keys = staged_keys(store, dataset)
            with local_copies(store, keys) as paths:
                if paths:
                    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM read_parquet(?)", [paths])
                else:
                    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM empty")
            rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
            loads.append(RawLoad(target, len(keys), rows))
        con.execute("COMMIT")
    return loads


def _load_bigquery(settings: Settings, store: ObjectStore, datasets: tuple[str, ...]) -> list[RawLoad]:
    from google.api_core.exceptions import NotFound
    from google.cloud import bigquery

    from ingest.warehouse.bigquery_client import bigquery_client

    if not isinstance(store, GCSStore):
        raise ValueError("the BigQuery warehouse loads from GCS: set EDGARFLOW_STORAGE_URL=gs://bucket/prefix")
    client = bigquery_client(settings)
    dataset_id = f"{settings.bq_project}.{settings.bq_dataset}_{RAW_SCHEMA}"
    client.create_dataset(dataset_id, exists_ok=True)
    loads = []
    for dataset, (table, partition_field, cluster) in RAW_TABLES.items():
        target, ours = f"{dataset_id}.{table}", dataset in datasets
        if not ours and _exists(client, target, NotFound):
            continue  # another source's table: left as its own load made it
        keys = staged_keys(store, dataset) if ours else []
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            # The staged schema, not one inferred from the files: the same types on every load.
            schema=bigquery_schema(bigquery, schemas.BY_DATASET[dataset]),
            clustering_fields=cluster,
            parquet_options=_parquet_options(bigquery),
        )
        if partition_field:
            # Monthly: daily partitions over 15+ years of filings would pass BigQuery's 4,000 cap.
            config.time_partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.MONTH, field=partition_field
            )
        if keys:
            uri = store.uri(f"staged/{dataset}/*")
            job = client.load_table_from_uri(uri, target, job_config=config)
        else:  # an empty table of the staged schema, as on DuckDB: never a stale one, and dbt's sources exist
            job = client.load_table_from_file(_empty_parquet(dataset), target, job_config=config)
        job.result()
        if ours:
            loads.append(RawLoad(target, len(keys), job.output_rows or 0))
    return loads


def _exists(client, table: str, not_found: type[Exception]) -> bool:
    try:
        client.get_table(table)
    except not_found:
        return False
    return True


def _empty_parquet(dataset: str) -> io.BytesIO:
    buffer = io.BytesIO()
    pq.write_table(schemas.BY_DATASET[dataset].empty_table(), buffer)
    buffer.seek(0)
    return buffer


# Arrow types of the staged schemas -> BigQuery column types.
_BIGQUERY_TYPES = (
    (pa.types.is_string, "STRING"),
    (pa.types.is_integer, "INT64"),
    (pa.types.is_floating, "FLOAT64"),
    (pa.types.is_boolean, "BOOL"),
    (pa.types.is_date, "DATE"),
    (pa.types.is_timestamp, "TIMESTAMP"),
    (pa.types.is_decimal, "NUMERIC"),  # decimal128(38, 9): NUMERIC's precision and scale exactly
)


def bigquery_schema(bigquery, schema: pa.Schema) -> list:
    """A staged Arrow schema as BigQuery fields, in its order (a list of strings is REPEATED STRING)."""
    fields = []
    for field in schema:
        arrow_type, mode = field.type, "NULLABLE"
        if pa.types.is_list(arrow_type):
            arrow_type, mode = arrow_type.value_type, "REPEATED"
        bq_type = next((bq for is_type, bq in _BIGQUERY_TYPES if is_type(arrow_type)), None)
        if bq_type is None:
            raise ValueError(f"no BigQuery type for staged column {field.name} ({field.type})")
        fields.append(bigquery.SchemaField(field.name, bq_type, mode=mode))
    return fields


def _parquet_options(bigquery):
    options = bigquery.ParquetOptions()
    options.enable_list_inference = True  # list<string> columns land as REPEATED STRING
    return options
