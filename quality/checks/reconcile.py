"""Cross-system reconciliation: per company, staged Parquet, PostgreSQL and the warehouse agree.

Each system is reduced to per-company aggregates (cik, rows, value_sum); ``compare`` lines them up
and ``reconcile`` gates the comparison with GX, so a difference fails the run and names the companies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest.identifiers import sql_name
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import RAW_SCHEMA
from ingest.zones.store import ObjectStore
from quality import suites
from quality.gate import Data, run_gate
from quality.report import GateResult

SYSTEMS = ("staged", "postgres", "warehouse")
AGGREGATES = pa.schema([("cik", pa.string()), ("rows", pa.int64()), ("value_sum", pa.float64())])


def aggregate_sql(table: str, value_column: str | None = "value", companies: str | None = None) -> str:
    """Per-company (cik, row_count, value_sum) of ``table`` (already qualified), in SQL that
    PostgreSQL, DuckDB and BigQuery all accept; each caller brings the sums to float64. Given
    ``companies``, the engine's form of "cik in the list parameter", only theirs."""
    value = f"sum({sql_name(value_column)})" if value_column else "0"
    where = f" WHERE {companies}" if companies else ""
    return f"SELECT cik, count(*) AS row_count, {value} AS value_sum FROM {table}{where} GROUP BY cik"


def staged_aggregates(table: pa.Table, value_column: str | None = "value") -> pa.Table:
    """Per-company aggregates of a staged dataset (value_column None: rows only, value_sum 0)."""
    aggregations = [("cik", "count", pc.CountOptions(mode="all"))]
    if value_column:
        aggregations.append((value_column, "sum"))
    grouped = table.group_by("cik").aggregate(aggregations)
    sums = grouped[f"{value_column}_sum"] if value_column else pa.array(np.zeros(grouped.num_rows))
    return pa.table([grouped["cik"], grouped["cik_count"], sums], schema=AGGREGATES)


def postgres_aggregates(
    conn, table: str = "edgar.financial_facts", value_column: str | None = "value", ciks: list[str] | None = None
) -> pa.Table:
    """Per-company aggregates of a PostgreSQL table, through a psycopg connection (of ``ciks``
    only, when given)."""
    if ciks is None:
        rows = conn.execute(aggregate_sql(sql_name(table), value_column)).fetchall()
    else:
        rows = conn.execute(aggregate_sql(sql_name(table), value_column, "cik = ANY(%s)"), [ciks]).fetchall()
    # numeric sums arrive as Decimal: one float per company, rounded as a cast in SQL would.
    columns = list(zip(*rows)) or [(), (), ()]
    return pa.table([columns[0], columns[1], [None if v is None else float(v) for v in columns[2]]], schema=AGGREGATES)


def warehouse_aggregates(
    warehouse: WarehouseReader,
    table: str = "edgar_facts",
    schema: str = RAW_SCHEMA,
    value_column: str | None = "value",
    ciks: list[str] | None = None,
) -> pa.Table:
    """Per-company aggregates of a warehouse table (DuckDB or BigQuery; of ``ciks`` only, when given)."""
    if ciks is None:
        result = warehouse.query(aggregate_sql(warehouse.table(schema, table), value_column))
    else:
        sql = aggregate_sql(warehouse.table(schema, table), value_column, "cik IN (SELECT * FROM UNNEST(?))")
        result = warehouse.query(sql, [ciks])
    return result.rename_columns(AGGREGATES.names).cast(AGGREGATES)


def compare(staged: Data, postgres: Data, warehouse: Data) -> pd.DataFrame:
    """One row per company seen anywhere: each system's rows and value sum, and relative sum gaps.

    A company absent from a system counts 0 rows there, so it cannot slip through as a null.
    """
    frames = []
    for system, data in zip(SYSTEMS, (staged, postgres, warehouse)):
        frame = (data.to_pandas() if isinstance(data, pa.Table) else data).set_index("cik")
        frames.append(frame[["rows", "value_sum"]].set_axis([f"{system}_rows", f"{system}_sum"], axis=1))
    both = pd.concat(frames, axis=1).fillna(0).rename_axis("cik").sort_index()
    for system in SYSTEMS:
        both[f"{system}_rows"] = both[f"{system}_rows"].astype("int64")
    for system in SYSTEMS[1:]:
        gap = (both[f"{system}_sum"] - both["staged_sum"]).abs()
        both[f"{system}_sum_rel_diff"] = gap / both[["staged_sum", f"{system}_sum"]].abs().max(axis=1).clip(lower=1.0)
    return both.reset_index()


def reconcile(
    dataset: str, staged: Data, postgres: Data, warehouse: Data, *, store: ObjectStore, run_id: str
) -> GateResult:
    """Gate: every company's rows and value sums agree across the three systems (GateFailed names them)."""
    frame = compare(staged, postgres, warehouse)
    return run_gate("reconcile", suites.reconciliation(dataset), frame, store=store, run_id=run_id)

