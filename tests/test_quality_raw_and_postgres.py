"""The raw-zone gate (profiles written while normalizing), the PostgreSQL-after-load gate, and the
warehouse reader the mart gates share: real sample documents landed in a LocalStore, real GX, the
session's embedded PostgreSQL, a real DuckDB file, and BigQuery SQL checked with sqlglot."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest
import sqlglot
from conftest import APPLE, DUOLINGO, FORD, LPA, NVIDIA, SAMPLE, TESLA, fresh_database, sample_bytes
from sqlglot import exp

from ingest.postgres import loader as pg_load
from ingest.postgres.connection import connect
from ingest.sec.stage import stage_edgar
from ingest.settings import Settings
from ingest.warehouse.reader import WarehouseReader
from ingest.warehouse.tables import MARTS_SCHEMA, RAW_SCHEMA
from ingest.zones.raw import Landed, land, read_raw
from ingest.zones.staged import staged_cik
from ingest.zones.store import LocalStore, local_copies
from pipelines import gates
from pipelines.payloads import SuiteOutcome
from quality import suites
from quality.checks.freshness import latest_filed_sql
from quality.checks.reconcile import aggregate_sql
from quality.report import GateFailed

DAY = dt.date(2026, 11, 21)
_SAMPLE_DOC = re.compile(r"^CIK(\d{10})(-submissions-\d{3})?\.json\.gz$")


def _land(store, datasets=("companyfacts", "submissions"), ciks=None, replaced=None) -> list[Landed]:
    """Land the sample's documents as extraction would (``replaced``: (dataset, cik) -> other bytes)."""
    landed = []
    for dataset in datasets:
        for path in sorted((SAMPLE / "edgar" / dataset).iterdir()):
            if not (m := _SAMPLE_DOC.match(path.name)) or (ciks is not None and m.group(1) not in ciks):
                continue
            name = path.name.removesuffix(".gz")
            body = (replaced or {}).get((dataset, m.group(1)), sample_bytes(f"edgar/{dataset}/{name}"))
            landed.append(Landed("sec", dataset, m.group(1), land(store, "sec", dataset, DAY, name, body)))
    return landed


def _settings(tmp_path, pg_dsn, db: str, **values) -> Settings:
    return Settings(
        storage_url=str(tmp_path / "store"),
        duckdb_path=tmp_path / "wh.duckdb",
        pg_dsn=fresh_database(pg_dsn, db),
        warehouse="duckdb",
        **values,
    )


# A breaker tight enough to trip on the sample's 13 companyfacts documents: two bad ones.
TIGHT_BREAKER = {"raw_breaker_min_bad": 2, "raw_breaker_fraction": 0.10}


def _dq(settings, run_id):
    """dq_results of ``run_id``, read on a connection of its own (what a run report would see)."""
    with connect(settings) as conn:
        return conn.execute(
            "SELECT stage, suite, success, failing FROM edgar.dq_results WHERE run_id = %s ORDER BY id", (run_id,)
        ).fetchall()


def _docs_page(store, stage, run_id, suite) -> str:
    prefix = f"quality/{stage}/run_id={run_id}/{suite}/docs/"
    assert store.exists(prefix + "index.html")
    (page,) = [k for k in store.list(prefix + "validations/") if k.endswith(".html")]
    return store.get(page).decode()


# ----- raw zone


