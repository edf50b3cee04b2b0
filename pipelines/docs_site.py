"""The docs engineers browse, published with every warehouse build under ``docs/`` in the store.

- ``docs/dbt/index.html``: dbt's docs of the build (``dbt docs generate --static``: one file with
  the manifest and the catalog inside, so it opens from the store or a file:// path), with
  ``manifest.json`` and ``catalog.json`` beside it for tools;
- ``docs/index.html``: one page linking dbt's docs, the dashboard, and the GX data docs of the
  latest result of every suite (each gate writes its own under ``quality/``).

Links are relative, so the tree reads the same from a local store, a GCS bucket served as a
site, or a copy of either.
"""

from __future__ import annotations

import json
import logging
import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from jinja2 import Environment

from ingest.identifiers import safe_name
from ingest.postgres.connection import connect
from ingest.settings import Settings
from ingest.warehouse.runner import ARTIFACTS_DIR, DbtRunError, run_dbt
from ingest.zones.store import ObjectStore
from pipelines.payloads import Docs
from quality.report import data_docs_key

log = logging.getLogger(__name__)

DOCS = "docs"
INDEX = f"{DOCS}/index.html"
DBT_DOCS = f"{DOCS}/dbt"
# What `dbt docs generate --static` writes, and the names they get in the store.
DBT_FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json", "catalog.json": "catalog.json"}


@dataclass(frozen=True)
class Suite:
    stage: str
    suite: str
    success: bool
    evaluated: int
    failed: int
    created_at: datetime
    docs: str | None  # relative to docs/index.html


def publish(settings: Settings, store: ObjectStore, run_id: str) -> Docs:
    """dbt's docs and the index, under docs/ in ``store``. A catalog read in part (a warehouse
    that refuses some catalog queries) still publishes: every node keeps its documented columns,
    and the refused queries are counted; any other failure of dbt fails the task."""
    target = ARTIFACTS_DIR / f"{safe_name(run_id)}-docs" / "target"
    for name in DBT_FILES:  # a retry must not publish the last attempt's files
        (target / name).unlink(missing_ok=True)
    try:
        run_dbt(settings, ["docs", "generate", "--static"], run_id=target.parent.name)
    except DbtRunError:
        if not _catalog_errors(target):
            raise
    catalog_errors = _catalog_errors(target)
    for error in catalog_errors:
        log.warning("dbt docs: the warehouse's catalog was read in part: %s", error)
    for name, published in DBT_FILES.items():
        content_type = "text/html" if name.endswith(".html") else "application/json"
        store.put(f"{DBT_DOCS}/{published}", (target / name).read_bytes(), content_type=content_type)
    suites = latest_suites(settings, store)
    store.put(INDEX, render_index(settings, run_id, suites).encode(), content_type="text/html")
    manifest = json.loads((target / "manifest.json").read_bytes())
    models = sum(node["resource_type"] == "model" for node in manifest["nodes"].values())
    log.info("docs published: %s (dbt docs of %d models, data docs of %d suites)", store.uri(INDEX), models, len(suites))
    return Docs(index=store.uri(INDEX), models=models, suites=len(suites), catalog_errors=len(catalog_errors))


def _catalog_errors(target: Path) -> list[str]:
    """The catalog queries the warehouse refused, as dbt recorded them (none without a catalog)."""
    catalog = target / "catalog.json"
    return (json.loads(catalog.read_bytes()).get("errors") or []) if catalog.exists() else []


def latest_suites(settings: Settings, store: ObjectStore) -> list[Suite]:
    """The latest result of every gate's suite, with its data docs where they were written."""
    with connect(settings) as conn:
        rows = conn.execute(
            """
            SELECT DISTINCT ON (stage, suite) stage, suite, success, evaluated, failed, created_at, result_uri
            FROM edgar.dq_results
            ORDER BY stage, suite, created_at DESC
            """
        ).fetchall()
    return [
        Suite(stage, suite, success, evaluated, failed, created.astimezone(UTC), _docs_link(store, uri))
        for stage, suite, success, evaluated, failed, created, uri in rows
    ]


def _docs_link(store: ObjectStore, result_uri: str | None) -> str | None:
    """A result's data docs, relative to the index; None where none were written."""
    result_key = store.key(result_uri) if result_uri else None
    if result_key is None or not store.exists(docs_key := data_docs_key(result_key)):
        return None
    return quote(posixpath.relpath(docs_key, DOCS))


_INDEX = Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>edgarflow docs</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #1f2933; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e4e7eb; }
.failed { color: #b42318; font-weight: 600; } .passed { color: #05603a; } small { color: #616e7c; }
</style>
</head>
<body>
<h1>edgarflow docs</h1>
<p><small>Published by warehouse_build run {{ run_id }}.</small></p>
<ul>
  <li><a href="dbt/index.html">dbt docs</a>: every model, column, test and exposure of the warehouse, with lineage</li>
  <li><a href="{{ dashboard_url }}">Dashboard</a>: companies, screener, sector benchmarks and pipeline health</li>
  <li><a href="#data-docs">Great Expectations data docs</a>: the latest result of every gate</li>
</ul>
<h2 id="data-docs">Data quality: the latest result of each suite</h2>
<table>
<thead><tr><th>stage</th><th>suite</th><th>result</th><th>checks failed</th><th>validated</th></tr></thead>
<tbody>
{% for s in suites %}
<tr>
  <td>{{ s.stage }}</td>
  <td>{% if s.docs %}<a href="{{ s.docs }}">{{ s.suite }}</a>{% else %}{{ s.suite }}{% endif %}</td>
  <td class="{{ 'passed' if s.success else 'failed' }}">{{ 'passed' if s.success else 'failed' }}</td>
  <td>{{ s.failed }} of {{ s.evaluated }}</td>
  <td>{{ s.created_at.strftime('%Y-%m-%d %H:%M UTC') }}</td>
</tr>
{% endfor %}
</tbody>
</table>
</body>
</html>
"""
)


def render_index(settings: Settings, run_id: str, suites: list[Suite]) -> str:
    return _INDEX.render(run_id=run_id, dashboard_url=settings.dashboard_url, suites=suites)
