"""Suites of the warehouse marts: marts cannot quarantine rows, so every check is strict."""

from __future__ import annotations

from collections.abc import Iterable

import great_expectations.expectations as gxe
import pandas as pd

from quality.suites.common import (
    FISCAL_PERIODS,
    STATEMENT_KEY,
    STATEMENT_PERIOD,
    STRICT,
    Suite,
    accession_checks,
    cik_checks,
    known_company,
    period_order,
    price_expectations,
    price_range,
    required,
)


def financial_statements(
    company_ciks: Iterable[str] | None = None, period: tuple[str, ...] = STATEMENT_PERIOD
) -> Suite:
    """Warehouse mart fct_financial_statements. Marts cannot quarantine rows: every check is strict.

    ``period``: the columns that identify one statement period, of which exactly one version
    is_latest. ``company_ciks``: when given, every row's company must be among them (dim_company).
    """

    def latest_versions(df: pd.DataFrame) -> pd.DataFrame:
        counts = df.groupby(list(period), dropna=False)["is_latest"].transform("sum")
        return df.assign(latest_versions=counts.astype("int64"))

    expectations = [
        *cik_checks(mostly=STRICT),
        *accession_checks(mostly=STRICT),
        *required("metric", "period_end", "value", "unit", "source_tag", "filed_date", mostly=STRICT),
        *required("is_first_reported", "is_latest", mostly=STRICT),
        gxe.ExpectColumnValuesToMatchRegex(column="metric", regex=r"^[a-z][a-z0-9_]*$"),
        gxe.ExpectColumnValuesToBeInSet(column="fiscal_period", value_set=list(FISCAL_PERIODS)),
        period_order(mostly=STRICT),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(STATEMENT_KEY)),
        gxe.ExpectColumnValuesToBeBetween(
            column="latest_versions",
            min_value=1,
            max_value=1,
            description=f"exactly one is_latest row per ({', '.join(period)})",
        ),
    ]
    derives = [latest_versions]
    if company_ciks is not None:
        check, derive = known_company(company_ciks)
        expectations.append(check)
        derives.append(derive)

    def derive_all(df: pd.DataFrame) -> pd.DataFrame:
        for step in derives:
            df = step(df)
        return df

    return Suite(
        "fct_financial_statements", tuple(expectations), keys=(*period, "accession_number"), derive=derive_all
    )


def market_data() -> Suite:
    """Warehouse mart fct_market_data: every check strict (marts cannot quarantine rows)."""
    return Suite(
        "fct_market_data", tuple(price_expectations(STRICT)), keys=("ticker", "trade_date", "cik"), derive=price_range
    )
