"""Loading staged datasets into a real PostgreSQL 18: exact counts, idempotence, atomicity."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import orjson
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from conftest import APPLE, REPO, SAMPLE, TSMC, sample_bytes

from ingest.postgres.loader import LoadError, LoadResult, load_dataset
from ingest.postgres.runs import record_dq_result, record_quarantine, record_run
from ingest.sec.normalize import normalize_companyfacts, normalize_submissions


def json_facts(cik: str) -> list[dict]:
    """Every fact of a companyfacts document, read straight from the JSON, values as the decimals it spells."""
    doc = json.loads(sample_bytes(f"edgar/companyfacts/CIK{cik}.json"), parse_float=Decimal, parse_int=Decimal)
    return [
        {"taxonomy": taxonomy, "tag": tag, "unit": unit, **fact}
        for taxonomy, tags in doc["facts"].items()
        for tag, concept in tags.items()
        for unit, facts in concept["units"].items()
        for fact in facts
    ]


def staged_facts(cik: str) -> pa.Table:
    return normalize_companyfacts(sample_bytes(f"edgar/companyfacts/CIK{cik}.json"))


def facts_state(conn: psycopg.Connection) -> tuple[int, str]:
    """Row count and a checksum over every column of every stored fact."""
    row = conn.execute(
        "SELECT count(*), md5(coalesce(string_agg(f::text, '|' ORDER BY "
        "cik, taxonomy, tag, unit, period_end, accession_number, period_start), '')) "
        "FROM edgar.financial_facts f"
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def test_facts_of_two_companies_load_exactly_and_reload_changes_nothing(pg_store, tmp_path):
    apple_json, tsmc_json = json_facts(APPLE), json_facts(TSMC)
    tsmc_parquet = tmp_path / "tsmc.parquet"
    pq.write_table(staged_facts(TSMC), tsmc_parquet)
    sources = [staged_facts(APPLE), tsmc_parquet]  # an Arrow table and a staged Parquet file
    total = len(apple_json) + len(tsmc_json)

    with psycopg.connect(pg_store) as conn:
        assert load_dataset(conn, "facts", sources, run_id="run-1") == LoadResult(
            inserted=total, updated=0, unchanged=0
        )

        per_company = dict(conn.execute("SELECT cik, count(*) FROM edgar.financial_facts GROUP BY cik").fetchall())
        assert per_company == {APPLE: len(apple_json), TSMC: len(tsmc_json)}
        instants = conn.execute("SELECT count(*) FROM edgar.financial_facts WHERE period_start IS NULL").fetchone()
        assert instants == (sum("start" not in f for f in apple_json + tsmc_json),)
        units = dict(
            conn.execute(
                "SELECT unit, count(*) FROM edgar.financial_facts WHERE cik = %s GROUP BY unit", (TSMC,)
            ).fetchall()
        )
        assert units["TWD"] == sum(f["unit"] == "TWD" for f in tsmc_json) > 0
        # Exact: the numeric sum is the JSON's decimals summed, digit for digit (TSMC's trillions).
        (total_value,) = conn.execute("SELECT sum(value) FROM edgar.financial_facts WHERE cik = %s", (TSMC,)).fetchone()
        assert total_value == sum(f["val"] for f in tsmc_json)

        # Known value from Apple's FY2023 10-K, exact.
        revenue = conn.execute(
            "SELECT value FROM edgar.financial_facts WHERE cik = %s AND tag = 'RevenueFromContractWithCustomerExcludingAssessedTax' "
            "AND period_start = '2022-09-25' AND period_end = '2023-09-30' AND accession_number = '0000320193-23-000106'",
            (APPLE,),
        ).fetchone()
        assert revenue == (Decimal(383285000000),)

        # Companies without submissions get a row named as in companyfacts.
        names = dict(conn.execute("SELECT cik, name FROM edgar.companies").fetchall())
        assert names == {APPLE: "Apple Inc.", TSMC: "Taiwan Semiconductor Manufacturing Company Limited"}

        before = facts_state(conn)
        wal_before = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        assert load_dataset(conn, "facts", sources, run_id="run-2") == LoadResult(
            inserted=0, updated=0, unchanged=total
        )
        assert facts_state(conn) == before
        # The re-load wrote no row: the only WAL is the audit record and the temp-table catalog churn.
        wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), %s)", (wal_before,)).fetchone()[0]
        assert wal < 250_000, wal

        # Loads run as pipeline_loader and leave an audit record each.
        audit = conn.execute("SELECT run_id, actor, detail FROM edgar.audit_log ORDER BY id").fetchall()
        assert audit == [
            ("run-1", "pipeline_loader", {"dataset": "facts", "inserted": total, "updated": 0, "unchanged": 0, "deleted": 0}),
            ("run-2", "pipeline_loader", {"dataset": "facts", "inserted": 0, "updated": 0, "unchanged": total, "deleted": 0}),
        ]


def test_a_restated_value_updates_only_that_row(pg_store):
    apple = staged_facts(APPLE)
    with psycopg.connect(pg_store) as conn:
        load_dataset(conn, "facts", apple)
        conn.execute(
            "UPDATE edgar.financial_facts SET value = value + 1 WHERE cik = %s AND accession_number = '0000320193-23-000106' "
            "AND tag = 'NetIncomeLoss' AND period_start = '2022-09-25' AND period_end = '2023-09-30'",
            (APPLE,),
        )
        conn.commit()
        assert load_dataset(conn, "facts", apple) == LoadResult(inserted=0, updated=1, unchanged=apple.num_rows - 1)
        net_income = conn.execute(
            "SELECT value FROM edgar.financial_facts WHERE cik = %s AND accession_number = '0000320193-23-000106' "
            "AND tag = 'NetIncomeLoss' AND period_start = '2022-09-25' AND period_end = '2023-09-30'",
            (APPLE,),
        ).fetchone()
        assert net_income == (Decimal(96995000000),)


def test_latest_facts_view_matches_the_json(pg_store):
    facts = json_facts(TSMC)
    expected: dict[tuple, dict] = {}
    for fact in facts:
        group = (fact["taxonomy"], fact["tag"], fact["unit"])
        # Newest period end, then newest filing, then the shortest period (latest start; no start first), then accession.
        rank = (fact["end"], fact["filed"], fact.get("start", "9999-12-31"), fact["accn"])
        if group not in expected or rank > expected[group]["rank"]:
            expected[group] = {**fact, "rank": rank}

    with psycopg.connect(pg_store) as conn:
        load_dataset(conn, "facts", staged_facts(TSMC))
        rows = conn.execute(
            "SELECT taxonomy, tag, unit, value, period_start::text, period_end::text, filed::text, accession_number "
            "FROM serving.latest_facts WHERE cik = %s",
            (TSMC,),
        ).fetchall()
    assert len(rows) == len(expected)
    assert {r[:3]: (r[3], r[4], r[5], r[6], r[7]) for r in rows} == {
        group: (f["val"], f.get("start"), f["end"], f["filed"], f["accn"])
        for group, f in expected.items()
    }


def test_a_bad_row_after_many_good_ones_loads_nothing(pg_store):
    apple, tsmc = staged_facts(APPLE), staged_facts(TSMC)
    with psycopg.connect(pg_store) as conn:
        load_dataset(conn, "facts", apple)
        before = facts_state(conn)

        restated = apple.set_column(apple.schema.get_field_index("value"), "value", pc.add(apple["value"], 1.0))
        bad = tsmc.slice(0, 1).set_column(
            tsmc.schema.get_field_index("accession_number"), "accession_number", pa.array(["0001046179-24-12"])
        )
        # TSMC's rows are new, Apple's all differ (they are updated before the bad row is reached).
        with pytest.raises(LoadError, match="violates check constraint .*accession_number"):
            load_dataset(conn, "facts", [tsmc.slice(1), restated, bad])

        assert facts_state(conn) == before
        assert conn.execute("SELECT cik FROM edgar.companies").fetchall() == [(APPLE,)]
        assert conn.execute("SELECT count(*) FROM edgar.audit_log").fetchone() == (1,)

        # A key repeated among new rows, or twice for a stored row (same or different values).
        for repeated in ([tsmc, tsmc.slice(100, 1)], [apple, apple.slice(100, 1)], [apple, restated.slice(100, 1)]):
            with pytest.raises(LoadError, match="repeat a natural key"):
                load_dataset(conn, "facts", repeated)
        with pytest.raises(LoadError, match=r"lacks staged columns \['frame'\]"):
            load_dataset(conn, "facts", tsmc.drop_columns(["frame"]))
        assert facts_state(conn) == before


KILLED_LOAD = """
import gzip, sys, time
import psycopg, pyarrow.compute as pc
from ingest.sec.normalize import normalize_companyfacts
from ingest.postgres.loader import load_dataset

