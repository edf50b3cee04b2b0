"""Quality checks across the real stores: staged Parquet in a LocalStore, the embedded PostgreSQL
(migrated by ingest/postgres/connection.py, loaded by ingest/postgres/loader.py) and the DuckDB warehouse."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import DUOLINGO, LPA, SECRET_PATH, TESLA, fresh_database
from sample_tables import facts, submissions

from ingest.postgres import loader as pg_load
from ingest.postgres.connection import connect
from ingest.settings import Settings
from ingest.warehouse.changes import BuildWindow, build_window
from ingest.warehouse.load import load_raw_tables
from ingest.warehouse.reader import WarehouseReader
from ingest.zones.manifests import write_manifest
from ingest.zones.staged import read_staged, staged_key, write_staged
from ingest.zones.store import LocalStore
from pipelines import gates
from pipelines.payloads import Staged
from quality import suites
from quality.checks.freshness import check_freshness, warehouse_latest_filed
from quality.checks.quarantine import quarantine
from quality.checks.quarantine import record_rejected_rows as record_quarantine
from quality.checks.reconcile import postgres_aggregates, reconcile, staged_aggregates, warehouse_aggregates
from quality.checks.zone_counts import zone_rows
from quality.gate import record_result, run_gate
from quality.report import GateFailed

CIKS = (TESLA, DUOLINGO, LPA)


@pytest.fixture(scope="module")
def env(pg_dsn, tmp_path_factory):
    """Staged facts of three companies, loaded into PostgreSQL and the DuckDB warehouse."""
    root = tmp_path_factory.mktemp("quality_stores")
    settings = Settings(
        pg_dsn=fresh_database(pg_dsn, "t_quality_stores"),
        storage_url=str(root / "store"),
        duckdb_path=root / "wh.duckdb",
    )
    store = LocalStore(settings.storage_url)
    table = facts().filter(pc.is_in(facts()["cik"], pa.array(CIKS)))
    for cik in CIKS:
        write_staged(store, "facts", cik, table.filter(pc.equal(table["cik"], cik)))
    load_raw_tables(settings, store)
    with connect(settings) as conn:
        pg_load.load_dataset(conn, "facts", table)
        conn.commit()
        yield settings, store, table, conn


def _aggregates(settings, conn, table):
    return staged_aggregates(table), postgres_aggregates(conn), warehouse_aggregates(WarehouseReader(settings))


def _changed_warehouse(settings, tmp_path, sql: str, params: list) -> WarehouseReader:
    """A reader over a copy of the warehouse with ``sql`` applied (the shared one stays as it is)."""
    copy = tmp_path / "changed.duckdb"
    shutil.copy(settings.duckdb_path, copy)
    with duckdb.connect(str(copy)) as con:
        (changed,) = con.execute(sql, params).fetchone()
    assert changed >= 1
    return WarehouseReader(settings.model_copy(update={"duckdb_path": copy}))


def test_staged_postgres_and_warehouse_agree_per_company(env):
    settings, store, table, conn = env
    staged, pg, wh = _aggregates(settings, conn, table)

    assert sorted(staged["cik"].to_pylist()) == sorted(CIKS)
    assert dict(zip(*staged.select(["cik", "rows"]).to_pydict().values())) == {
        cik: pc.sum(pc.equal(table["cik"], cik)).as_py() for cik in CIKS
    }
    result = reconcile("facts", staged, pg, wh, store=store, run_id="recon-ok")
    assert result.success and result.row_count == 3
    assert store.exists("quality/reconcile/run_id=recon-ok/reconcile_facts/result.json")


def test_a_company_missing_in_postgres_fails_and_is_named(env):
    settings, store, table, conn = env
    with conn.transaction(force_rollback=True):
        conn.execute("DELETE FROM edgar.financial_facts WHERE cik = %s", (LPA,))
        staged, pg, wh = _aggregates(settings, conn, table)

    with pytest.raises(GateFailed) as failed:
        reconcile("facts", staged, pg, wh, store=store, run_id="recon-pg")

    checks = {c.expectation: c for c in failed.value.result.failing}
    assert set(checks) == {
        "expect_column_pair_values_to_be_equal(staged_rows, postgres_rows)",
        "expect_column_values_to_be_between(postgres_sum_rel_diff)",
    }
    assert all(c.affected == (LPA,) for c in checks.values())
    assert f"cik='{LPA}' staged_rows=768 postgres_rows=0" in str(failed.value)


def test_a_value_drifting_in_the_warehouse_fails_and_is_named(env, tmp_path):
    settings, store, table, conn = env
    # Duolingo's largest fact landed in thousands: same row counts, different sums.
    drifted = _changed_warehouse(
        settings,
        tmp_path,
        "UPDATE raw.edgar_facts SET value = value / 1000"
        " WHERE cik = $1 AND value = (SELECT max(value) FROM raw.edgar_facts WHERE cik = $1)",
        [DUOLINGO],
    )
    wh = warehouse_aggregates(drifted)
    staged, pg, _ = _aggregates(settings, conn, table)

    with pytest.raises(GateFailed) as failed:
        reconcile("facts", staged, pg, wh, store=store, run_id="recon-wh")

    (check,) = failed.value.result.failing
    assert check.expectation == "expect_column_values_to_be_between(warehouse_sum_rel_diff)"
    assert check.affected == (DUOLINGO,)


def test_gate_outcomes_and_quarantined_rows_are_recorded_in_postgres(env):
    settings, store, table, conn = env
    df = table.to_pandas()
    df.loc[df.index[:50], "value"] = None  # 0.2% of the batch: tolerated, quarantined
    df.loc[df.index[-10:], "cik"] = "1318605"  # malformed: recorded without a cik, value kept in detail
    result = run_gate("staged", suites.staged_facts(), df, store=store, run_id="rec-1")
    moved = quarantine(store, result, df, source="sec", dataset="facts")
    record_result(conn, result)
    record_quarantine(conn, "rec-1", "sec", "facts", moved)
    with pytest.raises(GateFailed) as failed:
        run_gate("staged", suites.staged_facts(), df.head(100), store=store, run_id="rec-2")
    record_result(conn, failed.value.result)

    rows = conn.execute(
        "SELECT run_id, stage, suite, success, evaluated, failed, failing, result_uri FROM edgar.dq_results"
        " WHERE run_id LIKE 'rec-%' ORDER BY run_id"
    ).fetchall()
    assert [r[:6] for r in rows] == [
        ("rec-1", "staged", "staged_facts", True, 14, 0),
        ("rec-2", "staged", "staged_facts", False, 14, 1),
    ]
    assert rows[0][7] == result.result_uri and rows[0][6] == []
    (failing,) = rows[1][6]
    assert failing["expectation"] == "expect_column_values_to_not_be_null(value)"
    assert failing["unexpected_count"] == 50 and len(failing["examples"]) == 5

    parked = conn.execute(
        "SELECT cik, object_key, reason, detail FROM edgar.quarantine WHERE run_id = 'rec-1' ORDER BY cik"
    ).fetchall()
    by_cik = {cik: (key, reason, detail) for cik, key, reason, detail in parked}
    first = df["cik"].iloc[0]
    assert by_cik[first][1] == "expect_column_values_to_not_be_null(value)" and by_cik[first][2]["rows"] == 50
    assert by_cik[None][2] == {"rows": 10, "reasons": {"expect_column_values_to_match_regex(cik)": 10},
                               "cik_value": "1318605"}
    assert {key for key, _, _ in by_cik.values()} == {moved.key}


def test_warehouse_freshness_against_the_submissions_index(env, tmp_path):
    settings, store, table, conn = env
    _, filings = submissions()
    # The index as it stood when the sample's Tesla companyfacts was captured.
    index_then = filings.filter(pc.less_equal(filings["filing_date"], pa.scalar(date(2022, 10, 31))))
    latest = warehouse_latest_filed(WarehouseReader(settings), "edgar_facts", "raw", "filed")
    # Tesla's last 10-Q never reached the warehouse.
    behind = _changed_warehouse(
        settings,
        tmp_path,
        "DELETE FROM raw.edgar_facts WHERE cik = ? AND filed >= DATE '2022-10-01'",
        [TESLA],
    )
    stale = warehouse_latest_filed(behind, "edgar_facts", "raw", "filed")

    assert check_freshness(latest, index_then, store=store, run_id="fresh-then").success
    with pytest.raises(GateFailed) as failed:
        check_freshness(stale, index_then, store=store, run_id="fresh-stale")
    assert failed.value.result.failing[0].affected == (TESLA,)
    assert "warehouse_latest=2022-07-25 index_latest=2022-10-24" in str(failed.value)
    # Against today's index the real sample is stale: its Tesla companyfacts stops in 2022.
    with pytest.raises(GateFailed, match="index_latest=2026-01-29 lag_days=1193"):
        check_freshness(latest, filings, store=store, run_id="fresh-now")


def test_staged_gate_task_quarantines_records_and_alerts(env, tmp_path, monkeypatch, webhook):
    settings, _, table, conn = env
    base, received = webhook
    monkeypatch.setenv("EDGARFLOW_ALERT_WEBHOOK", base + SECRET_PATH)
    own = settings.model_copy(update={"storage_url": str(tmp_path / "store")})
    store = LocalStore(own.storage_url)
    df = table.to_pandas()
    df.loc[df.index[:40], "value"] = None  # 0.17% of the facts: tolerated, quarantined
    keys = [
        write_staged(store, "facts", cik, pa.Table.from_pandas(df[df["cik"].eq(cik)], preserve_index=False))
        for cik in CIKS
    ]
    written = write_manifest(store, "manifests/edgar_nightly/task-1/normalize/batch-00000.json", {"staged": {"facts": keys}})
    stagings = [Staged(batch=0, manifest=written, companies=3, rows={"facts": table.num_rows}, quarantined=0)]

    # Parts of at least 10,000 rows, whole companies each: Tesla (17,718 facts), then Duolingo and LPA.
    monkeypatch.setattr(gates, "GATE_PART_ROWS", 10_000)
    gate = gates.gate_staged("task-1", stagings, own)
    assert gate.suite("staged_facts").rows == table.num_rows and gate.quarantined == 40
    assert gate.suite("staged_counts").rows == 3 and received == []  # one row per staged dataset
    assert store.list("quarantine/sec/facts/run_id=task-1/") == ["quarantine/sec/facts/run_id=task-1/staged_facts-part-00000.parquet"]
    assert store.exists("quality/staged/run_id=task-1/staged_facts/part-00001/result.json")
    # The zone's rows after a nightly that restaged one company: its file's, and the warehouse's
    # of the others (loaded from the same rows their files hold), as every footer sums them.
    (restaged,) = set(df.loc[df.index[:40], "cik"])
    footers = sum(read_staged(store, k).num_rows for k in keys)
    assert footers == table.num_rows - 40
    assert zone_rows(store, "facts", WarehouseReader(own), [staged_key("facts", restaged)]) == footers
    # The next night Tesla's facts are gone: the zone's row count fails the task and alerts.
    store.delete_prefix(staged_key("facts", TESLA))
    with pytest.raises(GateFailed, match=r"expect_column_values_to_be_between\(change\)"):
        gates.gate_staged("task-2", stagings, own)

    (alert,) = received
    assert alert["body"]["run_id"] == "task-2" and "previous_row_count" in alert["body"]["text"]
    outcomes = conn.execute(
        "SELECT run_id, suite, success FROM edgar.dq_results WHERE run_id LIKE 'task-%' ORDER BY id"
    ).fetchall()
    assert outcomes == [
        ("task-1", "staged_facts", True), ("task-1", "staged_facts", True), ("task-1", "staged_counts", True),
        ("task-2", "staged_facts", True), ("task-2", "staged_counts", False),
    ]  # fmt: skip


def test_warehouse_reconcile_and_freshness_tasks(env, tmp_path, warehouse, monkeypatch):
    settings, _, table, conn = env
    assert gates.reconcile_facts("task-recon", settings=settings).suite("reconcile_facts").rows == 3
    # A nightly reconciles the companies it loaded.
    assert gates.reconcile_facts("task-recon-run", [TESLA], settings).suite("reconcile_facts").rows == 1
    # A warehouse with the three companies' marts as the session's dbt build made them, and Tesla's filings index.
    own = settings.model_copy(update={"storage_url": str(tmp_path / "store"), "duckdb_path": tmp_path / "wh.duckdb"})
    store = LocalStore(own.storage_url)
    for cik in CIKS:
        write_staged(store, "facts", cik, table.filter(pc.equal(table["cik"], cik)))
    filings = submissions()[1]
    write_staged(store, "filings", TESLA, filings.filter(pc.equal(filings["cik"], TESLA)))
    load_raw_tables(own, store)
    built, _ = warehouse
    with duckdb.connect(str(own.duckdb_path)) as con:
        con.execute("ATTACH ? AS built (READ_ONLY)", [str(built.duckdb_path)])
        con.execute("CREATE SCHEMA marts")
        for mart in ("fct_financial_statements", "dim_company"):
            con.execute(f"CREATE TABLE marts.{mart} AS SELECT * FROM built.marts.{mart} WHERE cik IN ?", [list(CIKS)])
        (rows,) = con.execute("SELECT count(*) FROM marts.fct_financial_statements").fetchone()

    # In parts of whole companies, read one at a time: a part per company here.
    monkeypatch.setattr(gates, "GATE_PART_ROWS", 1)
    assert rows > 0 and gates.gate_warehouse("task-wh", settings=own).suite("fct_financial_statements").rows == rows
    assert [store.exists(f"quality/warehouse/run_id=task-wh/fct_financial_statements/part-{n:05d}/result.json")
            for n in range(4)] == [True, True, True, False]  # fmt: skip
    # A nightly's build gates only the companies it rebuilt: those loaded in its window.
    first = build_window(own).through
    load_raw_tables(own, store, ["facts"], ciks=[TESLA])
    window = BuildWindow(after=first, through=build_window(own).through)
    with duckdb.connect(str(own.duckdb_path), read_only=True) as con:
        (tesla,) = con.execute("SELECT count(*) FROM marts.fct_financial_statements WHERE cik = ?", [TESLA]).fetchone()
    nightly = gates.gate_warehouse("task-wh-nightly", window.dbt_vars(), own)
    assert 0 < nightly.suite("fct_financial_statements").rows == tesla < rows
    # A row without a company belongs to no company's part, yet is still validated.
    with duckdb.connect(str(own.duckdb_path)) as con:
        con.execute("INSERT INTO marts.fct_financial_statements SELECT * REPLACE (NULL AS cik) FROM marts.fct_financial_statements LIMIT 1")
    with pytest.raises(GateFailed, match=r"expect_column_values_to_not_be_null\(cik\)"):
        gates.gate_warehouse("task-wh-null", settings=own)
    with duckdb.connect(str(own.duckdb_path)) as con:
        con.execute("DELETE FROM marts.fct_financial_statements WHERE cik IS NULL")
    # A monitor: the sample's Tesla companyfacts stop in 2022, which is reported, not raised.
    fresh = gates.gate_freshness("task-fresh", CIKS, own)
    assert (fresh.success, fresh.blocking, fresh.outcome) == (False, False, "WARNING (alerted, not blocking)")
    assert any(f"1 affected: {TESLA}" in line for line in fresh.failing)

    outcomes = conn.execute(
        "SELECT suite, success FROM edgar.dq_results"
        " WHERE run_id IN ('task-recon', 'task-wh', 'task-fresh') ORDER BY id"
    ).fetchall()
    assert outcomes == [
        ("reconcile_facts", True),
        *[("fct_financial_statements", True)] * 3,
        ("completeness", True),
        ("freshness", False),
    ]
