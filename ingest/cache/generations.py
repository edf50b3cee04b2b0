"""Versioned cache entries: a refresh writes a whole new generation, then switches one pointer.

An entry's logical key (``company:{cik}``, ``financials:{cik}:{statement}``, ``ratios:{cik}``,
``market:{ticker}``) is stored under its generation, ``edgarflow:g{n}:company:0000320193``, and
``edgarflow:current`` holds n. Readers resolve the pointer and the entry in one server-side
script, so they see generation n or n + 1, never a mix. A refresh:

1. compares the digest of every entry with the current generation's (the hash
   ``edgarflow:g{n}:digests``); when nothing differs and nothing is gone it writes nothing;
2. otherwise writes generation n + 1: new and changed values with SET, unchanged ones copied
   server-side from generation n (COPY, so they cost no transfer), every one with the TTL;
   entries not given again (a company that left the universe) are simply not carried over;
3. switches ``edgarflow:current`` to n + 1 (one SET: atomic);
4. leaves generation n a short grace TTL for an app that read several keys of it just before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import redis

PREFIX = "edgarflow"
CURRENT = f"{PREFIX}:current"
SEQUENCE = f"{PREFIX}:generations"
GRACE_SECONDS = 120
_PIPELINE_BATCH = 1000

# GET the pointer and the entry it points to, in one atomic step (entries are in the one
# database of a standalone server such as Memorystore's; not for Redis Cluster).
_READ = """
local generation = redis.call('GET', KEYS[1])
if not generation then return false end
return redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])
"""


@dataclass(frozen=True)
class Refresh:
    generation: int | None  # the generation readers see after the refresh
    written: int  # entries new or changed: SET
    carried: int  # entries unchanged: copied server-side into the new generation
    removed: int  # entries of the previous generation not given again

    @property
    def switched(self) -> bool:
        return bool(self.written or self.removed)


def entry_key(generation: int, key: str) -> str:
    return f"{PREFIX}:g{generation}:{key}"


def digests_key(generation: int) -> str:
    return entry_key(generation, "digests")


def current(client: redis.Redis) -> int | None:
    value = client.get(CURRENT)
    return int(value) if value is not None else None


def read(client: redis.Redis, key: str) -> bytes | None:
    """The current generation's value of ``key``, or None (no generation, or the entry expired)."""
    return client.eval(_READ, 1, CURRENT, f"{PREFIX}:g", key)


def digest(value: bytes) -> str:
    return hashlib.blake2b(value, digest_size=16).hexdigest()


def refresh(client: redis.Redis, entries: Iterable[tuple[str, bytes]], ttl: int) -> Refresh:
    """Make ``entries`` (logical key, value), and only them, the current generation."""
    previous = current(client)
    stored = (
        {k.decode(): v.decode() for k, v in client.hgetall(digests_key(previous)).items()}
        if previous is not None
        else {}
    )
    wanted = {key: (value, digest(value)) for key, value in entries}
    changed = [key for key, (_, d) in wanted.items() if stored.get(key) != d]
    gone = stored.keys() - wanted.keys()
    if previous is not None and not changed and not gone:
        return Refresh(previous, 0, 0, 0)

    generation = int(client.incr(SEQUENCE))
    changed_keys = set(changed)
    unchanged = [key for key in wanted if key not in changed_keys]
    # COPY answers 0 when the source is gone (expired since it was read): write those values then.
    missing = [key for key, copied in zip(unchanged, _copy(client, previous, generation, unchanged, ttl)) if not copied]
    with client.pipeline(transaction=False) as pipe:
        for i, key in enumerate([*changed, *missing], 1):
            pipe.set(entry_key(generation, key), wanted[key][0], ex=ttl)
            if i % _PIPELINE_BATCH == 0:
                pipe.execute()
        names = list(wanted)
        for start in range(0, len(names), _PIPELINE_BATCH):
            chunk = names[start : start + _PIPELINE_BATCH]
            pipe.hset(digests_key(generation), mapping={key: wanted[key][1] for key in chunk})
        pipe.expire(digests_key(generation), ttl)
        pipe.execute()
    client.set(CURRENT, generation)
    if previous is not None:
        _retire(client, previous, stored)
    return Refresh(generation, len(changed) + len(missing), len(unchanged) - len(missing), len(gone))


def _copy(client: redis.Redis, source: int | None, target: int, keys: list[str], ttl: int) -> list[bool]:
    if source is None or not keys:
        return [False] * len(keys)
    copied: list[bool] = []
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, len(keys), _PIPELINE_BATCH):
            for key in keys[start : start + _PIPELINE_BATCH]:
                pipe.copy(entry_key(source, key), entry_key(target, key))
                pipe.expire(entry_key(target, key), ttl)
            copied.extend(bool(r) for r in pipe.execute()[::2])
    return copied


def _retire(client: redis.Redis, generation: int, entries: Iterable[str]) -> None:
    with client.pipeline(transaction=False) as pipe:
        for i, key in enumerate(entries, 1):
            pipe.expire(entry_key(generation, key), GRACE_SECONDS)
            if i % _PIPELINE_BATCH == 0:
                pipe.execute()
        pipe.expire(digests_key(generation), GRACE_SECONDS)
        pipe.execute()
