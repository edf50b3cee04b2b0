"""Load staged datasets into PostgreSQL (COPY into a temporary table, then merge).

A load streams the staged rows into a temporary table with COPY, matches them
to stored rows on the dataset's natural key, updates the rows whose values
differ and inserts the new ones; a re-load of the same data writes nothing. All
of a dataset's rows go in one transaction: a failure (bad row, killed process)
leaves the previous state intact. Loads of a dataset are serialized by a
transaction-scoped advisory lock. Everything here runs as the
``pipeline_loader`` role (``SET LOCAL ROLE``), never as the connecting superuser.

COPY format: Arrow's C++ CSV writer turns each record batch into CSV text and
PostgreSQL parses it, so no row passes through Python. Binary COPY needs psycopg
to build every row as Python objects: measured 3.5x slower on sample facts. The
text is exact: decimals (fact values) as their digits, floats in their shortest round-trip form, timestamps
in UTC.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql
from psycopg.types.json import Jsonb

from ingest.zones import schemas

LOADER_ROLE = "pipeline_loader"
_BATCH_ROWS = 100_000


@dataclass(frozen=True)
class Dataset:
    table: str  # schema-qualified target
    columns: tuple[str, ...]  # staged columns stored in the table
    key: tuple[str, ...]  # natural key, unique in the table; its first column groups rows (cik, ticker)
    nullable_key: tuple[str, ...] = ()  # key columns that may be NULL (compared NULL-safe)
    staging_only: Mapping[str, str] = field(default_factory=dict)  # staged, not stored: name -> SQL type
    touch: str | None = None  # column set to now() when a row changes
    before_merge: str | None = None  # SQL run on the staging table ({stage}) before the merge
    also_writes: tuple[str, ...] = ()  # tables before_merge writes
    # A snapshot: the staged rows are the table's whole content, stored rows not staged are deleted.
    snapshot: bool = False

    @property
    def writes(self) -> list[str]:
        return sorted({self.table, *self.also_writes})


DATASETS: dict[str, Dataset] = {
    "companies": Dataset(
        table="edgar.companies",
        columns=tuple(schemas.COMPANIES.names),
        key=("cik",),
        touch="updated_at",
    ),
    "filings": Dataset(
        table="edgar.filings",
        columns=tuple(schemas.FILINGS.names),
        key=("cik", "accession_number"),
        touch="updated_at",
    ),
    "facts": Dataset(
        table="edgar.financial_facts",
        columns=tuple(n for n in schemas.FACTS.names if n != "entity_name"),
        key=("cik", "taxonomy", "tag", "unit", "period_end", "accession_number", "period_start"),
        nullable_key=("period_start",),
        staging_only={"entity_name": "text"},
        # A company with facts but no submissions still gets its companies row;
        # submissions, when loaded, overwrite this stub.
        before_merge="""
            INSERT INTO edgar.companies (cik, name)
            SELECT cik, min(entity_name) FROM {stage} GROUP BY cik
            ON CONFLICT (cik) DO NOTHING
        """,
        also_writes=("edgar.companies",),
    ),
    # Sections of periodic reports (ingest/text/), searched through serving.search_sections. The
    # staged rows of a filing are all of its sections: a re-read that no longer finds an item
    # (a heading the segmenter now rejects) deletes that item's row rather than leave it searchable.
    "sections": Dataset(
        table="edgar.filing_sections",
        columns=tuple(schemas.SECTIONS.names),
        key=("cik", "accession_number", "item"),
        touch="updated_at",
        before_merge="""
            DELETE FROM edgar.filing_sections t
            USING (SELECT DISTINCT cik, accession_number FROM {stage}) f
            WHERE t.cik = f.cik AND t.accession_number = f.accession_number
              AND NOT EXISTS (
                  SELECT FROM {stage} s
                  WHERE s.cik = t.cik AND s.accession_number = t.accession_number AND s.item = t.item
              )
        """,
    ),
    # Daily bars, in the shape of the fct_market_data contract.
    "prices": Dataset(
        table="edgar.price_history",
        columns=(
            "ticker",
            "trade_date",
            "cik",
            "open",
            "high",
            "low",
            "close",
            "adj_close",
            "volume",
            "dividend",
            "split_ratio",
        ),
        key=("ticker", "trade_date"),
    ),
    # Latest signals per company, published from the warehouse marts.
    "signals": Dataset(
        table="edgar.signals",
        columns=("cik", "accession_number", "as_of_date", "category", "name", "value", "confidence"),
        key=("cik", "category", "name", "as_of_date"),
    ),
    # What the serving views and the Redis cache read besides signals, published from the marts.
    "latest_statements": Dataset(
        table="edgar.latest_statements",
        columns=(
            "cik",
            "statement",
            "period_kind",
            "metric",
            "fiscal_year",
            "fiscal_period",
            "period_start",
            "period_end",
            "value",
            "unit",
            "is_derived",
            "accession_number",
            "filed_date",
        ),
        key=("cik", "statement", "period_kind", "metric"),
        snapshot=True,
    ),
    "latest_valuation": Dataset(
        table="edgar.latest_valuation",
        columns=(
            "ticker",
            "cik",
            "as_of_date",
            "market_cap",
            "enterprise_value",
            "price_to_earnings",
            "price_to_sales",
            "ev_to_ebitda",
            "return_1m",
            "return_3m",
            "return_12m",
            "volatility_3m",
        ),
        key=("ticker",),
        snapshot=True,
    ),
}


class LoadError(Exception):
    """A dataset could not be loaded; nothing of it was written."""


@dataclass(frozen=True)
class LoadResult:
    inserted: int
    updated: int
    unchanged: int
    deleted: int = 0  # snapshots only: stored rows no longer staged

    @property
    def rows(self) -> int:
        return self.inserted + self.updated + self.unchanged


def changed_rows(*results: dict) -> bool:
    """Whether any of these loads (LoadResults as dicts) inserted or updated a row."""
    return any(r["inserted"] or r["updated"] for r in results)


Source = pa.Table | str | os.PathLike[str]


@contextmanager
def as_loader(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """One transaction run as the pipeline_loader role."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(LOADER_ROLE)))
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        # Key checks and DISTINCTs over a whole dataset's stage stay in memory.
        conn.execute("SET LOCAL work_mem = '256MB'")
        yield conn


