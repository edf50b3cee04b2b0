"""GX expectation suites as code: one per dataset and stage.

Row-level checks carry ``mostly=ROW_TOLERANCE``: a few bad rows are quarantined and the rest
continues, more than that fails the gate. Table-level checks (key uniqueness, referential
integrity, row counts, everything on the warehouse marts) are strict: one violation fails the gate.

Checks GX cannot state over a single column (one latest version per period, facts whose
company is known) are computed columns added by ``Suite.derive`` and validated like any other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.expectations.expectation import Expectation

CIK = r"^\d{10}$"
ACCESSION = r"^\d{10}-\d{2}-\d{6}$"
TAXONOMIES = ("us-gaap", "ifrs-full", "dei", "srt", "invest", "ecd", "ffd")
FISCAL_PERIODS = ("FY", "Q1", "Q2", "Q3", "Q4")
# Share of rows that must pass a row-level check; the failing rest is quarantined.
ROW_TOLERANCE = 0.99
STRICT = 1.0  # table-level: no row may fail
# Allowed relative change of a dataset's row count against the previous successful run.
ROW_COUNT_TOLERANCE = 0.10
# Per-company value sums may differ only by floating-point summation order between engines.
SUM_REL_TOLERANCE = 1e-9
FACT_KEY = ("cik", "taxonomy", "tag", "unit", "period_start", "period_end", "accession_number")
STATEMENT_KEY = ("cik", "metric", "fiscal_period", "period_start", "period_end", "accession_number")
STATEMENT_PERIOD = ("cik", "metric", "fiscal_period", "period_end")


@dataclass(frozen=True)
class Suite:
    """Expectations plus what a gate needs around them.

    ``keys`` name the columns that identify a failing row in messages, the first one the company;
    ``derive`` adds the computed columns some expectations check.
    """

    name: str
    expectations: tuple[Expectation, ...]
    keys: tuple[str, ...] = ("cik",)
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None

    def to_gx(self, extra: Iterable[Expectation] = ()) -> gx.ExpectationSuite:
        # Configurations, not the objects: a GX expectation belongs to at most one suite.
        configs = [e.configuration for e in (*self.expectations, *extra)]
        return gx.ExpectationSuite(name=self.name, expectations=configs)


def _required(*columns: str, mostly: float = ROW_TOLERANCE) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c, mostly=mostly) for c in columns]


def _cik(mostly: float = ROW_TOLERANCE) -> list[Expectation]:
    # Regex checks skip nulls, hence the separate not-null check.
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="cik", mostly=mostly),
        gxe.ExpectColumnValuesToMatchRegex(column="cik", regex=CIK, mostly=mostly),
    ]


def _accession(mostly: float = ROW_TOLERANCE) -> list[Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="accession_number", mostly=mostly),
        gxe.ExpectColumnValuesToMatchRegex(column="accession_number", regex=ACCESSION, mostly=mostly),
    ]


def _period_order(mostly: float = ROW_TOLERANCE) -> Expectation:
    # Instants have no start: those rows are not compared.
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="period_end",
        column_B="period_start",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        mostly=mostly,
    )


def _known_company(company_ciks: Iterable[str]) -> tuple[Expectation, Callable[[pd.DataFrame], pd.DataFrame]]:
    # A derived flag instead of a value_set: tens of thousands of CIKs would bloat every result and page.
    known = frozenset(company_ciks)

    def derive(df: pd.DataFrame) -> pd.DataFrame:
        return df.assign(company_known=df["cik"].isin(known))

    check = gxe.ExpectColumnValuesToBeInSet(
        column="company_known",
        value_set=[True],
        description="referential integrity: every row's cik is a known company",
    )
    return check, derive


def row_count_within(previous: int, tolerance: float = ROW_COUNT_TOLERANCE) -> Expectation:
    """The batch has ``previous`` rows, give or take ``tolerance`` (table-level, no ``mostly``)."""
    return gxe.ExpectTableRowCountToBeBetween(
        min_value=math.floor(previous * (1 - tolerance)), max_value=math.ceil(previous * (1 + tolerance))
    )


def staged_facts(company_ciks: Iterable[str] | None = None) -> Suite:
    """staged/facts. ``company_ciks``: when given, every fact's company must be among them."""
    expectations = [
        *_cik(),
        *_accession(),
        *_required("taxonomy", "tag", "unit", "value", "period_end", "form", "filed"),
        _period_order(),
        gxe.ExpectColumnValuesToBeInSet(column="taxonomy", value_set=list(TAXONOMIES), mostly=ROW_TOLERANCE),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(FACT_KEY)),
    ]
    derive = None
    if company_ciks is not None:
        check, derive = _known_company(company_ciks)
        expectations.append(check)
    return Suite("staged_facts", tuple(expectations), keys=("cik", "tag", "accession_number"), derive=derive)


