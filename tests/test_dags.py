"""Every DAG imports fast and light, has no cycles, retries every task, and is wired as intended;
the code's layers import one way."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
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


def _edges(dag) -> set[tuple[str, str]]:
    return {(up, t.task_id) for t in dag.tasks for up in t.upstream_task_ids}


def test_edgar_nightly_graph(dagbag):
    dag = dagbag.dags["edgar_nightly"]
    assert _edges(dag) == {
        ("plan_batches", "extract"),
        ("extract", "normalize"),
        ("normalize", "gate_raw"),
        ("gate_raw", "gate_staged"),
        ("normalize", "gate_staged"),
        ("gate_staged", "load_postgres"),
        ("normalize", "load_postgres"),  # which companies this run staged
        ("gate_staged", "load_warehouse"),
        ("normalize", "load_warehouse"),  # its filers' rows are replaced
        ("load_postgres", "gate_postgres"),
        ("normalize", "gate_postgres"),
        ("gate_postgres", "reconcile"),
        ("load_warehouse", "reconcile"),
        ("normalize", "reconcile"),  # its filers are reconciled
        # summarize reports on every stage
        *{(t, "summarize") for t in ("extract", "normalize", "gate_raw", "gate_staged", "load_postgres",
                                      "gate_postgres", "reconcile")},
        ("summarize", "announce"),
        ("load_postgres", "announce"),  # whether the load changed rows
    }
    # Gates stand between every stage and the next.
    assert "gate_staged" in dag.get_task("load_postgres").upstream_task_ids
    assert "gate_postgres" in dag.get_task("reconcile").upstream_task_ids
    assert dag.catchup is False
    # Filer batches are mapped; SEC's rate budget is shared through the pool.
    extract, normalize = dag.get_task("extract"), dag.get_task("normalize")
    assert extract.is_mapped and normalize.is_mapped and extract.pool == "sec_api"
    assert _outlets(dag) == {"announce": ["edgar_loaded"]}


def test_market_daily_graph(dagbag):
    dag = dagbag.dags["market_daily"]
    assert _edges(dag) == {
        ("plan_universe", "fetch_prices"),
        ("plan_universe", "backfill_csv"),
        ("fetch_prices", "backfill_csv"),  # a CSV only fills days the chart API left empty
        *{(t, "gate_staged") for t in ("fetch_prices", "backfill_csv")},
        *{(t, "load_postgres") for t in ("fetch_prices", "backfill_csv", "gate_staged")},
        ("gate_staged", "load_warehouse"),
        ("plan_universe", "check_gaps"),
        ("load_warehouse", "check_gaps"),
        *{(t, "summarize") for t in ("fetch_prices", "backfill_csv", "gate_staged", "load_postgres", "check_gaps")},
        ("summarize", "announce"),
        ("load_postgres", "announce"),  # whether the load changed rows
    }  # fmt: skip
    assert dag.get_task("fetch_prices").is_mapped and dag.get_task("backfill_csv").is_mapped
    assert dag.catchup is False and dag.max_active_runs == 1
    assert _outlets(dag) == {"announce": ["market_loaded"]}


def test_warehouse_build_runs_when_either_source_loads(dagbag):
    dag = dagbag.dags["warehouse_build"]
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"  # either source, not both
    assert {a.name for a in condition.objects} == {"edgar_loaded", "market_loaded"}
    assert dag.max_active_runs == 1  # one dbt build at a time writes the marts
    assert dag.get_task("check_freshness").pool == "sec_api"  # it reads SEC's ticker list when live
    assert _edges(dag) == {
        ("build_marts", "gate_financials"),
        ("build_marts", "gate_market"),
        ("gate_financials", "publish_signals"),
        ("gate_market", "publish_signals"),
        ("publish_signals", "check_freshness"),
        ("build_marts", "check_sign_flips"),
        ("publish_signals", "warm_cache"),  # the cache is warmed from what was just published
        ("warm_cache", "gate_cache"),
        # The docs index links the latest result of every gate: it waits for the last of them.
        *{(t, "publish_docs") for t in ("check_freshness", "gate_cache", "check_sign_flips")},
        *{(t, "summarize") for t in ("build_marts", "gate_financials", "gate_market", "publish_signals",
                                      "check_freshness", "check_sign_flips", "warm_cache", "gate_cache",
                                      "publish_docs")},
    }  # fmt: skip


def test_sec_callers_and_warehouse_writers_take_their_pools(dagbag):
    """Every SEC request runs in `sec_api`; every warehouse writer in `warehouse` (one slot);
    each pool a task names exists locally (ops/pools.json) and in production (deploy/pools.json)."""
    pools = {(d.dag_id, t.task_id): t.pool for d in dagbag.dags.values() for t in d.tasks if t.pool != "default_pool"}
    assert pools == {
        ("edgar_nightly", "plan_batches"): "sec_api",
        ("edgar_nightly", "extract"): "sec_api",
        ("market_daily", "plan_universe"): "sec_api",
        ("warehouse_build", "check_freshness"): "sec_api",
        ("edgar_nightly", "load_warehouse"): "warehouse",
        ("market_daily", "load_warehouse"): "warehouse",
        ("warehouse_build", "build_marts"): "warehouse",
        ("warehouse_build", "publish_docs"): "warehouse",
    }
    for config in (DAGS.parent / "ops" / "pools.json", DAGS.parent / "deploy" / "pools.json"):
        defined = json.loads(config.read_text())
        assert set(pools.values()) <= set(defined), config
        assert defined["warehouse"]["slots"] == 1


def _outlets(dag) -> dict[str, list[str]]:
    return {t.task_id: [a.name for a in t.outlets] for t in dag.tasks if t.outlets}


def test_ingest_quality_and_pipelines_never_import_airflow():
    for package in ("ingest", "quality", "pipelines"):
        for path in (DAGS.parent / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                assert not any(n.split(".")[0] == "airflow" for n in names), f"{path} imports airflow"


def test_only_dag_files_are_parsed_as_dags():
    """The shared defaults define no DAG: the DAG processor skips them (.airflowignore)."""
    from airflow.utils.file import list_py_file_paths

    parsed = {Path(p).name for p in list_py_file_paths(str(DAGS))}
    assert parsed == {"edgar_nightly.py", "market_daily.py", "warehouse_build.py"}


HEAVY = ("great_expectations", "dbt", "pandas", "pyarrow", "duckdb", "psycopg", "yfinance")


@pytest.mark.parametrize("dag_file", ["edgar_nightly", "market_daily", "warehouse_build"])
def test_importing_a_dag_file_loads_nothing_heavy(dag_file):
    """As the DAG processor imports it: the DAG folder on sys.path, the module imported fresh."""
    probe = f"import sys, json; import {dag_file}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(DAGS), str(DAGS.parent)])}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=DAGS)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_imports_go_one_way():
    """import-linter's contracts in pyproject.toml: layers, the replay server, light report modules."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        capture_output=True, text=True, cwd=DAGS.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:]
    assert "0 broken" in done.stdout