def test_raw_gate_passes_on_the_sample_from_profiles_written_while_normalizing(tmp_path, pg_dsn):
    settings = _settings(tmp_path, pg_dsn, "t_raw_sample")
    store = LocalStore(settings.storage_url)
    staging = stage_edgar(store, _land(store), "run-raw")

    assert staging.quarantined == []
    assert staging.profiles == [
        "quality/raw_profiles/run_id=run-raw/companyfacts/CIK0000037996.parquet",
        "quality/raw_profiles/run_id=run-raw/submissions/CIK0000037996.parquet",
    ]
    facts = pq.read_table(io.BytesIO(store.get(staging.profiles[0]))).to_pandas().set_index("cik")
    assert len(facts) == 13 and facts["parsed"].all() and facts["reason"].isna().all()
    apple = facts.loc[APPLE]
    assert (apple["document_cik"], apple["entity_name"], apple["facts"]) == (APPLE, "Apple Inc.", 24_579)
    assert apple["filings"] == 70 and apple["taxonomies"] == 2 and apple["objects"] == 1
    assert apple["bytes"] == len(sample_bytes(f"edgar/companyfacts/CIK{APPLE}.json"))
    assert facts.loc[LPA, "document_cik"] == LPA  # its cik is a zero-padded string in the JSON
    submissions = pq.read_table(io.BytesIO(store.get(staging.profiles[1]))).to_pandas().set_index("cik")
    assert len(submissions) == 39 and submissions.loc[TESLA, "objects"] == 2  # the main document and its page
    assert submissions["facts"].isna().all() and (submissions["filings"] == 0).sum() == 1  # the shell files nothing

    gate = gates.gate_raw("run-raw", settings)

    facts_gate, submissions_gate = gate.suite("raw_companyfacts"), gate.suite("raw_submissions")
    assert facts_gate.rows == 13 and submissions_gate.rows == 39
    assert facts_gate.bad == submissions_gate.bad == 0 and gate.outcome == "passed"
    assert [row[:3] for row in _dq(settings, "run-raw")] == [
        ("raw", "raw_companyfacts", True),
        ("raw", "raw_submissions", True),
    ]
    assert "Succeeded" in _docs_page(store, "raw", "run-raw", "raw_companyfacts")


def test_one_malformed_filer_is_quarantined_and_the_run_goes_on(tmp_path, pg_dsn):
    settings = _settings(tmp_path, pg_dsn, "t_raw_one_bad")
    store = LocalStore(settings.storage_url)
    cut = sample_bytes(f"edgar/companyfacts/CIK{DUOLINGO}.json")[:5000]  # a body cut short
    staging = stage_edgar(store, _land(store, ["companyfacts"], replaced={("companyfacts", DUOLINGO): cut}), "run-1")

    ((quarantined),) = staging.quarantined
    assert quarantined["cik"] == DUOLINGO and quarantined["reason"].startswith("BadPayload: not valid JSON")
    assert read_raw(store, quarantined["key"]) == cut  # the bytes are kept
    assert len(staging.staged["facts"]) == 12

    gate = gates.gate_raw("run-1", settings)
    assert gate.suite("raw_companyfacts") == SuiteOutcome(
        suite="raw_companyfacts", rows=13, bad=1,
        result=store.uri("quality/raw/run_id=run-1/raw_companyfacts/result.json"),
    )  # fmt: skip
    assert gate.suite("raw_submissions").rows == 0  # none landed: nothing to judge, and that passes


def test_more_bad_documents_than_tolerated_fail_the_raw_gate_and_name_them(tmp_path, pg_dsn):
    settings = _settings(tmp_path, pg_dsn, "t_raw_too_many", **TIGHT_BREAKER)
    store = LocalStore(settings.storage_url)
    replaced = {
        ("companyfacts", DUOLINGO): b"<html>Request Rate Threshold Exceeded</html>",
        # Apple's document served for NVIDIA: well-formed, but another filer's.
        ("companyfacts", NVIDIA): sample_bytes(f"edgar/companyfacts/CIK{APPLE}.json"),
    }
    staging = stage_edgar(store, _land(store, ["companyfacts"], replaced=replaced), "run-2")
    assert sorted(q["cik"] for q in staging.quarantined) == [NVIDIA, DUOLINGO]
    assert len(staging.staged["facts"]) == 11  # the others go on to the staged gate

    with pytest.raises(GateFailed) as failed:
        gates.gate_raw("run-2", settings)

    result = failed.value.result
    checks = {c.expectation: c for c in result.failing}
    assert set(checks) == {
        "expect_column_values_to_be_in_set(parsed)",
        "expect_column_pair_values_to_be_equal(document_cik, cik)",
    }
    parsed = checks["expect_column_values_to_be_in_set(parsed)"]
    assert parsed.unexpected_count == 2 and set(parsed.affected) == {NVIDIA, DUOLINGO}
    assert f"mostly={12 / 13!r}" in parsed.expected  # one bad document of 13 would have passed
    message = str(failed.value)
    assert "raw gate FAILED: suite raw_companyfacts" in message
    assert f"cik='{DUOLINGO}' object_key='raw/sec/companyfacts/ingest_date=2026-11-21/CIK{DUOLINGO}.json." in message
    assert 'reason="BadPayload: not valid JSON (JSON is malformed' in message  # quoted as repr() quotes it
    assert f"document_cik='{APPLE}'" in message and "the document is about the filer requested" in message

    ((stage, suite, success, failing),) = _dq(settings, "run-2")
    assert (stage, suite, success) == ("raw", "raw_companyfacts", False)
    assert {f["expectation"] for f in failing} == set(checks)
    assert "Failed" in _docs_page(store, "raw", "run-2", "raw_companyfacts")


