"""Suites that monitor rather than gate: freshness, completeness and gaps against trading calendars."""

from __future__ import annotations

import great_expectations.expectations as gxe

from quality.suites.common import (
    Suite,
)


def freshness(max_lag_days: int) -> Suite:
    """Newest filing in the warehouse is at most ``max_lag_days`` behind the submissions index.

    Validates the frame built by ``quality.checks.freshness.freshness_frame``; companies the index does not
    cover (lag null) are not judged.
    """
    return Suite(
        "freshness",
        (gxe.ExpectColumnValuesToBeBetween(column="lag_days", max_value=max_lag_days),),
        keys=("cik", "warehouse_latest", "index_latest"),
    )


def completeness() -> Suite:
    """Every expected company landed. Validates ``quality.checks.freshness.completeness_frame``."""
    return Suite(
        "completeness",
        (
            gxe.ExpectColumnValuesToBeUnique(column="cik"),
            gxe.ExpectColumnValuesToBeInSet(column="landed", value_set=[True]),
        ),
        keys=("cik",),
    )


def price_gaps() -> Suite:
    """Per ticker, sessions of its exchange without a row and rows off the calendar. Validates
    ``ingest.yahoo.trading_calendar.gaps``; monitored, not gating."""
    return Suite(
        "price_gaps",
        (
            gxe.ExpectColumnValuesToBeBetween(column="missing_sessions", max_value=0),
            gxe.ExpectColumnValuesToBeBetween(column="off_calendar_rows", max_value=0),
        ),
        keys=("ticker", "missing_examples"),
    )


def sign_flips() -> Suite:
    """Facts a later filing reported with the opposite sign (mart audit_fact_sign_flips): every
    row is a warning naming both filings; monitored, not gating."""
    return Suite(
        "sign_flips",
        (
            gxe.ExpectColumnValuesToBeNull(
                column="flipped_accession_number",
                description="no later filing flips the sign of a fact an earlier one reported",
            ),
        ),
        keys=("cik", "source_tag", "period_end", "first_accession_number", "flipped_accession_number"),
    )
