"""Prices as yfinance parsed them (or as a Yahoo CSV holds them) -> rows of the staged prices schema.

A response that cannot be a ticker's daily history (another symbol, another bar size, missing
columns) or that holds no rows in the window rejects the ticker as a whole. Within an accepted
history, rows with missing prices and rows that Yahoo's known errors affect
(ingest/yahoo/known_errors.py) are rejected one by one, with their reason; the rest go on.
Value checks (OHLC ranges, volume, duplicate dates, adjustments) are the staged gate's (GX).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa

from ingest.yahoo.extract import Window
from ingest.yahoo.known_errors import known_errors
from ingest.yahoo.universe import Listing
from ingest.zones import schemas

CHART, CSV = "yahoo_chart", "yahoo_csv"
PRICE_COLUMNS = ("Open", "High", "Low", "Close", "Adj Close")
CHART_COLUMNS = (*PRICE_COLUMNS, "Volume", "Dividends", "Stock Splits")
CSV_COLUMNS = ("Date", *PRICE_COLUMNS, "Volume")
MISSING_PRICES = "missing prices (NaN) in Yahoo's row"
MISSING_VOLUME = "missing volume (NaN) in Yahoo's row"
REJECTED = pa.schema([*schemas.PRICES, ("reason", pa.string())])


class TickerRejected(Exception):
    """The response cannot be used at all for this ticker."""


@dataclass
class Normalized:
    rows: pa.Table  # staged prices schema
    rejected: pa.Table  # rejected rows: staged schema plus `reason`
    details: list[dict[str, Any]] = field(default_factory=list)  # per rejected row: what yfinance would repair


def chart_rows(listing: Listing, frame: pd.DataFrame, metadata: dict[str, Any], window: Window) -> Normalized:
    """yfinance's history of one ticker -> staged rows within ``window``, bad rows set apart."""
    symbol = str(metadata.get("symbol") or "").upper()
    if symbol != listing.symbol:
        raise TickerRejected(f"wrong shape: the response is for symbol {symbol or 'none'!r}, not {listing.symbol!r}")
    granularity = metadata.get("dataGranularity")
    if granularity != "1d":
        raise TickerRejected(f"wrong shape: bars of {granularity!r}, daily (1d) requested")
    missing = [c for c in CHART_COLUMNS if c not in frame.columns]
    if missing:
        raise TickerRejected(f"wrong shape: no {', '.join(missing)} in the parsed history")
    timezone = metadata.get("exchangeTimezoneName")
    if not timezone:
        raise TickerRejected("wrong shape: no exchange time zone in the response")

    trade_date = pd.Series(frame.index.date, index=frame.index)  # the exchange's local date of each bar
    inside = (trade_date < window.end) & ((trade_date >= window.start) if window.start else True)
    if not inside.any():
        raise TickerRejected(f"empty: no daily bars between {window.start or 'the start'} and {window.end}")

    try:
        errors = known_errors(frame, listing.symbol, metadata.get("currency"), str(timezone))
    except Exception as exc:  # yfinance internals on odd data: the ticker cannot be vouched for
        raise TickerRejected(f"unverifiable: yfinance's repair check failed ({type(exc).__name__}: {exc})") from exc
    data = pd.DataFrame(
        {
            "ticker": listing.symbol,
            "cik": listing.cik,
            "trade_date": trade_date,
            "open": frame["Open"],
            "high": frame["High"],
            "low": frame["Low"],
            "close": frame["Close"],
            "adj_close": frame["Adj Close"],
            "volume": frame["Volume"],
            "dividend": frame["Dividends"],
            # yfinance reports a split as its ratio (10.0 for 10-for-1) and 0 on other days.
            "split_ratio": frame["Stock Splits"].where(frame["Stock Splits"] != 0, 1.0),
            "capital_gains": frame.get("Capital Gains", 0.0),  # funds and ETFs only
            "source": CHART,
        },
        index=frame.index,
    )[inside]
    reason = _missing(data)
    flagged = errors.index.intersection(data.index)
    reason.loc[flagged] = reason.loc[flagged].fillna(errors.loc[flagged, "reason"].astype("string"))
    details = [
        {"trade_date": d.date().isoformat(), "reason": r, "repaired_dividend": rd, "repaired_adj_close": ra}
        for d, (r, rd, ra) in errors.loc[flagged].iterrows()
    ]
    return _split(data.reset_index(drop=True), reason.reset_index(drop=True), details)


def csv_rows(listing: Listing, body: bytes) -> Normalized:
    """A Yahoo CSV (Date,Open,High,Low,Close,Adj Close,Volume in any order; 'null' for missing)."""
    try:
        frame = pd.read_csv(io.BytesIO(body), na_values=["null"])
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise TickerRejected(f"wrong shape: not a CSV ({exc})") from exc
    missing = [c for c in CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise TickerRejected(f"wrong shape: no {', '.join(missing)} column")
    if frame.empty:
        raise TickerRejected("empty: the CSV has a header and no rows")
    dates = pd.to_datetime(frame["Date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        raise TickerRejected(f"wrong shape: dates not as YYYY-MM-DD, e.g. {frame['Date'][dates.isna()].iloc[0]!r}")
    data = pd.DataFrame(
        {
            "ticker": listing.symbol,
            "cik": listing.cik,
            "trade_date": dates.dt.date,
            "open": pd.to_numeric(frame["Open"], errors="coerce"),
            "high": pd.to_numeric(frame["High"], errors="coerce"),
            "low": pd.to_numeric(frame["Low"], errors="coerce"),
            "close": pd.to_numeric(frame["Close"], errors="coerce"),
            "adj_close": pd.to_numeric(frame["Adj Close"], errors="coerce"),
            "volume": pd.to_numeric(frame["Volume"], errors="coerce"),
            "dividend": None,
            "split_ratio": None,
            "capital_gains": None,
            "source": CSV,
        }
    )
    return _split(data, _missing(data), [])


def _missing(data: pd.DataFrame) -> pd.Series:
    """Per row, why it cannot be staged for a missing value, or NA."""
    reason = pd.Series(pd.NA, index=data.index, dtype="string")
    reason[data["volume"].isna()] = MISSING_VOLUME
    reason[data[["open", "high", "low", "close", "adj_close"]].isna().any(axis=1)] = MISSING_PRICES
    return reason


def _split(data: pd.DataFrame, reason: pd.Series, details: list[dict[str, Any]]) -> Normalized:
    bad = reason.notna().to_numpy()
    good = data[~bad].assign(volume=lambda d: d["volume"].astype("int64"))
    rejected = data[bad].assign(reason=reason[bad].astype(str), volume=lambda d: d["volume"].astype("Int64"))
    return Normalized(
        rows=pa.Table.from_pandas(good, schema=schemas.PRICES, preserve_index=False),
        rejected=pa.Table.from_pandas(rejected, schema=REJECTED, preserve_index=False),
        details=details,
    )
