"""GX gates on the real sample: suites pass on good batches, fail with named checks and examples
on injected bad data, publish result JSON and data docs, and quarantine tolerated bad rows."""

from __future__ import annotations

import io
import pickle

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import APPLE, LPA, SOUTHWEST
from sample_tables import facts, submissions

from ingest.identifiers import CIK
from ingest.zones import schemas
from ingest.zones.staged import read_staged, staged_key, write_staged
from ingest.zones.store import LocalStore
from quality import suites
from quality.checks.quarantine import REASON, quarantine, restage, split_rows
from quality.checks.zone_counts import counts_frame
from quality.gate import previous_baseline, previous_row_count, run_gate
from quality.report import GateFailed


@pytest.fixture
def store(tmp_path):
    return LocalStore(tmp_path / "store")


def _result(store, stage, run_id, suite):
    return orjson.loads(store.get(f"quality/{stage}/run_id={run_id}/{suite}/result.json"))


@pytest.mark.parametrize(
    "suite, data",
    [
        (suites.staged_facts(), facts),
        (suites.staged_companies(), lambda: submissions()[0]),
        (suites.staged_filings(), lambda: submissions()[1]),
        (suites.financial_statements(), None),  # the real mart of the session's dbt build
    ],
    ids=["facts", "companies", "filings", "fct_financial_statements"],
)
def test_good_batch_passes_and_publishes_result_and_docs(store, suite, data, request):
    if data is None:
        mart = request.getfixturevalue("statements_mart")
        data = lambda: mart  # noqa: E731
    result = run_gate("staged", suite, data(), store=store, run_id="manual__2026-11-21T00:00:00+00:00")

    assert result.success and result.failed == 0 and result.evaluated == len(suite.expectations)
    assert result.row_count == len(data())
    prefix = f"quality/staged/run_id=manual__2026-11-21T00:00:00+00:00/{suite.name}"
    stored = _result(store, "staged", "manual__2026-11-21T00:00:00+00:00", suite.name)
    assert stored["success"] is True and stored["suite_name"] == suite.name
    assert len(stored["results"]) == len(suite.expectations)
    assert result.result_uri == store.uri(f"{prefix}/result.json")
    assert result.docs_uri == store.uri(f"{prefix}/docs/index.html")
    assert suite.name in store.get(f"{prefix}/docs/index.html").decode()
    (page,) = [k for k in store.list(f"{prefix}/docs/validations/") if k.endswith(".html")]
    html = store.get(page).decode()
    assert "Succeeded" in html and "must match this regular expression" in html
    assert previous_row_count(store, "staged", suite.name) == result.row_count


def test_malformed_ciks_in_5_percent_of_rows_fail_the_gate(store):
    df = facts().to_pandas()
    bad = df.index[::20]  # 5%: well over the 1% a row-level check tolerates
    df.loc[bad, "cik"] = df.loc[bad, "cik"].str.lstrip("0")

    with pytest.raises(GateFailed) as failed:
        run_gate("staged", suites.staged_facts(), df, store=store, run_id="r1")

    message = str(failed.value)
    assert "expect_column_values_to_match_regex(cik)" in message
    assert f"{len(bad)} unexpected" in message and "mostly=0.99" in message
    assert "cik='320193'" in message  # an example value, quoted as found
    (check,) = failed.value.result.failing
    assert check.unexpected_count == len(bad) and check.affected_count == 13  # one per company
    assert str(pickle.loads(pickle.dumps(failed.value))) == message  # survives an executor's process boundary
    stored = _result(store, "staged", "r1", "staged_facts")
    assert stored["success"] is False
    # Bounded result: examples kept, full unexpected lists dropped (the rows go to quarantine).
    regex = next(r for r in stored["results"] if r["expectation_config"]["kwargs"].get("regex") == CIK)
    assert len(regex["result"]["partial_unexpected_list"]) == 20 and "unexpected_list" not in regex["result"]
    page = next(k for k in store.list("quality/staged/run_id=r1/staged_facts/docs/validations/") if k.endswith(".html"))
    html = store.get(page).decode()
    assert "Failed" in html and "37996" in html  # Ford sorts first: its rows are the sampled ones
    assert previous_row_count(store, "staged", "staged_facts") is None  # a failed run sets no baseline


