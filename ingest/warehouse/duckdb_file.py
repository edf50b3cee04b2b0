"""The DuckDB warehouse file, which one process may write or several may read, never both at once.

The `warehouse` Airflow pool (one slot) serializes the writers (raw loads, `dbt build`); a task
that only reads, or a writer that finds a reader's lock, waits for the file instead of failing.

The file is written in the storage format of an older DuckDB release (``storage_version``), so
that BI tools, which bundle older DuckDB builds than ours, can open it: DuckDB reads and writes
older formats, never newer ones. A file found in a newer format is rewritten once, in place.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import tenacity

if TYPE_CHECKING:
    from ingest.settings import Settings

log = logging.getLogger(__name__)


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "Could not set lock" in str(exc)


def connect(
    path: Path, *, read_only: bool, wait_seconds: float, memory_limit: str, storage_version: str
) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file, waiting up to ``wait_seconds`` while another process
    holds it; DuckDB holds at most ``memory_limit`` and spills the rest to disk. A writer gets the
    file in ``storage_version``'s format (e.g. ``v1.4.0``), created so or rewritten to it."""
    config = {"memory_limit": memory_limit, "storage_compatibility_version": storage_version}
    for attempt in tenacity.Retrying(
        retry=tenacity.retry_if_exception(_locked),
        wait=tenacity.wait_exponential(multiplier=0.2, max=10),
        stop=tenacity.stop_after_delay(wait_seconds),
        before_sleep=lambda state: log.info("warehouse file %s is in use by another process; waiting", path),
        reraise=True,
    ):
        with attempt:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
    if read_only or not _newer(file_storage_version(con), storage_version):
        return con
    _rewrite(con, path, storage_version)
    return duckdb.connect(str(path), config=config)


def open_warehouse(settings: Settings, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """``connect`` to the warehouse file ``settings`` name, with their lock wait, memory limit and
    storage version."""
    return connect(
        settings.duckdb_path,
        read_only=read_only,
        wait_seconds=settings.duckdb_lock_wait,
        memory_limit=settings.duckdb_memory_limit,
        storage_version=settings.duckdb_storage_version,
    )


def file_storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The oldest DuckDB release that reads the connection's database file, e.g. ``v1.4.0``."""
    (tags,) = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return tags["storage_version"].rstrip("+")


def _newer(version: str, than: str) -> bool:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", v))

    return key(version) > key(than)


def _rewrite(con: duckdb.DuckDBPyConnection, path: Path, storage_version: str) -> None:
    """Copy every schema, table and view into a new file of ``storage_version``'s format, then
    swap it in; the caller holds the only (write) connection, so nothing reads a half-copied file."""
    (current,) = con.execute("SELECT current_database()").fetchone()
    log.warning(
        "warehouse file %s is in DuckDB's %s format, which older readers cannot open; rewriting it as %s",
        path,
        file_storage_version(con),
        storage_version,
    )
    fresh = path.with_name(path.name + ".rewrite")
    fresh.unlink(missing_ok=True)
    con.execute(f"ATTACH '{fresh}' AS rewrite (STORAGE_VERSION '{storage_version}')")
    con.execute(f'COPY FROM DATABASE "{current}" TO rewrite')
    con.execute("DETACH rewrite")
    con.close()
    os.replace(fresh, path)