def staged_companies() -> Suite:
    return Suite(
        "staged_companies",
        (
            *_cik(),
            gxe.ExpectColumnValuesToBeUnique(column="cik"),
            *_required("name"),
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
            *_cik(),
            *_accession(),
            *_required("form", "filing_date"),
            gxe.ExpectColumnValuesToBeBetween(column="size", min_value=0, mostly=ROW_TOLERANCE),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["cik", "accession_number"]),
        ),
        keys=("cik", "accession_number", "form"),
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
        *_cik(mostly=STRICT),
        *_accession(mostly=STRICT),
        *_required("metric", "period_end", "value", "unit", "source_tag", "filed_date", mostly=STRICT),
        *_required("is_first_reported", "is_latest", mostly=STRICT),
        gxe.ExpectColumnValuesToMatchRegex(column="metric", regex=r"^[a-z][a-z0-9_]*$"),
        gxe.ExpectColumnValuesToBeInSet(column="fiscal_period", value_set=list(FISCAL_PERIODS)),
        _period_order(mostly=STRICT),
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
        check, derive = _known_company(company_ciks)
        expectations.append(check)
        derives.append(derive)

    def derive_all(df: pd.DataFrame) -> pd.DataFrame:
        for step in derives:
            df = step(df)
        return df

    return Suite(
        "fct_financial_statements", tuple(expectations), keys=(*period, "accession_number"), derive=derive_all
    )


def reconciliation(dataset: str) -> Suite:
    """Per-company rows and value sums agree between staged Parquet, PostgreSQL and the warehouse.

    Validates the frame built by ``quality.reconcile.compare``.
    """
    expectations: list[Expectation] = [gxe.ExpectColumnValuesToBeUnique(column="cik")]
    for system in ("postgres", "warehouse"):
        expectations += [
            gxe.ExpectColumnPairValuesToBeEqual(column_A="staged_rows", column_B=f"{system}_rows"),
            gxe.ExpectColumnValuesToBeBetween(
                column=f"{system}_sum_rel_diff", min_value=0, max_value=SUM_REL_TOLERANCE
            ),
        ]
    return Suite(f"reconcile_{dataset}", tuple(expectations), keys=("cik",))


def freshness(max_lag_days: int) -> Suite:
    """Newest filing in the warehouse is at most ``max_lag_days`` behind the submissions index.

    Validates the frame built by ``quality.freshness.freshness_frame``; companies the index does not
    cover (lag null) are not judged.
    """
    return Suite(
        "freshness",
        (gxe.ExpectColumnValuesToBeBetween(column="lag_days", max_value=max_lag_days),),
        keys=("cik", "warehouse_latest", "index_latest"),
    )


def completeness() -> Suite:
    """Every expected company landed. Validates ``quality.freshness.completeness_frame``."""
    return Suite(
        "completeness",
        (
            gxe.ExpectColumnValuesToBeUnique(column="cik"),
            gxe.ExpectColumnValuesToBeInSet(column="landed", value_set=[True]),
        ),
        keys=("cik",),
    )