def test_duplicate_fact_keys_fail_without_tolerance(store):
    df = facts().to_pandas()
    instants = df[df["cik"].eq(APPLE) & df["period_start"].isna()].head(3)  # null starts still collide
    with pytest.raises(GateFailed) as failed:
        run_gate("staged", suites.staged_facts(), pd.concat([df, instants]), store=store, run_id="r1")

    (check,) = failed.value.result.failing
    assert check.expectation.startswith("expect_compound_columns_to_be_unique(cik, taxonomy, tag")
    assert check.unexpected_count == 6 and check.affected == (APPLE,)
    assert instants["tag"].iloc[0] in str(failed.value)


def test_facts_of_unknown_companies_fail_referential_integrity(store):
    companies, _ = submissions()
    suite = suites.staged_facts(company_ciks=companies["cik"].to_pylist())

    with pytest.raises(GateFailed) as failed:
        run_gate("staged", suite, facts(), store=store, run_id="r1")

    (check,) = failed.value.result.failing
    # The sample has companyfacts without submissions for 7 filers.
    assert check.affected_count == 7 and LPA in check.affected and APPLE not in check.affected
    assert "referential integrity" in str(failed.value)


def test_the_zones_row_count_must_stay_near_the_last_passing_runs(store):
    first = counts_frame({"facts": 193_912, "filings": 9_000}, {})
    run_gate("staged", suites.staged_counts(), first, store=store, run_id="day1", baseline={"datasets": {"facts": 193_912}})
    previous = previous_baseline(store, "staged", "staged_counts")["datasets"]

    run_gate("staged", suites.staged_counts(), counts_frame({"facts": 180_000}, previous), store=store, run_id="day2")
    with pytest.raises(GateFailed) as failed:
        run_gate("staged", suites.staged_counts(), counts_frame({"facts": 150_000}, previous), store=store, run_id="day3")

    (check,) = failed.value.result.failing
    assert check.affected == ("facts",) and "previous_row_count=193912" in check.examples[0]
    assert "changed by at most 10%" in str(failed.value)


def test_a_part_of_a_batch_has_its_own_result_and_sets_no_baseline(store):
    table = facts()
    result = run_gate("staged", suites.staged_facts(), table.slice(0, 50_000), store=store, run_id="r1", part=3)

    assert result.result_uri == store.uri("quality/staged/run_id=r1/staged_facts/part-00003/result.json")
    assert store.exists("quality/staged/run_id=r1/staged_facts/part-00003/docs/index.html")
    assert previous_row_count(store, "staged", "staged_facts") is None


def test_statements_mart_needs_one_latest_version_per_period_and_known_fiscal_periods(store, statements_mart):
    df = statements_mart.copy()
    flipped = df.index[df["cik"].eq(APPLE) & df["is_latest"]][:2]
    df.loc[flipped, "is_latest"] = False  # two Apple periods left without a latest version
    df.loc[flipped[-1:] + 1, "fiscal_period"] = "Q5"

    with pytest.raises(GateFailed) as failed:
        run_gate("warehouse", suites.financial_statements(), df, store=store, run_id="r1")

    checks = {c.expectation: c for c in failed.value.result.failing}
    assert set(checks) == {"expect_column_values_to_be_between(latest_versions)",
                           "expect_column_values_to_be_in_set(fiscal_period)"}
    latest = checks["expect_column_values_to_be_between(latest_versions)"]
    assert latest.affected == (APPLE,) and "latest_versions=0" in latest.examples[0]
    assert "exactly one is_latest" in str(failed.value) and "'Q5'" in str(failed.value)


def test_tolerated_bad_rows_are_quarantined_and_the_rest_continues(store):
    table = facts()
    for cik in sorted(set(table["cik"].to_pylist())):
        write_staged(store, "facts", cik, table.filter(pc.equal(table["cik"], cik)))
    df = table.to_pandas()
    bad_accession = df.index[df["cik"].eq(APPLE)][:300]
    null_value = df.index[df["cik"].eq(LPA)][:200]
    df.loc[bad_accession, "accession_number"] = df.loc[bad_accession, "accession_number"].str.replace("-", "")
    df.loc[null_value, "value"] = None
    for cik in (APPLE, LPA):  # the bad rows as normalize would have staged them
        write_staged(store, "facts", cik, _arrow(df[df["cik"].eq(cik)]))
    batch = _arrow(df)

    result = run_gate("staged", suites.staged_facts(), batch, store=store, run_id="r1")
    assert result.success  # 0.26% bad rows: under the 1% threshold
    good, bad = split_rows(result, batch)
    assert good.num_rows + bad.num_rows == batch.num_rows and bad.num_rows == 500
    reasons = bad.to_pandas().groupby("cik")[REASON].unique()
    assert list(reasons[APPLE]) == ["expect_column_values_to_match_regex(accession_number)"]
    assert list(reasons[LPA]) == ["expect_column_values_to_not_be_null(value)"]

    moved = quarantine(store, result, batch, source="sec", dataset="facts")
    assert moved.key == "quarantine/sec/facts/run_id=r1/staged_facts.parquet"
    parked = pq.read_table(io.BytesIO(store.get(moved.key)))
    assert parked.num_rows == 500 and parked.schema.names == [*batch.schema.names, REASON]

    assert restage(store, "facts", moved) == [staged_key("facts", APPLE), staged_key("facts", LPA)]
    assert read_staged(store, staged_key("facts", LPA)).num_rows == (df["cik"] == LPA).sum() - 200
    # Re-running the gate over the restaged files finds nothing left to quarantine.
    again = pd.concat([read_staged(store, k).to_pandas() for k in store.list("staged/facts/")])
    rerun = run_gate("staged", suites.staged_facts(), again, store=store, run_id="r1-retry")
    assert rerun.row_failures == {} and rerun.row_count == batch.num_rows - 500


