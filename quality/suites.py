"""GX expectation suites as code: one per dataset and stage.

Row-level checks carry ``mostly=ROW_TOLERANCE``: a few bad rows are quarantined and the rest
continues, more than that fails the gate (raw documents: ``raw_mostly``, since each row there is a
whole filer's document). Table-level checks (key uniqueness, referential
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
import numpy as np
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


# ----- market prices (staged/prices, marts.fct_market_data)

PRICE_COLUMNS = ("open", "high", "low", "close", "adj_close")
PRICE_KEY = ("ticker", "trade_date")
# adj_close/close changes between two days only by the day's payout: float32-precise Yahoo values
# agree to ~3e-7; NVIDIA's smallest dividend (0.004 on ~$47) moves the ratio by 8.5e-5.
ADJ_STEP_TOLERANCE = 1e-5
# A split ratio this far from 1 is told apart from an ordinary day's move.
SPLIT_RATIO_MIN = 1.5


def _price_expectations(mostly: float) -> list[Expectation]:
    """Checks of every daily bar, in the staged Parquet and in the mart alike."""
    return [
        *_cik(mostly=mostly),
        *_required(*PRICE_KEY, *PRICE_COLUMNS, "volume", mostly=mostly),
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


def _price_range(df: pd.DataFrame) -> pd.DataFrame:
    """high_ok, low_ok: the day's high and low bound its open and close (null where a price is missing).
    Derived flags rather than column-pair expectations, whose results carry numpy floats."""
    prices = df[["open", "high", "low", "close"]]
    known = prices.notna().all(axis=1)
    high_ok = (df["high"] >= df[["open", "close"]].max(axis=1)).astype(object).where(known, None)
    low_ok = (df["low"] <= df[["open", "close"]].min(axis=1)).astype(object).where(known, None)
    return df.assign(high_ok=high_ok, low_ok=low_ok)


def _price_steps(df: pd.DataFrame) -> pd.DataFrame:
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
    return _price_range(df).assign(
        adj_step_error=step_error.reindex(df.index), split_unapplied=unapplied.reindex(df.index)
    )


def staged_prices() -> Suite:
    """staged/prices: daily bars, bad rows quarantined (``mostly``); duplicate dates and a split
    missing from the history fail the gate."""
    return Suite(
        "staged_prices",
        (
            *_price_expectations(ROW_TOLERANCE),
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
        derive=_price_steps,
    )


def market_data() -> Suite:
    """Warehouse mart fct_market_data: every check strict (marts cannot quarantine rows)."""
    return Suite(
        "fct_market_data", tuple(_price_expectations(STRICT)), keys=("ticker", "trade_date", "cik"), derive=_price_range
    )


def price_gaps() -> Suite:
    """Per ticker, sessions of its exchange without a row and rows off the calendar. Validates
    ``ingest.market_calendar.gaps``; monitored, not gating."""
    return Suite(
        "price_gaps",
        (
            gxe.ExpectColumnValuesToBeBetween(column="missing_sessions", max_value=0),
            gxe.ExpectColumnValuesToBeBetween(column="off_calendar_rows", max_value=0),
        ),
        keys=("ticker", "missing_examples"),
    )


# ----- raw zone (the per-document profiles ingest.stage_edgar writes while normalizing)

# Share of a run's documents that must pass a row-level raw check. Bad documents are already
# quarantined with their bytes; many of them at once means the source or our parser moved.
RAW_TOLERANCE = 0.95
# Documents any run may lose, so one malformed filer does not stop a small incremental run.
RAW_ALLOWANCE = 1
# What each dataset's document must hold: facts, or a filings index.
RAW_CONTENT = {
    "companyfacts": ("facts", "the document holds facts (an empty one parses, so a format change would pass)"),
    "submissions": ("filings", "the document lists filings (an empty index parses, so a format change would pass)"),
}


def raw_mostly(documents: int) -> float:
    """``mostly`` for a run of ``documents``: RAW_TOLERANCE of them, but RAW_ALLOWANCE may always fail.

    Computed as GX computes its success ratio, so exactly the allowed number of failures passes."""
    allowed = max(RAW_ALLOWANCE, math.floor(documents * (1 - RAW_TOLERANCE)))
    return 0.0 if documents <= allowed else (documents - allowed) / documents


def raw_documents(dataset: str, documents: int) -> Suite:
    """raw/sec/{dataset}: this run's landed documents, one profile row each. ``documents``: how
    many there are (the row-level threshold depends on it); zero documents pass."""
    column, description = RAW_CONTENT[dataset]
    mostly = raw_mostly(documents)
    return Suite(
        f"raw_{dataset}",
        (
            *_cik(mostly=STRICT),
            gxe.ExpectColumnValuesToNotBeNull(column="object_key"),
            gxe.ExpectColumnValuesToMatchRegex(
                column="object_key", regex=rf"^raw/sec/{dataset}/ingest_date=\d{{4}}-\d{{2}}-\d{{2}}/CIK\d{{10}}"
            ),
            gxe.ExpectCompoundColumnsToBeUnique(
                column_list=["cik", "dataset"], description="one document group per filer and run"
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="parsed",
                value_set=[True],
                mostly=mostly,
                description="the document normalizes (a bad one is quarantined with its bytes)",
            ),
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="document_cik",
                column_B="cik",
                ignore_row_if="either_value_is_missing",
                mostly=mostly,
                description="the document is about the filer requested",
            ),
            gxe.ExpectColumnValueLengthsToBeBetween(
                column="entity_name", min_value=1, mostly=mostly, description="the document names its filer"
            ),
            gxe.ExpectColumnValuesToBeBetween(column=column, min_value=1, mostly=mostly, description=description),
        ),
        keys=("cik", "object_key", "reason"),
    )


# ----- PostgreSQL after the load (frames built by quality.postgres_state)


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