def load_dataset(
    conn: psycopg.Connection,
    dataset: str,
    tables: pa.Table | Iterable[Source],
    run_id: str | None = None,
) -> LoadResult:
    """Load staged rows (Arrow tables and/or Parquet file paths) into ``dataset``'s table.

    Raises LoadError, with PostgreSQL's reason, when any row is rejected; the
    transaction is then rolled back and the table is as it was.
    """
    if dataset not in DATASETS:
        raise LoadError(f"unknown dataset {dataset!r}; known: {sorted(DATASETS)}")
    spec = DATASETS[dataset]
    sources: Iterable[Source] = [tables] if isinstance(tables, pa.Table) else tables
    ensure_audit_partitions(conn, months_ahead=1)
    try:
        with as_loader(conn):
            stage = _create_stage(conn, dataset, spec)
            staged = _copy_into(conn, stage, spec, sources)
            # One writer per table at a time (COPYs still overlap), always locked in
            # the same order; the merge relies on it to insert without ON CONFLICT.
            for table in spec.writes:
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"edgarflow load {table}",))
            if spec.before_merge:
                conn.execute(sql.SQL(spec.before_merge).format(stage=stage))
            deleted = _delete_unstaged(conn, spec, stage) if spec.snapshot else 0
            result = _merge(conn, spec, stage, staged, deleted)
            # ON COMMIT DROP is not enough when the caller's transaction encloses this one.
            conn.execute(sql.SQL("DROP TABLE {}").format(stage))
            _audit(conn, run_id, "load", spec.table, {"dataset": dataset, **result.__dict__})
    except psycopg.errors.UniqueViolation as exc:
        raise LoadError(
            f"{dataset}: staged rows repeat a natural key ({exc.diag.message_detail}); nothing was loaded"
        ) from exc
    except psycopg.Error as exc:
        detail = f" ({exc.diag.message_detail})" if exc.diag.message_detail else ""
        raise LoadError(f"{dataset}: {exc.diag.message_primary or exc}{detail}; nothing was loaded") from exc
    return result


