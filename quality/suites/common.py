"""What every suite is built from: the Suite type, tolerances, shared checks and derived columns.

Row-level checks carry ``mostly=ROW_TOLERANCE``: a few bad rows are quarantined and the rest
continues, more than that fails the gate (raw documents: ``raw_mostly``, since each row there is a
whole filer's document). Table-level checks (key uniqueness, referential
integrity, row counts, everything on the warehouse marts) are strict: one violation fails the gate.

Checks GX cannot state over a single column (one latest version per period, facts whose
company is known) are computed columns added by ``Suite.derive`` and validated like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import great_expectations as gx
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd
from great_expectations.expectations.expectation import Expectation

from ingest.identifiers import ACCESSION, CIK

FISCAL_PERIODS = ("FY", "Q1", "Q2", "Q3", "Q4")
# Share of rows that must pass a row-level check; the failing rest is quarantined.
ROW_TOLERANCE = 0.99
STRICT = 1.0  # table-level: no row may fail
# Allowed relative change of a dataset's row count against the previous successful run.
ROW_COUNT_TOLERANCE = 0.10
# Per-company value sums may differ only by floating-point summation order between engines.
SUM_REL_TOLERANCE = 1e-9
FACT_KEY = ("cik", "taxonomy", "tag", "unit", "period_start", "period_end", "accession_number")
STATEMENT_KEY = ("cik", "metric", "fiscal_year", "fiscal_period", "accession_number")
# One period of a statement, whatever dates its filings gave it (a 10-Q may date a year end a day apart).
STATEMENT_PERIOD = ("cik", "metric", "fiscal_year", "fiscal_period")


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

    def to_gx(self) -> gx.ExpectationSuite:
        # Configurations, not the objects: a GX expectation belongs to at most one suite.
        configs = [e.configuration for e in self.expectations]
        return gx.ExpectationSuite(name=self.name, expectations=configs)


def required(*columns: str, mostly: float = ROW_TOLERANCE) -> list[Expectation]:
    return [gxe.ExpectColumnValuesToNotBeNull(column=c, mostly=mostly) for c in columns]


def cik_checks(mostly: float = ROW_TOLERANCE) -> list[Expectation]:
    # Regex checks skip nulls, hence the separate not-null check.
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="cik", mostly=mostly),
        gxe.ExpectColumnValuesToMatchRegex(column="cik", regex=CIK, mostly=mostly),
    ]


def accession_checks(mostly: float = ROW_TOLERANCE) -> list[Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="accession_number", mostly=mostly),
        gxe.ExpectColumnValuesToMatchRegex(column="accession_number", regex=ACCESSION, mostly=mostly),
    ]


def period_order(mostly: float = ROW_TOLERANCE) -> Expectation:
    # Instants have no start: those rows are not compared.
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="period_end",
        column_B="period_start",
        or_equal=True,
        ignore_row_if="either_value_is_missing",
        mostly=mostly,
    )


def known_company(company_ciks: Iterable[str]) -> tuple[Expectation, Callable[[pd.DataFrame], pd.DataFrame]]:
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


# ----- market prices (staged/prices, marts.fct_market_data)

PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
PRICE_KEY = ("ticker", "trade_date")
# adj_close/close changes between two days only by the day's payout: float32-precise Yahoo values
# agree to ~3e-7; NVIDIA's smallest dividend (0.004 on ~$47) moves the ratio by 8.5e-5.
ADJ_STEP_TOLERANCE = 1e-5
# A split ratio this far from 1 is told apart from an ordinary day's move.
SPLIT_RATIO_MIN = 1.5


def price_expectations(mostly: float) -> list[Expectation]:
    """Checks of every daily bar, in the staged Parquet and in the mart alike."""
    return [
        *cik_checks(mostly=mostly),
        *required(*PRICE_KEY, *PRICE_COLUMNS, "volume", mostly=mostly),
        *(
            gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True, mostly=mostly)
            for c in PRICE_COLUMNS
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="high_ok", value_set=[True], mostly=mostly, description="high >= max(open, close)"
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="low_ok", value_set=[True], mostly=mostly, description="low <= min(open, close)"
        ),
        gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0, mostly=mostly),
        # Null on rows backfilled from a Yahoo CSV (no corporate actions there): not judged.
        gxe.ExpectColumnValuesToBeBetween(column="dividend", min_value=0, mostly=mostly),
        gxe.ExpectColumnValuesToBeBetween(column="split_ratio", min_value=0, strict_min=True, mostly=mostly),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=list(PRICE_KEY), description="no duplicate dates"),
    ]


def price_range(df: pd.DataFrame) -> pd.DataFrame:
    """high_ok, low_ok: the day's high and low bound its open and close (null where a price is missing).
    Derived flags rather than column-pair expectations, whose results carry numpy floats."""
    prices = df[["open", "high", "low", "close"]]
    known = prices.notna().all(axis=1)
    high_ok = (df["high"] >= df[["open", "close"]].max(axis=1)).astype(object).where(known, None)
    low_ok = (df["low"] <= df[["open", "close"]].min(axis=1)).astype(object).where(known, None)
    return df.assign(high_ok=high_ok, low_ok=low_ok)


def price_steps(df: pd.DataFrame) -> pd.DataFrame:
    """Day-to-day consistency of each ticker's adjustments, compared only between neighbouring
    rows of the same source (a CSV backfill is on its own adjustment basis):

    adj_step_error: Yahoo's adj_close is close times a factor that changes, going back in time,
      only on a payout day: adj/close of the day before = (adj/close of the day) * (1 - payout /
      close of the day before), payout being the dividend plus any capital gain. The absolute
      difference from that; null where not judged (first row, unknown dividend).
    split_unapplied: on a split day, the close moved by about the split ratio, i.e. the history
      before it was not adjusted for the split; null on days without a split.
    """
    rows = df.sort_values(list(PRICE_KEY), kind="stable")
    before = rows.groupby("ticker", sort=False)[["close", "adj_close", "source"]].shift(1)
    comparable = before["source"].eq(rows["source"]) & rows["dividend"].notna()
    factor, factor_before = rows["adj_close"] / rows["close"], before["adj_close"] / before["close"]
    payout = rows["dividend"] + rows["capital_gains"].fillna(0.0)
    expected = factor * (1.0 - payout / before["close"])
    step_error = (factor_before - expected).abs().where(comparable)

    split = rows["split_ratio"].where(comparable & ~rows["split_ratio"].between(1 / SPLIT_RATIO_MIN, SPLIT_RATIO_MIN))
    move = np.log(before["close"] / rows["close"])
    unapplied = ((move - np.log(split)).abs() < move.abs()).astype(object).where(split.notna(), None)
    return price_range(df).assign(
        adj_step_error=step_error.reindex(df.index), split_unapplied=unapplied.reindex(df.index)
    )
