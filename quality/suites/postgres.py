"""Suites of PostgreSQL after the load (quality/checks/postgres_state.py builds their frames)."""

from __future__ import annotations

import great_expectations.expectations as gxe

from quality.suites.common import (
    ROW_TOLERANCE,
    Suite,
)


def postgres_companies() -> Suite:
    """The run's companies as the loader left them. The schema already enforces key shapes,
    uniqueness, not-nulls and filings -> companies; these are what it does not declare."""
    return Suite(
        "postgres_companies",
        (
            gxe.ExpectColumnValuesToBeInSet(
                column="company_known",
                value_set=[True],
                description="referential integrity: the company, and so each of its facts, has its "
                "edgar.companies row (facts declare no foreign key)",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="unindexed_accessions",
                max_value=0,
                description="referential integrity: every accession of the company's facts filed within the span "
                "of its filings index is in that index (older filings may predate the pages fetched)",
            ),
            gxe.ExpectColumnValueLengthsToBeBetween(column="name", min_value=1, mostly=ROW_TOLERANCE),
        ),
        keys=("cik", "name", "unindexed_example"),
    )


def postgres_tables() -> Suite:
    """Row counts of the operational tables against the last passing run: nothing deletes rows."""
    return Suite(
        "postgres_tables",
        (
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="row_count",
                column_B="previous_row_count",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description="no table lost rows since the last passing run (facts are never deleted)",
            ),
        ),
        keys=("table",),
    )