def test_an_empty_document_counts_as_bad(tmp_path, pg_dsn):
    """A document that parses but holds nothing is how a changed SEC format would look."""
    settings = _settings(tmp_path, pg_dsn, "t_raw_empty", **TIGHT_BREAKER)
    store = LocalStore(settings.storage_url)
    replaced = {
        ("companyfacts", cik): orjson.dumps({"cik": int(cik), "entityName": "x", "facts": {}}) for cik in (TESLA, FORD)
    }
    staging = stage_edgar(store, _land(store, ["companyfacts"], replaced=replaced), "run-3")
    assert staging.quarantined == []  # they normalize: only the raw gate can tell

    with pytest.raises(GateFailed) as failed:
        gates.gate_raw("run-3", settings)
    (check,) = failed.value.result.failing
    assert check.expectation == "expect_column_values_to_be_between(facts)"
    assert check.affected == (FORD, TESLA) and "the document holds facts" in str(failed.value)


def test_a_run_that_landed_nothing_passes(tmp_path, pg_dsn):
    settings = _settings(tmp_path, pg_dsn, "t_raw_nothing")
    store = LocalStore(settings.storage_url)
    assert stage_edgar(store, [], "run-0").to_dict() == {"staged": {}, "rows": {}, "quarantined": [], "profiles": []}

    gate = gates.gate_raw("run-0", settings)
    assert {s.suite: s.rows for s in gate.suites} == {"raw_companyfacts": 0, "raw_submissions": 0}
    assert [row[2] for row in _dq(settings, "run-0")] == [True, True]


# ----- PostgreSQL after the load

PG_CIKS = [APPLE, TESLA, FORD, LPA]  # LPA has facts but no submissions: a stub company


def _staged_ciks(staging: dict) -> list[str]:
    """The companies a normalize batch staged, as the nightly run hands them to gate_postgres."""
    return sorted({staged_cik(k) for keys in staging["staged"].values() for k in keys})


def _loaded(tmp_path, pg_dsn, db: str):
    """The sample companies PG_CIKS landed, normalized and loaded as the nightly run does."""
    settings = _settings(tmp_path, pg_dsn, db)
    store = LocalStore(settings.storage_url)
    staging = stage_edgar(store, _land(store, ciks=PG_CIKS), "run-load").to_dict()
    with connect(settings) as conn:
        for dataset in ("companies", "filings", "facts"):
            with local_copies(store, staging["staged"][dataset]) as paths:
                pg_load.load_dataset(conn, dataset, paths, run_id="run-load")
    return settings, store, staging


def test_postgres_gate_passes_after_a_real_load_and_guards_row_counts(tmp_path, pg_dsn):
    settings, store, staging = _loaded(tmp_path, pg_dsn, "t_pg_gate_pass")
    ciks = _staged_ciks(staging)
    assert ciks == sorted(PG_CIKS)

    gate = gates.gate_postgres("run-pg-1", ciks, settings)

    assert gate.suite("postgres_companies").rows == 4
    tables = orjson.loads(store.get("quality/postgres/baseline/postgres_tables.json"))["tables"]
    facts = tables["edgar.financial_facts"]
    assert facts == 24_579 + 17_718 + 24_139 + 768
    assert [row[:3] for row in _dq(settings, "run-pg-1")] == [
        ("postgres", "postgres_companies", True),
        ("postgres", "postgres_tables", True),
    ]
    assert "Succeeded" in _docs_page(store, "postgres", "run-pg-1", "postgres_companies")

    # Facts are never deleted: a table with fewer rows than at the last passing run fails.
    with connect(settings) as conn:
        conn.execute("DELETE FROM edgar.financial_facts WHERE cik = %s AND filed > '2022-10-01'", (TESLA,))
    with pytest.raises(GateFailed) as failed:
        gates.gate_postgres("run-pg-2", ciks, settings)

    (check,) = failed.value.result.failing
    assert check.expectation == "expect_column_pair_values_a_to_be_greater_than_b(row_count, previous_row_count)"
    assert check.affected == ("edgar.financial_facts",)
    assert f"previous_row_count={facts}" in check.examples[0] and "facts are never deleted" in str(failed.value)
    assert [row[1:3] for row in _dq(settings, "run-pg-2")] == [
        ("postgres_companies", True),
        ("postgres_tables", False),
    ]
    assert "Failed" in _docs_page(store, "postgres", "run-pg-2", "postgres_tables")


