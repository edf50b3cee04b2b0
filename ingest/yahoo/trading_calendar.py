"""Trading days a ticker should have prices for, from its exchange's calendar (pandas-market-calendars).

Between a ticker's first and last stored day, every session of its exchange without a row is a
gap, and every row on a day the exchange was closed is off the calendar. Both are reported per
ticker (quality gate ``price_gaps``); neither is an error by itself: a halted or newly listed
ticker has real gaps, and history can be missing from the source.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pandas_market_calendars as mcal

# SEC's exchange names -> calendars. NYSE's sessions are also those of CBOE's US equities and OTC
# markets, and of the funds and ADRs SEC lists without an exchange.
CALENDARS = {"Nasdaq": "NASDAQ"}
DEFAULT_CALENDAR = "NYSE"
EXAMPLES = 5  # missing dates named per ticker


@cache
def _calendar(name: str):
    return mcal.get_calendar(name)


def sessions(exchange: str | None, start, end) -> pd.DatetimeIndex:
    """The exchange's sessions from ``start`` to ``end``, both included, as naive dates."""
    days = _calendar(CALENDARS.get(exchange or "", DEFAULT_CALENDAR)).valid_days(start, end)
    return pd.DatetimeIndex(days.tz_localize(None).normalize())


def gaps(prices: pd.DataFrame, exchanges: dict[str, str | None]) -> pd.DataFrame:
    """One row per ticker of ``prices`` (ticker, trade_date): sessions expected between its first
    and last day, rows present, sessions missing (with the first few), rows off the calendar."""
    rows = []
    for ticker, group in prices.groupby("ticker", sort=True):
        days = pd.DatetimeIndex(pd.to_datetime(group["trade_date"])).unique().sort_values()
        expected = sessions(exchanges.get(ticker), days[0], days[-1])
        missing = expected.difference(days)
        rows.append(
            {
                "ticker": ticker,
                "calendar": CALENDARS.get(exchanges.get(ticker) or "", DEFAULT_CALENDAR),
                "first_date": days[0].date(),
                "last_date": days[-1].date(),
                "sessions": len(expected),
                "rows": len(days),
                "missing_sessions": len(missing),
                "missing_examples": ", ".join(d.date().isoformat() for d in missing[:EXAMPLES]),
                "off_calendar_rows": len(days.difference(expected)),
            }
        )
    return pd.DataFrame(
        rows,
        columns=["ticker", "calendar", "first_date", "last_date", "sessions", "rows",
                 "missing_sessions", "missing_examples", "off_calendar_rows"],
    )  # fmt: skip