def test_over_threshold_bad_rows_fail_and_nothing_moves(store):
    df = facts().to_pandas()
    df.loc[df.index[::40], "value"] = None  # 2.5%

    with pytest.raises(GateFailed) as failed:
        run_gate("staged", suites.staged_facts(), df, store=store, run_id="r1")

    assert [c.expectation for c in failed.value.result.failing] == ["expect_column_values_to_not_be_null(value)"]
    assert store.list("quarantine/") == []


def test_split_rows_refuses_a_different_batch(store):
    table = facts().slice(0, 1000)
    result = run_gate("staged", suites.staged_facts(), table, store=store, run_id="r1")
    with pytest.raises(ValueError, match="1000"):
        split_rows(result, table.slice(0, 999))


def test_names_that_would_escape_the_quality_zone_are_refused(store):
    with pytest.raises(ValueError, match="stage"):
        run_gate("../raw", suites.staged_facts(), facts().slice(0, 10), store=store, run_id="r1")
    with pytest.raises(ValueError, match="run_id"):
        run_gate("staged", suites.staged_facts(), facts().slice(0, 10), store=store, run_id="a/b")


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, schema=schemas.FACTS, preserve_index=False)


def test_statements_mart_fails_two_latest_versions_of_a_year_end_dated_apart(store, statements_mart):
    """Southwest's cash at the end of 2007 is dated 2007-12-31 by its 10-Ks and 2008-01-01 by
    two 10-Qs: one period, so a second is_latest row is a duplicate, not another period."""
    df = statements_mart.copy()
    period = df["cik"].eq(SOUTHWEST) & df["metric"].eq("cash") & df["fiscal_year"].eq(2007) & df["fiscal_period"].eq("FY")
    assert df.loc[period, "period_end"].nunique() == 2
    other_date = period & ~df["period_end"].isin(df.loc[period & df["is_latest"], "period_end"])
    df.loc[df.index[other_date][-1], "is_latest"] = True

    with pytest.raises(GateFailed) as failed:
        run_gate("warehouse", suites.financial_statements(), df, store=store, run_id="r1")

    (check,) = failed.value.result.failing
    assert check.expectation == "expect_column_values_to_be_between(latest_versions)"
    assert check.affected == (SOUTHWEST,) and "latest_versions=2" in check.examples[0]


def test_sign_flips_monitor_names_both_filings(store, warehouse):
    """The sample's sign flips (Southwest's 2008 capex among them) fail the monitor, which names
    the earlier and the later filing of each."""
    from ingest.warehouse.reader import WarehouseReader

    settings, _ = warehouse
    reader = WarehouseReader(settings)
    frame = reader.frame(f"SELECT * FROM {reader.table('marts', 'audit_fact_sign_flips')}")
    assert len(frame) > 0

    with pytest.raises(GateFailed) as failed:
        run_gate("monitor", suites.sign_flips(), frame, store=store, run_id="flips")

    (check,) = failed.value.result.failing
    assert SOUTHWEST in check.affected and check.unexpected_count == len(frame)
    pairs = set(zip(frame["first_accession_number"], frame["flipped_accession_number"], strict=True))
    for example in check.examples:
        first, flipped = (example.split(f"{key}='")[1].split("'")[0] for key in ("first_accession_number",
                                                                                "flipped_accession_number"))
        assert (first, flipped) in pairs and first != flipped