def test_postgres_gate_fails_on_broken_referential_integrity(tmp_path, pg_dsn):
    settings, store, staging = _loaded(tmp_path, pg_dsn, "t_pg_gate_ri")
    with connect(settings) as conn:
        # Nothing in the schema stops either: facts declare no foreign key.
        conn.execute("DELETE FROM edgar.companies WHERE cik = %s", (LPA,))
        # Apple's 10-K for fiscal 2023 drops out of its filings index; its facts stay.
        conn.execute("DELETE FROM edgar.filings WHERE accession_number = '0000320193-23-000106'")

    with pytest.raises(GateFailed) as failed:
        gates.gate_postgres("run-pg-ri", _staged_ciks(staging), settings)

    result = failed.value.result
    assert result.suite == "postgres_companies"
    checks = {c.expectation: c for c in result.failing}
    assert set(checks) == {
        "expect_column_values_to_be_in_set(company_known)",
        "expect_column_values_to_be_between(unindexed_accessions)",
    }
    assert checks["expect_column_values_to_be_in_set(company_known)"].affected == (LPA,)
    unindexed = checks["expect_column_values_to_be_between(unindexed_accessions)"]
    assert unindexed.affected == (APPLE,)
    assert unindexed.examples == (
        f"cik='{APPLE}' name='Apple Inc.' unindexed_example='0000320193-23-000106' unindexed_accessions=1",
    )
    assert "referential integrity" in str(failed.value)
    # Recorded although the gate failed (its reads ran in their own transaction).
    ((stage, suite, success, failing),) = _dq(settings, "run-pg-ri")
    assert (stage, suite, success) == ("postgres", "postgres_companies", False)
    assert "0000320193-23-000106" in json.dumps(failing)


# ----- the warehouse reader


def test_duckdb_reader_runs_parameterized_sql_with_uniform_types(tmp_path):
    settings = Settings(warehouse="duckdb", duckdb_path=tmp_path / "wh.duckdb")
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.yahoo_prices AS SELECT * FROM (VALUES"
            " ('AAPL', DATE '2025-01-02', 243.85::DECIMAL(18, 4)), ('AAPL', DATE '2025-01-03', 243.36::DECIMAL(18, 4)),"
            " ('MSFT', DATE '2025-01-02', 418.58::DECIMAL(18, 4))) v(ticker, trade_date, close)"
        )
    warehouse = WarehouseReader(settings)

    days = warehouse.frame(gates.price_days_sql(warehouse), [["AAPL"]])
    assert days["ticker"].tolist() == ["AAPL", "AAPL"] and str(days["trade_date"].dtype).startswith("datetime64")
    closes = warehouse.frame(gates.select_sql(warehouse, "raw", "yahoo_prices", "close"))
    assert closes["close"].dtype == "float64" and closes["close"].sum() == pytest.approx(905.79)
    assert warehouse.query(gates.price_days_sql(warehouse), [[]]).num_rows == 0


