"""Warehouse raw tables from the staged Parquet: DuckDB locally, BigQuery load jobs in production.

A load either replaces the given datasets' raw tables with the current staged state of every
company, or, given ``ciks`` (a nightly's filers), replaces only those companies' rows: deleted,
then inserted from their staged files (a company with no file keeps no rows). Either way it can be
re-run for the same date and changes nothing the second time; a dataset with nothing staged
leaves an empty table on both engines. dbt reads these tables as sources.

Every load of edgar's datasets also appends one ``raw.edgar_filer_loads`` row per company it
loaded, with the load's time: how ``dbt build`` finds the filers to rebuild (changes.py).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.settings import Settings
from ingest.warehouse import duckdb_file
from ingest.warehouse.tables import FILER_LOADS, RAW_SCHEMA, RAW_TABLES, SOURCE_DATASETS
from ingest.zones import schemas
from ingest.zones.staged import staged_cik, staged_keys
from ingest.zones.store import GCSStore, ObjectStore, local_copies

FILER_LOADS_SCHEMA = pa.schema([("cik", pa.string()), ("loaded_at", pa.timestamp("us"))])


@dataclass(frozen=True)
class RawLoad:
    table: str
    files: int
    rows: int  # rows loaded: the table's rows, or the given companies' rows


def load_raw_tables(
    settings: Settings,
    store: ObjectStore,
    datasets: Iterable[str] = tuple(RAW_TABLES),
    ciks: Iterable[str] | None = None,
) -> list[RawLoad]:
    """The raw tables of ``datasets`` (staged dataset names; default all) from what is staged:
    whole, or only the rows of ``ciks`` (edgar's datasets only: market's are keyed by ticker)."""
    datasets = tuple(datasets)
    unknown = set(datasets) - set(RAW_TABLES)
    if unknown:
        raise ValueError(f"no raw table for staged datasets {sorted(unknown)}")
    if ciks is not None:
        ciks = sorted(set(ciks))
        not_by_filer = set(datasets) - set(SOURCE_DATASETS["edgar"])
        if not_by_filer:
            raise ValueError(f"datasets {sorted(not_by_filer)} are not loaded by filer")
    keys = {d: staged_keys(store, d, ciks) for d in datasets}
    loaded = _filers_loaded(datasets, keys, ciks)
    if settings.warehouse == "bigquery":
        return _load_bigquery(settings, store, keys, ciks, loaded)
    return _load_duckdb(settings, store, keys, ciks, loaded)


def _filers_loaded(datasets: tuple[str, ...], keys: dict[str, list[str]], ciks: list[str] | None) -> pa.Table:
    """The raw.edgar_filer_loads rows of this load: the companies of edgar's datasets it loaded."""
    if not set(datasets) & set(SOURCE_DATASETS["edgar"]):
        ciks = []
    elif ciks is None:
        ciks = sorted({staged_cik(k) for d in datasets for k in keys[d]})
    now = datetime.now(UTC).replace(tzinfo=None)
    return pa.table({"cik": ciks, "loaded_at": [now] * len(ciks)}, schema=FILER_LOADS_SCHEMA)


def _load_duckdb(
    settings: Settings, store: ObjectStore, keys: dict[str, list[str]], ciks: list[str] | None, loaded: pa.Table
) -> list[RawLoad]:
    settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    loads = []
    with duckdb_file.open_warehouse(settings, read_only=False) as con:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        con.execute("BEGIN")  # the tables of one load switch together
        for dataset, (table, _, _) in RAW_TABLES.items():
            target = f"{RAW_SCHEMA}.{table}"
            empty = schemas.BY_DATASET[dataset].empty_table()  # noqa: F841 (read by DuckDB)
            if dataset not in keys or ciks is not None:
                # Another source's (empty for dbt until its first load), or one to change by filer.
                con.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM empty")
            if dataset not in keys:
                continue
            with local_copies(store, keys[dataset]) as paths:
                source = "read_parquet(?)" if paths else "empty"
                params = [paths] if paths else []
                if ciks is None:
                    con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}", params)
                    rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
                else:
                    con.execute(f"DELETE FROM {target} WHERE cik IN (SELECT cik FROM loaded)")
                    rows = con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM {source}", params).fetchone()[0]
            loads.append(RawLoad(target, len(keys[dataset]), rows))
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{FILER_LOADS} AS SELECT * FROM loaded LIMIT 0")
        con.execute(f"INSERT INTO {RAW_SCHEMA}.{FILER_LOADS} SELECT * FROM loaded")
        con.execute("COMMIT")
    return loads


