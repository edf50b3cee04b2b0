"""Pins what the quality tests rely on in the normalized sample (tests/quality_sample.py)."""

from __future__ import annotations

from quality_sample import APPLE, facts, statements, submissions


def test_sample_facts_match_the_documented_counts():
    table = facts()
    assert table.num_rows == 193_912
    assert len(set(table["cik"].to_pylist())) == 13


def test_sample_submissions_have_one_row_per_company_and_filing():
    companies, filings = submissions()
    assert companies.num_rows == len(set(companies["cik"].to_pylist()))
    assert APPLE in companies["cik"].to_pylist()
    pairs = filings.select(["cik", "accession_number"]).to_pylist()
    assert len(pairs) == len({(p["cik"], p["accession_number"]) for p in pairs})


def test_sample_statements_have_one_latest_version_per_period():
    df = statements()
    assert len(df) > 1000
    latest = df.groupby(["cik", "metric", "fiscal_period", "period_end"], dropna=False)["is_latest"].sum()
    assert latest.eq(1).all()
    apple_fy23 = df[
        df["cik"].eq(APPLE) & df["metric"].eq("revenue") & df["accession_number"].eq("0000320193-23-000106")
        & df["fiscal_period"].eq("FY") & df["period_end"].astype(str).eq("2023-09-30")
    ]
    assert apple_fy23["value"].tolist() == [383_285_000_000]
