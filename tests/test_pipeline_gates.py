"""A failing gate stops the DAG: nothing downstream runs, the result is stored, an alert is posted."""

from __future__ import annotations

import datetime as dt
import gzip
import json

import orjson
import pytest
from conftest import LPA, SECRET_PATH, fresh_database, run_dag, sample_bytes

from ingest.postgres.connection import connect
from pipelines.summaries import render_failed_gates

pytestmark = [pytest.mark.slow, pytest.mark.dag]


def _sample_with_reversed_periods(root):
    """LPA's real companyfacts with every duration's start and end swapped: still well-formed JSON
    that normalizes, but wrong data that only the staged gate can catch."""
    doc = orjson.loads(sample_bytes(f"edgar/companyfacts/CIK{LPA}.json"))
    for concepts in doc["facts"].values():
        for concept in concepts.values():
            for facts in concept["units"].values():
                for fact in facts:
                    if "start" in fact:
                        fact["start"], fact["end"] = fact["end"], fact["start"]
    folder = root / "edgar" / "companyfacts"
    folder.mkdir(parents=True)
    (folder / f"CIK{LPA}.json.gz").write_bytes(gzip.compress(orjson.dumps(doc)))
    return root


def test_failed_staged_gate_stops_everything_downstream(tmp_path, pg_dsn, webhook):
    base, received = webhook
    env = {
        "EDGARFLOW_SAMPLE_DIR": str(_sample_with_reversed_periods(tmp_path / "sample")),
        "EDGARFLOW_STORAGE_URL": str(tmp_path / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "gates"),
        "EDGARFLOW_ALERT_WEBHOOK": base + SECRET_PATH,
    }
    # With the DAG's own retries: a failed gate is not transient, so it fails on its first try.
    run, settings = run_dag("edgar_nightly", env, dt.datetime(2026, 11, 19, tzinfo=dt.timezone.utc), retries=True)

    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    states = {task_id: ti.state for task_id, ti in tis.items()}
    assert states["normalize"] == "success" and states["gate_staged"] == "failed"
    assert tis["gate_staged"].try_number == 1 and tis["gate_staged"].max_tries == 2
    downstream = {"load_postgres", "load_warehouse", "gate_postgres", "reconcile", "summarize", "announce"}
    assert {states[t] for t in downstream} == {"upstream_failed"}
    assert not (tmp_path / "warehouse.duckdb").exists()

    with connect(settings) as conn:
        assert conn.execute("SELECT count(*) FROM edgar.financial_facts").fetchone()[0] == 0
        failed = conn.execute("SELECT stage, suite, failing FROM edgar.dq_results WHERE NOT success").fetchall()
    assert [(stage, suite) for stage, suite, _ in failed] == [("staged", "staged_facts")]
    assert "period_start" in json.dumps(failed[0][2])
    # The failure callback recorded the run as failed, for bi_reader's view (the dashboard),
    # with the error's type and nothing of its message.
    with connect(settings) as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE bi_reader")
        shown = conn.execute("SELECT status, failed_tasks FROM serving.pipeline_runs WHERE run_id = %s",
                             (run.run_id,)).fetchall()  # fmt: skip
    assert shown == [("failed", "gate_staged")]
    with connect(settings) as conn:
        kept = conn.execute("SELECT counts FROM edgar.pipeline_runs WHERE run_id = %s", (run.run_id,)).fetchone()
    assert kept == ({"error": "GateFailed"},)
    report = render_failed_gates(run.run_id, settings)  # what make run prints when it stops here
    assert report.startswith("  staged gate failed: suite staged_facts") and "period_start" in report

    (alert,) = (r["body"] for r in received)  # the gate's own alert; the task-failure callback does not repeat it
    assert alert["stage"] == "staged" and alert["run_id"] == run.run_id
    assert any("period_start" in json.dumps(check) for check in alert["failing_checks"])


@pytest.mark.parametrize(
    ("conf", "task", "message"),
    [
        ({"tickers": ["NOPE"]}, "plan_batches", "unknown tickers: NOPE"),
        ({"ciks": ["320193"], "filed_from": "2026-02-01", "filed_to": "2026-01-01"}, "extract",
         "empty filing-date range"),
    ],
)  # fmt: skip
def test_a_request_that_can_never_succeed_fails_at_once(tmp_path, pg_dsn, capfd, conf, task, message):
    env = {
        "EDGARFLOW_STORAGE_URL": str(tmp_path / "store"),
        "EDGARFLOW_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "EDGARFLOW_PG_DSN": fresh_database(pg_dsn, "requests"),
    }
    run, _ = run_dag("edgar_nightly", env, dt.datetime(2026, 11, 19, tzinfo=dt.timezone.utc), conf, retries=True)
    (ti,) = [ti for ti in run.get_task_instances() if ti.task_id == task]
    assert ti.state == "failed" and ti.try_number == 1  # not retried: the DAG's retry policy
    assert message in capfd.readouterr().out  # the task log says why
