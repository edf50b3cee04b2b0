"""Normalization of real SEC payloads, including the quirks listed in the sample's README."""

from __future__ import annotations

import datetime as dt

import orjson
import pyarrow.compute as pc
import pytest
from conftest import APPLE, LPA, TSMC, sample_bytes

from ingest import schemas
from ingest.normalize import BadPayload, cik10, normalize_companyfacts, normalize_submissions


def _facts(cik: str):
    return normalize_companyfacts(sample_bytes(f"edgar/companyfacts/CIK{cik}.json"))


def _count_facts(raw: bytes) -> int:
    doc = orjson.loads(raw)
    return sum(len(f) for tags in doc["facts"].values() for c in tags.values() for f in c["units"].values())


def test_apple_every_version_kept_with_own_period():
    table = _facts(APPLE)
    assert table.schema == schemas.FACTS
    assert table.num_rows == _count_facts(sample_bytes(f"edgar/companyfacts/CIK{APPLE}.json")) == 24_579
    fy2023 = table.filter(
        pc.and_(
            pc.equal(table["tag"], "RevenueFromContractWithCustomerExcludingAssessedTax"),
            pc.equal(table["period_end"], dt.date(2023, 9, 30)),
        )
    ).to_pylist()
    # The 10-K for FY2023 and two later 10-Ks repeating it as a comparative: three versions.
    assert {r["accession_number"] for r in fy2023} == {
        "0000320193-23-000106",
        "0000320193-24-000123",
        "0000320193-25-000079",
    }
    assert {r["value"] for r in fy2023} == {383_285_000_000}
    assert {r["period_start"] for r in fy2023} == {dt.date(2022, 9, 25)}


def test_ifrs_filer_in_foreign_currency():
    table = _facts(TSMC)
    assert set(table["taxonomy"].to_pylist()) == {"dei", "ifrs-full"}
    assert "TWD" in set(table["unit"].to_pylist())
    assert set(table["form"].to_pylist()) == {"20-F", "6-K"}


def test_cik_sent_as_zero_padded_string():
    assert orjson.loads(sample_bytes(f"edgar/companyfacts/CIK{LPA}.json"))["cik"] == LPA
    assert set(_facts(LPA)["cik"].to_pylist()) == {LPA}
    assert cik10(320193) == APPLE


@pytest.mark.parametrize(
    "raw, reason",
    [
        (sample_bytes(f"edgar/companyfacts/CIK{APPLE}.json")[:50_000], "not valid JSON"),
        (b"<html><body>Your Request Originates from an Undeclared Automated Tool</body></html>", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"cik": 320193, "entityName": "x"}', "missing 'cik' or 'facts'"),
        (b'{"cik": "abc", "facts": {}}', "not a CIK"),
        (
            b'{"cik": 1, "facts": {"us-gaap": {"Assets": {"units": {"USD": [{"end": "2020-01-01", "val": 1}]}}}}}',
            "lacks 'accn'",
        ),
        (
            b'{"cik": 1, "facts": {"us-gaap": {"Assets": {"units": {"USD": [{"end": "2020-13-45", "val": 1,'
            b' "accn": "0000000001-20-000001", "filed": "2020-02-01", "form": "10-K"}]}}}}}',
            "bad date",
        ),
    ],
)
def test_bad_payloads_raise_a_clear_reason(raw, reason):
    with pytest.raises(BadPayload, match=reason):
        normalize_companyfacts(raw)


def test_submissions_with_paginated_files():
    cik = "0001318605"  # Tesla: filings.files points at a -submissions-001 page
    main = sample_bytes(f"edgar/submissions/CIK{cik}.json")
    page = sample_bytes(f"edgar/submissions/CIK{cik}-submissions-001.json")
    companies, filings = normalize_submissions(main, [page])
    recent = orjson.loads(main)["filings"]["recent"]["accessionNumber"]
    older = orjson.loads(page)["accessionNumber"]
    assert filings.num_rows == len(recent) + len(older)
    assert filings["accession_number"].null_count == 0
    row = companies.to_pylist()[0]
    assert row["cik"] == cik and row["name"].startswith("Tesla")
    assert row["fiscal_year_end"] == "1231" and "TSLA" in row["tickers"]
    assert orjson.loads(row["former_names"])  # Tesla Motors Inc


def test_submissions_column_length_mismatch_is_bad():
    doc = orjson.loads(sample_bytes(f"edgar/submissions/CIK{APPLE}.json"))
    doc["filings"]["recent"]["form"].pop()
    with pytest.raises(BadPayload, match="'form' has"):
        normalize_submissions(orjson.dumps(doc))
