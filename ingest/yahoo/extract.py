"""Daily prices and corporate actions through yfinance, with every chart response kept as received.

Everything above the transport (ingest/yahoo/session.py) is yfinance's own code, in sample and
live mode alike: cookie and crumb handling, the chart request, the JSON parsing into a DataFrame.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
import tenacity
import yfinance as yf
from curl_cffi import requests as curl_requests
from yfinance.data import YfData
from yfinance.exceptions import YFRateLimitError

from ingest.settings import LOCAL_DIR, Settings
from ingest.yahoo.session import ChartResponse, YahooSession

log = logging.getLogger(__name__)

# Metadata fields read from yfinance after a fetch. Only these: yfinance's metadata mapping
# fetches intraday trading periods lazily when some other keys are read.
_METADATA = ("symbol", "dataGranularity", "currency", "exchangeTimezoneName", "instrumentType")
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})

# yfinance keeps a timezone and cookie cache on disk; keep it with the rest of the local state.
yf.set_tz_cache_location(str(LOCAL_DIR / "yfinance"))


@dataclass(frozen=True)
class Window:
    """Trading dates wanted: [start, end); start None asks for the whole history, end date.max for any day."""

    start: date | None
    end: date

    def label(self) -> str:
        if self.end == date.max:
            return "all"
        return f"{self.start.isoformat() if self.start else 'max'}_{self.end.isoformat()}"


@dataclass
class Fetched:
    symbol: str
    window: Window
    frame: pd.DataFrame | None  # yfinance's history (auto_adjust off, actions on, NaN rows kept)
    metadata: dict[str, Any]
    response: ChartResponse | None  # the chart response the frame was parsed from
    error: str | None = None  # why there is no frame
    transient: bool = False  # the error was throttling or an outage that outlasted the retries


class Unavailable(Exception):
    """Yahoo answered 429 or 5xx: worth another try later."""


def fetch_history(session: YahooSession, symbol: str, window: Window, settings: Settings) -> Fetched:
    """One symbol's daily bars, dividends and splits, parsed by yfinance; never raises for bad input.

    Throttling (429), outages (5xx) and connection errors are retried with exponential backoff;
    what still fails, and every answer yfinance cannot turn into prices, comes back as ``error``.
    """
    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type((YFRateLimitError, Unavailable, curl_requests.RequestsError)),
        wait=tenacity.wait_exponential(multiplier=0.5, max=30) + tenacity.wait_random(0, 0.5),
        stop=tenacity.stop_after_attempt(max(1, settings.http_retries)),
        reraise=True,
    )
    try:
        frame, metadata = retrying(_history, session, symbol, window, settings.http_timeout)
    except (YFRateLimitError, Unavailable, curl_requests.RequestsError) as exc:
        return Fetched(symbol, window, None, {}, session.charts.get(symbol), _describe(exc), transient=True)
    except Exception as exc:  # any failure to parse is this symbol's bad input
        return Fetched(symbol, window, None, {}, session.charts.get(symbol), _describe(exc))
    return Fetched(symbol, window, frame, metadata, session.charts.get(symbol))


def _history(session: YahooSession, symbol: str, window: Window, timeout: float) -> tuple[pd.DataFrame, dict]:
    # yfinance memoizes past-dated requests for the process; every fetch must reach the source,
    # so its bytes are landed and a retry is a retry.
    YfData.cache_get.cache_clear()
    session.charts.pop(symbol, None)
    # Raise instead of logging and returning an empty frame, so each failure has its reason.
    yf.config.debug.hide_exceptions = False
    ticker = yf.Ticker(symbol, session=session)
    span: dict[str, Any] = {"period": "max"} if window.start is None else {"start": window.start}
    try:
        with warnings.catch_warnings():
            # yfinance 1.7 calls pandas APIs that pandas 3 deprecates, and parses Yahoo's error
            # pages with an HTML parser; it reports data problems by exceptions, which we keep.
            warnings.filterwarnings("ignore", module=r"yfinance\.")
            frame = ticker.history(
                **span, end=window.end, interval="1d", auto_adjust=False, actions=True,
                keepna=True, repair=False, timeout=timeout,
            )  # fmt: skip
    except YFRateLimitError:
        raise
    except Exception as exc:
        chart = session.charts.get(symbol)
        if chart is not None and chart.status in TRANSIENT_STATUSES:
            raise Unavailable(f"Yahoo answered {chart.status}") from exc
        raise
    metadata = ticker.get_history_metadata()
    return frame, {key: metadata.get(key) for key in _METADATA}


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:500]
