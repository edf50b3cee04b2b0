"""Gate a stage: validate a batch with GX, publish the result and data docs, fail loudly.

Layout in the object store, per stage, run and suite:
    quality/{stage}/run_id={run_id}/{suite}/result.json     GX validation result
    quality/{stage}/run_id={run_id}/{suite}/docs/index.html GX data docs site of this validation
    quality/{stage}/run_id={run_id}/{suite}/part-{n}/...     the same, per part of a batch validated in parts
    quality/{stage}/baseline/{suite}.json                   row count (and ``baseline`` extras) of the last passing run
"""

from __future__ import annotations

import math
import mimetypes
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import great_expectations as gx
import orjson
import pandas as pd
import pyarrow as pa
from great_expectations.checkpoint import UpdateDataDocsAction
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import ProgressBarsConfig

from ingest.identifiers import run_key
from ingest.postgres.runs import record_dq_result
from ingest.zones.store import ObjectStore
from quality.report import DOCS_DIR, RESULT_FILE, FailedCheck, GateFailed, GateResult
from quality.suites import Suite

Data = pa.Table | pd.DataFrame

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SITE = "edgarflow"
# GX keeps this many unexpected values and row indices per check in the partial lists.
_PARTIAL = 20
# Example rows, and companies named, per failing check in messages and dq_results.
_EXAMPLES = 5
_AFFECTED = 20
# Whole unexpected lists stay out of the stored result: the rows themselves go to quarantine.
_BULKY = ("unexpected_list", "unexpected_index_list")
# Fonts and images are cosmetic and weigh 4 MB per site; the pages take their CSS from CDNs.
_SKIPPED_DOCS = ("static/fonts/", "static/images/")
_COLUMN_ARGS = ("column", "column_A", "column_B", "column_list")
_NOT_EXPECTED = {"batch_id", "result_format", "catch_exceptions", *_COLUMN_ARGS}


def run_gate(
    stage: str,
    suite: Suite,
    data: Data,
    *,
    store: ObjectStore,
    run_id: str,
    baseline: Mapping[str, Any] | None = None,
    part: int | None = None,
) -> GateResult:
    """Validate ``data`` against ``suite``; raise GateFailed when it fails.

    The result JSON and data docs are written either way; a passing run also becomes the
    baseline, with ``baseline``'s entries beside its row count. ``part``: ``data`` is part n of a
    batch validated in parts (bounded memory); its result and docs go under ``part-{n}/`` and it
    sets no baseline.
    """
    _check_name(stage, "stage")
    _check_name(suite.name, "suite name")
    run_key(run_id)
    frame = data.to_pandas() if isinstance(data, pa.Table) else data.reset_index(drop=True)
    if suite.derive is not None:
        frame = suite.derive(frame)

    prefix = f"quality/{stage}/run_id={run_id}/{suite.name}" + (f"/part-{part:05d}" if part is not None else "")
    with tempfile.TemporaryDirectory(prefix="edgarflow-docs-") as docs_dir:
        validation = _validate(suite.to_gx(), frame, run_id, docs_dir).to_json_dict()
        store.delete_prefix(f"{prefix}/{DOCS_DIR}/")  # a re-run replaces the site, not adds to it
        docs_uri = _publish_docs(store, Path(docs_dir), f"{prefix}/{DOCS_DIR}/")

    checks = validation["results"]
    # Both read the full index lists that _slim drops.
    row_failures = _row_failures(checks)
    failing = tuple(_failed_check(c, frame, suite.keys) for c in checks if not c["success"])
    store.put(f"{prefix}/{RESULT_FILE}", orjson.dumps(_slim(validation), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY), "application/json")
    result = GateResult(
        run_id=run_id,
        stage=stage,
        suite=suite.name,
        success=bool(validation["success"]),
        evaluated=validation["statistics"]["evaluated_expectations"],
        failed=validation["statistics"]["unsuccessful_expectations"],
        row_count=len(frame),
        failing=failing,
        result_uri=store.uri(f"{prefix}/{RESULT_FILE}"),
        docs_uri=docs_uri,
        row_failures=row_failures,
    )
    if not result.success:
        raise GateFailed(result)
    if part is not None:
        return result
    passed = {**(baseline or {}), "run_id": run_id, "row_count": result.row_count}
    store.put(_baseline_key(stage, suite.name), orjson.dumps(passed), "application/json")
    return result


def previous_baseline(store: ObjectStore, stage: str, suite_name: str) -> dict[str, Any] | None:
    """What the last run that passed ``suite_name`` at ``stage`` recorded (None before the first)."""
    key = _baseline_key(stage, suite_name)
    return orjson.loads(store.get(key)) if store.exists(key) else None


def previous_row_count(store: ObjectStore, stage: str, suite_name: str) -> int | None:
    """Row count of the last run that passed ``suite_name`` at ``stage`` (None before the first)."""
    previous = previous_baseline(store, stage, suite_name)
    return previous["row_count"] if previous else None