def test_bigquery_reader_qualifies_tables_like_dbt_and_its_sql_parses():
    bigquery = WarehouseReader(
        Settings(warehouse="bigquery", bq_project="edgarflow-offline", bq_dataset="edgarflow", bq_location="EU")
    )
    assert bigquery.table(MARTS_SCHEMA, "fct_market_data") == "`edgarflow-offline.edgarflow_marts.fct_market_data`"
    assert WarehouseReader(Settings(warehouse="duckdb")).table(RAW_SCHEMA, "edgar_facts") == "raw.edgar_facts"
    with pytest.raises(ValueError, match="identifier"):
        bigquery.table("marts", "fct_market_data; DROP TABLE x")

    # Every query the warehouse gates run, as they build it for BigQuery.
    queries = {
        "gate_warehouse parts": gates.company_rows_sql(bigquery, "fct_financial_statements"),
        "gate_warehouse": gates.part_sql(bigquery, "fct_financial_statements"),
        "gate_warehouse companies": gates.select_sql(bigquery, MARTS_SCHEMA, "dim_company", "DISTINCT cik"),
        "gate_market_data": gates.part_sql(bigquery, "fct_market_data"),
        "gate_price_gaps": gates.price_days_sql(bigquery),
        "reconcile_facts": aggregate_sql(bigquery.table(RAW_SCHEMA, "edgar_facts")),
        "gate_freshness latest": latest_filed_sql(bigquery.table(MARTS_SCHEMA, "fct_financial_statements")),
        "gate_freshness landed": gates.select_sql(bigquery, RAW_SCHEMA, "edgar_facts", "DISTINCT cik"),
    }
    tables = {}
    for name, sql in queries.items():
        tree = sqlglot.parse_one(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
        assert not list(tree.find_all(exp.Anonymous)), name  # no function BigQuery lacks
        (table,) = tree.find_all(exp.Table)
        tables[name] = (table.catalog, table.db, table.name)
    assert tables == {
        "gate_warehouse parts": ("edgarflow-offline", "edgarflow_marts", "fct_financial_statements"),
        "gate_warehouse": ("edgarflow-offline", "edgarflow_marts", "fct_financial_statements"),
        "gate_warehouse companies": ("edgarflow-offline", "edgarflow_marts", "dim_company"),
        "gate_market_data": ("edgarflow-offline", "edgarflow_marts", "fct_market_data"),
        "gate_price_gaps": ("edgarflow-offline", "edgarflow_raw", "yahoo_prices"),
        "reconcile_facts": ("edgarflow-offline", "edgarflow_raw", "edgar_facts"),
        "gate_freshness latest": ("edgarflow-offline", "edgarflow_marts", "fct_financial_statements"),
        "gate_freshness landed": ("edgarflow-offline", "edgarflow_raw", "edgar_facts"),
    }


def test_the_breaker_trips_on_enough_bad_documents_that_are_also_a_large_share():
    defaults = Settings()
    breaker = (defaults.raw_breaker_fraction, defaults.raw_breaker_min_bad)
    assert breaker == (0.10, 5)
    assert suites.raw_mostly(0, *breaker) == suites.raw_mostly(4, *breaker) == 0.0  # never on 4 documents
    assert suites.raw_mostly(8, *breaker) == 4 / 8  # two bad of eight proceed; five bad of eight stop
    assert suites.raw_mostly(44, *breaker) == 40 / 44  # four may fail
    assert suites.raw_mostly(400, *breaker) == 0.9  # a nightly of 400 changed filers: 40
    assert suites.raw_mostly(18_800, *breaker) == 0.9  # the full universe: 1,880
    assert suites.raw_mostly(13, TIGHT_BREAKER["raw_breaker_fraction"], TIGHT_BREAKER["raw_breaker_min_bad"]) == 12 / 13


def test_two_bad_documents_of_the_sample_are_quarantined_and_the_rest_passes(tmp_path, pg_dsn):
    settings = _settings(tmp_path, pg_dsn, "t_raw_two_bad")
    store = LocalStore(settings.storage_url)
    doc = sample_bytes(f"edgar/companyfacts/CIK{DUOLINGO}.json")
    replaced = {("companyfacts", DUOLINGO): doc[: len(doc) // 2], ("companyfacts", NVIDIA): b"<html>oops</html>"}
    staging = stage_edgar(store, _land(store, ["companyfacts"], replaced=replaced), "run-two")
    assert sorted(q["cik"] for q in staging.quarantined) == [NVIDIA, DUOLINGO]

    gate = gates.gate_raw("run-two", settings)
    assert gate.suite("raw_companyfacts").bad == 2 and gate.suite("raw_companyfacts").rows == 13
    assert gate.outcome == "passed"
