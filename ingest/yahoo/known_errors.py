"""Yahoo's known data errors, found by yfinance's own repair logic and reported instead of repaired.

yfinance's price repair knows Yahoo's recurring errors: dividends that are phantom duplicates,
100x too big or small, or missing from (or wrong in) Adj Close; and mutual funds whose dividend
already includes the capital gain that Adj Close then subtracts a second time. ``history(repair=True)``
would silently rewrite such rows, and some of its repairs re-fetch finer-grained data. Here the
two repairs that need nothing but the frame (the same entry points yfinance's own tests call on
its recorded cases) run on a copy, and every row whose dividend or adjusted close they would
change is reported with yfinance's corrected values, so it can be quarantined, not loaded.

These are yfinance internals, pinned with yfinance (1.7.*) and tested on yfinance's own repair
cases (data/sample/market/yfinance_repair_cases); an upgrade that changes them fails those tests.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from yfinance.scrapers.history import PriceHistory

# Adj Close is float32-precise at Yahoo (~1e-7); a repair that moves it by more is a real correction.
ADJ_CLOSE_RTOL = 1e-6
BAD_DIVIDEND = "yahoo bad dividend (yfinance repair: phantom, 100x or wrongly adjusted)"
CAPITAL_GAINS_DOUBLE_COUNT = "yahoo capital gains counted twice in the dividend and Adj Close"


def known_errors(frame: pd.DataFrame, symbol: str, currency: str | None, timezone: str) -> pd.DataFrame:
    """Rows of ``frame`` (yfinance's daily history, auto_adjust off) that yfinance would repair.

    Returns one row per affected date, indexed like ``frame``: ``reason``, and yfinance's
    ``repaired_dividend`` and ``repaired_adj_close``. Empty when nothing is wrong.
    """
    prices = frame.dropna(subset=["Close", "Adj Close"]).sort_index()
    history = PriceHistory(None, symbol, timezone)
    history._history_metadata = {"currency": currency or "", "exchangeTimezoneName": timezone}
    steps = []
    if not prices.empty and (prices["Dividends"] != 0).any():
        # The dividend repair leaves frames with capital gains alone; those are the second one's.
        steps.append((BAD_DIVIDEND, lambda df: history._fix_bad_div_adjust(df, "1d", False, currency or "")))
    if "Capital Gains" in prices and (prices["Capital Gains"] > 0).any():
        steps.append((CAPITAL_GAINS_DOUBLE_COUNT, history._repair_capital_gains))
    flagged = [pd.DataFrame(columns=["reason", "repaired_dividend", "repaired_adj_close"])]
    with _quiet_yfinance():
        for reason, repair in steps:
            after = repair(prices.copy()).reindex(prices.index)
            changed = _changed(prices["Dividends"], after["Dividends"], 0.0) | _changed(
                prices["Adj Close"], after["Adj Close"], ADJ_CLOSE_RTOL
            )
            repaired = {"repaired_dividend": after["Dividends"], "repaired_adj_close": after["Adj Close"]}
            flagged.append(pd.DataFrame({"reason": reason, **repaired}, index=prices.index)[changed])
    found = pd.concat([f for f in flagged if not f.empty] or flagged[:1])
    return found[~found.index.duplicated(keep="last")].sort_index()


def _changed(before: pd.Series, after: pd.Series, rtol: float) -> pd.Series:
    a, b = before.to_numpy(dtype=float), after.to_numpy(dtype=float)
    return pd.Series(~np.isclose(a, b, rtol=rtol, atol=0.0, equal_nan=True), index=before.index)


@contextmanager
def _quiet_yfinance() -> Iterator[None]:
    """yfinance logs each repair at INFO, and its pandas calls raise pandas 3 deprecation
    warnings; the caller reports what was found, once, with the ticker."""
    logger = logging.getLogger("yfinance")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance\.")
            warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"yfinance\.")
            yield
    finally:
        logger.setLevel(level)
