"""The DuckDB warehouse file, which one process may write or several may read, never both at once.

The `warehouse` Airflow pool (one slot) serializes the writers (raw loads, `dbt build`); a task
that only reads, or a writer that finds a reader's lock, waits for the file instead of failing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import tenacity

log = logging.getLogger(__name__)


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "Could not set lock" in str(exc)


def connect(path: Path, *, read_only: bool, wait_seconds: float, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """A connection to the warehouse file, waiting up to ``wait_seconds`` while another process
    holds it; DuckDB holds at most ``memory_limit`` and spills the rest to disk."""
    for attempt in tenacity.Retrying(
        retry=tenacity.retry_if_exception(_locked),
        wait=tenacity.wait_exponential(multiplier=0.2, max=10),
        stop=tenacity.stop_after_delay(wait_seconds),
        before_sleep=lambda state: log.info("warehouse file %s is in use by another process; waiting", path),
        reraise=True,
    ):
        with attempt:
            return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit})
    raise AssertionError("unreachable: tenacity reraises the last error")
