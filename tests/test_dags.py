"""Every DAG imports, has no cycles, retries every task, and is wired as intended."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import BundleDagBag

DAGS = Path(__file__).resolve().parent.parent / "dags"


@pytest.fixture(scope="module")
def dagbag():
    # As the DAG processor and task runner do: the DAG folder (bundle) is importable.
    return BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS)


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "edgar_nightly" in dagbag.dags


def test_every_task_retries_and_times_out(dagbag):
    for dag in dagbag.dags.values():
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"
            assert task.execution_timeout is not None, f"{dag.dag_id}.{task.task_id} has no timeout"


def test_no_cycles(dagbag):
    for dag in dagbag.dags.values():
        # topological_sort raises on a cycle; every task must appear once.
        order = [t.task_id for t in dag.topological_sort()]
        assert sorted(order) == sorted(dag.task_ids)


def test_edgar_nightly_graph(dagbag):
    dag = dagbag.dags["edgar_nightly"]
    edges = {(up, t.task_id) for t in dag.tasks for up in t.upstream_task_ids}
    assert edges == {
        ("plan_universe", "extract"),
        ("extract", "normalize"),
        ("normalize", "gate_staged"),
        ("gate_staged", "load_postgres"),
        ("normalize", "load_postgres"),  # which companies this run staged
        ("gate_staged", "load_warehouse"),
        ("load_postgres", "reconcile"),
        ("load_warehouse", "reconcile"),
        ("reconcile", "build_marts"),
        ("build_marts", "gate_marts"),
        ("gate_marts", "publish_signals"),
        ("publish_signals", "check_freshness"),
        ("plan_universe", "check_freshness"),
        # summarize reports on every stage
        *{(t, "summarize") for t in ("extract", "normalize", "gate_staged", "load_postgres", "reconcile",
                                      "build_marts", "gate_marts", "publish_signals", "check_freshness")},
    }
    # Gates stand between every stage and the next.
    assert "gate_staged" in dag.get_task("load_postgres").upstream_task_ids
    assert "reconcile" in dag.get_task("build_marts").upstream_task_ids
    assert dag.catchup is False
    assert dag.get_task("extract").pool == "sec_api"  # SEC's rate budget is shared through the pool


def test_ingest_and_quality_never_import_airflow():
    for package in ("ingest", "quality"):
        for path in (DAGS.parent / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                assert not any(n.split(".")[0] == "airflow" for n in names), f"{path} imports airflow"
