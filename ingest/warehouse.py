"""Warehouse raw tables from the staged Parquet: DuckDB locally, BigQuery load jobs in production.

Each load replaces the raw tables with the current staged state of every company, so it can
be re-run for the same date and changes nothing the second time. dbt reads these tables as sources.
``WarehouseReader`` runs read-only queries against either warehouse (the quality gates use it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd
import pyarrow as pa

from ingest import schemas
from ingest.settings import Settings
from ingest.storage import GCSStore, ObjectStore, local_copies

RAW_SCHEMA = "raw"
MARTS_SCHEMA = "marts"  # dbt's marts layer (dbt_project/macros/generate_schema_name.sql)
# staged dataset -> raw table; partition date and clustering apply to BigQuery.
RAW_TABLES = {
    "facts": ("edgar_facts", "filed", ["cik", "tag"]),
    "companies": ("edgar_companies", None, ["cik"]),
    "filings": ("edgar_filings", "filing_date", ["cik", "form"]),
    "prices": ("yahoo_prices", "trade_date", ["ticker"]),
}


@dataclass(frozen=True)
class RawLoad:
    table: str
    files: int
    rows: int


def staged_keys(store: ObjectStore, dataset: str) -> list[str]:
    return [k for k in store.list(f"staged/{dataset}/") if k.endswith(".parquet")]


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


class WarehouseReader:
    """Read-only SQL against the warehouse ``settings`` choose.

    Queries are written once, in SQL that DuckDB and BigQuery both accept, naming tables through
    ``table()``; parameters are positional (``?``): strings or lists of strings. No connection
    or client exists until ``query`` runs.
    """

    def __init__(self, settings: Settings):
        self.settings = settings

    def table(self, schema: str, name: str) -> str:
        """``schema.name`` in DuckDB; on BigQuery the dataset is prefixed like dbt's schemas
        (`project.<bq_dataset>_<schema>.name`, quoted: project ids may hold '-')."""
        for part in (schema, name):
            if not part.isidentifier() or not part.islower():
                raise ValueError(f"not a plain lowercase SQL identifier: {part!r}")
        if self.settings.warehouse == "bigquery":
            return f"`{self.settings.bq_project}.{self.settings.bq_dataset}_{schema}.{name}`"
        return f"{schema}.{name}"

    def query(self, sql: str, params: Sequence[str | Sequence[str]] = ()) -> pa.Table:
        if self.settings.warehouse == "bigquery":
            return self._bigquery(sql, params)
        with duckdb.connect(str(self.settings.duckdb_path), read_only=True) as con:
            return con.sql(sql, params=list(params) or None).to_arrow_table()

    def frame(self, sql: str, params: Sequence[str | Sequence[str]] = ()) -> pd.DataFrame:
        """The result as pandas, decimals as float64 and dates as datetime64, whichever the warehouse."""
        table = self.query(sql, params)
        floats = pa.schema(
            [f.with_type(pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema]
        )
        return table.cast(floats).to_pandas(date_as_object=False)

    def _bigquery(self, sql: str, params: Sequence[str | Sequence[str]]) -> pa.Table:
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter.positional("STRING", p)
                if isinstance(p, str)
                else bigquery.ArrayQueryParameter.positional("STRING", list(p))
                for p in params
            ]
        )
        client = bigquery.Client(project=self.settings.bq_project, location=self.settings.bq_location)
        return client.query(sql, job_config=config).to_arrow()