facts = normalize_companyfacts(gzip.decompress(open(sys.argv[2], "rb").read()))
restated = facts.set_column(facts.schema.get_field_index("value"), "value", pc.add(facts["value"], 1.0))

def tables():
    yield restated
    print("copying", flush=True)
    time.sleep(300)  # killed here, mid-COPY
    yield restated

with psycopg.connect(sys.argv[1], application_name="killed-load") as conn:
    load_dataset(conn, "facts", tables())
"""


def test_a_load_killed_mid_copy_leaves_the_previous_state(pg_store):
    with psycopg.connect(pg_store, autocommit=True) as conn:
        load_dataset(conn, "facts", staged_facts(APPLE))
        before = facts_state(conn)

        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                KILLED_LOAD,
                pg_store,
                str(SAMPLE / "edgar" / "companyfacts" / f"CIK{APPLE}.json.gz"),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "copying"
            query = conn.execute(
                "SELECT query FROM pg_stat_activity WHERE application_name = 'killed-load' AND state = 'active'"
            ).fetchone()
            assert query is not None and query[0].startswith("COPY"), query
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
        assert child.returncode == -signal.SIGKILL

        # The server notices the dead client, rolls back and ends its backend.
        deadline = time.monotonic() + 30
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'killed-load'"
        ).fetchone() != (0,):
            assert time.monotonic() < deadline, "the killed load's backend is still there"
            time.sleep(0.2)

        assert facts_state(conn) == before
        # Nothing is left locked: the same load runs again at once and finds nothing to do.
        conn.execute("SET lock_timeout = '5s'")
        assert load_dataset(conn, "facts", staged_facts(APPLE)).unchanged == before[0]


def test_companies_and_filings_from_submissions(pg_store):
    entities = [
        normalize_submissions(sample_bytes(f"edgar/submissions/{p.name.removesuffix('.gz')}"))[0]
        for p in sorted((SAMPLE / "edgar" / "submissions").glob("CIK??????????.json.gz"))
    ]
    companies = pa.concat_tables(entities)  # operating companies, individuals, funds, a shell
    apple, filings = normalize_submissions(sample_bytes(f"edgar/submissions/CIK{APPLE}.json"))
    with psycopg.connect(pg_store) as conn:
        # Sliced batches: list columns of a slice share their parent's buffers.
        halves = [companies.slice(0, 7), companies.slice(7)]
        assert load_dataset(conn, "companies", halves) == LoadResult(
            inserted=companies.num_rows, updated=0, unchanged=0
        )
        assert load_dataset(conn, "filings", filings) == LoadResult(inserted=filings.num_rows, updated=0, unchanged=0)
        stored = conn.execute(
            "SELECT cik, name, tickers, exchanges, fiscal_year_end, former_names FROM edgar.companies ORDER BY cik"
        ).fetchall()
        expected = sorted(
            companies.select(["cik", "name", "tickers", "exchanges", "fiscal_year_end", "former_names"]).to_pylist(),
            key=lambda r: r["cik"],
        )
        assert stored == [
            (r["cik"], r["name"], r["tickers"], r["exchanges"], r["fiscal_year_end"], orjson.loads(r["former_names"]))
            for r in expected
        ]
        first_updated_at = conn.execute("SELECT updated_at FROM edgar.companies WHERE cik = %s", (APPLE,)).fetchone()[0]

        url = conn.execute(
            "SELECT primary_document_url FROM edgar.filings WHERE accession_number = %s",
            (filings["accession_number"][0].as_py(),),
        ).fetchone()[0]
        assert url == (
            f"https://www.sec.gov/Archives/edgar/data/320193/{filings['accession_number'][0].as_py().replace('-', '')}"
            f"/{filings['primary_document'][0].as_py()}"
        )

        assert load_dataset(conn, "companies", halves).unchanged == companies.num_rows
        assert load_dataset(conn, "filings", filings) == LoadResult(inserted=0, updated=0, unchanged=filings.num_rows)
        assert conn.execute("SELECT updated_at FROM edgar.companies WHERE cik = %s", (APPLE,)).fetchone() == (
            first_updated_at,
        )

        # Array elements that need quoting survive the trip; a change is an update that touches updated_at.
        odd = ['BRK"A', "a,b", "back\\slash", "{x}", "", None]
        renamed = apple.set_column(
            apple.schema.get_field_index("tickers"), "tickers", pa.array([odd], pa.list_(pa.string()))
        )
        assert load_dataset(conn, "companies", renamed) == LoadResult(inserted=0, updated=1, unchanged=0)
        tickers, updated_at = conn.execute(
            "SELECT tickers, updated_at FROM edgar.companies WHERE cik = %s", (APPLE,)
        ).fetchone()
        assert tickers == odd and updated_at > first_updated_at

        # A later facts load keeps the submissions' company row.
        load_dataset(conn, "facts", staged_facts(APPLE))
        assert conn.execute("SELECT name FROM edgar.companies WHERE cik = %s", (APPLE,)).fetchone() == ("Apple Inc.",)
        assert conn.execute("SELECT count(*) FROM edgar.companies").fetchone() == (companies.num_rows,)


def yahoo_prices(ticker: str, cik: str | None) -> pa.Table:
    """The staged prices shape, built from a bundled Yahoo CSV (parsed by header)."""
    raw = pa_csv.read_csv(
        pa.BufferReader(gzip.decompress((SAMPLE / "market" / "yahoo_csv" / f"{ticker}.csv.gz").read_bytes())),
        convert_options=pa_csv.ConvertOptions(column_types={"Date": pa.date32(), "Volume": pa.int64()}),
    )
    n = raw.num_rows
    return pa.table(
        {
            "ticker": pa.array([ticker] * n),
            "trade_date": raw["Date"],
            "cik": pa.array([cik] * n, pa.string()),
            "open": raw["Open"],
            "high": raw["High"],
            "low": raw["Low"],
            "close": raw["Close"],
            "adj_close": raw["Adj Close"],
            "volume": raw["Volume"],
            "dividend": pa.nulls(n, pa.float64()),
            "split_ratio": pa.nulls(n, pa.float64()),
        }
    )


def test_prices_load_exactly_and_reject_a_zero_close(pg_store):
    aapl, ko = yahoo_prices("AAPL", APPLE), yahoo_prices("KO", None)  # KO's CSV orders its columns differently
    first_line = (
        gzip.decompress((SAMPLE / "market" / "yahoo_csv" / "AAPL.csv.gz").read_bytes()).decode().splitlines()[1]
    )
    with psycopg.connect(pg_store) as conn:
        assert load_dataset(conn, "prices", [aapl, ko]).inserted == aapl.num_rows + ko.num_rows
        date, open_, high, low, close, adj_close, volume = first_line.split(",")
        stored = conn.execute(
            "SELECT open, high, low, close, adj_close, volume FROM edgar.price_history WHERE ticker = 'AAPL' AND trade_date = %s",
            (date,),
        ).fetchone()
        assert stored == (Decimal(open_), Decimal(high), Decimal(low), Decimal(close), Decimal(adj_close), int(volume))
        assert load_dataset(conn, "prices", [aapl, ko]).unchanged == aapl.num_rows + ko.num_rows

        zero = aapl.slice(0, 1).set_column(aapl.schema.get_field_index("close"), "close", pa.array([0.0]))
        with pytest.raises(LoadError, match="price_history_close_check"):
            load_dataset(conn, "prices", [ko, zero])


def test_pipeline_bookkeeping(pg_store):
    with psycopg.connect(pg_store) as conn:
        record_run(conn, dag_id="edgar_nightly", run_id="r1", stage="load_postgres", status="running")
        record_run(
            conn, dag_id="edgar_nightly", run_id="r1", stage="load_postgres", status="success", counts={"facts": 3}
        )
        status, counts, finished = conn.execute(
            "SELECT status, counts, finished_at >= started_at FROM edgar.pipeline_runs"
        ).fetchone()
        assert (status, counts, finished) == ("success", {"facts": 3}, True)
        record_run(conn, dag_id="edgar_nightly", run_id="r1", stage="load_postgres", status="running")  # a retry
        assert conn.execute("SELECT status, finished_at, counts FROM edgar.pipeline_runs").fetchone() == (
            "running",
            None,
            {"facts": 3},
        )

        qid = record_quarantine(
            conn,
            source="sec",
            dataset="companyfacts",
            reason="not valid JSON",
            run_id="r1",
            cik=APPLE,
            object_key="quarantine/sec/companyfacts/ingest_date=2026-11-21/CIK0000320193.json.gz",
            detail={"bytes": 12},
        )
        assert conn.execute("SELECT reason, detail FROM edgar.quarantine WHERE id = %s", (qid,)).fetchone() == (
            "not valid JSON",
            {"bytes": 12},
        )
        did = record_dq_result(
            conn,
            stage="staged",
            suite="facts",
            success=False,
            evaluated=10,
            failed=1,
            run_id="r1",
            failing=[{"expectation": "cik matches"}],
        )
        assert conn.execute(
            "SELECT success, failed, failing FROM edgar.dq_results WHERE id = %s", (did,)
        ).fetchone() == (
            False,
            1,
            [{"expectation": "cik matches"}],
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            record_dq_result(conn, stage="staged", suite="facts", success=True, evaluated=1, failed=2)