def _create_stage(conn: psycopg.Connection, dataset: str, spec: Dataset) -> sql.Identifier:
    stage = sql.Identifier(f"stage_{dataset}")
    conn.execute(
        sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
            stage, sql.SQL(", ").join(map(sql.Identifier, spec.columns)), _qualified(spec.table)
        )
    )
    for name, sql_type in spec.staging_only.items():
        conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(stage, sql.Identifier(name), sql.SQL(sql_type)))
    return stage


def _copy_into(conn: psycopg.Connection, stage: sql.Identifier, spec: Dataset, sources: Iterable[Source]) -> int:
    names = [*spec.columns, *spec.staging_only]
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        stage, sql.SQL(", ").join(map(sql.Identifier, names))
    )
    rows = 0
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for source in sources:
            for batch in _batches(source, names):
                buf = io.BytesIO()
                pa_csv.write_csv(_csv_ready(batch), buf, pa_csv.WriteOptions(include_header=False))
                copy.write(buf.getbuffer())
                rows += batch.num_rows
    return rows


def _batches(source: Source, names: list[str]) -> Iterator[pa.RecordBatch]:
    if isinstance(source, pa.Table):
        _require_columns(source.schema, names, "Arrow table")
        yield from source.select(names).to_batches(max_chunksize=_BATCH_ROWS)
        return
    parquet = pq.ParquetFile(source)
    _require_columns(parquet.schema_arrow, names, os.fspath(source))
    yield from parquet.iter_batches(batch_size=_BATCH_ROWS, columns=names)


def _require_columns(schema: pa.Schema, names: list[str], where: str) -> None:
    missing = [n for n in names if n not in schema.names]
    if missing:
        raise LoadError(f"{where} lacks staged columns {missing}")


def _csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """List columns become PostgreSQL array literals; the CSV writer handles the rest."""
    columns = [
        _array_literal(col) if pa.types.is_list(col.type) or pa.types.is_large_list(col.type) else col
        for col in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _array_literal(col: pa.Array) -> pa.Array:
    """list<string> -> '{"a","b"}' text, elements quoted and escaped, NULLs kept."""
    col = col.cast(pa.list_(pa.string()))
    # A sliced list array shares its parent's values: rebase offsets onto the slice's own.
    first, last = col.offsets[0].as_py(), col.offsets[-1].as_py()
    offsets = pc.subtract(col.offsets, first)
    values = col.values.slice(first, last - first)
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    quoted = pc.if_else(pc.is_null(values), "NULL", pc.binary_join_element_wise('"', escaped, '"', ""))
    lists = pa.ListArray.from_arrays(offsets, quoted, mask=col.is_null())
    return pc.binary_join_element_wise("{", pc.binary_join(lists, ","), "}", "")


def _key_match(spec: Dataset) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("t.{0} IS NOT DISTINCT FROM s.{0}" if c in spec.nullable_key else "t.{0} = s.{0}").format(
            sql.Identifier(c)
        )
        for c in spec.key
    )


def _delete_unstaged(conn: psycopg.Connection, spec: Dataset, stage: sql.Identifier) -> int:
    """A snapshot's stored rows whose key is not staged any more (a company gone from the marts)."""
    return conn.execute(
        sql.SQL("DELETE FROM {table} t WHERE NOT EXISTS (SELECT FROM {stage} s WHERE {key_match})").format(
            table=_qualified(spec.table), stage=stage, key_match=_key_match(spec)
        )
    ).rowcount