def record_result(conn, result: GateResult) -> int:
    """Append the outcome to edgar.dq_results; returns the row id."""
    return record_dq_result(
        conn,
        stage=result.stage,
        suite=result.suite,
        success=result.success,
        evaluated=result.evaluated,
        failed=result.failed,
        run_id=result.run_id,
        failing=[check.to_json() for check in result.failing],
        result_uri=result.result_uri,
    )


def _check_name(value: str, what: str) -> None:
    if not _NAME.match(value):
        raise ValueError(f"{what} must match {_NAME.pattern}: {value!r}")


def _baseline_key(stage: str, suite_name: str) -> str:
    return f"quality/{stage}/baseline/{suite_name}.json"


def _validate(suite: gx.ExpectationSuite, frame: pd.DataFrame, run_id: str, docs_dir: str):
    # A fresh in-memory context per gate (~0.1 s): its docs site shows this validation only,
    # and concurrent gates in one process share nothing.
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        _SITE,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    batch = context.data_sources.add_pandas("edgarflow").add_dataframe_asset(suite.name)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(
            name=suite.name,
            data=batch.add_batch_definition_whole_dataframe("batch"),
            suite=context.suites.add(suite),
        )
    )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=suite.name,
            validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="data_docs", site_names=[_SITE])],
            # COMPLETE: every rejected row's index, which quarantine needs. No index query: it
            # repeats them all as text, in the result and on the docs page.
            result_format={
                "result_format": "COMPLETE",
                "partial_unexpected_count": _PARTIAL,
                "return_unexpected_index_query": False,
            },
        )
    )
    outcome = checkpoint.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_id))
    (validation,) = outcome.run_results.values()
    return validation


def _publish_docs(store: ObjectStore, root: Path, prefix: str) -> str:
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and not name.startswith(_SKIPPED_DOCS):
            store.put(prefix + name, path.read_bytes(), mimetypes.guess_type(name)[0] or "application/octet-stream")
    return store.uri(prefix + "index.html")


def _slim(validation: dict) -> dict:
    for check in validation["results"]:
        for key in _BULKY:
            check["result"].pop(key, None)
    return validation


def _columns(config: dict) -> list[str]:
    kwargs = config["kwargs"]
    columns: list[str] = []
    for arg in _COLUMN_ARGS:
        value = kwargs.get(arg)
        columns += value if isinstance(value, list) else [value] if value else []
    return columns


def _label(config: dict) -> str:
    columns = _columns(config)
    return f"{config['type']}({', '.join(columns)})" if columns else config["type"]


def _expected(config: dict) -> str:
    parts = []
    for name, value in config["kwargs"].items():
        if name in _NOT_EXPECTED or value is None:
            continue
        if isinstance(value, list) and len(value) > 10:
            value = value[:10] + ["..."]
        parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def _show(value: Any, quote: bool = True) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "null"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())  # warehouse dates arrive as midnight timestamps
    # Quoted, so a stray space or an empty string is visible.
    return repr(value) if quote and isinstance(value, str) else str(value)


def _failed_check(check: dict, frame: pd.DataFrame, keys: Sequence[str]) -> FailedCheck:
    config, outcome = check["expectation_config"], check["result"]
    exception = check.get("exception_info") or {}
    # One exception record, or one per metric when several metrics raised.
    raised = [exception] if "raised_exception" in exception else list(exception.values())
    errors = [e["exception_message"] for e in raised if e.get("raised_exception")]
    affected: list[str] = []
    affected_count = 0
    if errors:
        examples = tuple(errors[:_EXAMPLES])
    elif outcome.get("unexpected_index_list"):
        rows = frame.iloc[outcome["unexpected_index_list"]]
        if keys:
            entities = rows[keys[0]].drop_duplicates()
            affected, affected_count = [_show(v, quote=False) for v in entities.head(_AFFECTED)], len(entities)
            # One example per company first, so a failure across companies shows several.
            rows = pd.concat([rows.loc[entities.index], rows.drop(entities.index)])
        shown = list(dict.fromkeys(c for c in (*keys, *_columns(config)) if c in frame.columns))
        examples = tuple(" ".join(f"{c}={_show(row[c])}" for c in shown) for _, row in rows.head(_EXAMPLES).iterrows())
    else:
        examples = tuple(_show(v) for v in (outcome.get("partial_unexpected_list") or [])[:_EXAMPLES])
    return FailedCheck(
        expectation=_label(config),
        expected=_expected(config),
        unexpected_count=outcome.get("unexpected_count"),
        unexpected_percent=outcome.get("unexpected_percent"),
        observed=outcome.get("observed_value"),
        examples=examples,
        affected=tuple(affected),
        affected_count=affected_count,
        description=config.get("description"),
    )


def _row_failures(checks: list[dict]) -> dict[str, list[int]]:
    failures: dict[str, list[int]] = {}
    for check in checks:
        rows = check["result"].get("unexpected_index_list")
        if rows:
            failures.setdefault(_label(check["expectation_config"]), []).extend(int(r) for r in rows)
    return failures
