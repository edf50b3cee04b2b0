"""Which filers a mart build rebuilds: those loaded since the last complete build.

Every edgar raw load appends (cik, loaded_at) to ``raw.edgar_filer_loads`` (load.py). Before
`dbt build`, build_marts reads the window from the last complete build's ``loaded_through`` to
the latest load and passes it to dbt as vars; the incremental models
(dbt_project/macros/filer_incremental.sql) then delete and rebuild the rows of the window's
filers only. After a build that succeeded, the window is recorded in ``raw.mart_builds``, so a
failed build leaves its filers pending for the next. With no build recorded the window is
every filer; `dbt build` by hand, without the vars, rebuilds every filer too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from ingest.settings import Settings
from ingest.warehouse import duckdb_file
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import FILER_LOADS, MART_BUILDS, RAW_SCHEMA

MART_BUILDS_SCHEMA = pa.schema(
    [("run_id", pa.string()), ("built_at", pa.timestamp("us")), ("loaded_through", pa.timestamp("us"))]
)
_VAR_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # a literal both engines cast to TIMESTAMP


@dataclass(frozen=True)
class BuildWindow:
    after: datetime | None  # the last complete build's loaded_through; None: no build recorded
    through: datetime | None  # the latest load; None: nothing loaded yet

    def dbt_vars(self) -> dict[str, str]:
        """The vars the incremental models read; none (every filer) until a build is recorded."""
        if self.after is None:
            return {}
        through = self.through or self.after
        return {
            "filers_loaded_after": f"{self.after:{_VAR_FORMAT}}",
            "filers_loaded_through": f"{through:{_VAR_FORMAT}}",
        }

    @classmethod
    def from_dbt_vars(cls, dbt_vars: dict[str, str]) -> BuildWindow:
        """The window a build's vars describe (XCom carries the vars, not the filers)."""
        if not dbt_vars:
            return cls(after=None, through=None)
        after, through = (
            datetime.strptime(dbt_vars[k], _VAR_FORMAT) for k in ("filers_loaded_after", "filers_loaded_through")
        )
        return cls(after=after, through=through)

    @property
    def every_filer(self) -> bool:
        return self.after is None

    def filers_sql(self, reader: WarehouseReader) -> tuple[str, list[str]]:
        """A query of the window's filers (column cik), and its parameters; every filer loaded
        when no build is recorded."""
        sql = f"SELECT DISTINCT cik FROM {reader.table(RAW_SCHEMA, FILER_LOADS)}"
        if self.every_filer:
            return sql, []
        vars_ = self.dbt_vars()
        sql += " WHERE loaded_at > CAST(? AS TIMESTAMP) AND loaded_at <= CAST(? AS TIMESTAMP)"
        return sql, [vars_["filers_loaded_after"], vars_["filers_loaded_through"]]

    def filers(self, settings: Settings) -> int:
        """How many filers the window holds."""
        reader = WarehouseReader(settings)
        if self.through is None:
            return 0
        sql, params = self.filers_sql(reader)
        return reader.query(f"SELECT count(*) AS n FROM ({sql}) AS filers", params).column("n")[0].as_py()


def build_window(settings: Settings) -> BuildWindow:
    reader = WarehouseReader(settings)
    return BuildWindow(
        after=_latest(reader, MART_BUILDS, "loaded_through"), through=_latest(reader, FILER_LOADS, "loaded_at")
    )


def _latest(reader: WarehouseReader, table: str, column: str) -> datetime | None:
    if not reader.exists(RAW_SCHEMA, table):
        return None
    value = reader.query(f"SELECT max({column}) AS latest FROM {reader.table(RAW_SCHEMA, table)}").column("latest")[0]
    return None if value.as_py() is None else value.as_py().replace(tzinfo=None)


def record_build(settings: Settings, window: BuildWindow, run_id: str) -> None:
    """The window as built: the next build starts after its ``through``."""
    if window.through is None:
        return
    row = pa.table(
        {"run_id": [run_id], "built_at": [datetime.now(UTC).replace(tzinfo=None)], "loaded_through": [window.through]},
        schema=MART_BUILDS_SCHEMA,
    )
    if settings.warehouse == "bigquery":
        from ingest.warehouse.bigquery_client import bigquery_client
        from ingest.warehouse.load import append_bigquery

        target = f"{settings.bq_project}.{settings.bq_dataset}_{RAW_SCHEMA}.{MART_BUILDS}"
        append_bigquery(bigquery_client(settings), target, row)
        return
    with duckdb_file.open_warehouse(settings, read_only=False) as con:
        con.execute(f"CREATE TABLE IF NOT EXISTS {RAW_SCHEMA}.{MART_BUILDS} AS SELECT * FROM row LIMIT 0")
        con.execute(f"INSERT INTO {RAW_SCHEMA}.{MART_BUILDS} SELECT * FROM row")
