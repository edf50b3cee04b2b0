"""Suites of the staged zone (staged/{dataset}/): row-level checks quarantine a few bad rows."""

from __future__ import annotations

from collections.abc import Iterable

import great_expectations.expectations as gxe

from ingest.sec.vocab import TAXONOMIES
from quality.suites.common import (
    ADJ_STEP_TOLERANCE,
    FACT_KEY,
    ROW_COUNT_TOLERANCE,
    ROW_TOLERANCE,
    Suite,
    accession_checks,
    cik_checks,
    known_company,
    period_order,
    price_expectations,
    price_steps,
    required,
)


def staged_facts(company_ciks: Iterable[str] | None = None) -> Suite:
    """staged/facts. ``company_ciks``: when given, every fact's company must be among them."""
    expectations = [
        *cik_checks(),
        *accession_checks(),
        *required("taxonomy", "tag", "unit", "value", "period_end", "form", "filed"),
        period_order(),
        gxe.ExpectColumnValuesToBeInSet(column="taxonomy", value_set=sorted(TAXONOMIES), mostly=ROW_TOLERANCE),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(FACT_KEY)),
    ]
    derive = None
    if company_ciks is not None:
        check, derive = known_company(company_ciks)
        expectations.append(check)
    return Suite("staged_facts", tuple(expectations), keys=("cik", "tag", "accession_number"), derive=derive)


def staged_companies() -> Suite:
    return Suite(
        "staged_companies",
        (
            *cik_checks(),
            gxe.ExpectColumnValuesToBeUnique(column="cik"),
            *required("name"),
            # MMDD; individuals and some funds have none.
            gxe.ExpectColumnValuesToMatchRegex(
                column="fiscal_year_end", regex=r"^(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$", mostly=ROW_TOLERANCE
            ),
            gxe.ExpectColumnValuesToMatchRegex(column="sic", regex=r"^\d{4}$", mostly=ROW_TOLERANCE),
            gxe.ExpectColumnValuesToBeJsonParseable(column="former_names", mostly=ROW_TOLERANCE),
        ),
        keys=("cik", "name"),
    )


def staged_filings() -> Suite:
    return Suite(
        "staged_filings",
        (
            *cik_checks(),
            *accession_checks(),
            *required("form", "filing_date"),
            gxe.ExpectColumnValuesToBeBetween(column="size", min_value=0, mostly=ROW_TOLERANCE),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["cik", "accession_number"]),
        ),
        keys=("cik", "accession_number", "form"),
    )


def staged_counts() -> Suite:
    """Rows of each staged dataset, the whole zone, against the last passing run: a run that
    staged every filer's data short (a truncated source, a parser regression) stops here. The
    datasets themselves are validated in parts of this run's files (pipelines/gates.py)."""
    return Suite(
        "staged_counts",
        (
            gxe.ExpectColumnValuesToBeBetween(
                column="change",
                min_value=-ROW_COUNT_TOLERANCE,
                max_value=ROW_COUNT_TOLERANCE,
                description=f"the zone's rows changed by at most {ROW_COUNT_TOLERANCE:.0%} since the last "
                "passing run (change = row_count / previous_row_count - 1; null before the first)",
            ),
        ),
        keys=("dataset", "row_count", "previous_row_count"),
    )


def staged_prices() -> Suite:
    """staged/prices: daily bars, bad rows quarantined (``mostly``); duplicate dates and a split
    missing from the history fail the gate."""
    return Suite(
        "staged_prices",
        (
            *price_expectations(ROW_TOLERANCE),
            gxe.ExpectColumnValuesToBeBetween(
                column="adj_step_error",
                max_value=ADJ_STEP_TOLERANCE,
                mostly=ROW_TOLERANCE,
                description="adj_close consistent with the dividends and capital gains",
            ),
            # Strict: a split missing from the history puts every earlier row on the wrong basis.
            gxe.ExpectColumnValuesToBeInSet(
                column="split_unapplied", value_set=[False], description="prices before a split adjusted for it"
            ),
        ),
        keys=("ticker", "trade_date", "cik"),
        derive=price_steps,
    )