def _merge(conn: psycopg.Connection, spec: Dataset, stage: sql.Identifier, staged: int, deleted: int) -> LoadResult:
    """Staged rows -> table, writing only rows that are new or differ.

    1. One unique-index probe per staged row takes every row already stored out
       of the stage, keeping aside those whose values differ;
    2. those update their stored rows;
    3. the rest are new and inserted.
    Not one INSERT ... ON CONFLICT DO UPDATE ... WHERE: that locks and WAL-logs
    every conflicting row even when its WHERE is false, and staged facts are each
    company's full current state, so every nightly re-load would dirty the whole
    table to change a handful of rows (measured: 1.4 MB of WAL per unchanged
    company, 0 this way); its speculative insertion also costs ~25% more than a
    plain INSERT (bench/bench_pg_load.py). Plain INSERT is safe because the caller
    holds the table's load lock and no other role writes these tables.
    """
    table = _qualified(spec.table)
    values = [c for c in spec.columns if c not in spec.key]
    lead = sql.Identifier(spec.key[0])
    key_match = _key_match(spec)
    stored, incoming = (
        sql.SQL("({})").format(sql.SQL(", ").join(sql.Identifier(alias, c) for c in values)) for alias in ("t", "s")
    )
    assignments = [sql.SQL("{0} = s.{0}").format(sql.Identifier(c)) for c in values]
    if spec.touch:
        assignments.append(sql.SQL("{} = now()").format(sql.Identifier(spec.touch)))

    # One unique-index probe per staged row, as ON CONFLICT would do, is the right
    # plan for a company's few thousand rows against 100M stored ones and still
    # sound for a backfill. The planner estimates a multi-column key join at ~1 row
    # and would otherwise pick merge or hash joins over whole partitions.
    conn.execute("SET LOCAL enable_hashjoin = off")
    conn.execute("SET LOCAL enable_mergejoin = off")
    # Rows whose leading key (cik, ticker) has nothing stored cannot match: skip their probes (backfills).
    known = conn.execute(
        sql.SQL(
            "SELECT coalesce(array_agg(v), '{{}}') FROM (SELECT DISTINCT {lead} AS v FROM {stage}) d "
            "WHERE EXISTS (SELECT FROM {table} t WHERE t.{lead} = d.v)"
        ).format(lead=lead, stage=stage, table=table)
    ).fetchone()[0]  # type: ignore[index]

    changed = sql.Identifier("stage_changed")
    conn.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT * FROM {} WITH NO DATA").format(changed, stage))
    # Two staged rows matching one stored row are a repeated key; repeats among
    # new rows fail the plain INSERT below on the table's unique key.
    matched, stored_rows = conn.execute(
        sql.SQL(
            "WITH matched AS (DELETE FROM {stage} s USING {table} t WHERE s.{lead} = ANY(%s) AND {key_match} "
            "RETURNING s.*, t.tableoid AS stored_in, t.ctid AS stored_at, {stored} IS DISTINCT FROM {incoming} AS differs), "
            "kept AS (INSERT INTO {changed} SELECT {cols} FROM matched WHERE differs) "
            "SELECT count(*), count(DISTINCT (stored_in, stored_at)) FROM matched"
        ).format(
            stage=stage,
            table=table,
            lead=lead,
            key_match=key_match,
            stored=stored,
            incoming=incoming,
            changed=changed,
            cols=sql.SQL(", ").join(map(sql.Identifier, [*spec.columns, *spec.staging_only])),
        ),
        (known,),
    ).fetchone()  # type: ignore[misc]
    if matched != stored_rows:
        raise LoadError(f"{spec.table}: staged rows repeat a natural key {spec.key}")
    updated = conn.execute(
        sql.SQL("UPDATE {table} t SET {assignments} FROM {changed} s WHERE {key_match}").format(
            table=table, assignments=sql.SQL(", ").join(assignments), changed=changed, key_match=key_match
        )
    ).rowcount
    conn.execute(sql.SQL("DROP TABLE {}").format(changed))
    cols = sql.SQL(", ").join(map(sql.Identifier, spec.columns))
    inserted = conn.execute(
        sql.SQL("INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}").format(table=table, cols=cols, stage=stage)
    ).rowcount
    return LoadResult(inserted=inserted, updated=updated, unchanged=staged - inserted - updated, deleted=deleted)


def _qualified(name: str) -> sql.Identifier:
    return sql.Identifier(*name.split("."))


def _audit(conn: psycopg.Connection, run_id: str | None, action: str, obj: str, detail: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO edgar.audit_log (run_id, action, object, detail) VALUES (%s, %s, %s, %s)",
        (run_id, action, obj, Jsonb(detail)),
    )


def ensure_audit_partitions(conn: psycopg.Connection, months_ahead: int = 3) -> int:
    """Create audit_log partitions for this month and the next ``months_ahead``; returns how many were new."""
    with as_loader(conn):
        row = conn.execute("SELECT edgar.ensure_audit_partitions(%s)", (months_ahead,)).fetchone()
    assert row is not None
    return int(row[0])
