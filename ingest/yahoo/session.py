"""yfinance's own transport, optionally sent to the replay server instead of Yahoo.

yfinance builds its Yahoo URLs from constants (query1/query2.finance.yahoo.com, fc.yahoo.com,
...) and sends them through a session the caller may pass: a curl_cffi or requests Session. So
the one supported way to point it elsewhere is the session. ``YahooSession`` is yfinance's own
transport (curl_cffi impersonating Chrome, as yfinance's default session is) that, when given a
base URL other than Yahoo's, sends every *.yahoo.com request there instead: in sample mode the
replay server answers the chart API from the recorded responses and hands out the crumb
yfinance asks for.

The session also keeps the last chart response per symbol, so its bytes can be landed in the
raw zone: yfinance parses them and keeps only the DataFrame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from curl_cffi import requests as curl_requests

from ingest.settings import YAHOO_URL

_CHART_PATH = re.compile(r"/v8/finance/chart/([^/]+)")


@dataclass(frozen=True)
class ChartResponse:
    url: str
    status: int
    body: bytes


class YahooSession(curl_requests.Session):
    """yfinance's transport, optionally redirected from Yahoo to ``base_url`` (the replay server)."""

    def __init__(self, base_url: str = YAHOO_URL, timeout: float = 30.0):
        super().__init__(impersonate="chrome", timeout=timeout)
        self._target = None if base_url.rstrip("/") == YAHOO_URL else urlsplit(base_url)
        self.charts: dict[str, ChartResponse] = {}  # symbol -> the last chart response for it

    def request(self, method: Any, url: str, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if self._target is not None and (host == "yahoo.com" or host.endswith(".yahoo.com")):
            url = urlunsplit((self._target.scheme, self._target.netloc, parts.path or "/", parts.query, ""))
        response = super().request(method, url, *args, **kwargs)
        if chart := _CHART_PATH.fullmatch(unquote(parts.path)):
            self.charts[chart.group(1).upper()] = ChartResponse(response.url, response.status_code, response.content)
        return response