def _load_bigquery(
    settings: Settings, store: ObjectStore, keys: dict[str, list[str]], ciks: list[str] | None, loaded: pa.Table
) -> list[RawLoad]:
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
        target, ours = f"{dataset_id}.{table}", dataset in keys
        exists = _exists(client, target, NotFound)
        if not ours and exists:
            continue  # another source's table: left as its own load made it
        by_filer = ours and ciks is not None
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            # The staged schema, not one inferred from the files: the same types on every load.
            schema=bigquery_schema(bigquery, schemas.BY_DATASET[dataset]),
            parquet_options=_parquet_options(bigquery),
        )
        if not by_filer or not exists:  # the table itself, partitioned and clustered
            config.clustering_fields = cluster
            if partition_field:
                # Monthly: daily partitions over 15+ years of filings would pass BigQuery's 4,000 cap.
                config.time_partitioning = bigquery.TimePartitioning(
                    type_=bigquery.TimePartitioningType.MONTH, field=partition_field
                )
        files = keys.get(dataset, [])
        if by_filer:
            if not exists:
                client.load_table_from_file(_empty_parquet(dataset), target, job_config=config).result()
            rows = _replace_filers(client, bigquery, store, config, target, dataset, files, ciks)
        else:
            if files:
                job = client.load_table_from_uri(store.uri(f"staged/{dataset}/*"), target, job_config=config)
            else:  # an empty table of the staged schema, as on DuckDB: never a stale one, and dbt's sources exist
                job = client.load_table_from_file(_empty_parquet(dataset), target, job_config=config)
            job.result()
            rows = job.output_rows or 0
        if ours:
            loads.append(RawLoad(target, len(files), rows))
    append_bigquery(client, f"{dataset_id}.{FILER_LOADS}", loaded)
    return loads


def _replace_filers(
    client, bigquery, store: GCSStore, config, target: str, dataset: str, files: list[str], ciks: list[str]
) -> int:
    """The rows of ``ciks`` in ``target`` replaced by their staged ``files``: the files loaded into
    a table of their own, then a delete and an insert. Not one transaction: a load that fails
    between them fails its task, whose retry replaces the same companies again, and records no
    filer load until it succeeds."""
    incoming = f"{target}__incoming"
    if files:
        job = client.load_table_from_uri([store.uri(k) for k in files], incoming, job_config=config)
    else:
        job = client.load_table_from_file(_empty_parquet(dataset), incoming, job_config=config)
    job.result()
    try:
        ciks_param = bigquery.QueryJobConfig(query_parameters=[bigquery.ArrayQueryParameter("ciks", "STRING", ciks)])
        client.query(f"DELETE FROM `{target}` WHERE cik IN UNNEST(@ciks)", job_config=ciks_param).result()
        client.query(f"INSERT INTO `{target}` SELECT * FROM `{incoming}`").result()
        return job.output_rows or 0
    finally:
        client.delete_table(incoming, not_found_ok=True)


def append_bigquery(client, target: str, table: pa.Table) -> None:
    """Rows appended to a BigQuery table, created from the Arrow schema when missing."""
    from google.cloud import bigquery

    if table.num_rows == 0:
        return
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        schema=bigquery_schema(bigquery, table.schema),
    )
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    buffer.seek(0)
    client.load_table_from_file(buffer, target, job_config=config).result()


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
