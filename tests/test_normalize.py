"""Normalization of real SEC payloads, including the quirks listed in the sample's README."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import orjson
import pyarrow.compute as pc
import pytest
from conftest import APPLE, LPA, META, SAMPLE, TSMC, sample_bytes

from ingest.sec.normalize import BadPayload, cik10, normalize_companyfacts, normalize_submissions
from ingest.sec.stage import stage_edgar
from ingest.sec.vocab import TAXONOMIES as KNOWN_TAXONOMIES
from ingest.zones import schemas
from ingest.zones.raw import Landed, land, read_raw
from ingest.zones.store import LocalStore


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
        (b"[]", "Expected `object`, got `array`"),
        (b'{"cik": 320193, "entityName": "x"}', "missing required field `facts`"),
        (b'{"cik": "abc", "facts": {}}', "not a CIK"),
        (
            b'{"cik": 1, "facts": {"us-gaap": {"Assets": {"units": {"USD": [{"end": "2020-01-01", "val": 1}]}}}}}',
            r"missing required field `accn` - at `\$.facts\[...\]\[...\].units\[...\]\[0\]`",
        ),
        (
            (
                b'{"cik": 1, "facts": {"us-gaap": {"Assets": {"units": {"USD": [{"end": "2020-13-45", "val": 1,'
                b' "accn": "0000000001-20-000001", "filed": "2020-02-01", "form": "10-K"}]}}}}}'
            ),
            r"Invalid RFC3339 encoded date - at `\$.facts\[...\]\[...\].units\[...\]\[0\].end`",
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


def _rows(table, **equal) -> list[dict]:
    mask = None
    for column, value in equal.items():
        cond = pc.equal(table[column], value)
        mask = cond if mask is None else pc.and_(mask, cond)
    return table.filter(mask).to_pylist()


def test_restatement_in_an_amendment_is_a_new_version():
    # Apple's FY2009 10-K reported total assets of 53.851bn; its 10-K/A restated them to 47.501bn.
    versions = _rows(_facts(APPLE), tag="Assets", period_end=dt.date(2009, 9, 26))
    by_accession = {r["accession_number"]: (r["form"], r["value"], r["filed"]) for r in versions}
    assert by_accession["0001193125-09-214859"] == ("10-K", 53_851_000_000, dt.date(2009, 10, 27))
    assert by_accession["0001193125-10-012091"] == ("10-K/A", 47_501_000_000, dt.date(2010, 1, 25))
    assert len(versions) == 7  # the later filings repeating it as a comparative are kept too
    assert {r["period_start"] for r in versions} == {None}  # an instant


def test_dei_cover_facts_are_kept():
    table = _facts(APPLE)
    shares = _rows(table, taxonomy="dei", tag="EntityCommonStockSharesOutstanding")
    float_ = _rows(table, taxonomy="dei", tag="EntityPublicFloat")
    assert shares and {r["unit"] for r in shares} == {"shares"}
    assert float_ and {r["unit"] for r in float_} == {"USD"}
    first = min(shares, key=lambda r: r["filed"])
    assert (first["value"], first["period_end"], first["form"]) == (895_816_758, dt.date(2009, 6, 27), "10-Q")


@pytest.mark.parametrize(
    ("cik", "forms"),
    [
        ("0001594805", {"40-F", "20-F", "10-K", "10-K/A"}),  # Shopify: 40-F, then 10-K
        (TSMC, {"20-F", "6-K"}),
        (LPA, {"20-F", "20-F/A"}),
    ],
)
def test_foreign_private_issuer_forms(cik, forms):
    assert forms <= set(_facts(cik)["form"].to_pylist())


def test_every_sample_filer_normalizes_with_all_its_units():
    for path in sorted((SAMPLE / "edgar" / "companyfacts").glob("CIK*.json.gz")):
        raw = sample_bytes(f"edgar/companyfacts/{path.name.removesuffix('.gz')}")
        doc = orjson.loads(raw)
        table = normalize_companyfacts(raw)
        assert table.num_rows == _count_facts(raw)
        units = {u for tags in doc["facts"].values() for c in tags.values() for u in c["units"]}
        assert set(table["unit"].to_pylist()) == units  # filer-defined ones (aircraft, Plaintiff...) included
        assert set(table["taxonomy"].to_pylist()) == set(doc["facts"]) <= KNOWN_TAXONOMIES


def _one_fact(taxonomy: str = "us-gaap", unit: str = "USD") -> bytes:
    fact = {"end": "2020-12-31", "val": 1, "accn": "0000000001-21-000001", "filed": "2021-02-01", "form": "10-K"}
    return orjson.dumps({"cik": 1, "entityName": "x", "facts": {taxonomy: {"Assets": {"units": {unit: [fact]}}}}})


@pytest.mark.parametrize("taxonomy", ["aapl", "US-GAAP", "", "us-gaap-2024"])
def test_unknown_taxonomy_is_bad(taxonomy):
    with pytest.raises(BadPayload, match=f"unknown taxonomy '{taxonomy}'"):
        normalize_companyfacts(_one_fact(taxonomy=taxonomy))


@pytest.mark.parametrize("unit", ["", "USD per share", "USD/shares/year", "USD*shares", "1USD", "<USD>"])
def test_unknown_unit_is_bad(unit):
    with pytest.raises(BadPayload, match="unknown unit"):
        normalize_companyfacts(_one_fact(unit=unit))


@pytest.mark.parametrize("unit", ["USD", "TWD/shares", "pure", "USD/PartnershipUnit", "Stock_options", "iso4217_EUR"])
def test_well_formed_units_pass(unit):
    assert normalize_companyfacts(_one_fact(unit=unit))["unit"].to_pylist() == [unit]


def test_unknown_unit_quarantines_only_that_filer(tmp_path):
    store = LocalStore(tmp_path / "store")
    day = dt.date(2026, 11, 21)
    bad = land(store, "sec", "companyfacts", day, "CIK0000000001.json", _one_fact(unit="USD per share"))
    good = land(store, "sec", "companyfacts", day, f"CIK{LPA}.json", sample_bytes(f"edgar/companyfacts/CIK{LPA}.json"))
    landed = [Landed("sec", "companyfacts", "0000000001", bad), Landed("sec", "companyfacts", LPA, good)]
    staging = stage_edgar(store, landed, "run-1")
    assert [(q["cik"], q["reason"]) for q in staging.quarantined] == [
        ("0000000001", "BadPayload: unknown unit 'USD per share' in us-gaap:Assets")
    ]
    assert read_raw(store, staging.quarantined[0]["key"]) == _one_fact(unit="USD per share")
    assert staging.rows["facts"] == 768


def test_a_store_failure_fails_the_task_and_a_corrupt_object_quarantines_its_filer(tmp_path):
    """Infrastructure errors are retried (the task fails); only bytes that are bad quarantine."""
    store = LocalStore(tmp_path / "store")
    day = dt.date(2026, 11, 21)
    good = land(store, "sec", "companyfacts", day, f"CIK{LPA}.json", sample_bytes(f"edgar/companyfacts/CIK{LPA}.json"))
    unreadable = land(store, "sec", "companyfacts", day, f"CIK{APPLE}.json", sample_bytes(f"edgar/companyfacts/CIK{APPLE}.json"))
    path = store.root / unreadable
    path.unlink()
    path.mkdir()  # the object cannot be read: IsADirectoryError, an OSError as a failing disk or mount gives
    landed = [Landed("sec", "companyfacts", APPLE, unreadable), Landed("sec", "companyfacts", LPA, good)]
    with pytest.raises(OSError):
        stage_edgar(store, landed, "run-1")
    assert not store.list("quarantine/")  # Apple was not filed as bad data

    path.rmdir()
    path.write_bytes(b"\x1f\x8b not gzip after all")  # stored bytes that are not whole gzip
    staging = stage_edgar(store, landed, "run-2")
    assert [(q["cik"], q["reason"].split(":")[0]) for q in staging.quarantined] == [(APPLE, "CorruptRaw")]
    assert staging.rows["facts"] == 768


def _json_values(cik: str) -> list[Decimal]:
    """Every fact value of a sample document, as the decimal its JSON text spells."""
    doc = json.loads(sample_bytes(f"edgar/companyfacts/CIK{cik}.json"), parse_float=Decimal, parse_int=Decimal)
    return [f["val"] for tags in doc["facts"].values() for c in tags.values() for u in c["units"].values() for f in u]


@pytest.mark.parametrize("cik", [TSMC, META])  # the sample's largest values (TWD 6.7 trillion) and its most decimals
def test_values_are_staged_exactly_as_filed(cik):
    staged = _facts(cik)["value"]
    assert staged.type == schemas.VALUE
    assert staged.to_pylist() == _json_values(cik)  # each value, digit for digit
    assert pc.sum(staged).as_py() == sum(_json_values(cik))


def test_what_a_float_cannot_hold_arrives_unchanged():
    facts = [
        {"end": "2020-12-31", "val": v, "accn": "0000000001-21-000001", "filed": "2021-02-01", "form": "10-K"}
        for v in ("1234567890123456789", "0.1", "1e-05", "-0.000006")
    ]
    text = orjson.dumps({"cik": 1, "entityName": "x", "facts": {"us-gaap": {"Assets": {"units": {"USD": facts}}}}})
    raw = text.replace(b'"1234567890123456789"', b"1234567890123456789").replace(b'"0.1"', b"0.1")
    raw = raw.replace(b'"1e-05"', b"1e-05").replace(b'"-0.000006"', b"-0.000006")  # JSON numbers, not strings
    values = normalize_companyfacts(raw)["value"].to_pylist()
    assert values == [Decimal("1234567890123456789"), Decimal("0.1"), Decimal("0.00001"), Decimal("-0.000006")]
    assert float(values[0]) != 1234567890123456789  # what float64 staging would have kept


def test_a_value_with_more_decimals_than_the_warehouse_holds_is_refused():
    fact = b'{"end":"2020-12-31","val":0.0000000001,"accn":"0000000001-21-000001","filed":"2021-02-01","form":"10-K"}'
    raw = b'{"cik":1,"entityName":"x","facts":{"us-gaap":{"Assets":{"units":{"pure":[' + fact + b"]}}}}}"
    with pytest.raises(BadPayload, match="9 decimal digits"):
        normalize_companyfacts(raw)
