"""Pins what the quality tests rely on in the normalized sample (tests/sample_tables.py)."""

from __future__ import annotations

from conftest import APPLE
from sample_tables import facts, facts_ciks, submissions


def test_sample_facts_match_the_documented_counts():
    table = facts()
    assert table.num_rows == 193_912
    assert len(facts_ciks()) == 13


def test_sample_submissions_have_one_row_per_company_and_filing():
    companies, filings = submissions()
    assert companies.num_rows == len(set(companies["cik"].to_pylist()))
    assert APPLE in companies["cik"].to_pylist()
    pairs = filings.select(["cik", "accession_number"]).to_pylist()
    assert len(pairs) == len({(p["cik"], p["accession_number"]) for p in pairs})
