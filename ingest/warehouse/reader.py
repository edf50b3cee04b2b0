"""Read-only SQL against the warehouse Settings choose: the one place that knows both engines'
clients. The gates, the publish step, the run summaries and ``python -m ingest.warehouse.query``
all read through it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa

from ingest.identifiers import sql_name
from ingest.settings import Settings
from ingest.warehouse import duckdb_file


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
            if "." in sql_name(part):
                raise ValueError(f"a schema or table name, not a qualified one: {part!r}")
        if self.settings.warehouse == "bigquery":
            return f"`{self.settings.bq_project}.{self.settings.bq_dataset}_{schema}.{name}`"
        return f"{schema}.{name}"

    def query(self, sql: str, params: Sequence[str | Sequence[str]] = ()) -> pa.Table:
        if self.settings.warehouse == "bigquery":
            return self._bigquery(sql, params)
        with self._duckdb() as con:
            return con.sql(sql, params=list(params) or None).to_arrow_table()

    def frame(self, sql: str, params: Sequence[str | Sequence[str]] = ()) -> pd.DataFrame:
        """The result as pandas, decimals as float64 and dates as datetime64, whichever the warehouse."""
        table = self.query(sql, params)
        floats = pa.schema(
            [f.with_type(pa.float64()) if pa.types.is_decimal(f.type) else f for f in table.schema]
        )
        return table.cast(floats).to_pandas(date_as_object=False)

    def exists(self, schema: str, name: str) -> bool:
        """Whether the table or view exists (none does before the warehouse's first load)."""
        if self.settings.warehouse == "bigquery":
            from google.api_core.exceptions import NotFound

            try:
                self._client().get_table(self.table(schema, name).strip("`"))
            except NotFound:
                return False
            return True
        if not self.settings.duckdb_path.exists():  # before the first load
            return False
        with self._duckdb() as con:
            sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
            return con.execute(sql, [schema, name]).fetchone()[0] > 0

    def table_rows(self) -> dict[str, int]:
        """Rows of every table (not views), as ``schema.table``: on BigQuery the datasets of
        ``bq_dataset``, from table metadata."""
        if self.settings.warehouse == "bigquery":
            client = self._client()
            prefix = f"{self.settings.bq_dataset}_"
            return {
                f"{ds.dataset_id.removeprefix(prefix)}.{t.table_id}": client.get_table(t).num_rows or 0
                for ds in client.list_datasets()
                if ds.dataset_id.startswith(prefix)
                for t in client.list_tables(ds)
                if t.table_type == "TABLE"
            }
        with self._duckdb() as con:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2"
            ).fetchall()
            return {f"{s}.{t}": con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables}

    def location(self) -> str:
        """The DuckDB file, or the BigQuery project and dataset prefix."""
        if self.settings.warehouse == "bigquery":
            return f"{self.settings.bq_project}.{self.settings.bq_dataset}_*"
        return str(self.settings.duckdb_path)

    def _duckdb(self):
        return duckdb_file.open_warehouse(self.settings, read_only=True)

    def _client(self):
        from ingest.warehouse.bigquery_client import bigquery_client

        return bigquery_client(self.settings)

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
        # REST, not the Storage Read API: edgarflow's reads are small (gates, publish, summaries).
        return self._client().query(sql, job_config=config).to_arrow(create_bqstorage_client=False)
