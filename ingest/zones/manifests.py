"""Run manifests: what one task of a run handed on, kept in the store so task results stay small.

    manifests/{dag_id}/run_id={run_id}/{task}/{name}.json

A task writes the lists a later task needs (the filers of a batch, the objects it landed, the
files it staged, per-ticker outcomes) here and passes on only the key and counts; a retried task
rewrites its own manifest.
"""

from __future__ import annotations

from typing import Any

import orjson

from ingest.identifiers import run_key, sql_name
from ingest.zones.store import ObjectStore


def manifest_key(dag_id: str, run_id: str, task: str, name: str) -> str:
    for part, what in ((dag_id, "dag id"), (task, "task"), (name, "name")):
        if not part or "/" in part:
            raise ValueError(f"manifest {what} must be non-empty and free of '/': {part!r}")
    sql_name(task)  # plain task names keep the layout readable
    return f"manifests/{dag_id}/run_id={run_key(run_id)}/{task}/{name}.json"


def write_manifest(store: ObjectStore, key: str, content: Any) -> str:
    store.put(key, orjson.dumps(content, option=orjson.OPT_INDENT_2), content_type="application/json")
    return key


def read_manifest(store: ObjectStore, key: str) -> Any:
    return orjson.loads(store.get(key))
